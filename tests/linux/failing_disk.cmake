# Boot tests on a paging disk that fails reads on demand (labels boot,
# fault-injection): nbdkit serves the disk through tests/linux/nbd_failing.py,
# tests/linux/failing_disk.sh runs the boot test on it and the test's
# --run-when commands (tests/linux/fail_blocks.sh) arm failures while the
# machine runs. blkdebug (tests/boot/blkdebug) fixes its rules before boot;
# this device lets a test fail blocks it learns from the running guest
# (docs/fault-injection.md). Included from fault_injection.cmake.
set(PV_FAILING_DISK ${CMAKE_SOURCE_DIR}/tests/linux/failing_disk.sh)
set(PV_FAIL_BLOCKS ${CMAKE_SOURCE_DIR}/tests/linux/fail_blocks.sh)

# fault.process on the failing NBD disk: m1's block for logical page
# 0x940000 (its paging region starts at 16 MiB) fails once the paging service
# is up; process 1 takes the machine check, the others finish.
add_test(NAME fault.nbd_process COMMAND ${PV_FAILING_DISK} --image ${CMAKE_BINARY_DIR}/fault.nbd_process.img
    --size 64M -- --elf ${PV_ELF} --bundle ${CMAKE_BINARY_DIR}/fi_mce.bundle --timeout 240
    --run-when 1 "^poolvisor: paging: service partition psp ready" "${PV_FAIL_BLOCKS} addr 16777216 0x940000"
    --expect "^\\[psp\\] psp: page-in .* block 51712: unrecovered read error \\(status 0x281\\) after 2 retries"
    --expect "${FAILED_PAGE_IN}"
    --expect "${M1}machine check: logical page 0x940000 \\(EA 0x[0-9a-f]+\\) via FWNMI"
    --expect "${M1}process 1 terminated \\(uses the failed page\\)"
    --expect "${M1}PASS 2 processes finished with correct checksums, 1 terminated by machine check"
    --expect "${S2_PASS}"
    --expect "${STAT},\"name\":\"m1\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\",.*\"errors\":1"
    --expect "${STAT},\"name\":\"s2\",.*\"state\":\"stopped\",.*\"errors\":0"
    --expect "PV-STAT \\{\"type\":\"pool\",\"frames\":([0-9]+),\"free\":\\1,"
    --expect "poolvisor: all partitions have ended; powering off"
    --reject "MISMATCH|FAIL|HYPERVISOR FAULT|killed")
set_tests_properties(fault.nbd_process PROPERTIES LABELS "boot;fault-injection")
