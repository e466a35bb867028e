// The I/O paging request pool as a data structure: free list, sharing lookup,
// page-out reserve, the FIFO of vCPUs waiting for a free request.
#include <gtest/gtest.h>

#include "mm/fault.h"
#include "mm/paging_request.h"

using namespace pv;
using Kind = PagingRequest::Kind;
using State = PagingRequest::State;

namespace {

struct Pool {
    explicit Pool(u32 n, u32 waiters = 8, u32 reserve = 0) { pool.init(req, n, wait, waiters, reserve); }
    PagingRequest req[8];
    RequestWaiter wait[8];
    PagingRequestPool pool;
};

TEST(PagingRequestPool, AllocatesEveryRequestOnceThenNothing) {
    Pool p(4);
    bool seen[4] = {};
    for (u32 i = 0; i < 4; ++i) {
        PagingRequest* r = p.pool.alloc(Kind::PageIn, 1, LogicalPage{100 + i}, 7);
        ASSERT_NE(r, nullptr);
        ASSERT_LT(r->id, 4u);
        EXPECT_FALSE(seen[r->id]);
        seen[r->id] = true;
        EXPECT_EQ(r->state, State::Queued);
        EXPECT_EQ(r->start_tb, 7u);
        EXPECT_EQ(r->waiter_count, 0u);
    }
    EXPECT_EQ(p.pool.alloc(Kind::PageIn, 1, LogicalPage{200}, 0), nullptr);
    EXPECT_EQ(p.pool.alloc(Kind::PageOut, 1, LogicalPage{200}, 0), nullptr);
    EXPECT_EQ(p.pool.free_count(), 0u);
    EXPECT_EQ(p.pool.stats().max_allocated, 4u);
}

TEST(PagingRequestPool, FindSeesOnlyActiveRequestsOfThatPartitionAndPage) {
    Pool p(4);
    PagingRequest* a = p.pool.alloc(Kind::PageIn, 1, LogicalPage{5}, 0);
    PagingRequest* b = p.pool.alloc(Kind::PageOut, 2, LogicalPage{5}, 0);
    EXPECT_EQ(p.pool.find(1, LogicalPage{5}), a);
    EXPECT_EQ(p.pool.find(2, LogicalPage{5}), b);
    EXPECT_EQ(p.pool.find(1, LogicalPage{6}), nullptr);
    EXPECT_EQ(p.pool.find(3, LogicalPage{5}), nullptr);
    a->state = State::InFlight;
    EXPECT_EQ(p.pool.find(1, LogicalPage{5}), a);
    p.pool.release(*a);
    EXPECT_EQ(p.pool.find(1, LogicalPage{5}), nullptr);
}

TEST(PagingRequestPool, ReleasedRequestsAreReusedWithANewTag) {
    Pool p(1);
    PagingRequest* a = p.pool.alloc(Kind::PageIn, 0, LogicalPage{1}, 0);
    u16 tag = a->tag;
    p.pool.release(*a);
    p.pool.release(*a);  // a second release must not corrupt the free list
    EXPECT_EQ(p.pool.free_count(), 1u);
    PagingRequest* b = p.pool.alloc(Kind::PageIn, 0, LogicalPage{2}, 0);
    EXPECT_EQ(b, a);
    EXPECT_NE(b->tag, tag);
    EXPECT_EQ(b->lp, LogicalPage{2});
    EXPECT_EQ(p.pool.alloc(Kind::PageIn, 0, LogicalPage{3}, 0), nullptr);
    EXPECT_EQ(p.pool.stats().allocs, 2u);
    EXPECT_EQ(p.pool.stats().releases, 1u);
}

TEST(PagingRequestPool, PageInsCannotTakeThePageOutReserve) {
    Pool p(3, 8, 1);
    EXPECT_NE(p.pool.alloc(Kind::PageIn, 0, LogicalPage{1}, 0), nullptr);
    EXPECT_NE(p.pool.alloc(Kind::PageIn, 0, LogicalPage{2}, 0), nullptr);
    EXPECT_FALSE(p.pool.can_alloc(Kind::PageIn));
    EXPECT_EQ(p.pool.alloc(Kind::PageIn, 0, LogicalPage{3}, 0), nullptr);
    EXPECT_NE(p.pool.alloc(Kind::PageOut, 0, LogicalPage{4}, 0), nullptr);
}

TEST(PagingRequestPool, AReserveAsLargeAsThePoolStillLeavesOneForPageIns) {
    Pool p(2, 8, 5);
    EXPECT_NE(p.pool.alloc(Kind::PageIn, 0, LogicalPage{1}, 0), nullptr);
    EXPECT_EQ(p.pool.alloc(Kind::PageIn, 0, LogicalPage{2}, 0), nullptr);
}

TEST(PagingRequestPool, AnEmptyPoolHasNothingToGive) {
    Pool p(0, 0);
    EXPECT_EQ(p.pool.alloc(Kind::PageIn, 0, LogicalPage{1}, 0), nullptr);
    EXPECT_EQ(p.pool.by_id(0), nullptr);
    RequestWaiter w;
    EXPECT_FALSE(p.pool.wait_front(w));
    p.pool.wait_pop();
    EXPECT_FALSE(p.pool.wait_push({nullptr, 0, LogicalPage{1}}));
}

TEST(PagingRequestPool, WaitersKeepFifoOrderThroughWrapAroundAndRemoval) {
    Pool p(1, 4);
    VcpuFaultState v[6];
    ASSERT_TRUE(p.pool.wait_push({&v[0], 0, LogicalPage{1}}));
    ASSERT_TRUE(p.pool.wait_push({&v[1], 0, LogicalPage{2}}));
    p.pool.wait_pop();
    p.pool.wait_pop();  // the ring's head is now at index 2
    ASSERT_TRUE(p.pool.wait_push({&v[2], 0, LogicalPage{7}}));
    ASSERT_TRUE(p.pool.wait_push({&v[3], 0, LogicalPage{8}}));
    ASSERT_TRUE(p.pool.wait_push({&v[4], 0, LogicalPage{7}}));
    ASSERT_TRUE(p.pool.wait_push({&v[5], 1, LogicalPage{7}}));  // another partition's page 7
    EXPECT_FALSE(p.pool.wait_push({&v[0], 0, LogicalPage{9}}));  // full
    EXPECT_EQ(p.pool.stats().exhausted_waits, 6u);

    VcpuFaultState* out[4];
    ASSERT_EQ(p.pool.take_waiters_for(0, LogicalPage{7}, out, 4), 2u);
    EXPECT_EQ(out[0], &v[2]);
    EXPECT_EQ(out[1], &v[4]);
    EXPECT_EQ(p.pool.waiting(), 2u);
    EXPECT_TRUE(p.pool.wait_remove(&v[5]));
    EXPECT_FALSE(p.pool.wait_remove(&v[5]));
    RequestWaiter w;
    ASSERT_TRUE(p.pool.wait_front(w));
    EXPECT_EQ(w.vcpu, &v[3]);
    EXPECT_EQ(w.lp, LogicalPage{8});
    p.pool.wait_pop();
    EXPECT_EQ(p.pool.waiting(), 0u);
}

TEST(PagingRequest, WaitersAreBoundedAndKeepTheirOrder) {
    PagingRequest r;
    VcpuFaultState v[kMaxRequestWaiters + 1];
    for (u32 i = 0; i < kMaxRequestWaiters; ++i) ASSERT_TRUE(r.add_waiter(&v[i]));
    EXPECT_FALSE(r.add_waiter(&v[kMaxRequestWaiters]));
    EXPECT_TRUE(r.has_waiter(&v[3]));
    EXPECT_TRUE(r.remove_waiter(&v[0]));
    EXPECT_FALSE(r.remove_waiter(&v[0]));
    EXPECT_FALSE(r.has_waiter(&v[0]));
    EXPECT_EQ(r.waiter_count, kMaxRequestWaiters - 1);
    EXPECT_EQ(r.waiters[0], &v[1]);
    EXPECT_EQ(r.waiters[kMaxRequestWaiters - 2], &v[kMaxRequestWaiters - 1]);
}

}  // namespace
