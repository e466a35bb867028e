#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "hv/config.h"

using namespace pv;

namespace {

struct Parsed {
    bool ok;
    SystemConfig cfg;
    ConfigError err;
};

Parsed parse(const std::string& text) {
    Parsed p{};
    p.ok = parse_config(text, p.cfg, p.err);
    return p;
}

// A minimal valid partition section, for tests that vary one thing.
std::string part(const std::string& name, const std::string& extra = "") {
    return "[partition " + name + "]\ndesired_procs = 1\ndesired_mem = 64M\nmem_mode = ded\nimage = img\n" + extra;
}

std::string formatted(const ConfigError& e) {
    char buf[256];
    format_config_error(e, buf, sizeof buf);
    return buf;
}

// Expects a failure at `line` in `field` whose message contains `needle`.
void expect_error(const std::string& text, u32 line, const std::string& field, const std::string& needle) {
    Parsed p = parse(text);
    ASSERT_FALSE(p.ok) << text;
    EXPECT_EQ(p.err.line, line) << formatted(p.err);
    EXPECT_EQ(std::string(p.err.field), field) << formatted(p.err);
    EXPECT_NE(std::string(p.err.message).find(needle), std::string::npos)
        << "message: " << p.err.message << "\nexpected to contain: " << needle;
}

// Sets one partition key to `value` in an otherwise valid config; the key is on line 3.
void expect_value_error(const std::string& key, const std::string& value, const std::string& needle) {
    std::string text = "[partition a]\n# the key under test\n" + key + " = " + value + "\n";
    for (std::string k : {"desired_procs", "desired_mem", "mem_mode", "image"}) {
        if (k == key) continue;
        text += k + (k == "desired_mem" ? " = 64M\n" : k == "mem_mode" ? " = ded\n" : " = 1\n");
    }
    expect_error(text, 3, key, needle);
}

}  // namespace

// ---- valid configurations ----

TEST(Config, FullMultiPartitionExample) {
    const std::string text =
        "# Poolvisor partition configuration\n"
        "[system]                 # optional section, at most once\n"
        "hdec_slice = 5ms\n"
        "\n"
        "[partition smp1]\n"
        "lpar_id = 1\n"
        "desired_procs = 2\n"
        "desired_mem = 64M\n"
        "mem_mode = ded\n"
        "image = smp-guest\n"
        "bootargs = fill rounds=3 # the comment is not part of bootargs\n"
        "watchdog = 3s\n"
        "\n"
        "[partition io_2]\n"
        "desired_procs = 8\n"
        "desired_mem = 1G\n"
        "mem_mode = shared\n"
        "image = io.Guest_v2.bin\n"
        "watchdog = 1500ms\n"
        "\n"
        "[partition min]\n"
        "desired_procs=1\n"
        "desired_mem=16384K\n"
        "mem_mode=dedicated\n"
        "image=m\n";
    Parsed p = parse(text);
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(p.cfg.hdec_slice_us, 5000u);
    ASSERT_EQ(p.cfg.partition_count, 3u);

    const PartitionConfig& a = p.cfg.partitions[0];
    EXPECT_STREQ(a.name, "smp1");
    EXPECT_EQ(a.lpid, Lpid{1});
    EXPECT_EQ(a.vcpus, 2u);
    EXPECT_EQ(a.mem_bytes, 64u << 20);
    EXPECT_EQ(a.mem_mode, MemMode::Dedicated);
    EXPECT_STREQ(a.image, "smp-guest");
    EXPECT_STREQ(a.bootargs, "fill rounds=3");
    EXPECT_EQ(a.watchdog_us, 3'000'000u);
    EXPECT_EQ(a.line, 5u);

    const PartitionConfig& b = p.cfg.partitions[1];
    EXPECT_STREQ(b.name, "io_2");
    EXPECT_EQ(b.lpid, Lpid{2});
    EXPECT_EQ(b.vcpus, 8u);
    EXPECT_EQ(b.mem_bytes, u64{1} << 30);
    EXPECT_EQ(b.mem_mode, MemMode::Shared);
    EXPECT_STREQ(b.image, "io.Guest_v2.bin");
    EXPECT_STREQ(b.bootargs, "");
    EXPECT_EQ(b.watchdog_us, 1'500'000u);
    EXPECT_EQ(b.line, 14u);

    const PartitionConfig& c = p.cfg.partitions[2];
    EXPECT_STREQ(c.name, "min");
    EXPECT_EQ(c.lpid, Lpid{3});
    EXPECT_EQ(c.mem_bytes, 16u << 20);
    EXPECT_EQ(c.mem_mode, MemMode::Dedicated);
    EXPECT_EQ(c.watchdog_us, 0u);
    EXPECT_EQ(c.line, 21u);
}

