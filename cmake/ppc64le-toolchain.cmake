# Cross build of the freestanding ppc64le images with Debian's cross GCC.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR ppc64le)
set(CMAKE_C_COMPILER powerpc64le-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER powerpc64le-linux-gnu-g++)
set(CMAKE_ASM_COMPILER powerpc64le-linux-gnu-gcc)
set(CMAKE_OBJCOPY powerpc64le-linux-gnu-objcopy)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(PV_IMAGE_BUILD ON)
