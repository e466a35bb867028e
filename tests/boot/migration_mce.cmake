# A failed page that migrates (issue 10 point 4, docs/migration.md "A failed
# page"): the page-state machine's Failed pages keep their machine check at
# the target. Uses MIG_PAIR, MIG_REJECT, ACMD and KEYS from migration.cmake.
pv_bundle(mig_mce_a ${CMAKE_CURRENT_SOURCE_DIR}/configs/mig_mce_a.cfg pair-ab.key=${KEYS}/pair-ab.key)
set(MIG_M1A "^A\\| \\[m1\\] mce-guest: ")
set(MIG_M1B "^B\\| \\[m1\\] mce-guest: ")

# boot.mig_mce: mce-guest (hold=1) writes 6 MiB in six processes at A; every
# read of process 1's page 0x940000 fails there (blkdebug on A's disk only).
# Process 1 touches it once it was paged out; the decrementer wakes its vCPU
# from the page-in wait and the PSP answers the failure 2 s later, so no vCPU
# waits for it: the page is lost (Failed: its next access machine-checks).
# Then migrlpar -o m moves m1 to B. There, after the line, the page's access
# takes the machine check with its FWNMI error log and ends process 1 only;
# the other five check at B what they wrote at A (0 mismatches); B's PV-STAT
# carries A's paging error.
add_test(NAME boot.mig_mce COMMAND ${MIG_PAIR} --a ${CMAKE_BINARY_DIR}/mig_mce_a.bundle
    --b ${CMAKE_BINARY_DIR}/mig_b.bundle --disk-a ${CMAKE_BINARY_DIR}/boot.mig_mce.a.img
    --disk-b ${CMAKE_BINARY_DIR}/boot.mig_mce.b.img --blkdebug-a ${CMAKE_CURRENT_SOURCE_DIR}/blkdebug/process_page.conf
    --timeout 400
    --input-when A 1 "^poolvisor: paging: no vCPU of m1 waits for logical page 0x940000 now" "\\x01cmigrlpar -o m -p m1 -t sysb\\r"
    --input-when B 1 "^poolvisor: migration: m1 from sysa resumed here" "x\\r"
    --input-when B 1 "^poolvisor: console: input to partition m1" "go\\r"
    --expect "${MIG_M1A}hold: every process wrote round 1\; checked after a line"
    --expect "${MIG_M1A}process 1: hold: page 0x940000: woken from its page-in wait\; touched again after a line"
    --expect "^A\\| \\[psp\\] psp: page-in .* block 51712: unrecovered read error \\(status 0x281\\) after 2 retries"
    --expect "^A\\| poolvisor: paging: page-in of m1 logical page 0x940000 from block 51712 failed \\(status 0x281\\)"
    --expect "${ACMD}migrlpar: m1 can move to sysb\; migrating"
    --expect "^B\\| poolvisor: partition m1: lpid [0-9]+, 2 vCPUs, 16 MiB shared .*: migrating in from sysa"
    --expect "^B\\| poolvisor: migration: m1 from sysa resumed here"
    --expect "^A\\| poolvisor: migration: m1 runs on sysb: ending it here .*, 0 source page-ins\\)"
    --expect "${MIG_M1B}hold: got 'go'"
    --expect "${MIG_M1B}machine check: logical page 0x940000 \\(EA 0x940018\\) via FWNMI"
    --expect "${MIG_M1B}process 1 terminated \\(uses the failed page\\)"
    --expect "${MIG_M1B}process 0 round 1: checksum 0x[0-9a-f]+ ok"
    --expect "${MIG_M1B}process 5 round 1: checksum 0x[0-9a-f]+ ok"
    --expect "${MIG_M1B}PASS 5 processes finished with correct checksums, 1 terminated by machine check"
    --expect "^A\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"m1\".*\"state\":\"migrated\".*\"migrated_to\":\"sysb\""
    --expect "^B\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"m1\".*\"state\":\"stopped\",\"reason\":\"power-off requested\".*\"errors\":1,"
    --expect "^B\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"m1\".*\"migrated_from\":\"sysa\""
    --expect "^A\\| poolvisor: all partitions have ended\; powering off"
    --expect "^B\\| poolvisor: all partitions have ended\; powering off"
    --reject "${MIG_M1A}(machine check:|process [0-9] round 1: checksum)"
    --reject "hold: FAIL"
    ${MIG_REJECT})
set_tests_properties(boot.mig_mce PROPERTIES LABELS "boot;migration;fault-injection" ENVIRONMENT PV_DISK_SIZE=160M)

# boot.mig_mce_0x200: the same without FWNMI (fwnmi=off): at B the machine
# check comes at the architected vector and mce-guest takes the failed page
# from H_PV_GET_ERROR_LOG, i.e. from the error log that came in the ErrorLog
# records (its page, then the access's DAR as EA).
pv_bundle(mig_mce_0x200_a ${CMAKE_CURRENT_SOURCE_DIR}/configs/mig_mce_0x200_a.cfg pair-ab.key=${KEYS}/pair-ab.key)
add_test(NAME boot.mig_mce_0x200 COMMAND ${MIG_PAIR} --a ${CMAKE_BINARY_DIR}/mig_mce_0x200_a.bundle
    --b ${CMAKE_BINARY_DIR}/mig_b.bundle --disk-a ${CMAKE_BINARY_DIR}/boot.mig_mce_0x200.a.img
    --disk-b ${CMAKE_BINARY_DIR}/boot.mig_mce_0x200.b.img --blkdebug-a ${CMAKE_CURRENT_SOURCE_DIR}/blkdebug/process_page.conf
    --timeout 400
    --input-when A 1 "^poolvisor: paging: no vCPU of m1 waits for logical page 0x940000 now" "\\x01cmigrlpar -o m -p m1 -t sysb\\r"
    --input-when B 1 "^poolvisor: migration: m1 from sysa resumed here" "x\\r"
    --input-when B 1 "^poolvisor: console: input to partition m1" "go\\r"
    --expect "${MIG_M1A}machine checks at 0x200 \\(fwnmi=off\\)"
    --expect "${MIG_M1A}process 1: hold: page 0x940000: woken from its page-in wait\; touched again after a line"
    --expect "^A\\| poolvisor: paging: page-in of m1 logical page 0x940000 from block 51712 failed \\(status 0x281\\)"
    --expect "${ACMD}migrlpar: m1 can move to sysb\; migrating"
    --expect "^B\\| poolvisor: migration: m1 from sysa resumed here"
    --expect "${MIG_M1B}hold: got 'go'"
    --expect "${MIG_M1B}machine check: logical page 0x940000 \\(EA 0x940018\\) via 0x200"
    --expect "${MIG_M1B}process 1 terminated \\(uses the failed page\\)"
    --expect "${MIG_M1B}PASS 5 processes finished with correct checksums, 1 terminated by machine check"
    --expect "^B\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"m1\".*\"state\":\"stopped\",\"reason\":\"power-off requested\".*\"errors\":1,"
    --expect "^A\\| poolvisor: all partitions have ended\; powering off"
    --expect "^B\\| poolvisor: all partitions have ended\; powering off"
    --reject "${MIG_M1A}(machine check:|process [0-9] round 1: checksum)"
    --reject "hold: FAIL|via FWNMI|H_PV_GET_ERROR_LOG\\("
    ${MIG_REJECT})
set_tests_properties(boot.mig_mce_0x200 PROPERTIES LABELS "boot;migration;fault-injection" ENVIRONMENT PV_DISK_SIZE=160M)
