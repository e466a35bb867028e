# boot.nvme: the smp bundle on a machine with one PHB, a root port and an
# NVMe disk (a fresh image, boot_test.sh --disk). The hypervisor's NVMe
# self-test (arch/ppc64/nvme_selftest.cpp) drives the disk with our own driver
# through TCE-restricted DMA, then the partitions run as in boot.smp.
add_test(NAME boot.nvme COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/smp.bundle --timeout 150
    --disk ${CMAKE_BINARY_DIR}/boot.nvme.img
    --expect "^poolvisor: nvme: QEMU NVMe Ctrl serial pv0, 131072 blocks of 512 bytes, PHB 0 BAR 0x[0-9a-f]+$"
    --expect "^poolvisor: nvme: DMA without a writable TCE was blocked: unmapped, revoked and read-only pages unchanged"
    --expect "^poolvisor: nvme: raw read [0-9]+ MiB in [0-9]+ KiB commands: [0-9]+ MiB/s"
    --expect "^poolvisor: nvme: self-test ok \\(wrote and read back [0-9]+ blocks through TCEs\\)"
    --expect "^\\[alpha\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs"
    --expect "^\\[beta\\] smp-guest: PASS verified [0-9]+ MiB on 3 vCPUs"
    --expect "${STAT},\"name\":\"alpha\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "${STAT},\"name\":\"beta\",.*\"state\":\"stopped\""
    --expect "poolvisor: all partitions have ended; powering off"
    --reject "nvme: .*(FAILED|failed)|MISMATCH|FAIL|HYPERVISOR FAULT|killed")
set_tests_properties(boot.nvme PROPERTIES LABELS boot)
