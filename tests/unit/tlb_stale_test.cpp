// Which dispatches must flush the partition's translations first (hv/tlb_stale.h).
#include <gtest/gtest.h>

#include <memory>

#include "hv/partition.h"
#include "hv/tlb_stale.h"

using namespace pv;

namespace {

struct TlbStale : ::testing::Test {
    std::unique_ptr<Partition> p = std::make_unique<Partition>();
    Vcpu& a = p->vcpus[0];
    Vcpu& b = p->vcpus[1];
};

TEST_F(TlbStale, StayingOnAThreadNeverFlushes) {
    EXPECT_FALSE(tlb_dispatch_needs_flush(a, 0)) << "first dispatch: no entries of its anywhere";
    EXPECT_FALSE(tlb_dispatch_needs_flush(a, 0));
    EXPECT_FALSE(tlb_dispatch_needs_flush(b, 1));
    EXPECT_FALSE(tlb_dispatch_needs_flush(b, 1));
}

TEST_F(TlbStale, AMoveFlushesBeforeTheVcpuRunsOnItsNewThread) {
    EXPECT_FALSE(tlb_dispatch_needs_flush(a, 0));
    EXPECT_TRUE(tlb_dispatch_needs_flush(a, 1)) << "thread 0 keeps a's entries; a's tlbiels now miss it";
    EXPECT_FALSE(tlb_dispatch_needs_flush(a, 1));
    EXPECT_TRUE(tlb_dispatch_needs_flush(a, 0)) << "and back";
}

// The case a flush deferred to "the next dispatch on the thread a left"
// missed: b was dispatched on thread 0 while a waited in the run queue, and
// runs there for its whole slice. The flush at a's move reaches thread 0 too.
TEST_F(TlbStale, ASiblingAlreadyOnTheThreadLeftIsCoveredByTheMovesFlush) {
    EXPECT_FALSE(tlb_dispatch_needs_flush(a, 0));
    EXPECT_FALSE(tlb_dispatch_needs_flush(b, 2));
    EXPECT_TRUE(tlb_dispatch_needs_flush(b, 0)) << "b moved from 2";
    EXPECT_TRUE(tlb_dispatch_needs_flush(a, 1)) << "a moved from 0, where b runs now";
}

}  // namespace
