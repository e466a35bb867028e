# Machine checks to a Linux guest (label linux; issue 9 point 7): Debian's
# kernel in a shared partition whose paging disk fails reads on demand
# (failing_disk.cmake: nbdkit with nbd_failing.py). Linux's own FWNMI handler
# (arch/powerpc/platforms/pseries/ras.c) gets the hypervisor's RTAS error log
# (a UE on a load/store with the effective and logical address) and must
# handle it as on PowerVM. docs/fault-injection.md. Included from
# tests/boot/linux.cmake (pv_linux_bundle, LINUX_REJECT, STAT, PV_FAILING_DISK).
pv_linux_bundle(linux_mce_sigbus ${CMAKE_SOURCE_DIR}/tests/linux/configs/mce_sigbus.cfg)
pv_linux_bundle(linux_mce_kernel_page ${CMAKE_SOURCE_DIR}/tests/linux/configs/mce_kernel_page.cfg)

set(LX "^\\[linux\\] ")
set(LX_MCE "${LX}\\[ *[0-9.]+\\] MCE: CPU[0-9]+: machine check \\(Severe\\) +UE Load/Store")
set(S2_PASS --expect "^\\[s2\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 1000 rounds, 0 mismatches"
    --expect "${STAT},\"name\":\"s2\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\",.*\"errors\":0,")
set(POOL_BACK --expect "PV-STAT \\{\"type\":\"pool\",\"frames\":([0-9]+),\"free\":\\1,"
    --expect "poolvisor: all partitions have ended. powering off")  # "." for ";" (a list separator)

# linux.sigbus: pv-pagemap-touch fills 8 pages (64 KiB) and prints their PFNs;
# the test fails the disk blocks of pages 1, 2, 5 and 6 (the first 4 KiB of
# each); 160 MiB of tmpfs files on a 128 MiB pool push the idle buffer out;
# the program reads its pages back. Each failed page-in is a machine check to
# the reading vCPU: Linux sends that process SIGBUS (BUS_MCEERR_AR, caught and
# reported) and poisons the page (memory_failure); the other pages read back
# intact, the heartbeat process never stops, Linux powers off normally, s2
# (1000 rounds on 2 vCPUs, through Linux's boot and paging) passes. The pool
# may keep an armed page resident (then it reads intact): check_sigbus.sh
# checks that the SIGBUS pages are exactly the failed page-ins, all armed, at
# least one, and every other page intact.
# The kernel's messages share hvc0 with the program's: a line of it may be cut
# by one (so these expectations match line tails), and the program's own lines
# (SIGBUS pages, the "touched" summary) are checked by check_sigbus.sh, which
# joins them back first (a CI run cut "touched" itself). Only one "Memory failure"
# is required: Linux drains its queue of UE events from one work item, and the
# event of a second CPU can stay queued until after power-off.
add_test(NAME linux.sigbus COMMAND ${PV_FAILING_DISK} --image ${CMAKE_BINARY_DIR}/linux.sigbus.img --size 1G --
    --elf ${PV_ELF} --bundle ${CMAKE_BINARY_DIR}/linux_mce_sigbus.bundle --timeout 420
    --run-when 1 "${LX}PV-LINUX: pages pid=[0-9]+ pfns=0x[0-9a-f]+(,0x[0-9a-f]+){7} pagesize=65536 count=8$"
        "${PV_FAIL_BLOCKS} pages 0 1 2 5 6"
    --run-when 1 "${LX}PV-LINUX: sigbus PASS " "${CMAKE_CURRENT_LIST_DIR}/check_sigbus.sh 8 1 2 5 6"
    --input-when 1 "${LX}PV-LINUX: sigbus waiting for a line on the console$" "\\r"
    --expect "${LX}PV-LINUX: sigbus pressure mib=160 written$"
    --expect "^poolvisor: paging: page-in of linux logical page 0x[0-9a-f]+0000 from block [0-9]+ failed \\(status 0x281\\): machine check to 1 vCPU"
    --expect "${LX_MCE} DAR: [0-9a-f]+ paddr: [0-9a-f]+0000 \\[Not recovered\\]$"
    --expect "${LX}\\[ *[0-9.]+\\] MCE: CPU[0-9]+: PID: [0-9]+ Comm: pv-pagemap-touc NIP: "
    --expect "${LX}.*\\[ *[0-9.]+\\] Memory failure: 0x[0-9a-f]+: recovery action for .*: Recovered$"
    --expect "${LX}PV-LINUX: sigbus PASS toucher=sigbus heartbeat=alive beats=[0-9]+ uptime=[0-9.]+$"
    --expect "${STAT},\"name\":\"linux\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\",.*\"page_outs\":[1-9][0-9]*,.*\"errors\":[1-4],"
    ${S2_PASS} ${POOL_BACK}
    --reject "${LINUX_REJECT}|sigbus page=[0347] ")

