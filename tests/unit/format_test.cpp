#include <gtest/gtest.h>

#include "base/format.h"

using namespace pv;

TEST(Format, Conversions) {
    char b[128];
    format(b, sizeof b, "%s=%d %u 0x%lx %08x %-4s| %c %%", "n", -42, 7u, u64{0xdeadbeefcafe}, 0xabcu, "ab", 'z');
    EXPECT_STREQ(b, "n=-42 7 0xdeadbeefcafe 00000abc ab  | z %");
}

TEST(Format, TruncatesAndTerminates) {
    char b[8];
    u32 n = format(b, sizeof b, "%s", "0123456789");
    EXPECT_STREQ(b, "0123456");
    EXPECT_EQ(n, 7u);
}

TEST(Format, LongNegativeAndZero) {
    char b[64];
    format(b, sizeof b, "%ld %lu %d", i64{-9000000000}, u64{0}, 0);
    EXPECT_STREQ(b, "-9000000000 0 0");
}
