// Issue 11 (scale): the limits are real systems' (base/limits.h) and the pool
// serves a partition in the last slot; loops over partitions stop at the
// highest slot in use.
#include <gtest/gtest.h>

#include <vector>

#include "base/limits.h"
#include "hv/sched.h"
#include "mm/pool.h"
#include "mm/replacement.h"

using namespace pv;

namespace {

bool all_referenced_clear(void*, u32, LogicalPage, bool& referenced, bool& changed) {
    referenced = changed = false;
    return true;
}

}  // namespace

TEST(ScaleLimits, RealSystemLimits) {
    EXPECT_EQ(kMaxPartitions, 1000u);  // PowerVM on the largest POWER9 servers
    EXPECT_EQ(kMaxLpid, 4095u);        // the 12-bit LPIDR
    EXPECT_GE(kMaxConfigVcpus, 4u);
    static_assert(SharedPool::kSlots < SharedPool::kFreeSlot, "a frame's owner slot must fit FrameInfo::slot");
    static_assert(sizeof(FrameInfo) == 16 && sizeof(PageInfo) == 4);
}

TEST(ScaleLimits, PoolServesTheLastSlotAndStopsAtTheHighestInUse) {
    std::vector<FrameInfo> frames(16);
    std::vector<PageInfo> low(64), high(64);
    SharedPool pool;
    ASSERT_EQ(pool.init(Frame{0x40000}, frames), Err::Ok);
    EXPECT_EQ(pool.slot_end(), 0u);
    ASSERT_EQ(pool.add_partition(3, low, 0, 128), Err::Ok);
    EXPECT_EQ(pool.slot_end(), 4u);
    const u32 last = kMaxPartitions - 1;
    ASSERT_EQ(pool.add_partition(last, high, 0, 128), Err::Ok);
    EXPECT_EQ(pool.slot_end(), kMaxPartitions);
    // Fill the pool from the last slot only (frames owned by slot 999 need
    // more than a byte), then a victim must come from it.
    u32 got = 0;
    for (u64 lp = 0; lp < 64; ++lp) {
        Result<Frame> f = pool.alloc_frame(last, LogicalPage{lp});
        if (!f.ok()) break;
        ASSERT_EQ(pool.mark_resident(last, LogicalPage{lp}, f.value), Err::Ok);
        ++got;
    }
    EXPECT_GT(got, 8u);
    EXPECT_EQ(pool.stats(last).resident, got);
    EXPECT_TRUE(pool.check_invariants());
    Result<Victim> v = choose_victim(pool, RcAccess{all_referenced_clear, nullptr});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v.value.slot, last);
    ASSERT_EQ(pool.remove_partition(3), Err::Ok);
    EXPECT_TRUE(pool.check_invariants());
}

// The run queue measures each vCPU's wait from queued to dispatched.
TEST(ScaleLimits, RunQueueRecordsTheWorstWait) {
    RunQueue q;
    Vcpu a, b;
    a.state = b.state = VcpuState::Runnable;
    EXPECT_EQ(q.worst_wait().vcpu, nullptr);
    q.push(a);
    q.push(b);
    EXPECT_EQ(q.pop(), &a);
    EXPECT_EQ(q.pop(), &b);
    RunQueue::Wait w = q.worst_wait();
    EXPECT_EQ(w.dispatches, 2u);
    ASSERT_NE(w.vcpu, nullptr);
    EXPECT_EQ(w.tb, w.vcpu->worst_wait_tb);
    EXPECT_GE(b.worst_wait_tb, 0u);
}
