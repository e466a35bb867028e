#include <gtest/gtest.h>

#include "base/types.h"

using namespace pv;

TEST(Types, BigEndianStorageIsByteReversedOnLittleEndianHosts) {
    Be32 v;
    v.set(0x11223344);
    const auto* b = reinterpret_cast<const u8*>(&v);
    EXPECT_EQ(b[0], 0x11);
    EXPECT_EQ(b[3], 0x44);
    EXPECT_EQ(v.get(), 0x11223344u);
}

TEST(Types, PageArithmetic) {
    EXPECT_EQ(page_of(LogicalAddr{0x3fff}).value, 3u);
    EXPECT_EQ(base_of(Frame{5}).value, 5 * kPageSize);
    EXPECT_EQ(ppc_bit(0), u64{1} << 63);
}
