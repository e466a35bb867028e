#include <gtest/gtest.h>

#include "mm/frame_alloc.h"

using namespace pv;

TEST(FrameAllocator, ReservedRangesAreNeverHandedOut) {
    FrameAllocator a;
    a.add_usable({0, 0x80000000});
    a.reserve({0x20000000, 0x1000000});  // our image
    a.reserve({0x30000000, 0x2c02000});  // skiboot
    a.reserve({0, 0x10000});             // vectors
    for (int i = 0; i < 40; ++i) {
        auto r = a.alloc(0x1000000, 0x10000);
        ASSERT_TRUE(r.ok());
        u64 b = r.value.value, e = b + 0x1000000;
        EXPECT_TRUE(e <= 0x20000000 || b >= 0x21000000);
        EXPECT_TRUE(e <= 0x30000000 || b >= 0x32c02000);
        EXPECT_GE(b, 0x10000u);
        EXPECT_EQ(b % 0x10000, 0u);
    }
}

TEST(FrameAllocator, ExhaustionAndBadArguments) {
    FrameAllocator a;
    a.add_usable({0x100000, 0x100000});
    EXPECT_EQ(a.alloc(0x200000, 0x1000).err, Err::NoMemory);
    EXPECT_EQ(a.alloc(0x1000, 3).err, Err::Invalid);
    EXPECT_EQ(a.alloc(0, 0x1000).err, Err::Invalid);
    EXPECT_TRUE(a.alloc(0x100000, 0x1000).ok());
    EXPECT_EQ(a.free_bytes(), 0u);
}

TEST(FrameAllocator, ReserveSplitsARange) {
    FrameAllocator a;
    a.add_usable({0, 0x10000});
    a.reserve({0x4000, 0x1000});
    ASSERT_EQ(a.range_count(), 2u);
    EXPECT_EQ(a.range(0).size, 0x4000u);
    EXPECT_EQ(a.range(1).base, 0x5000u);
    EXPECT_EQ(a.free_bytes(), 0xf000u);
}
