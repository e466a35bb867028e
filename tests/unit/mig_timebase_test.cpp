// The timebase of a partition that migrated in (hv/mig_timebase.h): it
// continues from the source's, advanced by the downtime the wall clocks
// measured, never backwards, and the decrementers count the same step.
#include <gtest/gtest.h>

#include <memory>

#include "hv/mig_encode.h"
#include "hv/mig_timebase.h"
#include "hv/partition.h"

namespace pv {
namespace {

constexpr u64 kHz = 512'000'000;
constexpr u64 kMs = kHz / 1000;
constexpr u64 kWall = 1'795'000'000ull * 1'000'000'000;  // ns since 1970, late 2026

// The partition's timebase here at now_tb (what mftb reads after TBU40).
u64 guest_at(const MigTimebase& t, u64 now_tb) { return now_tb + t.offset; }

TEST(MigTimebase, WithoutWallClocksItContinuesFromTheSuspend) {
    u64 guest = 10'000 * kMs, now = 7'000 * kMs;  // this system booted 3 s later
    MigTimebase t = mig_resume_timebase(guest, 0, now, kWall, kHz);
    EXPECT_FALSE(t.wall);
    EXPECT_EQ(t.advance, 0u);
    EXPECT_EQ(t.offset, mig_tb_offset(guest, now));
    EXPECT_EQ(t.offset % kMigTbOffsetUnit, 0u);
    EXPECT_GE(guest_at(t, now), guest);
    EXPECT_LT(guest_at(t, now) - guest, kMigTbOffsetUnit);
    EXPECT_EQ(t.step, guest_at(t, now) - guest);
    EXPECT_FALSE(mig_resume_timebase(guest, kWall, now, 0, kHz).wall);
}

TEST(MigTimebase, TheWallClockDowntimeIsAdded) {
    u64 guest = 10'000 * kMs, now = 7'000 * kMs;
    MigTimebase t = mig_resume_timebase(guest, kWall, now, kWall + 250'000'000, kHz);  // 250 ms later
    EXPECT_TRUE(t.wall);
    EXPECT_EQ(t.advance, 250 * kMs);
    EXPECT_EQ(t.offset % kMigTbOffsetUnit, 0u);
    EXPECT_GE(guest_at(t, now), guest + 250 * kMs);
    EXPECT_LT(guest_at(t, now), guest + 250 * kMs + kMigTbOffsetUnit);
    EXPECT_EQ(t.step, guest_at(t, now) - guest);
}

TEST(MigTimebase, AHostTimebaseAheadGivesANegativeOffset) {
    u64 guest = 2'000 * kMs, now = 9'000 * kMs;  // the source booted 7 s later
    MigTimebase t = mig_resume_timebase(guest, kWall, now, kWall + 40'000'000, kHz);
    EXPECT_GT(t.offset, u64{1} << 63);  // modulo 2^64: below zero
    EXPECT_GE(guest_at(t, now), guest + 40 * kMs);
    EXPECT_LT(guest_at(t, now), guest + 40 * kMs + kMigTbOffsetUnit);
}

TEST(MigTimebase, ClocksThatDisagreeNeverTakeItBackNorFarAhead) {
    u64 guest = 5'000 * kMs, now = 5'000 * kMs;
    MigTimebase behind = mig_resume_timebase(guest, kWall, now, kWall - 2'000'000'000, kHz);  // target's 2 s behind
    EXPECT_EQ(behind.advance, 0u);
    EXPECT_GE(guest_at(behind, now), guest);
    MigTimebase ahead = mig_resume_timebase(guest, kWall, now, kWall + 3600ull * 1'000'000'000, kHz);  // an hour
    EXPECT_EQ(ahead.advance, kMigMaxWallAdvanceMs * kMs);
    EXPECT_LT(guest_at(ahead, now) - guest, kMigMaxWallAdvanceMs * kMs + kMigTbOffsetUnit);
}

TEST(MigTimebase, ThereAndBackAgainItOnlyMovesForward) {
    // A booted first: the partition's timebase is A's. To B (5 s behind), then back to A.
    u64 a_now = 60'000 * kMs, b_now = 55'000 * kMs, wall = kWall;
    u64 guest = a_now;  // offset 0 at A
    MigTimebase to_b = mig_resume_timebase(guest, wall, b_now + 30 * kMs, wall + 30'000'000, kHz);
    u64 at_b = guest_at(to_b, b_now + 30 * kMs);
    EXPECT_GE(at_b, guest + 30 * kMs);
    // It runs 2 s at B and suspends; A's timebase and wall clock went on meanwhile.
    u64 b_suspend = b_now + 2'030 * kMs, guest_b = b_suspend + to_b.offset;
    EXPECT_GT(guest_b, at_b);
    u64 a_later = a_now + 2'060 * kMs;
    MigTimebase back = mig_resume_timebase(guest_b, wall + 2'030'000'000, a_later, wall + 2'060'000'000, kHz);
    EXPECT_GE(guest_at(back, a_later), guest_b + 30 * kMs);
    EXPECT_LT(guest_at(back, a_later), guest_b + 30 * kMs + kMigTbOffsetUnit);
    EXPECT_EQ(back.offset % kMigTbOffsetUnit, 0u);
}

TEST(MigTimebase, ItWrapsModulo2To64) {
    u64 guest = ~u64{0} - 10 * kMs, now = 100 * kMs;
    MigTimebase t = mig_resume_timebase(guest, kWall, now, kWall + 20'000'000, kHz);
    u64 here = guest_at(t, now);
    EXPECT_EQ(here - guest, t.step);  // modulo 2^64
    EXPECT_GE(t.step, 20 * kMs);
    EXPECT_LT(t.step, 20 * kMs + kMigTbOffsetUnit);
}

TEST(MigTimebase, DecrementersAndWakeUpsCountTheStep) {
    auto part = std::make_unique<Partition>();
    Partition& p = *part;
    p.vcpu_count = 3;
    u64 installed = 1'000 * kMs, now = installed + 20 * kMs;  // held 20 ms for the go
    MigTimebase t;
    t.offset = 7 * kMigTbOffsetUnit;
    t.step = 100 * kMs;
    // As hv/mig_install.cpp leaves them: dec at its install, a ceded wake-up then + remaining.
    for (u32 i = 0; i < 3; ++i) p.vcpus[i].sprs.dec_tb = installed;
    p.vcpus[0].sprs.dec = 300 * kMs;
    p.vcpus[0].state = VcpuState::Ceded, p.vcpus[0].wake_tb = installed + 300 * kMs;
    p.vcpus[1].sprs.dec = 50 * kMs;
    p.vcpus[1].state = VcpuState::Ceded, p.vcpus[1].wake_tb = installed + 50 * kMs;
    p.vcpus[2].sprs.dec = 0x7fffffff;
    p.vcpus[2].state = VcpuState::Runnable;
    mig_apply_timebase(p, t, now);
    EXPECT_EQ(p.tb_offset, 7 * kMigTbOffsetUnit);
    EXPECT_EQ(p.vcpus[0].sprs.dec, 200 * kMs);
    EXPECT_EQ(p.vcpus[0].wake_tb, now + 200 * kMs);
    EXPECT_EQ(static_cast<i64>(p.vcpus[1].sprs.dec), -static_cast<i64>(50 * kMs));  // expired: fires at entry
    EXPECT_EQ(p.vcpus[1].wake_tb, now);                                             // wakes at once
    EXPECT_EQ(p.vcpus[2].sprs.dec, 0x7fffffff - 100 * kMs);
    EXPECT_EQ(p.vcpus[2].wake_tb, 0u);
    for (u32 i = 0; i < 3; ++i) EXPECT_EQ(p.vcpus[i].sprs.dec_tb, now);  // counting from the go
}

}  // namespace
}  // namespace pv
