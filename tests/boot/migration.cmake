# Live migration between two systems (issue 10, docs/migration.md,
# docs/mover.md): each system's paging service partition owns its NIC and
# is the mover; [migration] names the peer and the pair's key file, packed
# into both bundles (tests/boot/keys, test-only keys).
set(KEYS ${CMAKE_CURRENT_SOURCE_DIR}/keys)
pv_bundle(mig_a ${CMAKE_CURRENT_SOURCE_DIR}/configs/mig_a.cfg pair-ab.key=${KEYS}/pair-ab.key)
pv_bundle(mig_b ${CMAKE_CURRENT_SOURCE_DIR}/configs/mig_b.cfg pair-ab.key=${KEYS}/pair-ab.key)
pv_bundle(mig_b_wrong_key ${CMAKE_CURRENT_SOURCE_DIR}/configs/mig_b_wrong_key.cfg
    pair-wrong.key=${KEYS}/pair-wrong.key)
# The key file named but not packed, and packed but not a key.
pv_bundle(mig_no_key ${CMAKE_CURRENT_SOURCE_DIR}/configs/mig_a.cfg)
pv_bundle(mig_bad_key ${CMAKE_CURRENT_SOURCE_DIR}/configs/mig_a.cfg pair-ab.key=${KEYS}/README.md)
set(MIG_PAIR ${CMAKE_SOURCE_DIR}/tools/pv-pair --elf ${PV_ELF})
set(ACMD "^A\\| poolvisor: command: ")
set(MIG_REJECT --reject "FAIL|MISMATCH|HYPERVISOR FAULT|killed|lock order|unknown command|ignored")
# Both machines' partitions wait for a line of input each, so that all are
# up while A asks; then they finish (once shared1 has ended, A's console
# input goes to big).
set(MIG_FINISH
    --input-when A 1 "^poolvisor: command: name=big,lpar_id=[0-9]+,migration_state=Not Migrating" "one\\r"
    --input-when A 1 "^poolvisor: console: input to partition big " "two\\r"
    --expect "^A\\| \\[shared1\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs"
    --expect "^A\\| \\[big\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPU"
    --expect "^B\\| \\[s1\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPU"
    --expect "^A\\| poolvisor: all partitions have ended\; powering off"
    --expect "^B\\| poolvisor: all partitions have ended\; powering off")

# boot.mig_validate: migrlpar -o v on A asks B over an authenticated session
# (the offer request and B's MigOffer, docs/migration.md "Validation"):
# shared1 (16M) fits B's largest free paging region (80M), big (96M) does
# not; the PSP stays; sysc is not A's peer. Nothing changes on either side:
# lslparmigr shows every partition not migrating and all of them finish.
add_test(NAME boot.mig_validate COMMAND ${MIG_PAIR} --a ${CMAKE_BINARY_DIR}/mig_a.bundle
    --b ${CMAKE_BINARY_DIR}/mig_b.bundle --disk-a ${CMAKE_BINARY_DIR}/boot.mig_validate.a.img
    --disk-b ${CMAKE_BINARY_DIR}/boot.mig_validate.b.img --timeout 300
    --input-when A 1 "^poolvisor: mover: the paging service partition is the mover" "\\x01cmigrlpar -o v -p shared1 -t sysb\\r"
    --input-when A 1 "^poolvisor: command: migrlpar: shared1 can move to sysb" "\\x01cmigrlpar -o v -p big -t sysb\\r"
    --input-when A 1 "^poolvisor: command:   the target's free paging space" "\\x01cmigrlpar -o v -p psp -t sysc\\r"
    --input-when A 1 "this system's peer is sysb" "\\x01clslparmigr -r lpar\\r"
    --input-when B 1 "^poolvisor: migration: sysa asks about its partition big" "three\\r"
    --expect "^A\\| poolvisor: mover: the paging service partition is the mover \\([0-9]+ slots at 0x[0-9a-f]+\\)"
    --expect "^B\\| poolvisor: mover: the paging service partition is the mover \\([0-9]+ slots at 0x[0-9a-f]+\\)"
    --expect "${ACMD}migrlpar: asking sysb about shared1"
    --expect "${ACMD}migrlpar: shared1 can move to sysb"
    --expect "${ACMD}migrlpar: big cannot move to sysb\; nothing changed:"
    --expect "${ACMD}  the target's free paging space is smaller than the partition's logical memory"
    --expect "${ACMD}migrlpar: psp cannot move to sysc\; nothing changed:"
    --expect "${ACMD}  the paging service partition"
    --expect "${ACMD}  no migration link to system sysc \\(this system's peer is sysb\\)"
    --expect "${ACMD}name=shared1,lpar_id=[0-9]+,migration_state=Not Migrating"
    --expect "^B\\| poolvisor: migration: sysa opened session [0-9a-f]{16}: answering as the target"
    --expect "^B\\| poolvisor: migration: sysa asks about its partition shared1: offering [0-9]+ partition slots, 80 MiB of paging space"
    --expect "^B\\| poolvisor: migration: sysa asks about its partition big: "
    ${MIG_FINISH}
    --reject "${ACMD}migrlpar: shared1 cannot move"
    ${MIG_REJECT})
