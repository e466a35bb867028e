# Host events (label boot): interrupts that are the machine's, not the
# running partition's. QEMU's monitor command `nmi` makes a system reset on
# every thread of the powernv machine, as a service processor's NMI does:
# threads running a partition and threads idle in the hypervisor take it
# (three vCPUs on four threads: one thread is always in the hypervisor).
# The hypervisor logs it, counts it (PV-STAT "host") and resumes; every
# partition still finishes and none is blamed.
pv_bundle(host_events ${CMAKE_CURRENT_SOURCE_DIR}/configs/host_events.cfg)

# The reset comes once every vCPU is past its first round (its first H_CEDE):
# from there on the test partitions run with MSR[RI] = 1. A reset that finds
# RI = 0 cannot be survived (SRR0/SRR1 lost): the machine would stop. One
# reset only: a second one before a thread has run an instruction after the
# first (a host that does not schedule QEMU's thread) finds RI = 0 too.
set(ALPHA "^\\[alpha\\] smp-guest: ")
set(ROUND "^\\[(alpha|beta)\\] smp-guest: cpu [0-9] round")
# A reset that does land in an RI = 0 window stops the machine, correctly:
# that run is repeated once (retry_if.sh); any other failure fails the test.
# The likeliest window under TCG is the first instruction of the sc 1 vector
# (0xc00): QEMU checks for interrupts where a translation block begins, and
# the hcall's resume point is in the SRR0/1 the reset overwrites.
add_test(NAME boot.host_nmi COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/retry_if.sh
    "MSR\\[RI\\]=0.*not recoverable|its state is lost"
    ${RUN} --bundle ${CMAKE_BINARY_DIR}/host_events.bundle --timeout 150
    --monitor-when 3 "${ROUND} 2 ok" nmi
    --expect "^poolvisor: host system reset on thread [0-9]+ \\(SRR1 bits 0x[0-9a-f]+\\) while partition (alpha|beta) vCPU [0-9]+ ran \\(pc 0x[0-9a-f]+\\): resumed"
    --expect "^poolvisor: host system reset on thread [0-9]+ while the hypervisor ran \\(pc 0x[0-9a-f]+.*\\): resumed"
    --expect "${ALPHA}PASS verified [0-9]+ MiB on 2 vCPUs, 12 rounds, 0 mismatches"
    --expect "^\\[beta\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPUs?, 12 rounds, 0 mismatches"
    --expect "${STAT},\"name\":\"alpha\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "${STAT},\"name\":\"beta\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "PV-STAT \\{\"type\":\"host\",\"system_resets\":([2-9]|[1-9][0-9]+),"
    --expect "poolvisor: all partitions have ended; powering off"
    --reject "MISMATCH|FAIL|HYPERVISOR FAULT|killed|stopping the machine|unexpected hypervisor interrupt")
set_tests_properties(boot.host_nmi PROPERTIES LABELS boot)
