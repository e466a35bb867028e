// The pair key: its text form (mig_parse_key) and loading it from the bundle
// at boot (mig_load_key), hv/mig_key.h.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "hv/config.h"
#include "hv/mig_key.h"
#include "tests/unit/bundle_image.h"
#include "tests/unit/config_parse.h"

namespace pv::arch {
extern std::string g_fake_console;
}

using namespace pv;

namespace {

const std::string kHex = "00112233445566778899aabbccddeeffF0E1D2C3B4A5968778695A4B3C2D1E0f";
constexpr u8 kBytes[kMigKeyBytes] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
                                     0xbb, 0xcc, 0xdd, 0xee, 0xff, 0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5,
                                     0x96, 0x87, 0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f};

struct Parsed {
    Err err;
    u8 key[kMigKeyBytes];
    std::string why;
};

Parsed parse_key(const std::string& text) {
    Parsed p{};
    for (u8& b : p.key) b = 0x5a;  // what a failure must not leave behind
    const char* why = "unset";
    p.err = mig_parse_key(reinterpret_cast<const u8*>(text.data()), text.size(), p.key, &why);
    p.why = why;
    return p;
}

bool all_zero(const u8 (&key)[kMigKeyBytes]) {
    for (u8 b : key)
        if (b) return false;
    return true;
}

void expect_refused(const std::string& text, const std::string& why) {
    Parsed p = parse_key(text);
    EXPECT_EQ(p.err, Err::Invalid) << text;
    EXPECT_EQ(p.why, why) << text;
    EXPECT_TRUE(all_zero(p.key)) << text;
}

TEST(MigKey, SixtyFourDigitsEitherCaseWithOrWithoutALineEnd) {
    for (const std::string& text : {kHex, kHex + "\n", kHex + "\r\n"}) {
        Parsed p = parse_key(text);
        ASSERT_EQ(p.err, Err::Ok) << p.why;
        EXPECT_EQ(p.why, "");
        for (u32 i = 0; i < kMigKeyBytes; ++i) EXPECT_EQ(p.key[i], kBytes[i]) << i;
    }
}

TEST(MigKey, WrongLengths) {
    expect_refused("", "the entry is empty (a key is 64 hex digits)");
    expect_refused(kHex.substr(0, 63), "shorter than 64 hex digits");
    expect_refused(kHex.substr(0, 62) + "\n", "shorter than 64 hex digits");
    const std::string more = "more follows the 64 hex digits than one line end (\"\\n\" or \"\\r\\n\")";
    expect_refused(kHex + "0", more);
    expect_refused(kHex + kHex, more);
    expect_refused(kHex + "\n\n", more);
    expect_refused(kHex + "\r", more);
    expect_refused(kHex + "\n\r", more);
    expect_refused(kHex + " ", more);
    expect_refused(kHex + "\r\n\n", more);
}

TEST(MigKey, OnlyHexDigits) {
    const std::string not_hex = "not 64 hex digits (0-9, a-f, A-F, nothing else)";
    for (u32 at : {0u, 1u, 31u, 62u, 63u}) {
        for (char c : {'g', 'G', ' ', ':', '\n', '\0', 'x'}) {
            std::string text = kHex;
            text[at] = c;
            expect_refused(text, not_hex);
        }
    }
    expect_refused(" " + kHex.substr(0, 63), not_hex);
    expect_refused("0x" + kHex.substr(2), not_hex);
    std::string high = kHex;
    high[5] = static_cast<char>(0xb3);
    expect_refused(high, not_hex);
}

TEST(MigKey, AllZerosIsNotAKey) {
    expect_refused(std::string(64, '0'), "a key of all zeros is not a key");
    expect_refused(std::string(64, '0') + "\n", "a key of all zeros is not a key");
    Parsed p = parse_key(std::string(63, '0') + "1");
    ASSERT_EQ(p.err, Err::Ok);
    EXPECT_EQ(p.key[31], 1);
}

TEST(MigKey, NoDataAndNoWhy) {
    u8 key[kMigKeyBytes];
    const char* why = nullptr;
    EXPECT_EQ(mig_parse_key(nullptr, 64, key, &why), Err::Invalid);
    EXPECT_NE(why, nullptr);
    EXPECT_TRUE(all_zero(key));
    EXPECT_EQ(mig_parse_key(reinterpret_cast<const u8*>(kHex.data()), 64, key, nullptr), Err::Ok);
    EXPECT_EQ(key[15], 0xff);
}

// ---- at boot ----

