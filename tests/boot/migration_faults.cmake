# Live migration's fault cases (issue 10, docs/migration.md "Failures"):
# an attacker on the wire, and a target that dies once the source has
# suspended the partition. Uses migration.cmake's MIG_PAIR, MIG_MOVE,
# MIG_REJECT, ACMD and the mig_move_a / mig_b bundles.

# boot.mig_move_forged: boot.mig_move through tools/pv-udp-relay as an
# attacker: it changes bytes inside some session records and computes their
# IPv4 and UDP checksums again (--forge: the link layer takes them, only the
# record MAC can refuse them), and sends copies of others again 2 s later
# (--replay: authentic records whose sequence numbers were seen or have left
# the replay window). The movers refuse every one, the transport sends the
# forged ones' messages again, and shared1's bytes arrive intact at B.
# tests/boot/mig_reject_counts.sh then checks the movers' per-session counts
# (bad tag, replayed) against the relay's: B refused some of each, and the
# two sides together no more than the relay made.
add_test(NAME boot.mig_move_forged COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/mig_reject_counts.sh
    ${CMAKE_BINARY_DIR}/boot.mig_move_forged.log
    ${MIG_PAIR} --a ${CMAKE_BINARY_DIR}/mig_move_a.bundle
    --b ${CMAKE_BINARY_DIR}/mig_b.bundle --disk-a ${CMAKE_BINARY_DIR}/boot.mig_move_forged.a.img
    --disk-b ${CMAKE_BINARY_DIR}/boot.mig_move_forged.b.img --timeout 400
    --relay "--forge 0.03 --replay 0.03 --replay-after 2 --seed 7"
    --expect "^R\\| relay: [1-9][0-9]* forged, [1-9][0-9]* replayed, 0 cut$"
    --expect "^B\\| \\[psp\\] psp: mover: session [0-9a-f]{16}: [0-9]+ rejected records \\([1-9][0-9]* bad tag, [1-9][0-9]* replayed, 0 wrong session, 0 malformed\\)"
    ${MIG_MOVE})

# boot.mig_move_target_killed_suspended: B dies after A suspended shared1
# and before B's confirmation reached A. The final phase (last pages, vCPU
# state, Complete, B's install and resume, PVMR) takes tens of ms, so a kill
# triggered by B's console lands after it. Instead the relay cuts the link
# in both directions right after delivering A's first vCPU record (type 2,
# sent once shared1 is suspended): from then on A hears nothing from B, as
# from a dead machine, and B cannot get the Complete record, so it can
# neither resume the partition nor confirm. B is then killed for real, on
# its line for that vCPU record. A's transport gives up on the unanswered
# records (the peer did not answer), the session ends, and A resumes
# shared1, which checks every byte it wrote there; its PV-STAT says stopped,
# never migrated. B never says it resumed shared1: no duplicate run
# (docs/migration.md "duplicate-run hole" is the other case, B resumed but
# its confirmation lost).
add_test(NAME boot.mig_move_target_killed_suspended COMMAND ${MIG_PAIR} --a ${CMAKE_BINARY_DIR}/mig_move_a.bundle
    --b ${CMAKE_BINARY_DIR}/mig_b.bundle --disk-a ${CMAKE_BINARY_DIR}/boot.mig_move_target_killed_suspended.a.img
    --disk-b ${CMAKE_BINARY_DIR}/boot.mig_move_target_killed_suspended.b.img --timeout 300
    --relay "--cut-after-record 2"
    --input-when A 1 "^poolvisor: mover: the paging service partition is the mover" "\\x01cmigrlpar -o m -p shared1 -t sysb\\r"
    --kill-when 1 "^B\\| poolvisor: migration: shared1: suspended at sysa; its final state is arriving" B
    --input-when A 1 "^poolvisor: migration: shared1: .*; it is resumed and runs on here" "go\\r"
    --expect "${ACMD}migrlpar: shared1 can move to sysb\; migrating"
    --expect "^A\\| poolvisor: migration: shared1: suspending after [0-9]+ rounds"
    --expect "^B\\| poolvisor: migration: shared1: suspended at sysa\; its final state is arriving"
    --expect "^A\\| poolvisor: migration: shared1: the session with sysb ended \\(the peer did not answer\\)\; it is resumed and runs on here"
    --expect "^A\\| \\[shared1\\] smp-guest: got 'go'"
    --expect "^A\\| \\[shared1\\] smp-guest: hold: checked 4 MiB again: 0 mismatches"
    --expect "^A\\| \\[shared1\\] smp-guest: PASS verified 4 MiB on 2 vCPUs, 3 rounds, 0 mismatches"
    --expect "^A\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"shared1\".*\"state\":\"stopped\""
    --expect "^A\\| poolvisor: all partitions have ended\; powering off"
    --expect "^R\\| relay: 0 forged, 0 replayed, [1-9][0-9]* cut$"
    --reject "^B\\| poolvisor: migration: shared1 from sysa resumed here"
    --reject "${ACMD}migrlpar: shared1 migrated"
    --reject "^A\\|.*migrated_to"
    --reject "^A\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"shared1\".*\"state\":\"migrated\""
    ${MIG_REJECT})