set_tests_properties(boot.mig_validate PROPERTIES LABELS "boot;migration" ENVIRONMENT PV_DISK_SIZE=160M)

# boot.mig_validate_wrong_key: B holds another key. No session authenticates
# (the movers' handshake fails), so A refuses as not authenticated; B never
# answers an offer request; nothing changes on either side.
add_test(NAME boot.mig_validate_wrong_key COMMAND ${MIG_PAIR} --a ${CMAKE_BINARY_DIR}/mig_a.bundle
    --b ${CMAKE_BINARY_DIR}/mig_b_wrong_key.bundle --disk-a ${CMAKE_BINARY_DIR}/boot.mig_validate_wrong_key.a.img
    --disk-b ${CMAKE_BINARY_DIR}/boot.mig_validate_wrong_key.b.img --timeout 300
    --input-when A 1 "^poolvisor: mover: the paging service partition is the mover" "\\x01cmigrlpar -o v -p shared1 -t sysb\\r"
    --input-when A 1 "^poolvisor: command:   not authenticated: " "\\x01clslparmigr -r lpar\\r"
    --input-when B 1 "^\\[psp\\] psp: mover: a handshake from the peer failed" "three\\r"
    --expect "${ACMD}migrlpar: asking sysb about shared1"
    --expect "${ACMD}migrlpar: shared1 cannot move to sysb\; nothing changed:"
    --expect "${ACMD}  not authenticated: no session with sysb: "
    --reject "${ACMD}migrlpar: shared1 can move"
    --reject "^B\\| poolvisor: migration: sysa (opened|asks)"
    ${MIG_FINISH}
    ${MIG_REJECT})
set_tests_properties(boot.mig_validate_wrong_key PROPERTIES LABELS "boot;migration" ENVIRONMENT PV_DISK_SIZE=160M)

# boot.mig_key_missing / boot.mig_key_bad: the pair key is checked at boot
# like an image: a key file the bundle lacks, or one that is not 64 hex
# digits, stops the boot with the config line; the key is never printed.
add_test(NAME boot.mig_key_missing COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/mig_no_key.bundle --timeout 60
    --expect "poolvisor: config:[0-9]+: key_file: bundle has no entry 'pair-ab.key'"
    --expect "no partition started"
    --reject "^\\[[a-z]|PV-STAT")
add_test(NAME boot.mig_key_bad COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/mig_bad_key.bundle --timeout 60
    --expect "poolvisor: config:[0-9]+: key_file: bundle entry 'pair-ab.key' \\([0-9]+ bytes\\) is not a key: "
    --expect "no partition started"
    --reject "^\\[[a-z]|PV-STAT|Test-only")
set_tests_properties(boot.mig_key_missing boot.mig_key_bad PROPERTIES LABELS "boot;migration")

