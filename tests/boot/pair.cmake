# boot.pair: two machines (tools/pv-pair), each with an e1000e on a second
# PHB handed to partition `mover` (network_device = eth0), joined by QEMU
# -netdev socket over loopback UDP. A's net-guest sends datagrams of varying
# sizes and checks each echo byte for byte; B's echoes them (checking each
# against its pattern) on a machine that also has an NVMe disk on PHB 0, a
# PSP and a shared smp-guest paging through it.
foreach(cfg pair_ping pair_echo)
    pv_bundle(${cfg} ${CMAKE_CURRENT_SOURCE_DIR}/configs/${cfg}.cfg)
endforeach()
set(PAIR ${CMAKE_SOURCE_DIR}/tools/pv-pair --elf ${PV_ELF})
add_test(NAME boot.pair COMMAND ${PAIR} --a ${CMAKE_BINARY_DIR}/pair_ping.bundle
    --b ${CMAKE_BINARY_DIR}/pair_echo.bundle --disk-b ${CMAKE_BINARY_DIR}/boot.pair.b.img --timeout 240
    --expect "^A\\| poolvisor: network device eth0: 8086:10d3 at PHB [0-9]+ [0-9a-f]+, registers at 0x[0-9a-f]+ \\(128 KiB\\), for partition mover$"
    --expect "^B\\| poolvisor: network device eth0: 8086:10d3 at PHB [0-9]+ [0-9a-f]+, registers at 0x[0-9a-f]+ \\(128 KiB\\), for partition mover$"
    --expect "^A\\| \\[mover\\] net-guest: eth0: MAC 52:54:00:12:34:56, link up"
    --expect "^B\\| \\[mover\\] net-guest: eth0: MAC 52:54:00:12:34:57, link up"
    --expect "^A\\| \\[mover\\] net-guest: PASS role=ping sent 300, echoed 300, 0 mismatches, peer echoed 300$"
    --expect "^B\\| \\[mover\\] net-guest: PASS role=echo echoed 300, 0 mismatches$"
    --expect "^B\\| poolvisor: paging device nvme0: "
    --expect "^B\\| \\[s1\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPU"
    --expect "^A\\| poolvisor: all partitions have ended; powering off"
    --expect "^B\\| poolvisor: all partitions have ended; powering off"
    --reject "FAIL|MISMATCH|HYPERVISOR FAULT|killed")
# boot.pair_lossy: the same through tools/pv-udp-relay, which drops 10%,
# duplicates 5%, holds back 5% and flips one bit in 5% of the frames (after the
# Ethernet header of IPv4 frames): the guests still see every datagram exactly
# once in order, damage is caught by the IP/UDP checksums (counted), never a
# mismatch.
add_test(NAME boot.pair_lossy COMMAND ${PAIR} --a ${CMAKE_BINARY_DIR}/pair_ping.bundle
    --b ${CMAKE_BINARY_DIR}/pair_echo.bundle --disk-b ${CMAKE_BINARY_DIR}/boot.pair_lossy.b.img --timeout 300
    --relay "--drop 0.1 --dup 0.05 --reorder 0.05 --corrupt 0.05 --seed 7"
    --expect "^R\\| relay: [0-9]+ frames in, [1-9][0-9]* dropped, [1-9][0-9]* duplicated, [1-9][0-9]* reordered, [1-9][0-9]* corrupted$"
    --expect "^[AB]\\| \\[mover\\] net-guest: link: .*(, [1-9][0-9]* malformed|, [1-9][0-9]* bad IP|/ [1-9][0-9]* bad UDP)"
    --expect "^A\\| \\[mover\\] net-guest: PASS role=ping sent 300, echoed 300, 0 mismatches, peer echoed 300$"
    --expect "^B\\| \\[mover\\] net-guest: PASS role=echo echoed 300, 0 mismatches$"
    --expect "^A\\| poolvisor: all partitions have ended; powering off"
    --expect "^B\\| poolvisor: all partitions have ended; powering off"
    --reject "FAIL|MISMATCH|HYPERVISOR FAULT|killed")
# A machine without the NIC: the owner cannot get its device, nothing starts.
add_test(NAME boot.net_missing COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/pair_ping.bundle --timeout 60
    --expect "poolvisor: config:7: network_device: partition mover names 'eth0', which this machine cannot give it: no Ethernet controller"
    --expect "no partition started"
    --reject "^\\[mover\\]|PV-STAT")
