# Fault-injection boot tests (labels boot, fault-injection): QEMU's blkdebug
# fails chosen reads of the NVMe paging disk (tests/boot/blkdebug/*.conf); the
# PSP retries, then reports the failure; the hypervisor records it and
# injects a machine check; mce-guest isolates it (tests/boot/configs/fi_*.cfg).
set(FI_DIR ${CMAKE_CURRENT_SOURCE_DIR}/blkdebug)
set(M1 "^\\[m1\\] mce-guest: ")
set(S2_PASS "^\\[s2\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 2 rounds, 0 mismatches")
set(FAILED_PAGE_IN "^poolvisor: paging: page-in of m1 logical page 0x940000 from block 51712 failed \\(status 0x281\\): machine check")
# A decimal number >= 17 (a whole field: "170," but not "16,").
set(AT_LEAST_17 "(1[7-9]|[2-9][0-9]|[1-9][0-9][0-9]+),")

# fi_test(NAME BUNDLE RULES|none expectations...)
function(fi_test name bundle rules)
    set(inject)
    if(IS_ABSOLUTE "${rules}")
        set(inject --blkdebug ${rules})
    elseif(NOT rules STREQUAL "none")
        set(inject --blkdebug ${FI_DIR}/${rules})
    endif()
    add_test(NAME fault.${name} COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/${bundle}.bundle --timeout 240
        --disk ${CMAKE_BINARY_DIR}/fault.${name}.img ${inject}
        ${ARGN}
        --expect "PV-STAT \\{\"type\":\"pool\",\"frames\":([0-9]+),\"free\":\\1,"
        --expect "poolvisor: all partitions have ended; powering off")
    set_tests_properties(fault.${name} PROPERTIES LABELS "boot;fault-injection")
endfunction()

# (a) a failed block under one process: only that process ends.
fi_test(process fi_mce process_page.conf
    --expect "^\\[psp\\] psp: page-in .* block 51712: unrecovered read error \\(status 0x281\\) after 2 retries"
    --expect "${FAILED_PAGE_IN}"
    --expect "${M1}machine check: logical page 0x940000 \\(EA 0x[0-9a-f]+\\) via FWNMI"
    --expect "${M1}process 1 terminated \\(uses the failed page\\)"
    --expect "${M1}process 0: finished, 3 rounds, checksums ok"
    --expect "${M1}process 2: finished, 3 rounds, checksums ok"
    --expect "${M1}PASS 2 processes finished with correct checksums, 1 terminated by machine check"
    --expect "${S2_PASS}"
    --expect "${STAT},\"name\":\"m1\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\",.*\"errors\":1"
    --expect "${STAT},\"name\":\"s2\",.*\"state\":\"stopped\",.*\"errors\":0"
    --reject "MISMATCH|FAIL|HYPERVISOR FAULT|killed")