# boot.mig_move: migrlpar -o m moves shared1 from A to B while it runs
# (pre-copy to B's paging device, suspend, final state, resume at B, B's
# confirmation, the end at A): it finishes its rounds on B with every byte
# it wrote intact; A's PV-STAT says where it went.
pv_bundle(mig_move_a ${CMAKE_CURRENT_SOURCE_DIR}/configs/mig_move_a.cfg pair-ab.key=${KEYS}/pair-ab.key)
# B starts 3 s after A: its timebase is 3 s behind, and the partition's must
# not go back (docs/migration.md, "Timebase"); A asks once both movers are up.
set(MIG_MOVE --b-after 3
    --input-when-merged A 2 "^[AB]\\| poolvisor: mover: the paging service partition is the mover" "\\x01cmigrlpar -o m -p shared1 -t sysb\\r"
    --input-when B 1 "^poolvisor: migration: shared1 from sysa resumed here" "x\\r"
    --input-when B 1 "^poolvisor: console: input to partition shared1" "go\\r"
    --expect "${ACMD}migrlpar: shared1 can move to sysb\; migrating"
    --expect "^A\\| poolvisor: migration: shared1: suspending after [0-9]+ rounds"
    --expect "^B\\| poolvisor: partition shared1: lpid [0-9]+, 2 vCPUs, 16 MiB shared .*: migrating in from sysa"
    --expect "^B\\| poolvisor: migration: shared1 from sysa resumed here"
    --expect "^B\\| poolvisor: migration: shared1: timebase offset \\+[0-9]+ ms \\(its timebase continues from sysa's"
    --expect "^A\\| poolvisor: migration: shared1 runs on sysb: ending it here .*, 0 source page-ins\\)"
    --expect "${ACMD}migrlpar: shared1 migrated to sysb"
    --expect "^A\\| \\[shared1\\] smp-guest: hold: every slice written"
    --expect "^B\\| \\[shared1\\] smp-guest: got 'go'"
    --expect "^B\\| \\[shared1\\] smp-guest: hold: timebase never went back"
    --expect "^B\\| \\[shared1\\] smp-guest: hold: checked 4 MiB again: 0 mismatches"
    --expect "^B\\| \\[shared1\\] smp-guest: PASS verified 4 MiB on 2 vCPUs, 3 rounds, 0 mismatches"
    --expect "^A\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"shared1\".*\"state\":\"migrated\".*\"migrated_to\":\"sysb\""
    --expect "^B\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"shared1\".*\"migrated_from\":\"sysa\""
    --expect "^B\\| \\[s1\\] smp-guest: PASS verified"
    --expect "^A\\| poolvisor: all partitions have ended\; powering off"
    --expect "^B\\| poolvisor: all partitions have ended\; powering off"
    ${MIG_REJECT})
add_test(NAME boot.mig_move COMMAND ${MIG_PAIR} --a ${CMAKE_BINARY_DIR}/mig_move_a.bundle
    --b ${CMAKE_BINARY_DIR}/mig_b.bundle --disk-a ${CMAKE_BINARY_DIR}/boot.mig_move.a.img
    --disk-b ${CMAKE_BINARY_DIR}/boot.mig_move.b.img --timeout 300 ${MIG_MOVE})
# boot.mig_move_lossy: the same through tools/pv-udp-relay, which drops,
# duplicates, reorders and corrupts frames: the transport retransmits, the
# MAC rejects the corrupted ones, the partition's bytes arrive intact.
add_test(NAME boot.mig_move_lossy COMMAND ${MIG_PAIR} --a ${CMAKE_BINARY_DIR}/mig_move_a.bundle
    --b ${CMAKE_BINARY_DIR}/mig_b.bundle --disk-a ${CMAKE_BINARY_DIR}/boot.mig_move_lossy.a.img
    --disk-b ${CMAKE_BINARY_DIR}/boot.mig_move_lossy.b.img --timeout 400
    --relay "--drop 0.05 --dup 0.03 --reorder 0.03 --corrupt 0.03 --seed 13"
    --expect "^R\\| relay: [0-9]+ frames in, [1-9][0-9]* dropped, [1-9][0-9]* duplicated, [1-9][0-9]* reordered, [1-9][0-9]* corrupted$"
    ${MIG_MOVE})
set_tests_properties(boot.mig_move boot.mig_move_lossy PROPERTIES LABELS "boot;migration" ENVIRONMENT PV_DISK_SIZE=160M)

