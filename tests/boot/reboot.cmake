# RTAS system-reboot (label boot): partition "again" fills its memory with
# test patterns and reboots; on its second boot (/chosen poolvisor,boot-count
# = 1) its free memory must read as zero before it tests it again and powers
# off. "beside" runs on undisturbed. The shared-memory partition "shr" fills
# twice its share of the pool (so pages of it are on the paging device when it
# reboots), reboots, and must find all its free memory zero on its second boot
# (the paged-out pages' device copies dropped, not read back), then pass again;
# every pool frame is free at the end.
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
    --expect "^\\[shr\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 1 rounds, 0 mismatches$"
    --expect "^\\[shr\\] smp-guest: system-reboot \\(boot 1\\)$"
    --expect "^poolvisor: partition shr: paging state cleared for its restart \\([1-9][0-9]* paging-device copies dropped\\)$"
    --expect "^poolvisor: partition shr: restarting \\(system-reboot, boot 2\\)$"
    --expect "^\\[shr\\] smp-guest: boot 2: free memory 0x[0-9a-f]+-0x[0-9a-f]+ reads as zero$"
    --expect "^\\[shr\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 1 rounds, 0 mismatches \\(boot 2\\)$"
    --expect "^\\[shr\\] smp-guest: vpa: ok"
    --expect "${STAT},\"name\":\"shr\",.*\"restarts\":1,\"state\":\"stopped\",\"reason\":\"power-off requested\",\"page_ins\":[0-9]+,\"page_outs\":[1-9]"
    --expect "PV-STAT \\{\"type\":\"pool\",\"frames\":([0-9]+),\"free\":\\1,"
    --expect "poolvisor: all partitions have ended; powering off"
    --reject "MISMATCH|FAIL|HYPERVISOR FAULT|killed")
set_tests_properties(boot.reboot PROPERTIES LABELS boot)
