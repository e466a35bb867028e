#include <gtest/gtest.h>

#include "hv/paging_error_log.h"

using namespace pv;

namespace {

PagingError err(u32 slot, u64 page, u64 tb) {
    PagingError e;
    e.partition_slot = slot;
    e.lpid = Lpid{slot + 1};
    e.lp = LogicalPage{page};
    e.vcpu = 1;
    e.device = 0;
    e.status = 5;
    e.timebase = tb;
    e.effective_addr = page << 12;
    return e;
}

TEST(PagingErrorLog, StartsEmpty) {
    PagingErrorLog log;
    PagingError e;
    EXPECT_EQ(log.total(), 0u);
    EXPECT_EQ(log.retained(), 0u);
    EXPECT_EQ(log.count_for(0), 0u);
    EXPECT_FALSE(log.newest_for(0, e));
    EXPECT_FALSE(log.get(0, e));
}

TEST(PagingErrorLog, NewestFirstPerPartitionAndOverall) {
    PagingErrorLog log;
    log.record(err(0, 10, 100));
    log.record(err(1, 20, 200));
    log.record(err(0, 11, 300));
    EXPECT_EQ(log.total(), 3u);
    EXPECT_EQ(log.count_for(0), 2u);
    EXPECT_EQ(log.count_for(1), 1u);
    EXPECT_EQ(log.count_for(2), 0u);
    EXPECT_EQ(log.count_for(1000), 0u);
    PagingError e;
    ASSERT_TRUE(log.newest_for(0, e));
    EXPECT_EQ(e.lp, LogicalPage{11});
    EXPECT_EQ(e.timebase, 300u);
    ASSERT_TRUE(log.nth_newest_for(0, 1, e));
    EXPECT_EQ(e.lp, LogicalPage{10});
    EXPECT_FALSE(log.nth_newest_for(0, 2, e));
    ASSERT_TRUE(log.newest_for(1, e));
    EXPECT_EQ(e.lpid, Lpid{2});
    EXPECT_EQ(e.status, 5);
    ASSERT_TRUE(log.get(0, e));
    EXPECT_EQ(e.timebase, 300u);
    ASSERT_TRUE(log.get(2, e));
    EXPECT_EQ(e.timebase, 100u);
    EXPECT_FALSE(log.get(3, e));
}

TEST(PagingErrorLog, RingKeepsTheNewestAndCountersNeverWrap) {
    PagingErrorLog log;
    constexpr u32 n = PagingErrorLog::kCapacity * 2 + 5;
    for (u32 i = 0; i < n; ++i) log.record(err(i % 2, i, i));
    EXPECT_EQ(log.total(), n);
    EXPECT_EQ(log.retained(), PagingErrorLog::kCapacity);
    EXPECT_EQ(log.count_for(0) + log.count_for(1), n);
    EXPECT_EQ(log.count_for(0), (n + 1) / 2);
    PagingError e;
    ASSERT_TRUE(log.get(0, e));
    EXPECT_EQ(e.timebase, n - 1);
    ASSERT_TRUE(log.get(PagingErrorLog::kCapacity - 1, e));
    EXPECT_EQ(e.timebase, n - PagingErrorLog::kCapacity);  // the oldest still held
    EXPECT_FALSE(log.get(PagingErrorLog::kCapacity, e));
    // Half of the retained entries are slot 0's.
    ASSERT_TRUE(log.nth_newest_for(0, PagingErrorLog::kCapacity / 2 - 1, e));
    EXPECT_FALSE(log.nth_newest_for(0, PagingErrorLog::kCapacity / 2, e));
}

TEST(PagingErrorLog, ClearForgetsEverything) {
    PagingErrorLog log;
    log.record(err(3, 1, 1));
    log.clear();
    PagingError e;
    EXPECT_EQ(log.total(), 0u);
    EXPECT_EQ(log.count_for(3), 0u);
    EXPECT_FALSE(log.newest_for(3, e));
}

}  // namespace

namespace {

// The migration target re-records a partition's retained errors for the
// slot it got there and keeps the source's count (H_PV_GET_ERROR_LOG and
// PV-STAT "errors" go on as at the source).
TEST(PagingErrorLog, AdoptedErrorsKeepTheirOrderAndTheSourcesCount) {
    PagingErrorLog log;
    log.record(err(0, 1, 10));
    PagingError moved[2] = {err(5, 7, 100), err(5, 8, 200)};  // the source's slot 5, oldest first
    EXPECT_EQ(log.adopt(2, moved, 2, 40), Err::Ok);
    EXPECT_EQ(log.count_for(2), 40u);
    PagingError e;
    ASSERT_TRUE(log.newest_for(2, e));
    EXPECT_EQ(e.lp.value, 8u);
    EXPECT_EQ(e.partition_slot, 2u);
    ASSERT_TRUE(log.nth_newest_for(2, 1, e));
    EXPECT_EQ(e.lp.value, 7u);
    EXPECT_EQ(log.count_for(0), 1u);
    EXPECT_EQ(log.adopt(2, moved, 2, 40), Err::Invalid) << "the slot has errors already";
    EXPECT_EQ(log.adopt(3, moved, 2, 1), Err::Invalid) << "a count below the entries";
    EXPECT_EQ(log.adopt(kMaxPartitions, moved, 0, 0), Err::Invalid);
    EXPECT_EQ(log.adopt(3, nullptr, 0, 9), Err::Ok) << "none retained, some ever";
    EXPECT_EQ(log.count_for(3), 9u);
}

}  // namespace
