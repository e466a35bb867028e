// The lock witness (base/lock_witness.h, docs/locks.md): the host build of
// the core has it on, so a wrong order dies here as it stops the machine.
#include <gtest/gtest.h>

#include <thread>

#include "base/lock_witness.h"
#include "base/spinlock.h"
#include "hv/hv.h"
#include "hv/vpa.h"
#include "mm/paging_request.h"

using namespace pv;

#ifndef PV_LOCK_WITNESS
#error "the unit tests are built with the lock witness (cmake/host.cmake)"
#endif

TEST(LockWitness, TheDocumentedOrderNests) {
    SpinLock finish{LockRank::Finish}, pool{LockRank::AmsPool}, part{LockRank::Partition},
        psp{LockRank::PspPartition}, requests{LockRank::RequestPool}, runq{LockRank::RunQueue},
        vpa{LockRank::Vpa}, console{LockRank::Console}, opal{LockRank::OpalConsole};
    {
        Guard a(finish), b(pool), c(part), d(psp), e(requests), f(runq), g(vpa), h(console), i(opal);
        EXPECT_EQ(lock_witness_depth(), 9u);
    }
    EXPECT_EQ(lock_witness_depth(), 0u);
}

TEST(LockWitness, LocksMayBeReleasedOutOfOrder) {
    SpinLock pool{LockRank::AmsPool}, part{LockRank::Partition}, runq{LockRank::RunQueue};
    pool.lock();
    part.lock();
    pool.unlock();  // the older one first
    runq.lock();    // still after the partition lock
    runq.unlock();
    part.unlock();
    EXPECT_EQ(lock_witness_depth(), 0u);
}

TEST(LockWitness, TheSameLockIsTakenAgainAfterRelease) {
    SpinLock part{LockRank::Partition};
    for (int i = 0; i < 3; ++i) Guard g(part);
    EXPECT_EQ(lock_witness_depth(), 0u);
}

TEST(LockWitness, AnUnrankedLockIsALeaf) {
    SpinLock part{LockRank::Partition}, leaf;
    EXPECT_EQ(leaf.rank(), LockRank::Unranked);
    Guard a(part), b(leaf);
    EXPECT_EQ(lock_witness_depth(), 2u);
}

TEST(LockWitness, EachThreadHasItsOwnRecord) {
    SpinLock runq{LockRank::RunQueue};
    Guard g(runq);
    u32 other = ~0u;
    std::thread t([&] {
        SpinLock part{LockRank::Partition};
        Guard p(part);  // this thread holds nothing else
        other = lock_witness_depth();
    });
    t.join();
    EXPECT_EQ(other, 1u);
    EXPECT_EQ(lock_witness_depth(), 1u);
}

TEST(LockWitness, ASuccessfulTryLockIsHeld) {
    SpinLock part{LockRank::Partition};
    ASSERT_TRUE(part.try_lock());
    EXPECT_EQ(lock_witness_depth(), 1u);
    EXPECT_FALSE(part.try_lock());  // held: fails, recorded once
    EXPECT_EQ(lock_witness_depth(), 1u);
    part.unlock();
    EXPECT_EQ(lock_witness_depth(), 0u);
}

TEST(LockWitness, RanksHaveNames) {
    EXPECT_STREQ(lock_rank_name(LockRank::AmsPool), "ams-pool");
    EXPECT_STREQ(lock_rank_name(LockRank::PspPartition), "psp-partition");
    EXPECT_STREQ(lock_rank_name(LockRank::HostEvents), "host-events");
    EXPECT_STREQ(lock_rank_name(LockRank::Unranked), "unranked");
}

// The hypervisor's lock declarations carry the ranks docs/locks.md lists.
TEST(LockWitness, HypervisorLocksAreRanked) {
    Partition p;
    EXPECT_EQ(p.lock.rank(), LockRank::Partition);
    VcpuVpa vpa;
    EXPECT_EQ(vpa.lock.rank(), LockRank::Vpa);
    PagingRequestPool requests;
    EXPECT_EQ(requests.lock().rank(), LockRank::RequestPool);
    EXPECT_EQ(hv().finish_lock.rank(), LockRank::Finish);
}

// ams_mark_psp gives the paging service partition's lock its own rank: a
// shared partition's lock may then be held while it is taken (prod_psp).
TEST(LockWitness, ThePspLockNestsUnderAPartitionLock) {
    Partition shared, psp;
    psp.lock.set_rank(LockRank::PspPartition);
    Guard a(shared.lock), b(psp.lock);
    EXPECT_EQ(lock_witness_depth(), 2u);
}

namespace {
// Takes `outer`, then `inner` while holding it.
void nest(SpinLock& outer, SpinLock& inner) {
    Guard a(outer);
    Guard b(inner);
}
}  // namespace

TEST(LockWitnessDeathTest, AnEarlierRankDies) {
    SpinLock runq{LockRank::RunQueue}, part{LockRank::Partition};
    EXPECT_DEATH(nest(runq, part),
                 "HYPERVISOR FAULT: lock order: partition lock 0x[0-9a-f]+ taken while holding run-queue lock "
                 "0x[0-9a-f]+ \\[thread [0-9]+ holds: run-queue 0x[0-9a-f]+\\]");
}

TEST(LockWitnessDeathTest, ThePoolLockUnderAPartitionLockDies) {
    SpinLock part{LockRank::Partition}, pool{LockRank::AmsPool};
    EXPECT_DEATH(nest(part, pool), "ams-pool lock 0x[0-9a-f]+ taken while holding partition lock");
}

// Two ordinary partitions' locks have no order between them.
TEST(LockWitnessDeathTest, TwoPartitionLocksDie) {
    Partition a, b;
    EXPECT_DEATH(nest(a.lock, b.lock), "partition lock 0x[0-9a-f]+ taken while holding partition lock");
}

TEST(LockWitnessDeathTest, APartitionLockUnderThePspLockDies) {
    Partition shared, psp;
    psp.lock.set_rank(LockRank::PspPartition);
    EXPECT_DEATH(nest(psp.lock, shared.lock), "partition lock 0x[0-9a-f]+ taken while holding psp-partition lock");
}

TEST(LockWitnessDeathTest, ALockUnderAnUnrankedOneDies) {
    SpinLock leaf, console{LockRank::Console};
    EXPECT_DEATH(nest(leaf, console), "console lock 0x[0-9a-f]+ taken while holding unranked lock");
}

TEST(LockWitnessDeathTest, TakingAHeldLockAgainDies) {
    EXPECT_DEATH(
        {
            SpinLock part{LockRank::Partition};
            part.lock();
            part.lock();
        },
        "partition lock 0x[0-9a-f]+ taken again by the thread that holds it");
}

TEST(LockWitnessDeathTest, UnlockingALockNotHeldDies) {
    EXPECT_DEATH(
        {
            SpinLock part{LockRank::Partition};
            part.unlock();
        },
        "partition lock 0x[0-9a-f]+ released by a thread that does not hold it");
}

TEST(LockWitnessDeathTest, ALockHeldAcrossAPartitionEntryDies) {
    EXPECT_DEATH(
        {
            SpinLock part{LockRank::Partition};
            Guard g(part);
            lock_witness_assert_none_held("partition entry");
        },
        "lock order: partition entry with a lock held \\[thread [0-9]+ holds: partition 0x");
}

TEST(LockWitness, NothingHeldPassesTheEntryCheck) {
    SpinLock part{LockRank::Partition};
    { Guard g(part); }
    lock_witness_assert_none_held("partition entry");  // returns
    SUCCEED();
}
