# linux.shared (label linux; issue 9 point 6): Debian's kernel as a
# shared-memory partition, 512 MiB of logical memory on a 128 MiB pool,
# writes and verifies a 320 MiB tmpfs file (pv-memtest) while the hypervisor
# pages it through the PSP, with a shared test partition beside it. Linux
# must announce CMO (ibm,get-system-parameter 44), find no mismatch, and its
# VPAs must have counted the hypervisor page faults.
# Needs the kernel and linux.cmake's initrd (tools/setup.sh).
if(NOT TARGET linux-initrd)
    return()
endif()
pv_linux_bundle(linux_shared ${CMAKE_CURRENT_SOURCE_DIR}/configs/linux_shared.cfg)
pv_linux_bundle(linux_bench_shared ${CMAKE_SOURCE_DIR}/partition/linux_bench_shared.cfg)  # make bench
pv_linux_bundle(linux_shared_demo ${CMAKE_SOURCE_DIR}/partition/linux_shared.cfg)  # make linux-shared
add_test(NAME linux.shared COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/linux_shared.bundle --timeout 900
    --disk ${CMAKE_BINARY_DIR}/linux.shared.img --disk-size 1G
    --expect "^poolvisor: partition linux: lpid 2, 2 vCPUs, 512 MiB shared "
    --expect "^\\[linux\\] \\[ *[0-9.]+\\] CMO enabled$"
    --expect "^\\[linux\\] PV-LINUX: memory verified mib=320 mismatches=0 bad_bytes=0 bad_checksums=0$"
    --expect "^\\[linux\\] PV-LINUX: memory PASS mib=320 mismatches=0 uptime=[0-9.]+$"
    --expect "^\\[s1\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPUs?, 2 rounds, 0 mismatches"
    --expect "${STAT},\"name\":\"linux\",.*\"mem_mode\":\"shared\",.*\"vpa_cmo_faults\":[1-9][0-9]*,.*\"state\":\"stopped\",\"reason\":\"power-off requested\",\"page_ins\":[1-9][0-9]*,\"page_outs\":[1-9][0-9]*,\"hv_faults\":[1-9][0-9]*,.*\"errors\":0,"
    --expect "${STAT},\"name\":\"s1\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "poolvisor: all partitions have ended; powering off"
    --reject "${LINUX_REJECT}")
set_tests_properties(linux.shared PROPERTIES LABELS "linux;paging")