# (b) a failed block under the partition's kernel: that partition stops, the other finishes.
fi_test(kernel fi_mce kernel_page.conf
    --expect "^poolvisor: paging: page-in of m1 logical page 0x610000 from block 45184 failed"
    --expect "${M1}machine check in kernel page 0x610000: terminating the partition"
    --expect "${STAT},\"name\":\"m1\",.*\"state\":\"stopped\",\"reason\":\"os-term: machine check in kernel page 0x610000"
    --expect "${S2_PASS}"
    --expect "${STAT},\"name\":\"s2\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --reject "MISMATCH|HYPERVISOR FAULT|killed|process [0-9] terminated")

# (c) a transient failure within the retry budget: no machine check.
fi_test(transient fi_mce process_page_once.conf
    --expect "^\\[psp\\] psp: (page-in .* block 51712: .*ok after 1 retr|merged read of [0-9]+ pages at block [0-9]+ failed)"
    --expect "${M1}PASS 3 processes finished with correct checksums, 0 terminated by machine check"
    --expect "${S2_PASS}"
    --expect "${STAT},\"name\":\"m1\",.*\"state\":\"stopped\",.*\"errors\":0"
    --reject "machine check:|MISMATCH|FAIL|HYPERVISOR FAULT|killed")

# (d) no FWNMI registration: the architected machine check at 0x200.
fi_test(vector_0x200 fi_mce_0x200 process_page.conf
    --expect "${FAILED_PAGE_IN}"
    --expect "${M1}machine check: logical page 0x940000 \\(EA 0x[0-9a-f]+\\) via 0x200"
    --expect "${M1}process 1 terminated \\(uses the failed page\\)"
    --expect "${M1}PASS 2 processes finished with correct checksums, 1 terminated by machine check"
    --expect "${S2_PASS}"
    --reject "via FWNMI|MISMATCH|FAIL|HYPERVISOR FAULT|killed")

# (e) heavy paging with registered VPAs and DTLs: pinned, counters current.
fi_test(vpa_pinned fi_vpa none
    --expect "^\\[v1\\] smp-guest: vpa cpu [0-9]+: yield_count [1-9][0-9]*, cmo_faults [1-9][0-9]*, cmo_fault_time [1-9]"
    --expect "^\\[v2\\] smp-guest: vpa cpu [0-9]+: yield_count [1-9][0-9]*, cmo_faults [1-9][0-9]*, cmo_fault_time [1-9]"
    --expect "^\\[v1\\] smp-guest: vpa: ok"
    --expect "^\\[v2\\] smp-guest: vpa: ok"
    --expect "^\\[v1\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 2 rounds, 0 mismatches"
    --expect "^\\[v2\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 2 rounds, 0 mismatches"
    --expect "${STAT},\"name\":\"v1\",.*\"page_outs\":[1-9][0-9]*,.*\"max_pinned_pages\":${AT_LEAST_17}"
    --expect "${STAT},\"name\":\"v2\",.*\"page_outs\":[1-9][0-9]*,.*\"max_pinned_pages\":${AT_LEAST_17}"
    --reject "MISMATCH|FAIL|HYPERVISOR FAULT|killed")

# (f) the paging service partition dies under paging: its requests fail, the
# shared partitions get machine checks (and end), nothing hangs, the dedicated
# partition finishes, every frame returns to the pool. psp_killed.witness:
# the same with the lock witness (two partitions' locks nest on this path).
set(PSP_KILLED
    --expect "^\\[psp\\] psp: crash_after=3000: storing outside our memory"
    --expect "^poolvisor: partition psp killed: store to logical address 0x10000000000 outside its 16 MiB"
    --expect "^poolvisor: paging: the paging service partition psp ended while shared partitions run"
    --expect "^poolvisor: paging: page-in of m[12] logical page 0x[0-9a-f]+ from block [0-9]+ failed \\(status 0x8004\\): machine check"
    --expect "^\\[ded\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPUs, 2 rounds, 0 mismatches"
    --expect "${STAT},\"name\":\"psp\",.*\"state\":\"killed\""
    --expect "${STAT},\"name\":\"m1\",.*\"state\":\"(stopped|killed)\",.*\"errors\":[1-9]"
    --expect "${STAT},\"name\":\"m2\",.*\"state\":\"(stopped|killed)\",.*\"errors\":[1-9]"
    --expect "${STAT},\"name\":\"ded\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --reject "MISMATCH|HYPERVISOR FAULT")
fi_test(psp_killed fi_psp_killed none ${PSP_KILLED})
fi_test(psp_killed.witness fi_psp_killed none ${WITNESS} ${PSP_KILLED})

# (g) the paging service partition stays alive but stops answering: the
# request deadline fails its requests (machine checks), the PSP is declared
# failed and stopped, nothing stays parked, the dedicated partition finishes.
fi_test(psp_hung fi_psp_hung none
    --expect "^\\[psp\\] psp: hang_after=3000: no more answers"
    --expect "^poolvisor: paging: the paging service partition psp did not answer request [0-9]+ within 15000 ms: declared failed"
    --expect "^poolvisor: paging: page-in of m[12] logical page 0x[0-9a-f]+ from block [0-9]+ failed \\(status 0x8003\\): machine check"
    --expect "^\\[ded\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPUs, 2 rounds, 0 mismatches"
    --expect "${STAT},\"name\":\"psp\",.*\"state\":\"killed\",\"reason\":\"paging service: request [0-9]+ unanswered for 15000 ms\""
    --expect "${STAT},\"name\":\"m1\",.*\"state\":\"(stopped|killed)\",.*\"errors\":[1-9]"
    --expect "${STAT},\"name\":\"m2\",.*\"state\":\"(stopped|killed)\",.*\"errors\":[1-9]"
    --expect "${STAT},\"name\":\"ded\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "PV-STAT \\{\"type\":\"pool\",.*\"timed_out_requests\":[1-9]"
    --reject "MISMATCH|HYPERVISOR FAULT")

# write_error_rules(FILE FIRST_SECTOR PAGES): blkdebug rules that fail every
# write touching one of PAGES 4 KiB pages from FIRST_SECTOR (EIO → NVMe 0x280).
function(write_error_rules out first pages)
    set(text "# Generated by tests/boot/fault_injection.cmake: writes of ${pages} pages from sector ${first} fail.\n")
    math(EXPR last "${pages} - 1")
    foreach(i RANGE ${last})
        math(EXPR sector "${first} + ${i} * 8")
        string(APPEND text "[inject-error]\nevent = \"write_aio\"\niotype = \"write\"\nerrno = \"5\"\nsector = \"${sector}\"\n\n")
    endforeach()
    file(WRITE ${out} "${text}")
endfunction()

# (h) writes fail on a range of s1's paging region (from logical 4 MiB): each
# failed page stays resident and pinned, is never written there again, and s1
# still finishes with its data intact (64 pages: under its 1/16 of the pool).
set(S1_PASS "^\\[s1\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 2 rounds, 0 mismatches")
set(S2_PASS_HALF "^\\[s2\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 2 rounds, 0 mismatches")
set(DED_PASS "^\\[ded\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPUs, 2 rounds, 0 mismatches")
write_error_rules(${CMAKE_CURRENT_BINARY_DIR}/write_errors_64.conf 8192 64)
fi_test(write_errors_kept paging_half ${CMAKE_CURRENT_BINARY_DIR}/write_errors_64.conf
    --expect "^poolvisor: paging: page-out of s1 logical page 0x4[0-9a-f]{5} to block [0-9]+ failed \\(status 0x[0-9a-f]+\\): kept resident"
    --expect "${S1_PASS}"
    --expect "${S2_PASS_HALF}"
    --expect "${DED_PASS}"
    --expect "${STAT},\"name\":\"s1\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\",.*\"page_out_errors\":[1-9][0-9]*"
    --expect "${STAT},\"name\":\"s2\",.*\"page_out_errors\":0"
    --reject "MISMATCH|HYPERVISOR FAULT|killed|cannot keep it")

# (i) writes fail on 512 pages of s1 (2 MiB; s1 may keep 1/16 of the 16 MiB
# pool = 256 pages resident this way): s1 can no longer be paged and stops
# with the reason; s2 and the dedicated partition finish normally.
write_error_rules(${CMAKE_CURRENT_BINARY_DIR}/write_errors_512.conf 8192 512)
fi_test(write_errors_stop paging_half ${CMAKE_CURRENT_BINARY_DIR}/write_errors_512.conf
    --expect "^poolvisor: stopping partition s1: paging device write errors: [0-9]+ pages of its paging region cannot be written"
    --expect "${S2_PASS_HALF}"
    --expect "${DED_PASS}"
    --expect "${STAT},\"name\":\"s1\",.*\"state\":\"killed\",\"reason\":\"paging device write errors"
    --expect "${STAT},\"name\":\"s2\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\",.*\"page_out_errors\":0"
    --reject "MISMATCH|HYPERVISOR FAULT|^\\[s1\\] smp-guest: PASS")

# The same machine checks from a disk a test fails while the guest runs (nbdkit).
include(${CMAKE_SOURCE_DIR}/tests/linux/failing_disk.cmake)
