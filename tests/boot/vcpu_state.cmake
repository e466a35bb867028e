# Full vCPU state (issue 9 point 4, docs/vcpu_state.md).
# boot.vcpu_state: three fpstate-guest partitions with different patterns and
# an smp-guest, 9 vCPUs on 2 hardware threads with 1 ms slices: each vCPU
# keeps its FP/VMX/VSX registers, FPSCR, VSCR, VRSAVE and the SPRs it checks
# (TAR, DSCR, PPR, AMR, IAMR, UAMOR, FSCR, EBBHR, EBBRR, PSPB, TIDR) across
# preemptions and moves between threads, and every partition passes.
pv_bundle(vcpu_state ${CMAKE_CURRENT_SOURCE_DIR}/configs/vcpu_state.cfg)

set(PV_FP_PASS "fpstate-guest: PASS FP/VMX/VSX and SPR state kept on")
add_test(NAME boot.vcpu_state COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/vcpu_state.bundle --smp 2 --timeout 240
    --expect "^\\[fp-a\\] ${PV_FP_PASS} 2 vCPUs, 6 rounds, [1-9][0-9]* preemptions seen"
    --expect "^\\[fp-b\\] ${PV_FP_PASS} 2 vCPUs, 6 rounds, [1-9][0-9]* preemptions seen"
    --expect "^\\[fp-c\\] ${PV_FP_PASS} 3 vCPUs, 6 rounds, [1-9][0-9]* preemptions seen"
    --expect "^\\[smp\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 2 rounds, 0 mismatches"
    --expect "${STAT},\"name\":\"fp-c\",.*\"threads_used\":2,.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "poolvisor: all partitions have ended; powering off"
    --reject "MISMATCH|FAIL|HYPERVISOR FAULT|killed|unexpected")
set_tests_properties(boot.vcpu_state PROPERTIES LABELS boot)
