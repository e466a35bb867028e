# Paging boot tests (labels boot, paging): two shared partitions × 2 vCPUs
# overcommit the pool 2× (half) and 4× (quarter); the integrity guest checks
# every byte it wrote while the hypervisor pages through the PSP to a fresh
# NVMe disk. A dedicated partition beside them must be unaffected. Every TCE
# kill goes through the PHB's kill register, none through OPAL (PV-STAT host).
# paging.half.witness: the same run with the lock witness checking every lock.
foreach(test half quarter half.witness)
    string(REPLACE ".witness" "" kind ${test})
    set(elf)
    if(NOT test STREQUAL kind)
        set(elf ${WITNESS})
    endif()
    # half has 1024 paging requests: read-ahead keeps hundreds in flight (ids
    # past 256, the PSP's 64 KiB CRQ); quarter has 32 (the pool runs out).
    set(depth)
    if(kind STREQUAL half)
        set(depth --expect "PV-STAT \\{\"type\":\"pool\",.*\"max_requests_in_flight\":([3-9][0-9][0-9]|[0-9]{4}),\"paging_requests\":1024,")
    endif()
    add_test(NAME paging.${test} COMMAND ${RUN} ${elf} --bundle ${CMAKE_BINARY_DIR}/paging_${kind}.bundle --timeout 240
        --disk ${CMAKE_BINARY_DIR}/paging.${test}.img
        --expect "^poolvisor: shared memory pool: [0-9]+ MiB"
        --expect "^poolvisor: paging: service partition psp ready"
        --expect "^\\[s1\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 2 rounds, 0 mismatches"
        --expect "^\\[s2\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 2 rounds, 0 mismatches"
        --expect "^\\[ded\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPUs, 2 rounds, 0 mismatches"
        --expect "^\\[psp\\] psp: final: [0-9]+ requests, [1-9][0-9]* page-ins .*, [1-9][0-9]* page-outs .*, 0 errors"
        --expect "${STAT},\"name\":\"s1\",.*\"mem_mode\":\"shared\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\",\"page_ins\":[1-9][0-9]*,\"page_outs\":[1-9][0-9]*,\"hv_faults\":[1-9]"
        --expect "${STAT},\"name\":\"s2\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\",\"page_ins\":[1-9][0-9]*,\"page_outs\":[1-9][0-9]*,\"hv_faults\":[1-9]"
        --expect "${STAT},\"name\":\"ded\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\",\"page_ins\":0,\"page_outs\":0,\"hv_faults\":0"
        --expect "PV-STAT \\{\"type\":\"pool\",\"frames\":([0-9]+),\"free\":\\1,"
        ${depth}
        --expect "^poolvisor: paging device nvme0: TCE kills by the PHB kill register \\(PHB registers at 0x[0-9a-f]+\\)$"
        --expect "PV-STAT \\{\"type\":\"host\",.*\"tce_kills_register\":[1-9][0-9]*,\"tce_kills_opal\":0\\}"
        --expect "poolvisor: all partitions have ended; powering off"
        --reject "MISMATCH|FAIL|HYPERVISOR FAULT|killed|cannot (send|map)|dropped")
    set_tests_properties(paging.${test} PROPERTIES LABELS "boot;paging")
endforeach()

# paging.past_end: a 32 MiB paging region at 128 MiB of a 128 MiB disk. The
# hypervisor reads the device's size when it attaches it and refuses the
# configuration: one error naming the partition, the device and its size, and
# no partition starts (before, every page-out of s1 failed).
pv_bundle(paging_past_end ${CMAKE_CURRENT_SOURCE_DIR}/configs/paging_past_end.cfg)
add_test(NAME paging.past_end COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/paging_past_end.bundle --timeout 60
    --disk ${CMAKE_BINARY_DIR}/paging.past_end.img --disk-size 128M
    --expect "^poolvisor: config:19: paging_offset: paging region 128M\\.\\.160M of partition 's1' ends past the end of paging device 'nvme0' \\(128M: 262144 blocks of 512 bytes\\)$"
    --expect "^poolvisor: no partition started$"
    --reject "^\\[(psp|s1)\\]|PV-STAT|HYPERVISOR FAULT")
set_tests_properties(paging.past_end PROPERTIES LABELS "boot;paging")
