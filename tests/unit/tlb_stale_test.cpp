// Which dispatches must flush the partition's translations first (hv/tlb_stale.h).
#include <gtest/gtest.h>

#include <memory>

#include "hv/tlb_stale.h"

using namespace pv;

namespace {

struct TlbStale : ::testing::Test {
    std::unique_ptr<Partition> p = std::make_unique<Partition>();
    Vcpu& a = p->vcpus[0];
    Vcpu& b = p->vcpus[1];
};

TEST_F(TlbStale, StayingOnAThreadNeverFlushes) {
    EXPECT_FALSE(tlb_dispatch_needs_flush(*p, a, 0));
    EXPECT_FALSE(tlb_dispatch_needs_flush(*p, a, 0));
    EXPECT_FALSE(tlb_dispatch_needs_flush(*p, b, 1));
    EXPECT_FALSE(tlb_dispatch_needs_flush(*p, b, 1));
}

TEST_F(TlbStale, TheThreadAVcpuLeftFlushesBeforeThePartitionRunsThereAgain) {
    EXPECT_FALSE(tlb_dispatch_needs_flush(*p, a, 0));
    EXPECT_FALSE(tlb_dispatch_needs_flush(*p, a, 1));  // a's tlbiels now miss thread 0
    EXPECT_TRUE(tlb_dispatch_needs_flush(*p, b, 0)) << "a sibling on the thread a left";
    EXPECT_FALSE(tlb_dispatch_needs_flush(*p, b, 0)) << "flushed once";
    EXPECT_FALSE(tlb_dispatch_needs_flush(*p, a, 0)) << "0 was flushed since; a's move marks 1";
    EXPECT_EQ(p->tlb_stale_threads, u64{1} << 1);
    EXPECT_TRUE(tlb_dispatch_needs_flush(*p, b, 1));
}

TEST_F(TlbStale, MovingBackAfterTheOtherThreadRanStillFlushes) {
    EXPECT_FALSE(tlb_dispatch_needs_flush(*p, a, 2));
    EXPECT_FALSE(tlb_dispatch_needs_flush(*p, a, 3));
    EXPECT_TRUE(tlb_dispatch_needs_flush(*p, a, 2)) << "2 kept a's entries from before the move";
    EXPECT_EQ(p->tlb_stale_threads, 0u);
    // The broadcast flush cleaned thread 3 (which a had just left) as well.
    EXPECT_FALSE(tlb_dispatch_needs_flush(*p, b, 3));
    EXPECT_EQ(p->tlb_stale_threads, 0u);
}

}  // namespace
