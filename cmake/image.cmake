# Cross build: poolvisor.elf and the guest partition images.
set(PV_FDT_ROOT ${PV_DEPS_DIR}/ppc64el/usr)
set(PV_LIBFDT ${PV_FDT_ROOT}/lib/powerpc64le-linux-gnu/libfdt.a)
if(NOT EXISTS ${PV_LIBFDT})
    message(FATAL_ERROR "ppc64el libfdt not found at ${PV_LIBFDT}: run tools/setup.sh")
endif()
set(PV_LIBBEARSSL ${PV_FDT_ROOT}/lib/powerpc64le-linux-gnu/libbearssl.a)
if(NOT EXISTS ${PV_LIBBEARSSL})
    message(FATAL_ERROR "ppc64el BearSSL not found at ${PV_LIBBEARSSL}: run tools/setup.sh")
endif()
# The migration core (vio/mig_*) is not part of poolvisor.elf: it belongs to
# the mover partition, and Debian's libbearssl.a uses VSX registers, which the
# hypervisor never touches (docs/migration-transport.md "Where it runs").
# tests/link/ links it freestanding instead.
list(FILTER PV_CORE_SOURCES EXCLUDE REGEX "/vio/mig_[a-z_]*\\.cpp$")

# Flags shared by the hypervisor and the guests: freestanding, no FP/vector
# state (so no FP/VMX context to switch), ELFv2, medium code model.
set(PV_FREESTANDING_FLAGS -ffreestanding -fno-stack-protector -mno-altivec -mno-vsx -msoft-float
    -mcmodel=medium -mlong-double-64 -mabi=elfv2 -mlittle-endian -mcpu=power9 -O2 -g -fno-builtin-printf
    -Wall -Wextra -fno-asynchronous-unwind-tables -fno-pie)
set(PV_CXX_FLAGS -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit)
# The hypervisor's own code (not the guests'): warnings are errors, and no
# function's frame may exceed 4 KiB. Each hardware thread has a 64 KiB stack
# (boot/boot.cpp) for the whole exit path; the largest frame today is 2272
# bytes (Pager::reclaim_batch's victim batch; next print_stats, 768), so 4096
# leaves it room and still keeps any one frame to a sixteenth of the stack.
set(PV_HV_FLAGS -Werror -Wframe-larger-than=4096)
set(PV_LINK_FLAGS -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments)

function(pv_freestanding target)
    target_compile_options(${target} PRIVATE ${PV_FREESTANDING_FLAGS}
        $<$<COMPILE_LANGUAGE:CXX>:${PV_CXX_FLAGS}>)
    target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR} ${PV_FDT_ROOT}/include)
    target_link_options(${target} PRIVATE ${PV_LINK_FLAGS})
endfunction()

add_subdirectory(partition)
if(EXISTS ${CMAKE_SOURCE_DIR}/arch/ppc64/CMakeLists.txt)
    add_subdirectory(arch/ppc64)
endif()

# The migration core linked freestanding against Debian's ppc64el BearSSL with
# the hypervisor's flags (tests/link/mig_link_check.cpp); the host build runs
# it under qemu-ppc64le (ctest mig.link_check).
add_executable(mig-link-check ${CMAKE_SOURCE_DIR}/tests/link/mig_link_start.S
    ${CMAKE_SOURCE_DIR}/tests/link/mig_link_check.cpp
    ${CMAKE_SOURCE_DIR}/vio/mig_auth.cpp ${CMAKE_SOURCE_DIR}/vio/mig_transport.cpp
    ${CMAKE_SOURCE_DIR}/arch/ppc64/klibc.c)
pv_freestanding(mig-link-check)
target_compile_options(mig-link-check PRIVATE ${PV_HV_FLAGS})
target_link_libraries(mig-link-check PRIVATE ${PV_LIBBEARSSL} gcc)
set_target_properties(mig-link-check PROPERTIES OUTPUT_NAME mig-link-check.elf
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
add_custom_command(TARGET mig-link-check POST_BUILD
    COMMAND sh -c "powerpc64le-linux-gnu-nm $0 | grep -q ' T br_hmac_init$' && powerpc64le-linux-gnu-nm $0 | grep -q ' T br_sha2small_round$' && powerpc64le-linux-gnu-nm $0 | grep -q ' T br_hkdf_produce$' || { echo 'mig-link-check: BearSSL did not link' >&2; exit 1; }" $<TARGET_FILE:mig-link-check>
    VERBATIM)
