# Host build: unit tests of the portable core, host tools, boot tests.
find_package(GTest REQUIRED)
find_library(HOST_LIBFDT NAMES libfdt.a fdt REQUIRED)
find_path(HOST_LIBFDT_INCLUDE libfdt.h REQUIRED)
# BearSSL (vio/mig_auth.cpp): Debian's libbearssl-dev, installed by tools/setup.sh.
find_library(HOST_LIBBEARSSL NAMES libbearssl.a bearssl REQUIRED)
find_path(HOST_BEARSSL_INCLUDE bearssl/bearssl_hmac.h REQUIRED)
include(CTest)

add_compile_options(-Wall -Wextra -Werror=return-type)

# The core as the unit tests see it: with the lock witness (docs/locks.md) and
# AddressSanitizer + UndefinedBehaviorSanitizer (any finding fails the test).
# PUBLIC: every test executable linking pv_core is built the same way.
set(PV_SANITIZE -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
add_library(pv_core STATIC ${PV_CORE_SOURCES} ${CMAKE_SOURCE_DIR}/arch/fake/arch_fake.cpp
    ${CMAKE_SOURCE_DIR}/arch/fake/lock_witness_fake.cpp)
target_compile_definitions(pv_core PUBLIC PV_LOCK_WITNESS)
target_compile_options(pv_core PUBLIC ${PV_SANITIZE})
target_link_options(pv_core PUBLIC ${PV_SANITIZE})
target_include_directories(pv_core PUBLIC ${CMAKE_SOURCE_DIR})
target_include_directories(pv_core PUBLIC ${HOST_LIBFDT_INCLUDE})
target_link_libraries(pv_core PUBLIC ${HOST_LIBFDT})
target_include_directories(pv_core PUBLIC ${HOST_BEARSSL_INCLUDE})
target_link_libraries(pv_core PUBLIC ${HOST_LIBBEARSSL})

file(GLOB PV_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/*_test.cpp)
add_executable(pv_unit_tests ${PV_UNIT_TESTS})
target_link_libraries(pv_unit_tests PRIVATE pv_core GTest::gtest_main)
include(GoogleTest)
gtest_discover_tests(pv_unit_tests PROPERTIES LABELS unit)
# The paging service partition's service, on the host (it brings its own rt::log).
add_executable(psp_service_test ${CMAKE_SOURCE_DIR}/partition/guest/psp/service_test.cpp
    ${CMAKE_SOURCE_DIR}/partition/guest/psp/service_async_test.cpp ${CMAKE_SOURCE_DIR}/partition/guest/psp/service.cpp)
target_link_libraries(psp_service_test PRIVATE pv_core GTest::gtest_main)
gtest_discover_tests(psp_service_test PROPERTIES LABELS unit)
# The PSP as the mover (mover.cpp): two instances joined in memory; its node (mover_node.cpp).
add_executable(psp_mover_test ${CMAKE_SOURCE_DIR}/partition/guest/psp/mover_test.cpp
    ${CMAKE_SOURCE_DIR}/partition/guest/psp/mover.cpp ${CMAKE_SOURCE_DIR}/partition/guest/psp/mover_node.cpp
    ${CMAKE_SOURCE_DIR}/partition/guest/psp/service.cpp)
target_link_libraries(psp_mover_test PRIVATE pv_core GTest::gtest_main)
gtest_discover_tests(psp_mover_test PROPERTIES LABELS unit)

add_subdirectory(tools)

# The ppc64le images: a nested build with the cross toolchain. The guest
# images a bundle packs are its byproducts, so that a bundle that depends on
# them is packed again when one changes (the target alone says only "built").
set(PV_IMAGE_DIR ${CMAKE_BINARY_DIR}/image)
set(PV_GUESTS smp-guest=${PV_IMAGE_DIR}/smp-guest.bin bad-guest=${PV_IMAGE_DIR}/bad-guest.bin
    bench-guest=${PV_IMAGE_DIR}/bench-guest.bin psp=${PV_IMAGE_DIR}/psp.bin mce-guest=${PV_IMAGE_DIR}/mce-guest.bin
    smp-guest-elf=${PV_IMAGE_DIR}/smp-guest.elf psp-elf=${PV_IMAGE_DIR}/psp.elf
    fpstate-guest=${PV_IMAGE_DIR}/fpstate-guest.bin net-guest=${PV_IMAGE_DIR}/net-guest.bin)
set(PV_GUEST_FILES)
foreach(g ${PV_GUESTS})
    string(REGEX REPLACE "^[^=]*=" "" f "${g}")
    list(APPEND PV_GUEST_FILES ${f})
endforeach()
include(ExternalProject)
ExternalProject_Add(images
    SOURCE_DIR ${CMAKE_SOURCE_DIR}
    BINARY_DIR ${PV_IMAGE_DIR}
    CMAKE_ARGS -DCMAKE_TOOLCHAIN_FILE=${CMAKE_SOURCE_DIR}/cmake/ppc64le-toolchain.cmake
               -DPV_DEPS_DIR=${PV_DEPS_DIR} -DCMAKE_BUILD_TYPE=Release
    BUILD_ALWAYS ON
    BUILD_BYPRODUCTS ${PV_GUEST_FILES}
    INSTALL_COMMAND "")

# The migration core and Debian's ppc64el BearSSL, run on ppc64le as a Linux
# user process (tests/link/mig_link_check.cpp; qemu-user from tools/setup.sh).
find_program(PV_QEMU_PPC64LE qemu-ppc64le REQUIRED)
add_test(NAME mig.link_check COMMAND ${PV_QEMU_PPC64LE} ${PV_IMAGE_DIR}/mig-link-check.elf)
set_tests_properties(mig.link_check PROPERTIES LABELS unit TIMEOUT 60)

add_subdirectory(tests/boot)
