#include <gtest/gtest.h>

#include "base/types.h"

using namespace pv;

TEST(Types, PageArithmetic) {
    EXPECT_EQ(page_of(LogicalAddr{0x3fff}).value, 3u);
    EXPECT_EQ(base_of(Frame{5}).value, 5 * kPageSize);
    EXPECT_EQ(ppc_bit(0), u64{1} << 63);
}