// A mover that owns the NIC, the pool it serves, and [migration] naming `key_file` on line 16.
std::string mig_config(const std::string& key_file = "pair-ab.key") {
    return "[partition psp]\ndesired_procs = 1\ndesired_mem = 64M\nmem_mode = ded\nimage = psp-guest\n"
           "network_device = eth0\n"
           "[shared_pool]\npool_mem = 64M\npaging_vios = psp\n"
           "[migration]\nsystem = sysa\npeer = sysb\n"
           "# the pair's key\npeer_mac = 52:54:00:12:34:57\n\nkey_file = " +
           key_file + "\n";
}

struct Boot {
    bool ok;
    u8 key[kMigKeyBytes];
    std::string console;
};

Boot load(const std::string& cfg_text, const std::vector<test::Item>& items) {
    test::Parsed c = test::parse(cfg_text);
    EXPECT_TRUE(c.ok) << c.err.message;
    test::Image img(items);
    auto b = img.parse();
    EXPECT_TRUE(b.ok());
    Boot r{};
    for (u8& x : r.key) x = 0x5a;
    arch::g_fake_console.clear();
    r.ok = mig_load_key(b.value, c.cfg, r.key);
    r.console = arch::g_fake_console;
    return r;
}

TEST(MigKeyBoot, TheNamedEntryIsTheKey) {
    Boot r = load(mig_config(), {{"poolvisor.cfg", mig_config()}, {"psp-guest", "elf"}, {"pair-ab.key", kHex + "\n"}});
    ASSERT_TRUE(r.ok) << r.console;
    for (u32 i = 0; i < kMigKeyBytes; ++i) EXPECT_EQ(r.key[i], kBytes[i]) << i;
    EXPECT_EQ(r.console, "");
}

TEST(MigKeyBoot, NoMigrationSectionNoKey) {
    std::string cfg = "[partition a]\ndesired_procs = 1\ndesired_mem = 64M\nmem_mode = ded\nimage = img\n";
    Boot r = load(cfg, {{"poolvisor.cfg", cfg}, {"pair-ab.key", kHex}});
    EXPECT_TRUE(r.ok);
    EXPECT_TRUE(all_zero(r.key));
    EXPECT_EQ(r.console, "");
}

TEST(MigKeyBoot, MissingEntry) {
    Boot r = load(mig_config("pair-xy.key"), {{"poolvisor.cfg", "x"}, {"pair-ab.key", kHex}});
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(all_zero(r.key));
    EXPECT_NE(r.console.find("config:16: key_file: bundle has no entry 'pair-xy.key'"), std::string::npos)
        << r.console;
}

TEST(MigKeyBoot, AnEntryThatIsNotAKeyIsNamedButNeverPrinted) {
    std::string almost = kHex + " ";  // the key's digits, one space too many
    Boot r = load(mig_config(), {{"poolvisor.cfg", "x"}, {"pair-ab.key", almost}});
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(all_zero(r.key));
    EXPECT_NE(r.console.find("config:16: key_file: bundle entry 'pair-ab.key' (65 bytes) is not a key: more follows "
                             "the 64 hex digits than one line end"),
              std::string::npos)
        << r.console;
    EXPECT_EQ(r.console.find(kHex.substr(0, 8)), std::string::npos) << r.console;

    r = load(mig_config(), {{"poolvisor.cfg", "x"}, {"pair-ab.key", std::string(64, '0')}});
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.console.find("is not a key: a key of all zeros is not a key"), std::string::npos) << r.console;
    r = load(mig_config(), {{"poolvisor.cfg", "x"}, {"pair-ab.key", ""}});
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.console.find("'pair-ab.key' (0 bytes) is not a key: the entry is empty"), std::string::npos)
        << r.console;
}

// The committed test keys (tests/boot/keys) are keys, and two different ones.
TEST(MigKeyBoot, CommittedTestKeys) {
    u8 ab[kMigKeyBytes], wrong[kMigKeyBytes];
    for (auto [name, key] : {std::pair<const char*, u8*>{"pair-ab.key", ab}, {"pair-wrong.key", wrong}}) {
        std::string here = __FILE__;  // .../tests/unit/mig_key_test.cpp
        std::string path = here.substr(0, here.rfind("/unit/")) + "/boot/keys/" + name;
        FILE* f = std::fopen(path.c_str(), "rb");
        ASSERT_NE(f, nullptr) << path;
        char buf[128];
        size_t n = std::fread(buf, 1, sizeof buf, f);
        std::fclose(f);
        u8 k[kMigKeyBytes];
        const char* why = "";
        ASSERT_EQ(mig_parse_key(reinterpret_cast<const u8*>(buf), n, k, &why), Err::Ok) << path << ": " << why;
        std::memcpy(key, k, sizeof k);
    }
    EXPECT_NE(std::memcmp(ab, wrong, sizeof ab), 0);
}

}  // namespace
