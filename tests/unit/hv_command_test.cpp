// The hypervisor's console commands (hv/hv_command.h) and migration
// validation (hv/mig_validate.h): strict parsing, every refusal reason, the
// target's offer on the wire.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "hv/hv_command.h"
#include "hv/mig_validate.h"

using namespace pv;

namespace {

HvCommand parse_ok(const char* line) {
    HvCommand c;
    EXPECT_EQ(parse_hv_command(line, c), Err::Ok) << line << ": " << c.error;
    return c;
}

std::string parse_error(const char* line) {
    HvCommand c;
    EXPECT_EQ(parse_hv_command(line, c), Err::Invalid) << line;
    return c.error;
}

TEST(HvCommand, HmcWordsParse) {
    EXPECT_EQ(parse_ok("help").kind, HvCommandKind::Help);
    EXPECT_EQ(parse_ok("lssyscfg -r lpar").kind, HvCommandKind::ListPartitions);
    EXPECT_EQ(parse_ok("  lslparmigr   -r lpar ").kind, HvCommandKind::ListMigrations);
    HvCommand v = parse_ok("migrlpar -o v -p linux -t sys-b");
    EXPECT_EQ(v.kind, HvCommandKind::Validate);
    EXPECT_STREQ(v.partition, "linux");
    EXPECT_STREQ(v.system, "sys-b");
    HvCommand m = parse_ok("migrlpar -t b -p \"s1\" -o m");  // any order, quoted words
    EXPECT_EQ(m.kind, HvCommandKind::Migrate);
    EXPECT_STREQ(m.partition, "s1");
    EXPECT_EQ(parse_ok("migrlpar -o s -p s1").kind, HvCommandKind::StopMigration);
    EXPECT_EQ(parse_ok("migrlpar -o r -p s1").kind, HvCommandKind::RecoverMigration);
    EXPECT_EQ(parse_ok(" lsvcpu ").kind, HvCommandKind::ListVcpus);
}

TEST(HvCommand, MistakesAreNamed) {
    EXPECT_EQ(parse_error(""), "empty line (help: the commands)");
    EXPECT_EQ(parse_error("reboot"), "unknown command 'reboot' (help: the commands)");
    EXPECT_EQ(parse_error("lssyscfg -r sys"), "usage: lssyscfg -r lpar");
    EXPECT_EQ(parse_error("lsvcpu -p linux"), "usage: lsvcpu");
    EXPECT_EQ(parse_error("migrlpar -o x -p a -t b"), "migrlpar: -o 'x': v (validate), m (migrate), s (stop) or r (recover)");
    EXPECT_EQ(parse_error("migrlpar -o v -p a -t"), "migrlpar: -t needs a value");
    EXPECT_EQ(parse_error("migrlpar -o v -p a"), "usage: migrlpar -o v|m -p NAME -t SYSTEM, or migrlpar -o s|r -p NAME");
    EXPECT_EQ(parse_error("migrlpar -o v -p A -t b"), "migrlpar: -p 'A': a name is 1 to 15 of a-z 0-9 _ -");
    EXPECT_EQ(parse_error("migrlpar -o v -p abcdefghijklmnop -t b"),
              "migrlpar: -p 'abcdefghijklmnop': a name is 1 to 15 of a-z 0-9 _ -");
    EXPECT_EQ(parse_error("migrlpar -o v -p a -t b -i x"), "migrlpar: unknown option '-i' (-o, -p, -t)");
    EXPECT_EQ(parse_error("migrlpar -p \"a"), "a quote is not closed");
    std::string longline(kHvCommandLineMax + 1, 'x');
    EXPECT_EQ(parse_error(longline.c_str()), "line longer than 160 characters");
    EXPECT_EQ(parse_error("a b c d e f g h i j k l m"), "more than 12 words");
}

MigCandidate movable() {
    MigCandidate c;
    c.name = "s1";
    c.exists = c.shared_memory = c.running = true;
    c.vcpus = 2;
    c.mem_bytes = 256ull << 20;
    return c;
}

MigOffer roomy() {
    MigOffer o;
    std::strcpy(o.system, "sysb");
    o.has_pool = o.psp_running = true;
    o.pool_bytes = 128ull << 20;
    o.paging_free_bytes = 1ull << 30;
    o.free_partitions = 3, o.free_lpids = 100, o.free_vcpus = 8, o.max_vcpus_per_partition = 8;
    o.page_bytes = 4096;
    return o;
}

TEST(MigValidate, AMovableSharedPartitionToARoomyTargetPasses) {
    MigOffer o = roomy();
    EXPECT_EQ(mig_validate(movable(), &o, true), 0u);
}

TEST(MigValidate, EachShortfallIsItsOwnReason) {
    MigCandidate c = movable();
    MigOffer o = roomy();
    EXPECT_EQ(mig_validate(MigCandidate{}, &o, true), u32{kMigNoSuchPartition});
    EXPECT_EQ(mig_validate(c, nullptr, true), u32{kMigNotAuthenticated});
    EXPECT_EQ(mig_validate(c, &o, false), u32{kMigNotAuthenticated});
    c.shared_memory = false;
    c.running = false;
    EXPECT_EQ(mig_validate(c, &o, true), u32{kMigNotShared | kMigNotRunning});
    c = movable();
    c.is_psp = true;
    c.migrating = true;
    EXPECT_EQ(mig_validate(c, &o, true), u32{kMigIsPsp | kMigAlreadyMigrating});
    c = movable();
    o.has_pool = o.psp_running = false;
    o.paging_free_bytes = c.mem_bytes - 4096;
    o.free_lpids = o.free_partitions = 0;
    o.free_vcpus = 1;
    o.page_bytes = 65536;
    EXPECT_EQ(mig_validate(c, &o, true), u32{kMigNoPool | kMigNoPsp | kMigPagingSpace | kMigNoLpid |
                                             kMigNoPartitionSlot | kMigVcpuRoom | kMigPageSize});
    o = roomy();
    o.max_vcpus_per_partition = 1;
    EXPECT_EQ(mig_validate(c, &o, true), u32{kMigVcpuRoom});
    o = roomy();
    o.paging_free_bytes = c.mem_bytes;  // exactly enough
    EXPECT_EQ(mig_validate(c, &o, true), 0u);
    for (u32 b = 0; b < kMigRefusalCount; ++b)
        EXPECT_STRNE(mig_refusal_text(static_cast<MigRefusal>(1u << b)), "?") << b;
}

TEST(MigOfferWire, RoundTripsAndRejectsWhatIsNotAnOffer) {
    MigOffer o = roomy();
    u8 buf[kMigOfferBytes];
    ASSERT_EQ(mig_encode_offer(o, buf), kMigOfferBytes);
    EXPECT_EQ(buf[0], 'P');
    EXPECT_EQ(buf[3], 'O');
    MigOffer back;
    ASSERT_EQ(mig_decode_offer(buf, sizeof buf, back), Err::Ok);
    EXPECT_STREQ(back.system, "sysb");
    EXPECT_TRUE(back.has_pool && back.psp_running);
    EXPECT_EQ(back.paging_free_bytes, o.paging_free_bytes);
    EXPECT_EQ(back.pool_bytes, o.pool_bytes);
    EXPECT_EQ(back.free_lpids, 100u);
    EXPECT_EQ(back.max_vcpus_per_partition, 8u);
    EXPECT_EQ(mig_decode_offer(buf, sizeof buf - 1, back), Err::Invalid);
    // Every single-byte change of the header, flags, name, page size or reserved field is refused.
    const u32 checked[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 23, 24, 27, 44, 47, 64, 71};
    for (u32 at : checked) {
        u8 bad[kMigOfferBytes];
        std::memcpy(bad, buf, sizeof bad);
        bad[at] ^= at == 8 ? 0x20 : 0x80;  // 's' -> 'S' for the name's first letter
        MigOffer untouched = roomy();
        EXPECT_EQ(mig_decode_offer(bad, sizeof bad, untouched), Err::Invalid) << "byte " << at;
        EXPECT_STREQ(untouched.system, "sysb") << "a refused offer leaves the output as it was";
    }
}

}  // namespace
