#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "hv/config.h"
#include "tests/unit/config_parse.h"
#include "hv/facilities.h"

using namespace pv;

namespace {

using test::Parsed;
using test::parse;

// A minimal valid partition section, for tests that vary one thing.
std::string part(const std::string& name, const std::string& extra = "") {
    return "[partition " + name + "]\ndesired_procs = 1\ndesired_mem = 64M\nmem_mode = ded\nimage = img\n" + extra;
}

using test::expect_error;
using test::formatted;

// Sets one partition key to `value` in an otherwise valid config; the key is on line 3.
void expect_value_error(const std::string& key, const std::string& value, const std::string& needle) {
    std::string text = "[partition a]\n# the key under test\n" + key + " = " + value + "\n";
    for (std::string k : {"desired_procs", "desired_mem", "mem_mode", "image"}) {
        if (k == key) continue;
        text += k + (k == "desired_mem" ? " = 64M\n" : k == "mem_mode" ? " = ded\n" : " = 1\n");
    }
    expect_error(text, 3, key, needle);
}

// ---- Active Memory Sharing building blocks ----

// A shared partition (6 lines + extra): 64M of logical memory paged to `device`.
std::string shared(const std::string& name, const std::string& device = "nvme0", const std::string& extra = "",
                   const std::string& mem = "64M") {
    return "[partition " + name + "]\ndesired_procs = 1\ndesired_mem = " + mem +
           "\nmem_mode = shared\nimage = img\npaging_device = " + device + "\n" + extra;
}

// The pool (3 lines + extra): 64M served by partition `psp`.
std::string pool(const std::string& extra = "", const std::string& mem = "64M") {
    return "[shared_pool]\npool_mem = " + mem + "\npaging_vios = psp\n" + extra;
}

// The paging VIOS partition: a dedicated-memory partition (5 lines).
std::string psp() { return part("psp"); }

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
        "paging_device = nvme0    # a shared partition needs a paging device...\n"
        "[partition min]\n"
        "desired_procs=1\n"
        "desired_mem=16384K\n"
        "mem_mode=dedicated\n"
        "image=m\n"
        "[shared_pool]            # ...and the pool\n"
        "pool_mem = 64M\n"
        "paging_vios = smp1\n";
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
                     part("e", "lpar_id = 4095\n"));
    ASSERT_TRUE(p.ok) << formatted(p.err);
    ASSERT_EQ(p.cfg.partition_count, 5u);
    EXPECT_EQ(p.cfg.partitions[0].lpid, Lpid{2});
    EXPECT_EQ(p.cfg.partitions[1].lpid, Lpid{1});
    EXPECT_EQ(p.cfg.partitions[2].lpid, Lpid{3});
    EXPECT_EQ(p.cfg.partitions[3].lpid, Lpid{4});
    EXPECT_EQ(p.cfg.partitions[4].lpid, Lpid{4095});  // the 12-bit LPIDR's largest
}

// PowerVM's limit (base/limits.h): 1000 partitions, LPIDs assigned 1..1000.
TEST(Config, AThousandPartitionsAreAllowed) {
    static_assert(kMaxPartitions == 1000);
    std::string text;
    for (u32 i = 0; i < kMaxPartitions; ++i) text += part("p" + std::to_string(i));
    Parsed p = parse(text);
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(p.cfg.partition_count, kMaxPartitions);
    for (u32 i = 0; i < kMaxPartitions; ++i) EXPECT_EQ(p.cfg.partitions[i].lpid, Lpid{i + 1});
}

