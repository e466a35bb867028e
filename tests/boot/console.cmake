# Console input (label boot, docs/console.md): what is typed on the machine's
# serial console goes to the partition with the focus (alpha first); Ctrl-A l
# lists the partitions, Ctrl-A n moves the input to beta. Each partition
# (smp-guest echo_input=1) reads one line with H_GET_TERM_CHAR and prints it:
# each must get its own text and only that.
# boot.console.witness: the same with the lock witness (the reader's, the
# rings', a partition's and the console's locks nest as docs/locks.md says).
pv_bundle(console ${CMAKE_CURRENT_SOURCE_DIR}/configs/console.cfg)

set(CON "^poolvisor: console: ")
foreach(test console console.witness)
    set(elf)
    if(test STREQUAL console.witness)
        set(elf ${WITNESS})
    endif()
    add_test(NAME boot.${test} COMMAND ${RUN} ${elf} --bundle ${CMAKE_BINARY_DIR}/console.bundle --timeout 120
        --input-when 1 "^\\[alpha\\] smp-guest: echo: waiting for line 1 of 1" "\\x01lalpha-text\\r"
        --input-when 1 "^\\[alpha\\] smp-guest: got " "\\x01n"
        --input-when 1 "${CON}input to partition beta " "beta-text\\r"
        --expect "${CON}input to partition alpha \\(Ctrl-A n: next, l: list, h: help\\)$"
        --expect "${CON}\\* alpha +lpid 1 +running +0 bytes waiting, 0 dropped$"
        --expect "${CON}  beta +lpid 2 +running "
        --expect "^\\[alpha\\] smp-guest: got 'alpha-text'$"
        --expect "${CON}input to partition beta \\(Ctrl-A n: next, l: list, h: help\\)$"
        --expect "^\\[beta\\] smp-guest: got 'beta-text'$"
        --expect "^\\[alpha\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 1 rounds, 0 mismatches"
        --expect "^\\[beta\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPUs?, 1 rounds, 0 mismatches"
        --expect "poolvisor: all partitions have ended; powering off"
        --reject "^\\[alpha\\] smp-guest: got 'beta|^\\[beta\\] smp-guest: got 'alpha"
        --reject "MISMATCH|FAIL|HYPERVISOR FAULT|killed|no such key|lock order")
    set_tests_properties(boot.${test} PROPERTIES LABELS boot)
endforeach()

# Hypervisor commands (docs/console.md, Ctrl-A c): typed on the same console,
# run by the hypervisor, never seen by the partition with the focus.
# lssyscfg lists the partitions as they are; migrlpar -o v refuses a
# dedicated partition and a target with no migration link, and changes nothing.
set(CMD "^poolvisor: command: ")
add_test(NAME boot.hv_command COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/console.bundle --timeout 120
    --input-when 1 "^\\[alpha\\] smp-guest: echo: waiting for line 1 of 1" "\\x01clssyscfg -r lpar\\r"
    --input-when 1 "${CMD}name=beta," "\\x01cmigrlpar -o v -p alpha -t sysb\\r"
    --input-when 1 "${CMD}  no migration link" "\\x01clslparmigr -r lpar\\r"
    --input-when 1 "${CMD}name=beta,lpar_id=2,migration_state=" "alpha-text\\r"
    --input-when 1 "^\\[alpha\\] smp-guest: got " "\\x01n"
    --input-when 1 "${CON}input to partition beta " "beta-text\\r"
    --expect "${CON}poolvisor> lssyscfg -r lpar$"
    --expect "${CMD}name=alpha,lpar_id=1,state=Running,mem_mode=ded,curr_mem=32,curr_procs=2$"
    --expect "${CMD}name=beta,lpar_id=2,state=Running,mem_mode=ded,curr_mem=32,curr_procs=1$"
    --expect "${CMD}migrlpar: alpha cannot move to sysb; nothing changed:$"
    --expect "${CMD}  not a shared-memory partition$"
    --expect "${CMD}  no migration link to system sysb \\(this system's config names no peer\\)$"
    --expect "${CMD}name=alpha,lpar_id=1,migration_state=Not Migrating$"
    --expect "^\\[alpha\\] smp-guest: got 'alpha-text'$"
    --expect "^\\[beta\\] smp-guest: got 'beta-text'$"
    --expect "^\\[alpha\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 1 rounds, 0 mismatches"
    --expect "^\\[beta\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPUs?, 1 rounds, 0 mismatches"
    --expect "poolvisor: all partitions have ended; powering off"
    --reject "smp-guest: got '.*(lssyscfg|migrlpar|lslparmigr)"
    --reject "MISMATCH|FAIL|HYPERVISOR FAULT|killed|no such key|unknown command|lock order")
set_tests_properties(boot.hv_command PROPERTIES LABELS boot)
