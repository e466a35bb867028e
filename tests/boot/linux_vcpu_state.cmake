# linux.vcpu_state (label linux; issue 9 point 4): fpstate-guest partitions
# beside Debian's kernel on 2 hardware threads: neither may see the other's
# FP/VMX/VSX or SPR state (configs/linux_vcpu_state.cfg).
if(NOT TARGET linux-initrd)
    return()
endif()
pv_linux_bundle(linux_vcpu_state ${CMAKE_CURRENT_SOURCE_DIR}/configs/linux_vcpu_state.cfg)
set(PV_FP_PASS "fpstate-guest: PASS FP/VMX/VSX and SPR state kept on")
add_test(NAME linux.vcpu_state COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/linux_vcpu_state.bundle --smp 2 --timeout 600
    --expect "^\\[linux\\] PV-LINUX: smp PASS nproc=2 mmu=radix tmpfs_mib=64 md5=[0-9a-f]{32} fork_status=7,5 uptime=[0-9.]+$"
    --expect "^\\[fp-a\\] ${PV_FP_PASS} 2 vCPUs, 150 rounds, [1-9][0-9]* preemptions seen"
    --expect "^\\[fp-b\\] ${PV_FP_PASS} 1 vCPUs?, 150 rounds, [1-9][0-9]* preemptions seen"
    --expect "${STAT},\"name\":\"linux\",.*\"threads_used\":2,.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "poolvisor: all partitions have ended; powering off"
    --reject "${LINUX_REJECT}|unexpected")
set_tests_properties(linux.vcpu_state PROPERTIES LABELS linux)
