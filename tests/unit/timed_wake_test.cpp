#include "hv/timed_wake.h"

#include <gtest/gtest.h>

namespace pv {
namespace {

// The deadline is process-wide: each test drains it first.
void drain() {
    while (timed_wake_take(~u64{0} - 1)) {
    }
}

TEST(TimedWake, DueOnlyOnceItsMomentHasCome) {
    drain();
    EXPECT_EQ(timed_wake_next(), ~u64{0});
    timed_wake_note(1000);
    EXPECT_FALSE(timed_wake_take(999));
    EXPECT_EQ(timed_wake_next(), 1000u);
    EXPECT_TRUE(timed_wake_take(1000));
    EXPECT_FALSE(timed_wake_take(5000));  // taken: the scan that took it notes the next one
}

TEST(TimedWake, TheEarliestNoteWins) {
    drain();
    timed_wake_note(3000);
    timed_wake_note(2000);
    timed_wake_note(4000);
    EXPECT_EQ(timed_wake_next(), 2000u);
    EXPECT_FALSE(timed_wake_take(1999));
    EXPECT_TRUE(timed_wake_take(2000));
}

TEST(TimedWake, ANoteDuringAScanIsKept) {
    drain();
    timed_wake_note(100);
    ASSERT_TRUE(timed_wake_take(100));  // a scan starts
    timed_wake_note(150);               // a vCPU cedes while it runs
    timed_wake_note(900);               // the scan's own finding, later
    EXPECT_EQ(timed_wake_next(), 150u);
    EXPECT_TRUE(timed_wake_take(150));
}

TEST(TimedWake, ZeroMeansAtOnce) {
    drain();
    timed_wake_note(0);
    EXPECT_TRUE(timed_wake_take(0));
}

}  // namespace
}  // namespace pv