set_tests_properties(boot.mig_move_forged boot.mig_move_target_killed_suspended PROPERTIES
    LABELS "boot;migration" ENVIRONMENT PV_DISK_SIZE=160M)

# boot.mig_move_in_doubt: the session ends after A handed Go to its mover,
# and A cannot know whether B resumed shared1 (docs/migration.md
# "Switch-over"). The relay drops the datagram carrying Go, and everything
# after it in both directions (--cut-at-switch 2): B holds the installed
# partition and never gets its go. A's transport gives up (~6 s) and keeps
# shared1 suspended, In Doubt (lslparmigr says so); B's session ends too
# and it drops the held partition, never resuming it. The operator's
# migrlpar -o r then resumes shared1 at A, where it checks every byte it
# wrote (0 mismatches) and ends stopped, never migrated. Before the move,
# migrlpar -o r refuses: nothing is in doubt.
add_test(NAME boot.mig_move_in_doubt COMMAND ${MIG_PAIR} --a ${CMAKE_BINARY_DIR}/mig_move_a.bundle
    --b ${CMAKE_BINARY_DIR}/mig_b.bundle --disk-a ${CMAKE_BINARY_DIR}/boot.mig_move_in_doubt.a.img
    --disk-b ${CMAKE_BINARY_DIR}/boot.mig_move_in_doubt.b.img --timeout 300
    --relay "--cut-at-switch 2"
    --input-when A 1 "^poolvisor: mover: the paging service partition is the mover" "\\x01cmigrlpar -o r -p shared1\\r"
    --input-when A 1 "^poolvisor: command: migrlpar: shared1 is not in doubt" "\\x01cmigrlpar -o m -p shared1 -t sysb\\r"
    --input-when A 1 "^poolvisor: migration: shared1: .* after the go: it stays suspended here" "\\x01clslparmigr -r lpar\\r"
    --input-when A 1 "^poolvisor: command: name=shared1,lpar_id=[0-9]+,migration_state=Migration In Doubt" "\\x01cmigrlpar -o r -p shared1\\r"
    --input-when A 1 "^poolvisor: command: migrlpar: shared1 resumed here" "go\\r"
    --input-when B 1 "^poolvisor: migration: the partition coming from sysa is dropped here: the session ended before its go" "x\\r"
    --expect "${ACMD}migrlpar: shared1 is not in doubt \\(only a partition whose session ended after the go is\\)"
    --expect "${ACMD}migrlpar: shared1 can move to sysb\; migrating"
    --expect "^A\\| poolvisor: migration: shared1: suspending after [0-9]+ rounds"
    --expect "^B\\| poolvisor: migration: shared1 from sysa is installed here\; holding it for sysa's go"
    --expect "^A\\| poolvisor: migration: shared1: sysb holds it ready\; go sent \\(from now on only sysb may resume it\\)"
    --expect "^A\\| poolvisor: migration: shared1: the session with sysb ended \\(the peer did not answer\\) after the go: it stays suspended here, intact\; if sysb does not run it, migrlpar -o r -p shared1 resumes it here"
    --expect "^B\\| poolvisor: migration: the partition coming from sysa is dropped here: the session ended before its go \\(the source still has it\\)"
    --expect "${ACMD}name=shared1,lpar_id=[0-9]+,migration_state=Migration In Doubt"
    --expect "^A\\| poolvisor: migration: shared1: recovered: it resumes here \\(the migration to sysb is abandoned\\)"
    --expect "${ACMD}migrlpar: shared1 resumed here"
    --expect "^A\\| \\[shared1\\] smp-guest: got 'go'"
    --expect "^A\\| \\[shared1\\] smp-guest: hold: checked 4 MiB again: 0 mismatches"
    --expect "^A\\| \\[shared1\\] smp-guest: PASS verified 4 MiB on 2 vCPUs, 3 rounds, 0 mismatches"
    --expect "^A\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"shared1\".*\"state\":\"stopped\""
    --expect "^B\\| \\[s1\\] smp-guest: PASS verified"
    --expect "^A\\| poolvisor: all partitions have ended\; powering off"
    --expect "^B\\| poolvisor: all partitions have ended\; powering off"
    --expect "^R\\| relay: 0 forged, 0 replayed, [1-9][0-9]* cut$"
    --reject "^B\\| poolvisor: migration: shared1 from sysa resumed here"
    --reject "^A\\| poolvisor: migration: shared1: .*\; it is resumed and runs on here"
    --reject "${ACMD}migrlpar: shared1 migrated"
    --reject "^A\\|.*migrated_to"
    --reject "^A\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"shared1\".*\"state\":\"migrated\""
    ${MIG_REJECT})
set_tests_properties(boot.mig_move_in_doubt PROPERTIES LABELS "boot;migration" ENVIRONMENT PV_DISK_SIZE=160M)
