# The Linux guest (label linux; issue 9): Debian 12's unmodified ppc64el
# kernel (tools/setup.sh puts it in ${PV_DEPS_DIR}/linux) with a test initrd:
# Debian's installer userland, partition/linux/init as /init and the pv-*
# programs of partition/linux/ (static, glibc). The kernel command line's
# pvtest= picks the scenario (partition/linux/init); none gives a shell.
# linux.smp: 2 dedicated vCPUs at work (CPU affinity, tmpfs, md5, fork) beside
#   a test partition.
# linux.sigbus_intact: the sigbus scenario's plumbing, no fault (linux.sigbus,
#   tests/linux/mce.cmake, injects one): 16 pages' PFNs, all read back intact,
#   the heartbeat alive.
# linux.console: what is typed reaches Linux's shell on hvc0 (with job
#   control), Ctrl-A n moves the input to a test partition and back.
# Also built: linux.bundle (partition/linux.cfg) for `make linux`,
# linux_bench.bundle (partition/linux_bench.cfg) for `make bench`.
set(PV_LINUX_DEPS ${PV_DEPS_DIR}/linux)
if(NOT EXISTS ${PV_LINUX_DEPS}/vmlinux OR NOT EXISTS ${PV_LINUX_DEPS}/initrd.gz)
    message(STATUS "Linux guest: no ${PV_LINUX_DEPS}/vmlinux (tools/setup.sh fetches it): no linux tests")
    return()
endif()
find_program(PV_LINUX_CC powerpc64le-linux-gnu-gcc REQUIRED)

set(PV_LINUX_SRC ${CMAKE_SOURCE_DIR}/partition/linux)
set(PV_LINUX_OUT ${CMAKE_BINARY_DIR}/linux)
set(PV_LINUX_PROGRAMS)
foreach(prog pv-cpus pv-memtest pv-pagemap-touch pv-shell)
    add_custom_command(OUTPUT ${PV_LINUX_OUT}/${prog}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${PV_LINUX_OUT}
        COMMAND ${PV_LINUX_CC} -O2 -Wall -Wextra -Werror -static -o ${PV_LINUX_OUT}/${prog} ${PV_LINUX_SRC}/${prog}.c
        DEPENDS ${PV_LINUX_SRC}/${prog}.c
        COMMENT "Linux test program ${prog}")
    list(APPEND PV_LINUX_PROGRAMS ${PV_LINUX_OUT}/${prog})
endforeach()
set(PV_LINUX_INITRD ${PV_LINUX_OUT}/initrd.gz)
add_custom_command(OUTPUT ${PV_LINUX_INITRD}
    COMMAND ${CMAKE_SOURCE_DIR}/tools/mk-linux-initrd ${PV_LINUX_INITRD} ${PV_LINUX_DEPS}/initrd.gz
        ${PV_LINUX_SRC}/init ${PV_LINUX_PROGRAMS}
    DEPENDS ${CMAKE_SOURCE_DIR}/tools/mk-linux-initrd ${PV_LINUX_DEPS}/initrd.gz ${PV_LINUX_SRC}/init
        ${PV_LINUX_PROGRAMS}
    COMMENT "Linux test initrd")
add_custom_target(linux-initrd ALL DEPENDS ${PV_LINUX_INITRD})

# pv_linux_bundle(NAME CONFIG): a bundle with the kernel (vmlinux), the test
# initrd (linux-initrd) and the test partition images. The initrd is named as
# a target too: without that, every bundle target carries its own copy of the
# initrd's rule, and a parallel build runs them at once (mv of a vanished .tmp).
function(pv_linux_bundle name config)
    set(out ${CMAKE_BINARY_DIR}/${name}.bundle)
    add_custom_command(OUTPUT ${out}
        COMMAND mkbundle ${out} poolvisor.cfg=${config} vmlinux=${PV_LINUX_DEPS}/vmlinux
            linux-initrd=${PV_LINUX_INITRD} ${PV_GUESTS}
        DEPENDS mkbundle images ${PV_GUEST_FILES} linux-initrd ${config} ${PV_LINUX_DEPS}/vmlinux ${PV_LINUX_INITRD}
        COMMENT "bundle ${name}")
    add_custom_target(bundle-${name} ALL DEPENDS ${out})
endfunction()

pv_linux_bundle(linux ${CMAKE_SOURCE_DIR}/partition/linux.cfg)
pv_linux_bundle(linux_bench ${CMAKE_SOURCE_DIR}/partition/linux_bench.cfg)
pv_linux_bundle(linux_smp ${CMAKE_CURRENT_SOURCE_DIR}/configs/linux_smp.cfg)
pv_linux_bundle(linux_console ${CMAKE_CURRENT_SOURCE_DIR}/configs/linux_console.cfg)
pv_linux_bundle(linux_sigbus ${CMAKE_CURRENT_SOURCE_DIR}/configs/linux_sigbus.cfg)

