# boot.mig_linux (labels linux, migration; issue 10 point 8): Debian's kernel
# as a shared-memory partition on A (configs/mig_linux_a.cfg: 256 MiB, 2
# vCPUs, the test initrd's shell) is moved to B by migrlpar while its shell
# waits, and the shell keeps working there: at A it writes an 8 MiB tmpfs
# file of random bytes and checksums it and /init; at B (only its PSP runs
# there; Ctrl-A n gives the input to the partition that arrived) what is
# typed reaches the shell and its answers come back: its uptime has not gone
# back, both files check equal although every page of them comes from B's
# paging device (the stream wrote them there; B pages them in); then Linux
# powers off at B and both systems power off. About 40000 of its 65536
# pages hold data (156 MiB: the kernel and initrd the hypervisor loaded,
# 13300 pages, and 26500 Linux touched: the initrd unpacked, the file, its
# own allocations); round 0 sends them, round 1 the ~100 that changed
# meanwhile (a shell that waits), then the suspend (under a second). Needs
# linux.cmake's kernel and initrd, migration.cmake's KEYS, MIG_PAIR, ACMD
# and MIG_REJECT.
if(NOT TARGET linux-initrd)
    return()
endif()
set(mig_linux_a ${CMAKE_BINARY_DIR}/mig_linux_a.bundle)
set(mig_linux_a_cfg ${CMAKE_CURRENT_SOURCE_DIR}/configs/mig_linux_a.cfg)
add_custom_command(OUTPUT ${mig_linux_a}
    COMMAND mkbundle ${mig_linux_a} poolvisor.cfg=${mig_linux_a_cfg} vmlinux=${PV_LINUX_DEPS}/vmlinux
        linux-initrd=${PV_LINUX_INITRD} pair-ab.key=${KEYS}/pair-ab.key ${PV_GUESTS}
    DEPENDS mkbundle images ${PV_GUEST_FILES} linux-initrd ${mig_linux_a_cfg} ${PV_LINUX_DEPS}/vmlinux
        ${PV_LINUX_INITRD} ${KEYS}/pair-ab.key
    COMMENT "bundle mig_linux_a")
add_custom_target(bundle-mig_linux_a ALL DEPENDS ${mig_linux_a})
pv_bundle(mig_linux_b ${CMAKE_CURRENT_SOURCE_DIR}/configs/mig_linux_b.cfg pair-ab.key=${KEYS}/pair-ab.key)

set(LSH "\\[linux\\] ")
add_test(NAME boot.mig_linux COMMAND ${MIG_PAIR} --a ${mig_linux_a} --b ${CMAKE_BINARY_DIR}/mig_linux_b.bundle
    --disk-a ${CMAKE_BINARY_DIR}/boot.mig_linux.a.img --disk-b ${CMAKE_BINARY_DIR}/boot.mig_linux.b.img
    --timeout 1200
    --input-when A 1 "^${LSH}pv-linux# "
        "dd if=/dev/urandom of=/tmp/r bs=1M count=8 2>/dev/null; md5sum /tmp/r /init >/tmp/r.md5; cat /tmp/r.md5; cat /proc/uptime >/tmp/up.a; echo before-$((6*7))\\r"
    --input-when A 1 "^${LSH}before-42$" "\\x01cmigrlpar -o m -p linux -t sysb\\r"
    --input-when B 1 "^poolvisor: migration: linux from sysa resumed here" "\\x01n"
    --input-when B 1 "^poolvisor: console: input to partition linux "
        "read a x </tmp/up.a; read b y </proc/uptime; echo uptime \${a%.*} \${b%.*}; [ \${b%.*} -ge \${a%.*} ] && echo after-$((6*7))\\r"
    --input-when B 1 "^${LSH}after-42$" "md5sum -c /tmp/r.md5 && echo sums-$((6*7))\\r"
    --input-when B 1 "^${LSH}sums-42$" "exit\\r"
    --expect "^A\\| ${LSH}[0-9a-f]{32}  /tmp/r$"
    --expect "^A\\| ${LSH}before-42$"
    --expect "${ACMD}migrlpar: linux can move to sysb\; migrating"
    --expect "^A\\| poolvisor: migration: linux: suspending after [0-9]+ rounds"
    --expect "^B\\| poolvisor: partition linux: lpid [0-9]+, 2 vCPUs, 256 MiB shared .*: migrating in from sysa"
    --expect "^B\\| poolvisor: migration: linux from sysa resumed here"
    --expect "^A\\| poolvisor: migration: linux runs on sysb: ending it here .*, 0 source page-ins\\)"
    --expect "${ACMD}migrlpar: linux migrated to sysb"
    --expect "^B\\| ${LSH}uptime [0-9]+ [0-9]+$"
    --expect "^B\\| ${LSH}after-42$"
    --expect "^B\\| ${LSH}/tmp/r: OK$"
    --expect "^B\\| ${LSH}/init: OK$"
    --expect "^B\\| ${LSH}sums-42$"
    --expect "^B\\| ${LSH}PV-LINUX: shell ended$"
    --expect "^A\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"linux\".*\"state\":\"migrated\".*\"migrated_to\":\"sysb\""
    --expect "^B\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"linux\".*\"state\":\"stopped\",\"reason\":\"power-off requested\",\"migrated_from\":\"sysa\",\"page_ins\":[1-9][0-9]*,"
    --expect "^A\\| poolvisor: all partitions have ended\; powering off"
    --expect "^B\\| poolvisor: all partitions have ended\; powering off"
    --reject "${LINUX_REJECT}|soft lockup|rcu.*stall|hard LOCKUP|FAILED"
    ${MIG_REJECT})
set_tests_properties(boot.mig_linux PROPERTIES LABELS "linux;migration" ENVIRONMENT PV_DISK_SIZE=512M)
# -DPV_LINUX_TESTS=OFF (CMakeLists.txt) disables the label-linux tests.
if(DEFINED PV_LINUX_TESTS AND NOT PV_LINUX_TESTS)
    set_tests_properties(boot.mig_linux PROPERTIES DISABLED TRUE)
endif()
