// The [migration] section (docs/config.md, docs/migration.md): this system,
// its peer and the pair's key file; the paging service partition is the mover.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>

#include "hv/config.h"
#include "tests/unit/config_parse.h"

using namespace pv;

namespace {

using test::expect_error;
using test::formatted;
using test::Parsed;
using test::parse;

// The mover (lines 1..6; 1..5 without the network_device) and its pool (the 3 lines after).
std::string mover(const std::string& extra = "network_device = eth0\n") {
    return "[partition psp]\ndesired_procs = 1\ndesired_mem = 64M\nmem_mode = ded\nimage = psp-guest\n" + extra +
           "[shared_pool]\npool_mem = 64M\npaging_vios = psp\n";
}

// [migration] with one key's value replaced (or the key dropped with value "-"): the header,
// then system, peer, peer_mac and key_file, one a line.
std::string migration(const std::string& key = "", const std::string& value = "") {
    std::string text = "[migration]\n";
    for (auto [k, v] : {std::pair<std::string, std::string>{"system", "sysa"}, {"peer", "sysb"},
                        {"peer_mac", "52:54:00:12:34:57"}, {"key_file", "pair-ab.key"}}) {
        if (k == key) v = value;
        if (v != "-") text += k + " = " + v + "\n";
    }
    return text;
}

// One [migration] key's value on line 11 (after the mover and the pool, the header on line 10).
void expect_value_error(const std::string& key, const std::string& value, const std::string& needle) {
    std::string text = mover() + "[migration]\n" + key + " = " + value + "\n" + migration(key, "-").substr(12);
    expect_error(text, 11, key, needle);
}

TEST(ConfigMigration, EveryKey) {
    Parsed p = parse(mover() + migration());
    ASSERT_TRUE(p.ok) << formatted(p.err);
    const SystemConfig::MigrationConfig& m = p.cfg.migration;
    EXPECT_TRUE(m.present);
    EXPECT_STREQ(m.system, "sysa");
    EXPECT_STREQ(m.peer, "sysb");
    const u8 mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
    EXPECT_EQ(std::memcmp(m.peer_mac, mac, 6), 0);
    EXPECT_STREQ(m.key_file, "pair-ab.key");
    EXPECT_EQ(m.line, 10u);
    EXPECT_EQ(m.key_file_line, 14u);
}

TEST(ConfigMigration, DefaultsWhenAbsent) {
    Parsed p = parse(mover());
    ASSERT_TRUE(p.ok) << formatted(p.err);
    const SystemConfig::MigrationConfig zero{};
    EXPECT_FALSE(p.cfg.migration.present);
    EXPECT_EQ(std::memcmp(&p.cfg.migration, &zero, sizeof zero), 0);
    // Without a pool or a NIC too: nothing about migration is required then.
    p = parse("[partition a]\ndesired_procs = 1\ndesired_mem = 64M\nmem_mode = ded\nimage = img\n");
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(std::memcmp(&p.cfg.migration, &zero, sizeof zero), 0);
}

TEST(ConfigMigration, AnyOrderAnywhereAndValueForms) {
    Parsed p = parse("[migration]   # first\nkey_file = K.2_x-y\npeer_mac=FE:ab:00:00:00:01\npeer = sys_b-2\n"
                     "system = a\n\n" +
                     mover());
    ASSERT_TRUE(p.ok) << formatted(p.err);
    const SystemConfig::MigrationConfig& m = p.cfg.migration;
    EXPECT_EQ(m.line, 1u);
    EXPECT_EQ(m.key_file_line, 2u);
    EXPECT_STREQ(m.key_file, "K.2_x-y");
    EXPECT_STREQ(m.peer, "sys_b-2");
    EXPECT_STREQ(m.system, "a");
    const u8 mac[6] = {0xfe, 0xab, 0x00, 0x00, 0x00, 0x01};
    EXPECT_EQ(std::memcmp(m.peer_mac, mac, 6), 0);
    // The longest names fit.
    p = parse(mover() + "[migration]\nsystem = abcdefghijklmno\npeer = 0123456789-_abc\npeer_mac = 02:00:00:00:00:00\n"
                        "key_file = " + std::string(31, 'k') + "\n");
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_STREQ(p.cfg.migration.system, "abcdefghijklmno");
    EXPECT_STREQ(p.cfg.migration.peer, "0123456789-_abc");
    EXPECT_EQ(std::string(p.cfg.migration.key_file), std::string(31, 'k'));
    EXPECT_EQ(p.cfg.migration.peer_mac[0], 2);
}

// ---- the section and its keys ----

TEST(ConfigMigrationError, AtMostOnce) {
    expect_error(mover() + migration() + migration(), 15, "section",
                 "duplicate [migration] section (first on line 10)");
    expect_error("[migration x]\n", 1, "section", "unknown section 'migration x'");
    expect_error("[lpar]\n", 1, "section", "(use [system], [shared_pool], [migration] or [partition NAME])");
}

TEST(ConfigMigrationError, RequiredKeysAreReportedAtTheHeader) {
    for (std::string key : {"system", "peer", "peer_mac", "key_file"})
        expect_error(mover() + migration(key, "-"), 10, key, "[migration] has no " + key + " (required)");
    // The first missing one in the table's order; reported when the section ends, before later sections.
    expect_error("[migration]\n" + mover(), 1, "system", "[migration] has no system (required)");
}

TEST(ConfigMigrationError, UnknownAndMisplacedKeys) {
    expect_error(mover() + migration() + "peer_ip = 169.254.0.2\n", 15, "peer_ip",
                 "unknown key 'peer_ip' in [migration] (known: system, peer, peer_mac, key_file)");
    expect_error(mover() + "[migration]\npool_mem = 64M\n", 11, "pool_mem", "in [migration]");
    expect_error(mover("system = sysa\n"), 6, "system", "unknown key 'system' in [partition]");
    expect_error("[system]\npeer = sysb\n", 2, "peer", "in [system]");
    expect_error(mover() + "peer_mac = 52:54:00:12:34:57\n", 10, "peer_mac", "in [shared_pool]");
}

TEST(ConfigMigrationError, DuplicateKeysAndMissingValues) {
    expect_error(mover() + migration() + "peer = sysc\n", 15, "peer", "duplicate key 'peer' (first on line 12)");
    expect_error(mover() + migration() + "key_file = pair-ab.key\n", 15, "key_file",
                 "duplicate key 'key_file' (first on line 14)");
    for (std::string key : {"system", "peer", "peer_mac", "key_file"})
        expect_value_error(key, "", "missing value after '='");
}

TEST(ConfigMigrationError, SystemAndPeerNames) {
    for (std::string key : {"system", "peer"}) {
        for (std::string bad : {"SysA", "sys.a", "sys a", "abcdefghijklmnop", "sys/a"})
            expect_value_error(key, bad,
                               "'" + bad + "' is not a valid system name (1..15 characters of a-z, 0-9, '_', '-')");
    }
}

TEST(ConfigMigrationError, PeerIsAnotherSystem) {
    expect_error(mover() + migration("peer", "sysa"), 12, "peer",
                 "peer 'sysa' is this system's own name (system, line 11); the peer must be another system");
    // Whatever the order of the keys.
    expect_error(mover() + "[migration]\npeer = x\npeer_mac = 02:00:00:00:00:01\nkey_file = k\nsystem = x\n", 11,
                 "peer", "(system, line 14)");
}

TEST(ConfigMigrationError, PeerMac) {
    const std::string form =
        " is not a MAC address (six bytes of two hex digits separated by ':', e.g. 52:54:00:12:34:57)";
    for (std::string bad : {"52:54:00:12:34", "52:54:00:12:34:57:00", "52-54-00-12-34-57", "5254.0012.3457",
                            "525400123457", "52:54:00:12:34:5", "2:54:00:12:34:577", "52:54:00:12:34:5g",
                            "52:54:00:12:34:57:", ":52:54:00:12:34:5", "52:54:00: 12:34:5", "0x52:54:00:12:34"})
        expect_value_error("peer_mac", bad, "'" + bad + "'" + form);
    expect_value_error("peer_mac", "01:00:5e:00:00:01",
                       "'01:00:5e:00:00:01' is a multicast address (bit 0 of the first byte is set); a NIC's own "
                       "address is unicast");
    expect_value_error("peer_mac", "ff:ff:ff:ff:ff:ff", "is a multicast address");
    expect_value_error("peer_mac", "53:54:00:12:34:57", "is a multicast address");
    expect_value_error("peer_mac", "00:00:00:00:00:00", "'00:00:00:00:00:00' is all zeros, which is no NIC's address");
}

TEST(ConfigMigrationError, KeyFile) {
    for (std::string bad : {std::string("keys/pair-ab.key"), std::string("pair ab.key"), std::string(32, 'k'),
                            std::string("pair+ab")})
        expect_value_error("key_file", bad,
                           " is not a valid bundle entry name (1..31 characters of A-Z, a-z, 0-9, '.', '_', '-')");
}

// ---- the mover ----

TEST(ConfigMigrationError, NeedsThePool) {
    expect_error("[partition psp]\ndesired_procs = 1\ndesired_mem = 64M\nmem_mode = ded\nimage = psp-guest\n"
                 "network_device = eth0\n" + migration(),
                 7, "migration",
                 "[migration] needs a [shared_pool] section: its paging service partition (paging_vios) is the mover");
}

TEST(ConfigMigrationError, ThePagingServicePartitionOwnsTheNic) {
    expect_error(mover("") + migration(), 9, "migration",
                 "the paging service partition 'psp' (line 1) must own a network_device to be the mover");
    // Another partition owning the NIC does not make it the mover.
    expect_error(mover("") + "[partition n]\ndesired_procs = 1\ndesired_mem = 16M\nmem_mode = ded\nimage = img\n"
                             "network_device = eth0\n" + migration(),
                 15, "migration", "the paging service partition 'psp' (line 1) must own a network_device");
    // The pool's own errors come first.
    expect_error("[shared_pool]\npool_mem = 64M\npaging_vios = nobody\n" + migration() +
                     "[partition a]\ndesired_procs = 1\ndesired_mem = 64M\nmem_mode = ded\nimage = img\n",
                 3, "paging_vios", "no partition named 'nobody'");
}

TEST(ConfigMigrationError, TheKeyIsNoPartitionsImage) {
    expect_error(mover() + migration("key_file", "psp-guest"), 14, "key_file",
                 "key_file 'psp-guest' is also the image of partition 'psp' (line 1); the pair's key is never "
                 "loaded into a partition as an image or initrd");
    expect_error(mover() + migration() + "[partition b]\ndesired_procs = 1\ndesired_mem = 64M\nmem_mode = ded\n"
                                         "image = img\ninitrd = pair-ab.key\n",
                 14, "key_file", "key_file 'pair-ab.key' is also the initrd of partition 'b' (line 15)");
}

TEST(ConfigMigrationError, ValueErrorsComeBeforeWholeFileChecks) {
    expect_error(migration("peer_mac", "xx") + "[partition a]\ndesired_procs = 1\ndesired_mem = 64M\nmem_mode = ded\n"
                                               "image = img\n",
                 4, "peer_mac", "is not a MAC address");
}

TEST(ConfigMigrationError, Formatted) {
    Parsed p = parse(mover("") + migration());
    ASSERT_FALSE(p.ok);
    EXPECT_EQ(formatted(p.err), "config:9: migration: the paging service partition 'psp' (line 1) must own a "
                                "network_device to be the mover");
    p = parse(mover() + migration("peer_mac", "01:02:03:04:05:06"));
    ASSERT_FALSE(p.ok);
    EXPECT_EQ(formatted(p.err), "config:13: peer_mac: '01:02:03:04:05:06' is a multicast address (bit 0 of the "
                                "first byte is set); a NIC's own address is unicast");
}

}  // namespace
