# Cross build: poolvisor.elf and the guest partition images.
set(PV_FDT_ROOT ${PV_DEPS_DIR}/ppc64el/usr)
set(PV_LIBFDT ${PV_FDT_ROOT}/lib/powerpc64le-linux-gnu/libfdt.a)
if(NOT EXISTS ${PV_LIBFDT})
    message(FATAL_ERROR "ppc64el libfdt not found at ${PV_LIBFDT}: run tools/setup.sh")
endif()

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