# What no Linux run may print: a kernel oops, BUG or panic; a process killed
# for a facility the (hypervisor-kept) FSCR lost; a failed scenario.
set(LINUX_REJECT "Oops|BUG|[Pp]anic|Facility '.*' unavailable|FAIL|MISMATCH|HYPERVISOR FAULT|killed")

# Linux boots in about 3 s of guest time, 30 s wall on an idle 2-core machine.
# Linux freezes its PMU (MMCR0[FC]): its runs are uncounted, none discarded;
# alpha's counter runs and every run of it counts.
add_test(NAME linux.smp COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/linux_smp.bundle --timeout 300
    --expect "^poolvisor: partition linux: ELF image vmlinux: 1 segment in logical 0x0-0x[0-9a-f]+, entry 0x0$"
    --expect "^\\[linux\\] PV-LINUX: init: pvtest=smp cpus=2 "
    --expect "^\\[linux\\] PV-LINUX: cpus online=2 ran=0,1 sum=[0-9a-f]+ ok$"
    --expect "^\\[linux\\] PV-LINUX: smp PASS nproc=2 mmu=radix tmpfs_mib=64 md5=[0-9a-f]{32} fork_status=7,5 uptime=[0-9.]+$"
    --expect "^\\[alpha\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 2 rounds, 0 mismatches"
    --expect "${STAT},\"name\":\"linux\",\"lpid\":1,\"vcpus\":2,\"mem_mode\":\"dedicated\",\"mem_mib\":512,.*\"threads_used\":([2-9]|1[0-9]),.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "${STAT},\"name\":\"linux\",.*\"instructions_discarded\":0,\"instructions_uncounted\":[1-9][0-9]*,"
    --expect "${STAT},\"name\":\"alpha\",\"lpid\":2,\"vcpus\":2,.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "${STAT},\"name\":\"alpha\",.*\"guest_instructions\":[1-9][0-9]*,.*\"instructions_discarded\":0,\"instructions_uncounted\":0,"
    --expect "poolvisor: all partitions have ended; powering off"
    --reject "${LINUX_REJECT}")

# Typed: a command to Linux's shell, Ctrl-A n and a line to alpha, Ctrl-A n
# back (or alpha ends and the focus comes back by itself), exit.
set(CON "^poolvisor: console: ")
add_test(NAME linux.console COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/linux_console.bundle --timeout 300
    --input-when 1 "^\\[linux\\] pv-linux# " "echo pv-$((6*7))\\r"
    --input-when 1 "^\\[linux\\] pv-42$" "\\x01n"
    --input-when 1 "${CON}input to partition alpha " "alpha-text\\r"
    --input-when 1 "^\\[alpha\\] smp-guest: got " "\\x01n"
    --input-when 2 "${CON}input to partition linux " "exit\\r"
    --expect "${CON}input to partition linux \\(Ctrl-A n: next, l: list, h: help\\)$"
    --expect "^\\[linux\\] PV-LINUX: init: pvtest=none cpus=2 "
    --expect "^\\[linux\\] pv-42$"
    --expect "^\\[alpha\\] smp-guest: got 'alpha-text'$"
    --expect "^\\[alpha\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPUs?, 1 rounds, 0 mismatches"
    --expect "^\\[linux\\] PV-LINUX: shell ended$"
    --expect "${STAT},\"name\":\"linux\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "poolvisor: all partitions have ended; powering off"
    --reject "^\\[alpha\\] smp-guest: got '(echo|exit)|job control turned off|can't access tty"
    --reject "${LINUX_REJECT}")

add_test(NAME linux.sigbus_intact COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/linux_sigbus.bundle --timeout 300
    --expect "^\\[linux\\] PV-LINUX: pages pid=[0-9]+ pfns=0x[0-9a-f]+(,0x[0-9a-f]+){15} pagesize=65536 count=16$"
    --expect "^\\[linux\\] PV-LINUX: heartbeat n=3$"
    --expect "^\\[linux\\] PV-LINUX: pages touched pid=[0-9]+ intact=16/16 corrupt=0 sigbus=0$"
    --expect "^\\[linux\\] PV-LINUX: sigbus PASS toucher=intact heartbeat=alive beats=[0-9]+ uptime=[0-9.]+$"
    --expect "${STAT},\"name\":\"linux\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --reject "${LINUX_REJECT}")

set_tests_properties(linux.smp linux.console linux.sigbus_intact PROPERTIES LABELS linux)

# Machine checks to Linux from a failing paging disk: linux.sigbus, linux.kernel_page.
include(${CMAKE_SOURCE_DIR}/tests/linux/mce.cmake)