// boot.scale's shape: 64 partitions x 4 vCPUs, 16 of them shared on one pool.
TEST(Config, SixtyFourPartitionsOfFourVcpus) {
    std::string text = "[shared_pool]\npool_mem = 32M\npaging_vios = psp\n[partition psp]\ndesired_procs = 1\n"
                       "desired_mem = 16M\nmem_mode = ded\nimage = psp\n";
    for (u32 i = 0; i < 64; ++i) {
        text += "[partition p" + std::to_string(i) + "]\ndesired_procs = 4\ndesired_mem = 16M\nimage = g\n";
        text += i < 16 ? "mem_mode = shared\npaging_device = nvme0\npaging_offset = " + std::to_string(16 * i) + "M\n"
                       : "mem_mode = ded\n";
    }
    Parsed p = parse(text);
    ASSERT_TRUE(p.ok) << formatted(p.err);
    ASSERT_EQ(p.cfg.partition_count, 65u);
    for (u32 i = 1; i < 65; ++i) EXPECT_EQ(p.cfg.partitions[i].vcpus, 4u);
    EXPECT_EQ(p.cfg.partitions[16].mem_mode, MemMode::Shared);
    EXPECT_EQ(p.cfg.partitions[17].mem_mode, MemMode::Dedicated);
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
        "watchdog = 0\r\n"
        "paging_device=nvme0\r\n"
        "[shared_pool]\r\n"
        "\tpool_mem = 64M\t\r\n"
        "paging_vios=vios\r\n"
        "[partition vios]\r\n"
        "desired_procs=1\r\n"
        "desired_mem=16M\r\n"
        "mem_mode=ded\r\n"
        "image=v";  // no final newline
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

TEST(Config, Initrd) {
    Parsed p = parse(part("a", "initrd = debian-initrd.gz\n") + part("b"));
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_STREQ(p.cfg.partitions[0].initrd, "debian-initrd.gz");
    EXPECT_STREQ(p.cfg.partitions[1].initrd, "");  // optional
    std::string longest(31, 'r');
    Parsed q = parse(part("a", "initrd = " + longest + "\n"));
    ASSERT_TRUE(q.ok) << formatted(q.err);
    EXPECT_EQ(std::string(q.cfg.partitions[0].initrd), longest);
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
    for (u32 i = 0; i < kMaxPartitions + 1; ++i) text += part("p" + std::to_string(i));
    expect_error(text, kMaxPartitions * 5 + 1, "partition", "too many partitions");
    expect_error(text, kMaxPartitions * 5 + 1, "partition", "at most 1000");
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
    expect_value_error("lpar_id", "0", "'0' is out of range (1..4095)");
    expect_value_error("lpar_id", "4096", "'4096' is out of range (1..4095)");
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

TEST(ConfigError, Initrd) {
    expect_value_error("initrd", "a/b", "'a/b' is not a valid image name");
    expect_value_error("initrd", std::string(32, 'r'), "not a valid image name");
    expect_error(part("a", "initrd =\n"), 6, "initrd", "missing value");
    expect_error(part("a", "initrd = x\ninitrd = y\n"), 7, "initrd", "duplicate key 'initrd' (first on line 6)");
    expect_error("[system]\ninitrd = x\n", 2, "initrd", "unknown key 'initrd' in [system]");
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

// ---- Active Memory Sharing ----

// docs/config.md's example, verbatim: a PSP and two shared partitions overcommitting the pool 2x.
TEST(ConfigAms, DocumentedExample) {
    const std::string text =
        "# A paging VIOS partition and two shared partitions: 512M of logical memory\n"
        "# backed by a 256M pool (overcommitted 2x).\n"
        "[shared_pool]\n"
        "pool_mem = 256M\n"
        "paging_vios = vios          # defined below\n"
        "paging_requests = 32\n"
        "fault_threshold = 2\n"
        "\n"
        "[partition vios]\n"
        "lpar_id = 1\n"
        "desired_procs = 1\n"
        "desired_mem = 64M\n"
        "mem_mode = ded              # a paging VIOS never uses shared memory\n"
        "image = psp-guest\n"
        "\n"
        "[partition web]\n"
        "desired_procs = 2\n"
        "desired_mem = 256M\n"
        "mem_mode = shared\n"
        "image = smp-guest\n"
        "mem_weight = 192            # favoured when frames are scarce\n"
        "io_entitled_mem = 16M\n"
        "paging_device = nvme0\n"
        "paging_offset = 0M          # [0, 256M) of nvme0\n"
        "\n"
        "[partition batch]\n"
        "desired_procs = 2\n"
        "desired_mem = 256M\n"
        "mem_mode = shared\n"
        "image = smp-guest\n"
        "mem_weight = 64\n"
        "io_entitled_mem = 8M\n"
        "paging_device = nvme0\n"
        "paging_offset = 256M        # [256M, 512M) of nvme0, right after web's region\n";
    Parsed p = parse(text);
    ASSERT_TRUE(p.ok) << formatted(p.err);
    const SystemConfig::PoolConfig& pool = p.cfg.pool;
    EXPECT_TRUE(pool.present);
    EXPECT_EQ(pool.pool_bytes, 256u << 20);
    EXPECT_STREQ(pool.paging_vios, "vios");
    EXPECT_EQ(pool.paging_requests, 32u);
    EXPECT_EQ(pool.fault_threshold, 2u);
    EXPECT_EQ(pool.line, 3u);
    ASSERT_EQ(p.cfg.partition_count, 3u);

    const PartitionConfig& vios = p.cfg.partitions[0];
    EXPECT_EQ(vios.mem_mode, MemMode::Dedicated);
    EXPECT_STREQ(vios.paging_device, "");

    const PartitionConfig& web = p.cfg.partitions[1];
    EXPECT_STREQ(web.name, "web");
    EXPECT_EQ(web.lpid, Lpid{2});
    EXPECT_EQ(web.mem_mode, MemMode::Shared);
    EXPECT_EQ(web.mem_bytes, 256u << 20);
    EXPECT_EQ(web.mem_weight, 192u);
    EXPECT_EQ(web.io_entitled_bytes, 16u << 20);
    EXPECT_STREQ(web.paging_device, "nvme0");
    EXPECT_EQ(web.paging_offset, 0u);
    EXPECT_EQ(web.line, 16u);

    const PartitionConfig& batch = p.cfg.partitions[2];
    EXPECT_STREQ(batch.name, "batch");
    EXPECT_EQ(batch.mem_weight, 64u);
    EXPECT_EQ(batch.io_entitled_bytes, 8u << 20);
    EXPECT_STREQ(batch.paging_device, "nvme0");
    EXPECT_EQ(batch.paging_offset, 256u << 20);
}

TEST(ConfigAms, DefaultsWithoutPool) {
    Parsed p = parse(part("a"));
    ASSERT_TRUE(p.ok) << formatted(p.err);
    const SystemConfig::PoolConfig& pool = p.cfg.pool;
    EXPECT_FALSE(pool.present);
    EXPECT_EQ(pool.pool_bytes, 0u);
    EXPECT_STREQ(pool.paging_vios, "");
    EXPECT_EQ(pool.paging_requests, 32u);
    EXPECT_EQ(pool.fault_threshold, 2u);
    EXPECT_EQ(pool.line, 0u);
    const PartitionConfig& a = p.cfg.partitions[0];
    EXPECT_EQ(a.mem_weight, 128u);
    EXPECT_EQ(a.io_entitled_bytes, 0u);
    EXPECT_STREQ(a.paging_device, "");
    EXPECT_EQ(a.paging_offset, 0u);
}

TEST(ConfigAms, DefaultsWithPool) {
    Parsed p = parse(psp() + shared("s") + pool());
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_TRUE(p.cfg.pool.present);
    EXPECT_EQ(p.cfg.pool.pool_bytes, 64u << 20);
    EXPECT_EQ(p.cfg.pool.paging_requests, 32u);
    EXPECT_EQ(p.cfg.pool.fault_threshold, 2u);
    EXPECT_EQ(p.cfg.pool.line, 12u);
    const PartitionConfig& s = p.cfg.partitions[1];
    EXPECT_EQ(s.mem_mode, MemMode::Shared);
    EXPECT_EQ(s.mem_weight, 128u);
    EXPECT_EQ(s.io_entitled_bytes, 0u);
    EXPECT_STREQ(s.paging_device, "nvme0");
    EXPECT_EQ(s.paging_offset, 0u);
}

TEST(ConfigAms, PoolWithoutSharedPartitionsIsAllowed) {
    Parsed p = parse(pool() + psp() + part("other"));
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_TRUE(p.cfg.pool.present);
    EXPECT_STREQ(p.cfg.pool.paging_vios, "psp");
}

TEST(ConfigAms, SectionOrderDoesNotMatter) {
    // Pool first naming a PSP defined later; pool between partitions; pool last.
    EXPECT_TRUE(parse(pool() + shared("s") + psp()).ok);
    EXPECT_TRUE(parse(shared("s") + pool() + psp()).ok);
    EXPECT_TRUE(parse("[system]\nhdec_slice = 5ms\n" + shared("s") + psp() + pool()).ok);
    // Keys in any order within a section: io_entitled_mem before desired_mem, paging keys before mem_mode.
    Parsed p = parse(psp() + pool() +
                     "[partition s]\npaging_offset = 4K\nio_entitled_mem = 64M\npaging_device = sda\n"
                     "desired_mem = 64M\nmem_mode = shared\ndesired_procs = 1\nimage = i\n");
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(p.cfg.partitions[1].paging_offset, 4096u);
    EXPECT_EQ(p.cfg.partitions[1].io_entitled_bytes, 64u << 20);
    EXPECT_STREQ(p.cfg.partitions[1].paging_device, "sda");
}

TEST(ConfigAms, PoolKeyLimits) {
    struct Case {
        const char* extra;
        const char* mem;
        u32 requests, threshold;
        u64 bytes;
    };
    for (Case c : {Case{"paging_requests = 2\nfault_threshold = 1\n", "4M", 2, 1, 4u << 20},
                   Case{"paging_requests = 256\nfault_threshold = 64\n", "32G", 256, 64, u64{32} << 30},
                   Case{"fault_threshold = 8\n", "4096k", 32, 8, 4u << 20},
                   Case{"paging_requests = 0100\n", "1g", 100, 2, u64{1} << 30}}) {
        Parsed p = parse(psp() + shared("s") + pool(c.extra, c.mem));
        ASSERT_TRUE(p.ok) << c.extra << c.mem << ": " << formatted(p.err);
        EXPECT_EQ(p.cfg.pool.pool_bytes, c.bytes) << c.mem;
        EXPECT_EQ(p.cfg.pool.paging_requests, c.requests) << c.extra;
        EXPECT_EQ(p.cfg.pool.fault_threshold, c.threshold) << c.extra;
    }
}

TEST(ConfigAms, PartitionKeyLimits) {
    Parsed p = parse(psp() + pool("", "128M") + shared("lo", "nvme0", "mem_weight = 0\nio_entitled_mem = 0\n") +
                     shared("hi", "nvme0", "mem_weight = 255\nio_entitled_mem = 64M\npaging_offset = 64M\n"));
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(p.cfg.partitions[1].mem_weight, 0u);
    EXPECT_EQ(p.cfg.partitions[1].io_entitled_bytes, 0u);
    EXPECT_EQ(p.cfg.partitions[2].mem_weight, 255u);
    EXPECT_EQ(p.cfg.partitions[2].io_entitled_bytes, 64u << 20);  // = desired_mem
    std::string name15(15, '9');
    p = parse(psp() + pool() + shared("s", name15));
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(std::string(p.cfg.partitions[1].paging_device), name15);
}

TEST(ConfigAms, PagingOffsetForms) {
    struct Case {
        const char* text;
        u64 bytes;
    };
    for (Case c : {Case{"0", 0}, Case{"0M", 0}, Case{"4K", 4096}, Case{"8192", 8192}, Case{"12k", 12288},
                   Case{"3M", 3u << 20}, Case{"2G", u64{2} << 30}, Case{"1024G", u64{1} << 40},
                   Case{"17179869183G", ~u64{0} - (u64{1} << 30) + 1}}) {  // 2^64 - 1G: the region ends at 2^64 - 960M
        Parsed p = parse(psp() + pool() + shared("s", "nvme0", "paging_offset = " + std::string(c.text) + "\n"));
        ASSERT_TRUE(p.ok) << c.text << ": " << formatted(p.err);
        EXPECT_EQ(p.cfg.partitions[1].paging_offset, c.bytes) << c.text;
    }
}

TEST(ConfigAms, WeightAndEntitlementAreAcceptedOnDedicatedPartitions) {
    // Only meaningful for shared partitions (kept like an HMC profile keeps them); no pool needed.
    Parsed p = parse(part("d", "mem_weight = 10\nio_entitled_mem = 8M\n"));
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(p.cfg.partitions[0].mem_weight, 10u);
    EXPECT_EQ(p.cfg.partitions[0].io_entitled_bytes, 8u << 20);
    // A dedicated partition's entitlement does not count against the pool.
    EXPECT_TRUE(parse(psp() + pool("", "8M") + shared("s", "nvme0", "io_entitled_mem = 8M\n") +
                      part("d", "io_entitled_mem = 64M\n"))
                    .ok);
}

TEST(ConfigAms, AdjacentRegionsAndOtherDevices) {
    // Regions touching end to start, in any file order; the same offset on another device.
    Parsed p = parse(psp() + pool("", "128M") + shared("a", "nvme0", "paging_offset = 64M\n") +
                     shared("b", "nvme0") + shared("c", "nvme0", "paging_offset = 128M\n") + shared("d", "nvme1") +
                     shared("e", "nvme1", "paging_offset = 64M\n", "16M") +
                     shared("f", "nvme1", "paging_offset = 80M\n", "1G"));
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(p.cfg.partition_count, 7u);
}

TEST(ConfigAms, OvercommitAndEntitlementBounds) {
    // 16 x 64M = 1G of shared logical memory on a 64M pool: the limit itself is fine.
    EXPECT_TRUE(parse(psp() + pool() + shared("s", "nvme0", "", "1G")).ok);
    // 4 x 1G on a 256M pool: also exactly 16x.
    std::string four;
    for (int i = 0; i < 4; ++i)
        four += shared("s" + std::to_string(i), "nvme0", "paging_offset = " + std::to_string(i) + "G\n", "1G");
    EXPECT_TRUE(parse(psp() + pool("", "256M") + four).ok);
    // Entitlement summing to exactly the pool.
    Parsed p = parse(psp() + pool() + shared("a", "nvme0", "io_entitled_mem = 40M\n") +
                     shared("b", "nvme1", "io_entitled_mem = 24M\n"));
    ASSERT_TRUE(p.ok) << formatted(p.err);
}

// ---- Active Memory Sharing errors ----

TEST(ConfigAmsError, SharedPartitionNeedsThePool) {
    expect_error(psp() + shared("s"), 9, "mem_mode",
                 "partition 's' has mem_mode = shared but there is no [shared_pool] section");
    // The first shared partition is named, at its mem_mode line.
    expect_error(part("d") + "[partition s]\nmem_mode = shared\ndesired_procs = 1\ndesired_mem = 64M\nimage = i\n"
                             "paging_device = nvme0\n" + shared("t", "nvme1"),
                 7, "mem_mode", "partition 's'");
}

TEST(ConfigAmsError, DuplicatePoolSection) {
    expect_error(pool() + psp() + "[shared_pool]\n", 9, "section", "duplicate [shared_pool] section (first on line 1)");
}

TEST(ConfigAmsError, UnknownSectionMentionsThePool) {
    expect_error("[pool]\n", 1, "section", "(use [system], [shared_pool], [migration] or [partition NAME])");
    expect_error("[shared_pool x]\n", 1, "section", "unknown section 'shared_pool x'");
}

TEST(ConfigAmsError, UnknownAndMisplacedKeys) {
    expect_error(pool("pool_size = 1G\n") + psp(), 4, "pool_size",
                 "unknown key 'pool_size' in [shared_pool] (known: pool_mem, paging_vios, paging_requests, "
                 "fault_threshold)");
    expect_error(pool("mem_weight = 1\n"), 4, "mem_weight", "in [shared_pool]");
    expect_error(part("a", "pool_mem = 64M\n"), 6, "pool_mem", "in [partition]");
    expect_error(part("a", "fault_threshold = 2\n"), 6, "fault_threshold",
                 "(known: lpar_id, desired_procs, desired_mem, mem_mode, image, bootargs, initrd, watchdog, "
                 "mem_weight, io_entitled_mem, paging_device, paging_offset, deny_facilities, network_device)");
    expect_error("[system]\npaging_vios = psp\n", 2, "paging_vios", "in [system]");
}

TEST(ConfigAmsError, DuplicateKeys) {
    expect_error(pool("pool_mem = 128M\n"), 4, "pool_mem", "duplicate key 'pool_mem' (first on line 2)");
    expect_error(shared("s", "nvme0", "paging_device = nvme1\n"), 7, "paging_device",
                 "duplicate key 'paging_device' (first on line 6)");
    expect_error(part("a", "mem_weight = 1\nmem_weight = 2\n"), 7, "mem_weight", "duplicate key");
}

TEST(ConfigAmsError, MissingPoolKeysAreReportedAtTheHeader) {
    expect_error(psp() + "[shared_pool]\npaging_vios = psp\n", 6, "pool_mem",
                 "[shared_pool] has no pool_mem (required)");
    expect_error(psp() + "[shared_pool]\npool_mem = 64M\n" + shared("s"), 6, "paging_vios",
                 "[shared_pool] has no paging_vios (required)");
    expect_error("[shared_pool]\n", 1, "pool_mem", "has no pool_mem");
}

TEST(ConfigAmsError, PoolMem) {
    auto with = [](const std::string& v) { return psp() + pool("", v); };
    expect_error(with("64X"), 7, "pool_mem", "'64X' is not a size (use a number with K, M or G)");
    expect_error(with("64MB"), 7, "pool_mem", "is not a size");
    expect_error(with("3M"), 7, "pool_mem", "'3M' is out of range (4M..32G)");
    expect_error(with("4194303"), 7, "pool_mem", "out of range");
    expect_error(with("33G"), 7, "pool_mem", "'33G' is out of range (4M..32G)");
    expect_error(with("99999999999999999999999"), 7, "pool_mem", "out of range");
    expect_error(with("17179869184G"), 7, "pool_mem", "out of range");
    expect_error(with("4097K"), 7, "pool_mem", "'4097K' is not a multiple of 1M");
    expect_error(with("0"), 7, "pool_mem", "out of range");
}

TEST(ConfigAmsError, PagingVios) {
    expect_error(psp() + "[shared_pool]\npool_mem = 64M\npaging_vios = PSP\n", 8, "paging_vios",
                 "'PSP' is not a valid partition name (1..15 characters of a-z, 0-9, '_', '-')");
    expect_error(psp() + "[shared_pool]\npool_mem = 64M\npaging_vios = " + std::string(16, 'p') + "\n", 8,
                 "paging_vios", "not a valid partition name");
    // Must name a partition of the file...
    expect_error(part("vios") + shared("s") + pool(), 14, "paging_vios",
                 "no partition named 'psp' (the paging VIOS partition must be a [partition NAME] of this file)");
    // The pool alone: no partition at all is the (whole-file) error.
    expect_error(pool(), 0, "partition", "no partition defined");
    // ...that uses dedicated memory.
    expect_error(pool("", "128M") + shared("psp", "nvme0") + shared("s", "nvme1"), 3, "paging_vios",
                 "partition 'psp' (line 4) has mem_mode = shared; the paging VIOS partition must use dedicated "
                 "memory");
}

TEST(ConfigAmsError, PagingRequestsAndFaultThreshold) {
    auto with = [](const std::string& kv) { return psp() + pool(kv + "\n"); };
    expect_error(with("paging_requests = 1"), 9, "paging_requests", "'1' is out of range (2..4096)");
    expect_error(with("paging_requests = 4097"), 9, "paging_requests", "'4097' is out of range (2..4096)");
    expect_error(with("paging_requests = many"), 9, "paging_requests", "'many' is not a number");
    expect_error(with("paging_requests = 4294967328"), 9, "paging_requests", "out of range");  // 2^32 + 32
    expect_error(with("paging_requests ="), 9, "paging_requests", "missing value");
    expect_error(with("fault_threshold = 0"), 9, "fault_threshold", "'0' is out of range (1..64)");
    expect_error(with("fault_threshold = 65"), 9, "fault_threshold", "'65' is out of range (1..64)");
    expect_error(with("fault_threshold = 2.5"), 9, "fault_threshold", "'2.5' is not a number");
    expect_error(with("fault_threshold = -1"), 9, "fault_threshold", "'-1' is not a number");
}

TEST(ConfigAmsError, MemWeight) {
    expect_value_error("mem_weight", "256", "'256' is out of range (0..255)");
    expect_value_error("mem_weight", "high", "'high' is not a number");
    expect_value_error("mem_weight", "-1", "'-1' is not a number");
    expect_value_error("mem_weight", "4294967296", "out of range");  // 2^32 must not wrap to 0
}

TEST(ConfigAmsError, IoEntitledMem) {
    expect_value_error("io_entitled_mem", "8X", "'8X' is not a size (use a number with K, M or G)");
    expect_value_error("io_entitled_mem", "5G", "'5G' is out of range (0..4G)");
    expect_value_error("io_entitled_mem", "1536K", "'1536K' is not a multiple of 1M");
    expect_value_error("io_entitled_mem", "4096", "not a multiple of 1M");
    expect_value_error("io_entitled_mem", "18446744073709551616", "out of range");
    // At most desired_mem, reported at the io_entitled_mem line whatever the key order.
    expect_error(psp() + pool() + shared("s", "nvme0", "io_entitled_mem = 65M\n"), 15, "io_entitled_mem",
                 "io_entitled_mem 65M is larger than desired_mem 64M (line 11)");
    expect_error("[partition d]\nio_entitled_mem = 1G\ndesired_procs = 1\ndesired_mem = 512M\nmem_mode = ded\n"
                 "image = i\n",
                 2, "io_entitled_mem", "io_entitled_mem 1G is larger than desired_mem 512M (line 4)");
}

TEST(ConfigAmsError, PagingDevice) {
    expect_value_error("paging_device", "NVME0", "'NVME0' is not a valid device name (1..15 characters of a-z, 0-9)");
    expect_value_error("paging_device", "/dev/nvme0", "'/dev/nvme0' is not a valid device name");
    expect_value_error("paging_device", "nvme_0", "not a valid device name");
    expect_value_error("paging_device", "nvme 0", "not a valid device name");
    expect_value_error("paging_device", std::string(16, 'd'), "not a valid device name");
    // Required for a shared partition: reported at its header, like a missing required key.
    expect_error(psp() + pool() + "[partition s]\ndesired_procs = 1\ndesired_mem = 64M\nmem_mode = shared\n"
                                  "image = i\n" + part("after"),
                 9, "paging_device", "shared partition 's' has no paging_device (required with mem_mode = shared)");
    // Forbidden for a dedicated one, at its own line.
    expect_error(part("d", "paging_device = nvme0\n"), 6, "paging_device",
                 "partition 'd' has dedicated memory (line 4); paging_device is only for mem_mode = shared");
}

TEST(ConfigAmsError, PagingOffset) {
    expect_value_error("paging_offset", "1000", "'1000' is not a multiple of 4K");
    expect_value_error("paging_offset", "6K", "'6K' is not a multiple of 4K");
    expect_value_error("paging_offset", "4KB", "'4KB' is not a size (use a number with K, M or G)");
    expect_value_error("paging_offset", "-4K", "is not a size");
    expect_value_error("paging_offset", "17179869184G", "'17179869184G' is out of range (too large for 64 bits)");
    expect_value_error("paging_offset", "99999999999999999999999", "out of range");
    // Forbidden without shared memory.
    expect_error(part("d", "paging_offset = 0\n"), 6, "paging_offset",
                 "partition 'd' has dedicated memory (line 4); paging_offset is only for mem_mode = shared");
    // A region whose end does not fit in 64 bits (2^64 - 1G + 2G).
    expect_error(psp() + pool() + shared("s", "nvme0", "paging_offset = 17179869183G\n", "2G"), 15, "paging_offset",
                 "the paging region at 17179869183G of 2G (desired_mem) ends beyond 64-bit device offsets");
}

TEST(ConfigAmsError, OverlappingPagingRegions) {
    const std::string head = psp() + pool("", "128M");  // 8 lines; the first shared partition starts on line 9
    // The second partition's paging_offset line is reported (line 9 + 6 + 6).
    expect_error(head + shared("a", "nvme0") + shared("b", "nvme0", "paging_offset = 32M\n"), 21, "paging_offset",
                 "paging region 32M..96M on 'nvme0' overlaps region 0..64M of partition 'a' (line 9)");
    // Overlapping from below, by one page.
    expect_error(head + shared("a", "nvme0", "paging_offset = 1G\n") +
                     shared("b", "nvme0", "paging_offset = 983044K\n"),
                 22, "paging_offset", "paging region 983044K..1048580K on 'nvme0' overlaps region 1G..1088M");
    // Same offset, different sizes.
    expect_error(head + shared("a", "nvme0", "", "16M") + shared("b", "nvme0", "", "1G"), 20, "paging_offset",
                 "paging region 0..1G on 'nvme0' overlaps region 0..16M of partition 'a'");
    // Without a paging_offset key (default 0) the error is at the paging_device line.
    expect_error(head + shared("a", "nvme0", "paging_offset = 4K\n") + shared("b", "nvme0"), 21, "paging_offset",
                 "paging region 0..64M on 'nvme0' overlaps region 4K..65540K of partition 'a' (line 9)");
    // Checked against every earlier partition, not just the previous one.
    expect_error(head + shared("a", "nvme0") + shared("b", "nvme1") + shared("c", "nvme0", "paging_offset = 60M\n"),
                 27, "paging_offset", "overlaps region 0..64M of partition 'a' (line 9)");
}

TEST(ConfigAmsError, EntitlementMustFitThePool) {
    // Reported at the pool_mem line, whether the pool comes first or last.
    expect_error(pool() + psp() + shared("a", "nvme0", "io_entitled_mem = 48M\n") +
                     shared("b", "nvme1", "io_entitled_mem = 32M\n"),
                 2, "pool_mem", "pool_mem 64M is smaller than the 80M of I/O entitlement it must guarantee");
    expect_error(psp() + shared("a", "nvme0", "io_entitled_mem = 1G\n", "1G") +
                     shared("b", "nvme1", "io_entitled_mem = 1G\n", "1G") +
                     "[shared_pool]\npaging_vios = psp\npool_mem = 1G\n",
                 22, "pool_mem", "pool_mem 1G is smaller than the 2G of I/O entitlement it must guarantee");
}

TEST(ConfigAmsError, OvercommitIsLimitedTo16Times) {
    // 1G + 1M of shared logical memory on a 64M pool: just over 16x.
    expect_error(psp() + pool() + shared("a", "nvme0", "", "1G") + shared("b", "nvme1", "", "16M"), 7, "pool_mem",
                 "pool_mem 64M is too small for the 1040M of logical memory of the shared partitions (at most 16 "
                 "times the pool: use at least 65M)");
    expect_error(psp() + pool("", "4M") + shared("a", "nvme0", "", "4G"), 7, "pool_mem",
                 "pool_mem 4M is too small for the 4G of logical memory of the shared partitions (at most 16 times "
                 "the pool: use at least 256M)");
}

TEST(ConfigAmsError, ValueErrorsComeBeforeWholeFileChecks) {
    // A shared partition without a pool, and a later bad value: the bad value is the first error.
    expect_error(shared("s") + part("d", "mem_weight = 300\n"), 12, "mem_weight", "'300' is out of range");
    // A paging_vios naming no partition, and a later section error.
    expect_error(pool() + part("d") + "[bogus]\n", 9, "section", "unknown section 'bogus'");
}

TEST(ConfigAmsError, Formatted) {
    Parsed p = parse(pool() + psp() + shared("a", "nvme0", "io_entitled_mem = 48M\n") +
                     shared("b", "nvme1", "io_entitled_mem = 32M\n"));
    ASSERT_FALSE(p.ok);
    EXPECT_EQ(formatted(p.err),
              "config:2: pool_mem: pool_mem 64M is smaller than the 80M of I/O entitlement it must guarantee");
}

// ---- deny_facilities ----

TEST(ConfigFacilities, DefaultIsTheHypervisorsSet) {
    Parsed p = parse(part("a"));
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(p.cfg.partitions[0].hfscr, kGuestHfscr);
    EXPECT_EQ(p.cfg.partitions[0].hfscr, 0x19fu);
}

TEST(ConfigFacilities, DeniedFacilitiesLeaveTheHfscr) {
    Parsed p = parse(part("a", "deny_facilities = tar, ebb\n") + part("b", "deny_facilities=vmx,pm ,bhrb\n") +
                     part("c", "deny_facilities = tm, msgp\n"));
    ASSERT_TRUE(p.ok) << formatted(p.err);
    EXPECT_EQ(p.cfg.partitions[0].hfscr, kGuestHfscr & ~(u64{1} << 8) & ~(u64{1} << 7));
    EXPECT_EQ(p.cfg.partitions[1].hfscr, kGuestHfscr & ~(u64{1} << 1) & ~(u64{1} << 3) & ~(u64{1} << 4));
    EXPECT_EQ(p.cfg.partitions[2].hfscr, kGuestHfscr) << "never given anyway";
}

TEST(ConfigFacilities, VmxAndVsxAreOneBit) {
    Parsed a = parse(part("a", "deny_facilities = vsx\n"));
    Parsed b = parse(part("a", "deny_facilities = vmx\n"));
    ASSERT_TRUE(a.ok && b.ok);
    EXPECT_EQ(a.cfg.partitions[0].hfscr, b.cfg.partitions[0].hfscr);
    EXPECT_EQ(a.cfg.partitions[0].hfscr, kGuestHfscr & ~u64{2});
}

TEST(ConfigFacilities, AnUnknownNameIsAnErrorListingTheKnownOnes) {
    expect_value_error("deny_facilities", "tar, altivec",
                       "'altivec' is not a facility (known: fp, vmx, vsx, dscr, pm, bhrb, tm, ebb, tar, msgp)");
    expect_value_error("deny_facilities", "TAR", "'TAR' is not a facility");
}

TEST(ConfigFacilities, EmptyNamesAndDuplicatesOfTheKey) {
    expect_value_error("deny_facilities", "tar,,ebb", "empty facility name");
    expect_value_error("deny_facilities", "tar,", "empty facility name");
    expect_value_error("deny_facilities", ", tar", "empty facility name");
    expect_error(part("a", "deny_facilities = tar\ndeny_facilities = ebb\n"), 7, "deny_facilities",
                 "duplicate key 'deny_facilities'");
    expect_error(part("a", "deny_facilities =\n"), 6, "deny_facilities", "missing value");
}

TEST(ConfigFacilities, OnlyAPartitionKey) {
    expect_error("[system]\ndeny_facilities = tar\n" + part("a"), 2, "deny_facilities", "unknown key");
    expect_error(part("a", "deny_facility = tar\n"), 6, "deny_facility", "deny_facilities");
}
