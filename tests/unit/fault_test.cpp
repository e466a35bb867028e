// The hypervisor page-fault decisions of Active Memory Sharing: sharing a
// request, the per-vCPU threshold, interrupt wake-ups and refaults, waiting
// for a free request, completion, and the invariants under random events.
#include <gtest/gtest.h>

#include "mm/fault.h"

using namespace pv;

namespace {

constexpr u32 kSlot = 3;

class FaultTest : public ::testing::Test {
protected:
    void make_pool(u32 requests, u32 reserve = 0, u32 waiter_capacity = kVcpus) {
        pool_.init(req_, requests, wait_, waiter_capacity, reserve);
        for (VcpuFaultState& v : v_) {
            v = VcpuFaultState{};
            v.partition_slot = kSlot;
        }
    }
    FaultDecision fault(u32 vcpu, u64 page, u64 now = 0) {
        return on_page_fault(pool_, v_[vcpu], LogicalPage{page}, now);
    }
    CompletionOutcome complete(const PagingRequest* r, u16 status = 0, u64 now = 0) {
        return on_completion(pool_, r->id, r->tag, status, now);
    }

    static constexpr u32 kVcpus = 8;
    PagingRequest req_[8];
    RequestWaiter wait_[kVcpus];
    PagingRequestPool pool_;
    VcpuFaultState v_[kVcpus];
};

TEST_F(FaultTest, FirstFaultStartsARequestAndParksWithWakeupsEnabled) {
    make_pool(4);
    FaultDecision d = fault(0, 0x42, 100);
    EXPECT_EQ(d.action, FaultAction::NewRequest);
    EXPECT_EQ(d.park, ParkMode::WakeupsEnabled);
    ASSERT_NE(d.request, nullptr);
    EXPECT_EQ(d.request->lp, LogicalPage{0x42});
    EXPECT_EQ(d.request->partition_slot, kSlot);
    EXPECT_EQ(d.request->kind, PagingRequest::Kind::PageIn);
    EXPECT_EQ(v_[0].phase, FaultPhase::FaultWait);
    EXPECT_EQ(v_[0].waiting_on, d.request);
    EXPECT_EQ(v_[0].outstanding, 1u);

    start_io(pool_, *d.request, Frame{0x9000}, 0x4200);
    EXPECT_EQ(d.request->state, PagingRequest::State::InFlight);
    EXPECT_EQ(d.request->frame, Frame{0x9000});
    EXPECT_EQ(d.request->device_block, 0x4200u);
}

TEST_F(FaultTest, TwoVcpusOnTheSamePageShareOneRequestAndResumeInFaultOrder) {
    make_pool(4);
    FaultDecision a = fault(2, 7, 10);
    FaultDecision b = fault(1, 7, 20);
    EXPECT_EQ(b.action, FaultAction::ShareRequest);
    EXPECT_EQ(b.request, a.request);
    EXPECT_EQ(a.request->waiter_count, 2u);
    EXPECT_EQ(pool_.stats().allocated, 1u);
    EXPECT_EQ(v_[1].shared, 1u);

    PagingRequest copy;
    ASSERT_TRUE(lookup_request(pool_, a.request->id, a.request->tag, copy));
    EXPECT_EQ(copy.lp, LogicalPage{7});
    CompletionOutcome c = complete(a.request, 0, 50);
    ASSERT_TRUE(c.valid);
    EXPECT_FALSE(c.failed);
    EXPECT_EQ(c.request.lp, LogicalPage{7});
    ASSERT_EQ(c.resume_count, 2u);
    EXPECT_EQ(c.resume[0], &v_[2]);
    EXPECT_EQ(c.resume[1], &v_[1]);
    EXPECT_EQ(c.issue, nullptr);
    for (u32 i : {1u, 2u}) {
        EXPECT_EQ(v_[i].phase, FaultPhase::Running);
        EXPECT_EQ(v_[i].outstanding, 0u);
        EXPECT_EQ(v_[i].waiting_on, nullptr);
    }
    EXPECT_EQ(v_[2].wait_tb_total, 40u);
    EXPECT_EQ(v_[1].wait_tb_total, 30u);
    EXPECT_EQ(pool_.free_count(), 4u);
    EXPECT_FALSE(lookup_request(pool_, a.request->id, a.request->tag, copy));
}

TEST_F(FaultTest, OtherPartitionsDoNotShare) {
    make_pool(4);
    v_[1].partition_slot = kSlot + 1;
    FaultDecision a = fault(0, 7);
    FaultDecision b = fault(1, 7);
    EXPECT_EQ(b.action, FaultAction::NewRequest);
    EXPECT_NE(a.request, b.request);
}

TEST_F(FaultTest, AtTheThresholdWakeupsAreDisabled) {
    make_pool(4);
    v_[0].threshold = 1;
    EXPECT_EQ(fault(0, 1).park, ParkMode::WakeupsDisabled);
    EXPECT_FALSE(on_interrupt_pending(pool_, v_[0], 5));
    EXPECT_EQ(v_[0].phase, FaultPhase::FaultWait);
    EXPECT_EQ(v_[0].interrupt_wakeups, 0u);
}

TEST_F(FaultTest, AnInterruptHandlerFaultingElsewhereReachesTheThreshold) {
    make_pool(4);  // threshold 2
    FaultDecision p = fault(0, 1, 0);
    ASSERT_TRUE(on_interrupt_pending(pool_, v_[0], 10));  // e.g. its decrementer
    EXPECT_EQ(v_[0].phase, FaultPhase::Running);
    EXPECT_EQ(v_[0].wait_tb_total, 10u);
    FaultDecision q = fault(0, 2, 15);  // the handler touches another absent page
    EXPECT_EQ(q.action, FaultAction::NewRequest);
    EXPECT_EQ(q.park, ParkMode::WakeupsDisabled);
    EXPECT_EQ(v_[0].outstanding, 2u);
    EXPECT_EQ(v_[0].max_outstanding, 2u);
    EXPECT_FALSE(on_interrupt_pending(pool_, v_[0], 20));

    // The first page arrives: not what it waits on now, so it stays parked,
    // but below the threshold again it may take interrupts.
    CompletionOutcome c = complete(p.request, 0, 30);
    EXPECT_EQ(c.resume_count, 0u);
    EXPECT_EQ(v_[0].outstanding, 1u);
    EXPECT_EQ(v_[0].phase, FaultPhase::FaultWait);
    EXPECT_EQ(v_[0].park, ParkMode::WakeupsEnabled);
    EXPECT_TRUE(c.wakeups_reenabled);  // the scheduler must look for an interrupt pending for it (hv/timed_wake.h)

    c = complete(q.request, 0, 40);
    EXPECT_FALSE(c.wakeups_reenabled);  // it resumes: nothing stays parked
    ASSERT_EQ(c.resume_count, 1u);
    EXPECT_EQ(c.resume[0], &v_[0]);
    EXPECT_EQ(v_[0].outstanding, 0u);
    EXPECT_EQ(v_[0].wait_tb_total, 10u + 25u);
}

TEST_F(FaultTest, InterruptWakeupsAndRefaultsOnTheSamePageNeverGrowTheCount) {
    make_pool(4);
    FaultDecision d = fault(0, 9, 0);
    for (u64 t = 1; t <= 1000; ++t) {
        ASSERT_TRUE(on_interrupt_pending(pool_, v_[0], 2 * t));
        FaultDecision again = fault(0, 9, 2 * t + 1);  // back from the handler: same page, still absent
        ASSERT_EQ(again.action, FaultAction::ShareRequest);
        ASSERT_EQ(again.request, d.request);
        ASSERT_EQ(again.park, ParkMode::WakeupsEnabled);
        ASSERT_EQ(v_[0].outstanding, 1u);
        ASSERT_EQ(d.request->waiter_count, 1u);
    }
    EXPECT_EQ(v_[0].refaults, 1000u);
    EXPECT_EQ(v_[0].interrupt_wakeups, 1000u);
    EXPECT_EQ(v_[0].faults, 1001u);
    EXPECT_EQ(v_[0].max_outstanding, 1u);
    CompletionOutcome c = complete(d.request, 0, 2003);
    EXPECT_EQ(c.resume_count, 1u);
    EXPECT_EQ(v_[0].outstanding, 0u);
    EXPECT_EQ(v_[0].wait_tb_total, 2u + 999u + 2u);  // parked [0,2), [2t-1,2t) for t=2..1000, [2001,2003)
}

TEST_F(FaultTest, ARequestCompletingWhileItsVcpuTakesAnInterruptResumesNobody) {
    make_pool(4);
    FaultDecision d = fault(0, 9);
    ASSERT_TRUE(on_interrupt_pending(pool_, v_[0], 1));
    CompletionOutcome c = complete(d.request);
    EXPECT_TRUE(c.valid);
    EXPECT_EQ(c.resume_count, 0u);  // it is running; the page is mapped when it returns
    EXPECT_EQ(v_[0].outstanding, 0u);
    EXPECT_FALSE(on_interrupt_pending(pool_, v_[0], 2));  // not parked: nothing to do
}

TEST_F(FaultTest, AnEmptyPoolMakesVcpusWaitAndServesThemInOrder) {
    make_pool(2);
    FaultDecision a = fault(0, 10, 0);
    FaultDecision b = fault(1, 11, 0);
    FaultDecision c = fault(2, 12, 5);
    FaultDecision d = fault(3, 13, 6);
    EXPECT_EQ(c.action, FaultAction::WaitForRequest);
    EXPECT_EQ(c.park, ParkMode::WakeupsDisabled);
    EXPECT_EQ(c.request, nullptr);
    EXPECT_EQ(d.action, FaultAction::WaitForRequest);
    EXPECT_EQ(v_[2].phase, FaultPhase::RequestWait);
    EXPECT_EQ(v_[2].outstanding, 0u);
    EXPECT_EQ(v_[2].request_waits, 1u);
    EXPECT_FALSE(on_interrupt_pending(pool_, v_[2], 7));
    EXPECT_EQ(pool_.stats().exhausted_waits, 2u);

    // A fault of a waiting vCPU (cannot happen) does not queue it twice.
    EXPECT_EQ(fault(2, 12).action, FaultAction::WaitForRequest);
    EXPECT_EQ(pool_.waiting(), 2u);

    CompletionOutcome ca = complete(a.request, 0, 20);
    ASSERT_EQ(ca.resume_count, 1u);
    ASSERT_NE(ca.issue, nullptr);  // handed to the oldest waiter, for its page
    EXPECT_EQ(ca.issue->lp, LogicalPage{12});
    EXPECT_EQ(v_[2].phase, FaultPhase::FaultWait);
    EXPECT_EQ(v_[2].waiting_on, ca.issue);
    EXPECT_EQ(v_[2].outstanding, 1u);
    EXPECT_EQ(v_[2].park, ParkMode::WakeupsEnabled);
    EXPECT_TRUE(ca.wakeups_reenabled);  // out of the FIFO (wake-ups off) onto a request, below its threshold
    EXPECT_EQ(v_[3].phase, FaultPhase::RequestWait);

    // A later fault queues behind the older waiter.
    EXPECT_EQ(fault(4, 14, 21).action, FaultAction::WaitForRequest);

    CompletionOutcome cb = complete(b.request, 0, 30);
    ASSERT_NE(cb.issue, nullptr);
    EXPECT_EQ(cb.issue->lp, LogicalPage{13});
    EXPECT_EQ(v_[3].waiting_on, cb.issue);

    CompletionOutcome cc = complete(ca.issue, 0, 40);
    ASSERT_EQ(cc.resume_count, 1u);
    EXPECT_EQ(cc.resume[0], &v_[2]);
    EXPECT_EQ(v_[2].wait_tb_total, 35u);  // from its fault at 5, through the FIFO, to 40
    ASSERT_NE(cc.issue, nullptr);
    EXPECT_EQ(cc.issue->lp, LogicalPage{14});
    EXPECT_EQ(pool_.waiting(), 0u);
}

TEST_F(FaultTest, WaitersForTheSamePageShareTheHandedOffRequest) {
    make_pool(1);
    FaultDecision a = fault(0, 1);
    EXPECT_EQ(fault(1, 2).action, FaultAction::WaitForRequest);
    EXPECT_EQ(fault(2, 3).action, FaultAction::WaitForRequest);
    EXPECT_EQ(fault(3, 2).action, FaultAction::WaitForRequest);
    CompletionOutcome c = complete(a.request);
    ASSERT_NE(c.issue, nullptr);
    EXPECT_EQ(c.issue->lp, LogicalPage{2});
    ASSERT_EQ(c.issue->waiter_count, 2u);
    EXPECT_EQ(c.issue->waiters[0], &v_[1]);
    EXPECT_EQ(c.issue->waiters[1], &v_[3]);
    EXPECT_EQ(v_[3].phase, FaultPhase::FaultWait);
    EXPECT_EQ(pool_.waiting(), 1u);  // vCPU 2 still waits for page 3
}

TEST_F(FaultTest, AWaiterWhosePageGotARequestMeanwhileJoinsIt) {
    make_pool(2, 1);  // one request reserved for page-outs
    FaultDecision a = fault(0, 1);
    EXPECT_EQ(fault(1, 5).action, FaultAction::WaitForRequest);  // the other request is the reserve
    PagingRequest* out = start_page_out(pool_, kSlot, LogicalPage{5}, 0);  // the pager races the fault
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(out->kind, PagingRequest::Kind::PageOut);
    EXPECT_EQ(start_page_out(pool_, kSlot, LogicalPage{5}, 0), nullptr);  // one request per page

    CompletionOutcome c = complete(a.request);
    EXPECT_EQ(c.issue, nullptr);  // vCPU 1 joined the page-out instead
    EXPECT_EQ(v_[1].waiting_on, out);
    EXPECT_EQ(v_[1].outstanding, 1u);
    CompletionOutcome co = complete(out);
    ASSERT_EQ(co.resume_count, 1u);  // it faults again and pages the page back in
    EXPECT_EQ(co.request.kind, PagingRequest::Kind::PageOut);
}

TEST_F(FaultTest, AFailedRequestResumesItsVcpusMarkedFailed) {
    make_pool(2);
    FaultDecision a = fault(0, 1);
    fault(1, 1);
    CompletionOutcome c = complete(a.request, 0x4281);  // an NVMe status
    EXPECT_TRUE(c.valid);
    EXPECT_TRUE(c.failed);
    EXPECT_EQ(c.request.status, 0x4281);
    EXPECT_EQ(c.request.state, PagingRequest::State::Failed);
    EXPECT_EQ(c.resume_count, 2u);
    EXPECT_EQ(pool_.free_count(), 2u);
}

TEST_F(FaultTest, StaleOrForgedCompletionsChangeNothing) {
    make_pool(2);
    FaultDecision a = fault(0, 1);
    EXPECT_FALSE(on_completion(pool_, a.request->id, static_cast<u16>(a.request->tag + 1), 0, 0).valid);
    EXPECT_FALSE(on_completion(pool_, 99, 0, 0, 0).valid);
    PagingRequest* unused = &req_[a.request->id == 0 ? 1 : 0];
    EXPECT_FALSE(on_completion(pool_, unused->id, unused->tag, 0, 0).valid);
    EXPECT_EQ(pool_.stats().stale_completions, 3u);
    EXPECT_EQ(v_[0].phase, FaultPhase::FaultWait);
    EXPECT_EQ(v_[0].outstanding, 1u);

    u32 id = a.request->id;
    u16 tag = a.request->tag;
    EXPECT_TRUE(complete(a.request).valid);
    EXPECT_FALSE(on_completion(pool_, id, tag, 0, 0).valid);  // a duplicate
    EXPECT_EQ(v_[0].outstanding, 0u);
}

TEST_F(FaultTest, DetachingAVcpuForgetsItEverywhere) {
    make_pool(1);
    FaultDecision a = fault(0, 1);
    fault(1, 1);
    fault(2, 2);  // waits for a request
    detach_vcpu(pool_, v_[1]);
    detach_vcpu(pool_, v_[2]);
    EXPECT_EQ(pool_.waiting(), 0u);
    EXPECT_EQ(v_[1].outstanding, 0u);
    EXPECT_EQ(v_[1].phase, FaultPhase::Running);
    CompletionOutcome c = complete(a.request);
    ASSERT_EQ(c.resume_count, 1u);
    EXPECT_EQ(c.resume[0], &v_[0]);
    EXPECT_EQ(c.issue, nullptr);
    EXPECT_EQ(v_[1].outstanding, 0u);
}

TEST_F(FaultTest, TooLittleWaiterStorageMeansRetryNotAHang) {
    make_pool(1, 0, 0);
    fault(0, 1);
    FaultDecision d = fault(1, 2);
    EXPECT_EQ(d.action, FaultAction::Retry);
    EXPECT_EQ(v_[1].phase, FaultPhase::Running);
    EXPECT_EQ(pool_.stats().retries, 1u);
}

// Random faults, interrupts and completions on a small pool and few pages;
// after every step the bookkeeping must agree with the requests' waiter lists.
class FaultModel : public FaultTest {
protected:
    u64 rnd() {
        seed_ = seed_ * 6364136223846793005ull + 1442695040888963407ull;
        return seed_ >> 33;
    }
    u32 waits_on(const VcpuFaultState& v) const {
        u32 n = 0;
        for (const PagingRequest& r : req_)
            if (r.active() && r.has_waiter(&v)) ++n;
        return n;
    }
    void check() {
        u32 fifo = 0;
        for (const VcpuFaultState& v : v_) {
            ASSERT_EQ(v.outstanding, waits_on(v));
            ASSERT_LE(v.outstanding, v.threshold);
            if (v.phase == FaultPhase::FaultWait) {
                ASSERT_NE(v.waiting_on, nullptr);
                ASSERT_TRUE(v.waiting_on->active());
                ASSERT_TRUE(v.waiting_on->has_waiter(&v));
                ASSERT_EQ(v.park, v.outstanding < v.threshold ? ParkMode::WakeupsEnabled : ParkMode::WakeupsDisabled);
            }
            if (v.phase == FaultPhase::RequestWait) ++fifo;
        }
        ASSERT_EQ(fifo, pool_.waiting());
        // The FIFO is only non-empty when page-ins cannot get a request.
        if (pool_.waiting()) {
            ASSERT_FALSE(pool_.can_alloc(PagingRequest::Kind::PageIn));
        }
    }
    u64 seed_ = 12345;
};

TEST_F(FaultModel, InvariantsHoldAndEveryParkedVcpuIsResumed) {
    make_pool(3);
    v_[5].threshold = 1;
    v_[6].threshold = 3;
    u64 now = 0;
    for (int step = 0; step < 20000; ++step) {
        ++now;
        u32 i = static_cast<u32>(rnd() % kVcpus);
        switch (rnd() % 3) {
        case 0:  // a running vCPU touches one of 6 pages
            if (v_[i].phase == FaultPhase::Running) fault(i, rnd() % 6, now);
            break;
        case 1:  // an interrupt becomes pending
            on_interrupt_pending(pool_, v_[i], now);
            break;
        default: {  // the PSP completes some active request
            PagingRequest& r = req_[rnd() % 3];
            if (r.active()) complete(&r, rnd() % 10 == 0 ? 1 : 0, now);
        }
        }
        check();
        if (HasFatalFailure()) return;
    }
    // Drain: completing everything resumes everyone.
    for (int round = 0; round < 100; ++round) {
        for (PagingRequest& r : req_) {
            if (r.active()) complete(&r, 0, ++now);
        }
    }
    u64 shared = 0, refaults = 0, wakeups = 0;
    for (const VcpuFaultState& v : v_) {
        EXPECT_EQ(v.phase, FaultPhase::Running);
        EXPECT_EQ(v.outstanding, 0u);
        shared += v.shared, refaults += v.refaults, wakeups += v.interrupt_wakeups;
    }
    EXPECT_GT(shared, 0u);  // the run exercised every path
    EXPECT_GT(refaults, 0u);
    EXPECT_GT(wakeups, 0u);
    EXPECT_GE(v_[0].max_outstanding, 2u);  // the default threshold was reached
    EXPECT_LE(v_[5].max_outstanding, 1u);
    EXPECT_GT(pool_.stats().exhausted_waits, 0u);
    EXPECT_EQ(pool_.stats().max_allocated, 3u);
}

}  // namespace