# boot.pair_mig: the migration transport between the two machines' net-guests
# (docs/migration-transport.md "Two machines"): A (role=mig-client) opens an
# authenticated session to B (role=mig-server) over UDP with the pre-shared
# key from bootargs (BearSSL HMAC/HKDF, MSR[FP|VEC|VSX] on in the guest),
# sends 200 messages of 1..1408 bytes; B checks each in order against its
# pattern and answers with what it saw; both close. Each PASS line is printed
# only after that check.
foreach(cfg pair_mig_a pair_mig_b pair_mig_b_wrong_key)
    pv_bundle(${cfg} ${CMAKE_CURRENT_SOURCE_DIR}/configs/${cfg}.cfg)
endforeach()
# What both sides print when every message arrived once, in order, intact.
set(MIG_PASSED
    --expect "^A\\| \\[mover\\] net-guest: mig: session [0-9a-f]{16} open after [0-9]+ ms$"
    --expect "^B\\| \\[mover\\] net-guest: mig: session [0-9a-f]{16} open after [0-9]+ ms$"
    --expect "^A\\| \\[mover\\] net-guest: PASS role=mig-client sent 200 messages \\([0-9]+ bytes\\) in [0-9]+ ms, peer verified 200, 0 mismatches, [0-9]+ retransmissions, [0-9]+ rejected records$"
    --expect "^B\\| \\[mover\\] net-guest: PASS role=mig-server received 200 messages \\([0-9]+ bytes\\) in order, 0 mismatches, [0-9]+ retransmissions, [0-9]+ rejected records$"
    --expect "^A\\| poolvisor: all partitions have ended\; powering off"
    --expect "^B\\| poolvisor: all partitions have ended\; powering off"
    --reject "FAIL|MISMATCH|HYPERVISOR FAULT|killed|unexpected exception|stack protector")
add_test(NAME boot.pair_mig COMMAND ${PAIR} --a ${CMAKE_BINARY_DIR}/pair_mig_a.bundle
    --b ${CMAKE_BINARY_DIR}/pair_mig_b.bundle --timeout 240
    ${MIG_PASSED})
# boot.pair_mig_lossy: the same through tools/pv-udp-relay (drops, duplicates,
# holds back and corrupts frames): the transport retransmits, every message
# still arrives once, in order, intact.
add_test(NAME boot.pair_mig_lossy COMMAND ${PAIR} --a ${CMAKE_BINARY_DIR}/pair_mig_a.bundle
    --b ${CMAKE_BINARY_DIR}/pair_mig_b.bundle --timeout 300
    --relay "--drop 0.1 --dup 0.05 --reorder 0.05 --corrupt 0.05 --seed 11"
    --expect "^R\\| relay: [0-9]+ frames in, [1-9][0-9]* dropped, [1-9][0-9]* duplicated, [1-9][0-9]* reordered, [1-9][0-9]* corrupted$"
    --expect "^[AB]\\| \\[mover\\] net-guest: mig: .*, [1-9][0-9]* retransmissions,"
    ${MIG_PASSED})
# boot.pair_mig_wrong_key: B holds another key. A's Hellos fail B's check (B
# refuses them), no session opens, both give up with the reason, nothing is
# delivered.
add_test(NAME boot.pair_mig_wrong_key COMMAND ${PAIR} --a ${CMAKE_BINARY_DIR}/pair_mig_a.bundle
    --b ${CMAKE_BINARY_DIR}/pair_mig_b_wrong_key.bundle --timeout 240
    --expect "^A\\| \\[mover\\] net-guest: FAIL role=mig-client: handshake failed: authentication failed \\([0-9]+ records rejected\\), 0 messages delivered$"
    --expect "^B\\| \\[mover\\] net-guest: FAIL role=mig-server: handshake failed: authentication failed \\([1-9][0-9]* records rejected\\), 0 messages delivered$"
    --expect "^A\\| poolvisor: all partitions have ended; powering off"
    --expect "^B\\| poolvisor: all partitions have ended; powering off"
    --reject "PASS|session [0-9a-f]+ open|MISMATCH|HYPERVISOR FAULT|killed|unexpected exception|stack protector")
set_tests_properties(boot.pair boot.pair_lossy boot.net_missing boot.pair_mig boot.pair_mig_lossy
    boot.pair_mig_wrong_key PROPERTIES LABELS boot)