# boot.mig_move_target_killed: B dies while the pre-copy runs (its QEMU is
# killed once the incoming partition exists there). The partition never
# stopped at A: the session times out, the migration ends, and the guest
# checks every byte it wrote at A, where it still runs.
add_test(NAME boot.mig_move_target_killed COMMAND ${MIG_PAIR} --a ${CMAKE_BINARY_DIR}/mig_move_a.bundle
    --b ${CMAKE_BINARY_DIR}/mig_b.bundle --disk-a ${CMAKE_BINARY_DIR}/boot.mig_move_target_killed.a.img
    --disk-b ${CMAKE_BINARY_DIR}/boot.mig_move_target_killed.b.img --timeout 300
    --input-when A 1 "^poolvisor: mover: the paging service partition is the mover" "\\x01cmigrlpar -o m -p shared1 -t sysb\\r"
    --kill-when 1 "^B\\| poolvisor: partition shared1: .*migrating in from sysa" B
    --input-when A 1 "^poolvisor: migration: shared1: .*; it runs on here" "go\\r"
    --expect "${ACMD}migrlpar: shared1 can move to sysb\; migrating"
    --expect "^A\\| poolvisor: migration: shared1: the session with sysb ended \\(the peer did not answer\\); it runs on here"
    --expect "^A\\| \\[shared1\\] smp-guest: got 'go'"
    --expect "^A\\| \\[shared1\\] smp-guest: hold: checked 4 MiB again: 0 mismatches"
    --expect "^A\\| \\[shared1\\] smp-guest: PASS verified 4 MiB on 2 vCPUs, 3 rounds, 0 mismatches"
    --expect "^A\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"shared1\".*\"state\":\"stopped\""
    --expect "^A\\| poolvisor: all partitions have ended\; powering off"
    --reject "${ACMD}migrlpar: shared1 migrated"
    --reject "^A\\|.*migrated_to"
    ${MIG_REJECT})
set_tests_properties(boot.mig_move_target_killed PROPERTIES LABELS "boot;migration" ENVIRONMENT PV_DISK_SIZE=160M)


# boot.mig_move_back: shared1 goes to B and comes back (make migrate). B sends
# it back once A's session has ended; A takes it into the slot it had (its
# pool slot, LPID and paging region reclaimed, hv/incoming_partition.cpp),
# pages it in from A's paging device, and the guest finds every byte it wrote
# before the first move. k1 keeps A up meanwhile and ends last; B's s1 ends
# once shared1 has left B. The pages B sends back were never paged in at B:
# B reads them from its own paging device (0 source page-ins there too).
# A's console input passes from k1 to shared1 when k1 ends (the second
# "input to partition shared1": the first is at boot).
pv_bundle(mig_back_a ${CMAKE_CURRENT_SOURCE_DIR}/configs/mig_back_a.cfg pair-ab.key=${KEYS}/pair-ab.key)
set(MIG_MOVE_BACK
    --input-when A 1 "^poolvisor: mover: the paging service partition is the mover" "\\x01cmigrlpar -o m -p shared1 -t sysb\\r"
    --input-when B 1 "^poolvisor: migration: the session sysa opened has ended \\(closed\\)" "\\x01cmigrlpar -o m -p shared1 -t sysa\\r"
    --input-when B 1 "^poolvisor: migration: shared1 runs on sysa: ending it here" "x\\r"
    --input-when A 1 "^poolvisor: migration: shared1 from sysb resumed here" "y\\r"
    --input-when A 2 "^poolvisor: console: input to partition shared1" "go\\r"
    --expect "${ACMD}migrlpar: shared1 can move to sysb\; migrating"
    --expect "^B\\| poolvisor: migration: shared1 from sysa resumed here"
    --expect "${ACMD}migrlpar: shared1 migrated to sysb"
    --expect "^B\\| poolvisor: command: migrlpar: shared1 can move to sysa\; migrating"
    --expect "^A\\| poolvisor: partition shared1: its slot 1, lpid [0-9]+ and paging region are free again \\(it migrated away\\)"
    --expect "^A\\| poolvisor: partition shared1: lpid [0-9]+, 2 vCPUs, 16 MiB shared .*: migrating in from sysb \\(a reclaimed slot\\)"
    --expect "^B\\| poolvisor: migration: shared1 runs on sysa: ending it here .*, 0 source page-ins\\)"
    --expect "^A\\| poolvisor: migration: shared1 from sysb resumed here"
    --expect "^B\\| poolvisor: command: migrlpar: shared1 migrated to sysa"
    --expect "^A\\| \\[k1\\] smp-guest: PASS verified"
    --expect "^A\\| \\[shared1\\] smp-guest: got 'go'"
    --expect "^A\\| \\[shared1\\] smp-guest: hold: checked 4 MiB again: 0 mismatches"
    --expect "^A\\| \\[shared1\\] smp-guest: PASS verified 4 MiB on 2 vCPUs, 3 rounds, 0 mismatches"
    --expect "^A\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"shared1\".*\"state\":\"stopped\".*\"migrated_from\":\"sysb\""
    --expect "^B\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"shared1\".*\"state\":\"migrated\".*\"migrated_to\":\"sysa\""
    --expect "^B\\| \\[s1\\] smp-guest: PASS verified"
    --expect "^A\\| poolvisor: all partitions have ended\; powering off"
    --expect "^B\\| poolvisor: all partitions have ended\; powering off"
    --reject "exists here"
    ${MIG_REJECT})