TEST(Config, DefaultsWithoutSystemSection) {
    Parsed p = parse(part("only"));
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(p.cfg.hdec_slice_us, 10'000u);
    EXPECT_EQ(p.cfg.partition_count, 1u);
    EXPECT_EQ(p.cfg.partitions[0].lpid, Lpid{1});
    EXPECT_EQ(p.cfg.partitions[0].watchdog_us, 0u);
    EXPECT_STREQ(p.cfg.partitions[0].bootargs, "");
}

TEST(Config, SystemSectionMayComeAfterPartitions) {
    Parsed p = parse(part("a") + "[system]\nhdec_slice = 1000ms\n");
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(p.cfg.hdec_slice_us, 1'000'000u);
}

TEST(Config, LowestFreeLpidsAreAssignedAfterExplicitOnes) {
    // The first partition has no id but may not take 1: a later one claims it.
    Parsed p = parse(part("a") + part("b", "lpar_id = 1\n") + part("c", "lpar_id = 3\n") + part("d") +
                     part("e", "lpar_id = 1023\n"));
    ASSERT_TRUE(p.ok) << formatted(p.err);
    ASSERT_EQ(p.cfg.partition_count, 5u);
    EXPECT_EQ(p.cfg.partitions[0].lpid, Lpid{2});
    EXPECT_EQ(p.cfg.partitions[1].lpid, Lpid{1});
    EXPECT_EQ(p.cfg.partitions[2].lpid, Lpid{3});
    EXPECT_EQ(p.cfg.partitions[3].lpid, Lpid{4});
    EXPECT_EQ(p.cfg.partitions[4].lpid, Lpid{1023});
}

TEST(Config, EightPartitionsAreAllowed) {
    std::string text;
    for (int i = 0; i < 8; ++i) text += part("p" + std::to_string(i));
    Parsed p = parse(text);
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(p.cfg.partition_count, kMaxPartitions);
    for (u32 i = 0; i < kMaxPartitions; ++i) EXPECT_EQ(p.cfg.partitions[i].lpid, Lpid{i + 1});
}

TEST(Config, WhitespaceCommentsAndLineEndings) {
    const std::string text =
        "\t# leading comment\r\n"
        "  [  partition \t spaced  ]  # comment\r\n"
        "\tdesired_procs\t=\t3\t\r\n"
        "desired_mem =64m\r\n"
        "mem_mode= shared   \r\n"
        "   image    =    x   # trailing\r\n"
        "bootargs =   a  b=c   \r\n"
        "watchdog = 0";  // no final newline
    Parsed p = parse(text);
    ASSERT_TRUE(p.ok) << formatted(p.err);
    const PartitionConfig& a = p.cfg.partitions[0];
    EXPECT_STREQ(a.name, "spaced");
    EXPECT_EQ(a.line, 2u);
    EXPECT_EQ(a.vcpus, 3u);
    EXPECT_EQ(a.mem_bytes, 64u << 20);
    EXPECT_EQ(a.mem_mode, MemMode::Shared);
    EXPECT_STREQ(a.image, "x");
    EXPECT_STREQ(a.bootargs, "a  b=c");
    EXPECT_EQ(a.watchdog_us, 0u);
}

TEST(Config, SizeAndTimeForms) {
    struct Case {
        const char* mem;
        u64 bytes;
    };
    for (Case c : {Case{"16M", 16u << 20}, Case{"4G", u64{4} << 30}, Case{"4096M", u64{4} << 30},
                   Case{"16777216", 16u << 20}, Case{"65536k", 64u << 20}, Case{"1g", u64{1} << 30},
                   Case{"0064M", 64u << 20}}) {
        Parsed p = parse("[partition a]\ndesired_procs = 1\nmem_mode = ded\nimage = i\ndesired_mem = " +
                         std::string(c.mem) + "\n");
        ASSERT_TRUE(p.ok) << c.mem << ": " << formatted(p.err);
        EXPECT_EQ(p.cfg.partitions[0].mem_bytes, c.bytes) << c.mem;
    }
    struct Time {
        const char* text;
        u64 us;
    };
    for (Time t : {Time{"1ms", 1000}, Time{"1000ms", 1'000'000}, Time{"1s", 1'000'000}}) {
        Parsed p = parse("[system]\nhdec_slice = " + std::string(t.text) + "\n" + part("a"));
        ASSERT_TRUE(p.ok) << t.text << ": " << formatted(p.err);
        EXPECT_EQ(p.cfg.hdec_slice_us, t.us) << t.text;
    }
    for (Time t : {Time{"0", 0}, Time{"0s", 0}, Time{"0ms", 0}, Time{"1ms", 1000}, Time{"600s", 600'000'000},
                   Time{"600000ms", 600'000'000}}) {
        Parsed p = parse(part("a", "watchdog = " + std::string(t.text) + "\n"));
        ASSERT_TRUE(p.ok) << t.text << ": " << formatted(p.err);
        EXPECT_EQ(p.cfg.partitions[0].watchdog_us, t.us) << t.text;
    }
}

TEST(Config, LongestNamesAndBootargsFit) {
    std::string name(15, 'z'), image(31, 'I'), args(255, 'x');
    Parsed p = parse("[partition " + name + "]\ndesired_procs = 1\ndesired_mem = 16M\nmem_mode = ded\nimage = " +
                     image + "\nbootargs = " + args + "\n");
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(std::string(p.cfg.partitions[0].name), name);
    EXPECT_EQ(std::string(p.cfg.partitions[0].image), image);
    EXPECT_EQ(std::string(p.cfg.partitions[0].bootargs), args);
}

TEST(Config, EmptyBootargsAreAllowed) {
    Parsed p = parse(part("a", "bootargs =\n"));
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_STREQ(p.cfg.partitions[0].bootargs, "");
}

// ---- whole-file errors ----

TEST(ConfigError, EmptyFile) {
    expect_error("", 0, "partition", "empty");
    expect_error("\n\n   \n", 0, "partition", "empty");
    expect_error("# only a comment\n# and another\n", 0, "partition", "empty");
}

TEST(ConfigError, NoPartition) {
    expect_error("[system]\nhdec_slice = 10ms\n", 0, "partition", "no partition");
}

TEST(ConfigError, TooManyPartitions) {
    std::string text;
    for (int i = 0; i < 9; ++i) text += part("p" + std::to_string(i));
    expect_error(text, 8 * 5 + 1, "partition", "too many partitions");
    expect_error(text, 8 * 5 + 1, "partition", "at most 8");
}

// ---- section errors ----

TEST(ConfigError, UnknownSectionType) {
    expect_error(part("a") + "[lpar b]\n", 6, "section", "unknown section 'lpar b'");
    expect_error("[System]\n", 1, "section", "'System'");
    expect_error("[]\n", 1, "section", "unknown section ''");
    expect_error("[partitionx]\n", 1, "section", "'partitionx'");
}

TEST(ConfigError, MalformedSectionHeader) {
    expect_error("[system\n", 1, "section", "missing ']'");
    expect_error("[system] hdec_slice = 1ms\n", 1, "section", "after ']'");
}

TEST(ConfigError, DuplicateSystemSection) {
    expect_error("[system]\n" + part("a") + "[system]\n", 7, "section", "first on line 1");
}

TEST(ConfigError, BadPartitionNames) {
    expect_error("[partition]\n", 1, "partition", "needs a name");
    expect_error("[partition Smp1]\n", 1, "partition", "'Smp1' is not a valid partition name");
    expect_error("[partition " + std::string(16, 'a') + "]\n", 1, "partition", "not a valid partition name");
    expect_error("[partition a b]\n", 1, "partition", "'a b'");
    expect_error("[partition a.b]\n", 1, "partition", "'a.b'");
}

TEST(ConfigError, DuplicatePartitionName) {
    expect_error(part("web") + part("db") + part("web"), 11, "partition", "duplicate partition name 'web'");
    expect_error(part("web") + part("db") + part("web"), 11, "partition", "first on line 1");
}

// ---- key errors ----

TEST(ConfigError, KeyOutsideAnySection) {
    expect_error("# header\ndesired_procs = 2\n" + part("a"), 2, "desired_procs", "outside any section");
}

TEST(ConfigError, MissingEquals) {
    expect_error(part("a", "watchdog 3s\n"), 6, "line", "'watchdog 3s'");
    expect_error("[system]\nhdec_slice\n", 2, "line", "key = value");
}

TEST(ConfigError, MissingKey) {
    expect_error(part("a", "= 3\n"), 6, "line", "missing key");
}

TEST(ConfigError, UnknownKey) {
    expect_error(part("a", "desired_proc = 2\n"), 6, "desired_proc", "unknown key 'desired_proc'");
    expect_error("[system]\ndesired_procs = 2\n", 2, "desired_procs", "in [system]");
    expect_error(part("a", "hdec_slice = 10ms\n"), 6, "hdec_slice", "in [partition]");
}

TEST(ConfigError, DuplicateKey) {
    expect_error(part("a", "desired_procs = 2\n"), 6, "desired_procs",
                 "duplicate key 'desired_procs' (first on line 2)");
    expect_error("[system]\nhdec_slice = 1ms\nhdec_slice = 2ms\n", 3, "hdec_slice", "duplicate key");
    // The same key in two partitions is fine.
    EXPECT_TRUE(parse(part("a", "watchdog = 1s\n") + part("b", "watchdog = 1s\n")).ok);
}

TEST(ConfigError, MissingValue) {
    expect_value_error("desired_procs", "", "missing value");
    expect_error(part("a", "watchdog =   # nothing\n"), 6, "watchdog", "missing value");
}

TEST(ConfigError, MissingRequiredKeyIsReportedAtTheHeader) {
    const char* required[] = {"desired_procs", "desired_mem", "mem_mode", "image"};
    const char* lines[] = {"desired_procs = 1\n", "desired_mem = 64M\n", "mem_mode = ded\n", "image = img\n"};
    for (int missing = 0; missing < 4; ++missing) {
        std::string body;
        for (int i = 0; i < 4; ++i)
            if (i != missing) body += lines[i];
        // Last section (closed by the end of the file)...
        expect_error(part("first") + "\n[partition second]\n" + body, 7, required[missing],
                     std::string("partition 'second' has no ") + required[missing]);
        // ...and a section closed by the next header.
        expect_error("[partition first]\n" + body + part("second"), 1, required[missing],
                     std::string("partition 'first' has no ") + required[missing]);
    }
}

TEST(ConfigError, DuplicateLparId) {
    expect_error(part("a", "lpar_id = 7\n") + part("b", "lpar_id = 7\n"), 12, "lpar_id",
                 "lpar_id 7 is already used by partition 'a' (line 1)");
}

TEST(ConfigError, ControlCharacter) {
    expect_error(part("a") + std::string("bootargs = a\0b\n", 15), 6, "line", "control character 0");
    expect_error("[system]\x01\n", 1, "line", "control character 1");
}

// ---- value errors ----

TEST(ConfigError, DesiredProcs) {
    expect_value_error("desired_procs", "0", "'0' is out of range (1..8)");
    expect_value_error("desired_procs", "9", "'9' is out of range (1..8)");
    expect_value_error("desired_procs", "two", "'two' is not a number");
    expect_value_error("desired_procs", "-1", "'-1' is not a number");
    expect_value_error("desired_procs", "2x", "'2x' is not a number");
    expect_value_error("desired_procs", "2 4", "'2 4' is not a number");
    expect_value_error("desired_procs", "0x2", "'0x2' is not a number");
    expect_value_error("desired_procs", "99999999999999999999999", "is out of range");
    expect_value_error("desired_procs", "4294967297", "is out of range");  // 2^32 + 1 must not wrap to 1
}

TEST(ConfigError, LparId) {
    expect_value_error("lpar_id", "0", "'0' is out of range (1..1023)");
    expect_value_error("lpar_id", "1024", "'1024' is out of range (1..1023)");
    expect_value_error("lpar_id", "1a", "'1a' is not a number");
    expect_value_error("lpar_id", "18446744073709551616", "is out of range");  // 2^64
}

TEST(ConfigError, DesiredMem) {
    expect_value_error("desired_mem", "64X", "'64X' is not a size (use a number with K, M or G)");
    expect_value_error("desired_mem", "64MB", "'64MB' is not a size");
    expect_value_error("desired_mem", "M", "'M' is not a size");
    expect_value_error("desired_mem", "64 M", "'64 M' is not a size");
    expect_value_error("desired_mem", "8M", "'8M' is out of range (16M..4G)");
    expect_value_error("desired_mem", "4097M", "'4097M' is out of range (16M..4G)");
    expect_value_error("desired_mem", "5G", "out of range");
    expect_value_error("desired_mem", "16385K", "'16385K' is not a multiple of 1M");
    expect_value_error("desired_mem", "16777217", "not a multiple of 1M");
    expect_value_error("desired_mem", "17179869184G", "is out of range");           // overflows in the multiply
    expect_value_error("desired_mem", "99999999999999999999999M", "is out of range");  // overflows in the digits
}

TEST(ConfigError, MemMode) {
    expect_value_error("mem_mode", "DED", "'DED' is not a memory mode (use ded, dedicated or shared)");
    expect_value_error("mem_mode", "ded shared", "'ded shared'");
}

TEST(ConfigError, Image) {
    expect_value_error("image", "a/b", "'a/b' is not a valid image name");
    expect_value_error("image", std::string(32, 'i'), "not a valid image name");
    expect_value_error("image", "two words", "'two words'");
}

TEST(ConfigError, Bootargs) {
    expect_value_error("bootargs", std::string(256, 'x'), "bootargs are 256 characters long (at most 255)");
}

TEST(ConfigError, Watchdog) {
    expect_value_error("watchdog", "3", "'3' is not a time (use a number with ms or s");
    expect_value_error("watchdog", "3m", "is not a time");
    expect_value_error("watchdog", "3 s", "is not a time");
    expect_value_error("watchdog", "3sec", "is not a time");
    expect_value_error("watchdog", "500us", "is not a time");
    expect_value_error("watchdog", "601s", "'601s' is out of range (0..600s)");
    expect_value_error("watchdog", "600001ms", "out of range");
    expect_value_error("watchdog", "18446744073709551s", "out of range");  // overflows when scaled to us
}

TEST(ConfigError, HdecSlice) {
    auto sys = [](const std::string& v) { return "[system]\nhdec_slice = " + v + "\n" + part("a"); };
    expect_error(sys("0ms"), 2, "hdec_slice", "'0ms' is out of range (1ms..1000ms)");
    expect_error(sys("0"), 2, "hdec_slice", "out of range");
    expect_error(sys("1001ms"), 2, "hdec_slice", "out of range");
    expect_error(sys("2s"), 2, "hdec_slice", "out of range");
    expect_error(sys("10"), 2, "hdec_slice", "'10' is not a time");
    expect_error(sys("10ms extra"), 2, "hdec_slice", "'10ms extra' is not a time");
}

TEST(ConfigError, LongValuesAreShortenedInMessages) {
    std::string v = "1" + std::string(200, 'x');
    Parsed p = parse(part("a", "watchdog = " + v + "\n"));
    ASSERT_FALSE(p.ok);
    std::string msg = p.err.message;
    EXPECT_NE(msg.find("..."), std::string::npos) << msg;
    EXPECT_NE(msg.find("is not a time"), std::string::npos) << msg;
}

TEST(ConfigError, OnlyTheFirstErrorIsReported) {
    expect_error(part("a", "desired_procs = 9\nfoo = 1\n"), 6, "desired_procs", "duplicate key");
}

// ---- formatting ----

TEST(ConfigErrorFormat, LineFieldAndMessage) {
    ConfigError e{};
    e.line = 7;
    std::snprintf(e.field, sizeof e.field, "desired_mem");
    std::snprintf(e.message, sizeof e.message, "'64X' is not a size (use a number with K, M or G)");
    EXPECT_EQ(formatted(e), "config:7: desired_mem: '64X' is not a size (use a number with K, M or G)");
}

TEST(ConfigErrorFormat, FromParser) {
    Parsed p = parse("[partition a]\ndesired_procs = 1\nmem_mode = ded\nimage = i\n\n\ndesired_mem = 64X\n");
    ASSERT_FALSE(p.ok);
    EXPECT_EQ(formatted(p.err), "config:7: desired_mem: '64X' is not a size (use a number with K, M or G)");
}

TEST(ConfigErrorFormat, WholeFileErrorHasNoLine) {
    Parsed p = parse("[system]\n");
    ASSERT_FALSE(p.ok);
    EXPECT_EQ(formatted(p.err),
              "config: partition: no partition defined (at least one [partition NAME] section is required)");
}

TEST(ConfigErrorFormat, TruncatesToTheBuffer) {
    ConfigError e{};
    e.line = 12345;
    std::snprintf(e.field, sizeof e.field, "image");
    std::snprintf(e.message, sizeof e.message, "a long message");
    char buf[10];
    std::memset(buf, 'Z', sizeof buf);
    format_config_error(e, buf, sizeof buf);
    EXPECT_STREQ(buf, "config:12");
    char one[1] = {'Z'};
    format_config_error(e, one, sizeof one);
    EXPECT_EQ(one[0], '\0');
    format_config_error(e, nullptr, 0);  // must not write
}
