# RTAS system-reboot (label boot): partition "again" fills its memory with
# test patterns and reboots; on its second boot (/chosen poolvisor,boot-count
# = 1) its free memory must read as zero before it tests it again and powers
# off. "beside" runs on undisturbed. The shared-memory partition "shr" asks
# for a reboot too and is stopped with the reason.
pv_bundle(reboot ${CMAKE_CURRENT_SOURCE_DIR}/configs/reboot.cfg)
add_test(NAME boot.reboot COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/reboot.bundle --timeout 180
    --disk ${CMAKE_BINARY_DIR}/boot.reboot.img
    --expect "^\\[again\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 1 rounds, 0 mismatches"
    --expect "^\\[again\\] smp-guest: system-reboot \\(boot 1\\)$"
    --expect "^poolvisor: partition again: restarting \\(system-reboot, boot 2\\)$"
    --expect "^\\[again\\] smp-guest: boot 2: free memory 0x[0-9a-f]+-0x[0-9a-f]+ reads as zero$"
    --expect "^\\[beside\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPUs?, 3 rounds, 0 mismatches"
    --expect "${STAT},\"name\":\"again\",.*\"restarts\":1,\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "${STAT},\"name\":\"beside\",.*\"restarts\":0,\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "${STAT},\"name\":\"shr\",.*\"restarts\":0,\"state\":\"stopped\",\"reason\":\"system-reboot requested \\(restart of a shared-memory partition is not supported\\)\""
    --expect "poolvisor: all partitions have ended; powering off"
    --reject "MISMATCH|FAIL|HYPERVISOR FAULT|killed")
set_tests_properties(boot.reboot PROPERTIES LABELS boot)