add_test(NAME boot.mig_move_back COMMAND ${MIG_PAIR} --a ${CMAKE_BINARY_DIR}/mig_back_a.bundle
    --b ${CMAKE_BINARY_DIR}/mig_b.bundle --disk-a ${CMAKE_BINARY_DIR}/boot.mig_move_back.a.img
    --disk-b ${CMAKE_BINARY_DIR}/boot.mig_move_back.b.img --timeout 400 ${MIG_MOVE_BACK})
set_tests_properties(boot.mig_move_back PROPERTIES LABELS "boot;migration" ENVIRONMENT PV_DISK_SIZE=160M)

# boot.mig_move_busy: shared1 is moved while it works (3000 rounds of
# filling and checking 4 MiB on 2 vCPUs), not while it waits: pages it writes
# during the pre-copy are found by the write tracking and sent again, rounds
# until the remainder is small, then the suspend. It finishes its rounds on B
# and checks every round, with 0 mismatches.
pv_bundle(mig_busy_a ${CMAKE_CURRENT_SOURCE_DIR}/configs/mig_busy_a.cfg pair-ab.key=${KEYS}/pair-ab.key)
add_test(NAME boot.mig_move_busy COMMAND ${MIG_PAIR} --a ${CMAKE_BINARY_DIR}/mig_busy_a.bundle
    --b ${CMAKE_BINARY_DIR}/mig_b.bundle --disk-a ${CMAKE_BINARY_DIR}/boot.mig_move_busy.a.img
    --disk-b ${CMAKE_BINARY_DIR}/boot.mig_move_busy.b.img --timeout 400
    --input-when A 1 "^poolvisor: mover: the paging service partition is the mover" "\\x01cmigrlpar -o m -p shared1 -t sysb\\r"
    --input-when B 1 "^poolvisor: migration: shared1 from sysa resumed here" "x\\r"
    --expect "${ACMD}migrlpar: shared1 can move to sysb\; migrating"
    --expect "^A\\| poolvisor: migration: shared1: suspending after [0-9]+ rounds"
    --expect "^B\\| poolvisor: migration: shared1 from sysa resumed here"
    --expect "^A\\| poolvisor: migration: shared1 runs on sysb: ending it here .*, 0 source page-ins\\)"
    --expect "^B\\| \\[shared1\\] smp-guest: PASS verified 4 MiB on 2 vCPUs, 3000 rounds, 0 mismatches"
    --expect "^A\\| PV-STAT \\{\"type\":\"partition\",\"name\":\"shared1\".*\"state\":\"migrated\".*\"migrated_to\":\"sysb\""
    --expect "^B\\| \\[s1\\] smp-guest: PASS verified"
    --expect "^A\\| poolvisor: all partitions have ended\; powering off"
    --expect "^B\\| poolvisor: all partitions have ended\; powering off"
    --reject "^A\\| \\[shared1\\] smp-guest: PASS"
    ${MIG_REJECT})
set_tests_properties(boot.mig_move_busy PROPERTIES LABELS "boot;migration" ENVIRONMENT PV_DISK_SIZE=160M)