# linux.kernel_page: the block of one 4 KiB page of the kernel's kallsyms_names
# (read only when /proc/kallsyms is) fails; after a 160 MiB tmpfs write on the
# shell, `cat /proc/kallsyms` reads it: a machine check in kernel mode with no
# exception-table fixup is die(); oops=panic makes it panic, and Linux's panic
# calls ibm,os-term: the partition stops with that reason. s2 passes.
find_program(PV_LINUX_NM powerpc64le-linux-gnu-nm REQUIRED)
execute_process(COMMAND ${PV_LINUX_NM} ${PV_LINUX_DEPS}/vmlinux
    COMMAND grep -E " kallsyms_(names|markers)$" OUTPUT_VARIABLE kallsyms_syms RESULT_VARIABLE nm_rc)
string(REGEX MATCH "c000([0-9a-f]+) [A-Za-z] kallsyms_names" _ "${kallsyms_syms}")
set(names_at ${CMAKE_MATCH_1})
string(REGEX MATCH "c000([0-9a-f]+) [A-Za-z] kallsyms_markers" _ "${kallsyms_syms}")
set(markers_at ${CMAKE_MATCH_1})
if(NOT nm_rc EQUAL 0 OR NOT names_at OR NOT markers_at)
    message(FATAL_ERROR "linux.kernel_page: no kallsyms_names/kallsyms_markers in ${PV_LINUX_DEPS}/vmlinux")
endif()
# The kernel runs at real address 0: logical = virtual - 0xc000000000000000.
math(EXPR PV_KALLSYMS_PAGE "(0x${names_at} + 0x${markers_at}) / 2 / 4096 * 4096" OUTPUT_FORMAT HEXADECIMAL)
string(SUBSTRING ${PV_KALLSYMS_PAGE} 2 -1 kallsyms_hex)
add_test(NAME linux.kernel_page COMMAND ${PV_FAILING_DISK} --image ${CMAKE_BINARY_DIR}/linux.kernel_page.img --size 1G --
    --elf ${PV_ELF} --bundle ${CMAKE_BINARY_DIR}/linux_mce_kernel_page.bundle --timeout 420
    --run-when 1 "${LX}PV-LINUX: init: pvtest=none " "${PV_FAIL_BLOCKS} addr 0 ${PV_KALLSYMS_PAGE}"
    --input-when 1 "${LX}pv-linux# "
        "dd if=/dev/zero of=/tmp/p bs=1M count=160 2>/dev/null; rm /tmp/p; echo pressure-$((6*7))\\r"
    --input-when 1 "${LX}pressure-42$" "cat /proc/kallsyms >/dev/null; echo survived-$((6*7))\\r"
    --expect "^poolvisor: paging: page-in of linux logical page ${PV_KALLSYMS_PAGE} from block [0-9]+ failed \\(status 0x281\\): machine check to 1 vCPU"
    --expect "${LX_MCE} DAR: c0*${kallsyms_hex} paddr: 0*${kallsyms_hex} \\[Not recovered\\]$"
    --expect "${LX}\\[ *[0-9.]+\\] MCE: CPU[0-9]+: NIP: \\[c[0-9a-f]+\\] kallsyms_expand_symbol"
    --expect "${LX}\\[ *[0-9.]+\\] Oops: Machine check, sig: 7"
    --expect "${LX}\\[ *[0-9.]+\\] Kernel panic - not syncing: Fatal exception$"
    --expect "${STAT},\"name\":\"linux\",.*\"state\":\"stopped\",\"reason\":\"os-term: OS panic: Fatal exception\",.*\"errors\":1,"
    --expect "^poolvisor: partition linux stopped: os-term: OS panic: Fatal exception$"
    ${S2_PASS} ${POOL_BACK}
    --reject "${LX}survived-42$|FAIL|MISMATCH|HYPERVISOR FAULT|Facility '.*' unavailable")

set_tests_properties(linux.sigbus linux.kernel_page PROPERTIES LABELS linux)
