#include <gtest/gtest.h>

#include "hv/sched.h"

using namespace pv;

namespace {
void runnable(Vcpu& v) { v.state = VcpuState::Runnable; }
}  // namespace

TEST(RunQueue, FifoAndMarksRunning) {
    RunQueue q;
    Vcpu a, b, c;
    for (Vcpu* v : {&a, &b, &c}) runnable(*v), q.push(*v);
    EXPECT_EQ(q.pop(), &a);
    EXPECT_EQ(a.state, VcpuState::Running);
    EXPECT_EQ(q.pop(), &b);
    EXPECT_EQ(q.pop(), &c);
    EXPECT_EQ(q.pop(), nullptr);
    EXPECT_TRUE(q.empty());
}

TEST(RunQueue, DropsEntriesStoppedWhileQueued) {
    RunQueue q;
    Vcpu a, b;
    runnable(a), runnable(b);
    q.push(a), q.push(b);
    a.state = VcpuState::Stopped;  // its partition was killed meanwhile
    EXPECT_EQ(q.pop(), &b);
    EXPECT_FALSE(a.queued);
    EXPECT_EQ(q.pop(), nullptr);
}

TEST(RunQueue, PushingTwiceKeepsOneEntry) {
    RunQueue q;
    Vcpu a, b;
    runnable(a), runnable(b);
    q.push(a), q.push(a), q.push(b);
    EXPECT_EQ(q.pop(), &a);
    EXPECT_EQ(q.pop(), &b);
    EXPECT_EQ(q.pop(), nullptr);
}

TEST(RunQueue, RequeuedVcpuGoesToTheBack) {
    RunQueue q;
    Vcpu a, b;
    runnable(a), runnable(b);
    q.push(a), q.push(b);
    Vcpu* first = q.pop();
    runnable(*first);
    RunQueue::release(*first);  // its thread is done with it
    q.push(*first);  // slice over
    EXPECT_EQ(q.pop(), &b);
    EXPECT_EQ(q.pop(), &a);
}

// A vCPU its old thread has not released yet (that thread is still in the
// exit that parked it) is not dispatched, however it got onto the queue; it
// keeps its place and is dispatched once released.
TEST(RunQueue, AVcpuStillOnItsThreadIsPassedOverUntilReleased) {
    RunQueue q;
    Vcpu a, b;
    runnable(a), q.push(a);
    ASSERT_EQ(q.pop(), &a);
    EXPECT_TRUE(a.on_thread);
    a.state = VcpuState::Ceded;  // its exit parks it...
    runnable(a), q.push(a);      // ...and another thread wakes it before that exit is done
    runnable(b), q.push(b);
    EXPECT_EQ(q.pop(), &b);      // b is off every thread: dispatched, a keeps its place
    EXPECT_EQ(q.pop(), nullptr);
    EXPECT_TRUE(a.queued);
    EXPECT_FALSE(q.empty());
    RunQueue::release(a);
    EXPECT_EQ(q.pop(), &a);
    EXPECT_EQ(a.state, VcpuState::Running);
    EXPECT_TRUE(a.on_thread);
    EXPECT_TRUE(q.empty());
}

TEST(RunQueue, PassingOverKeepsTheOrderOfTheOthers) {
    RunQueue q;
    Vcpu a, b, c, d;
    for (Vcpu* v : {&a, &b, &c, &d}) runnable(*v), q.push(*v);
    ASSERT_EQ(q.pop(), &a);
    ASSERT_EQ(q.pop(), &b);
    runnable(a), runnable(b);
    q.push(a), q.push(b);  // queue: c d a b, a and b not released
    RunQueue::release(b);
    EXPECT_EQ(q.pop(), &c);
    EXPECT_EQ(q.pop(), &d);
    EXPECT_EQ(q.pop(), &b);
    EXPECT_EQ(q.pop(), nullptr);
    RunQueue::release(a);
    c.state = VcpuState::Runnable;
    RunQueue::release(c);
    q.push(c);  // queue: a c
    EXPECT_EQ(q.pop(), &a);
    EXPECT_EQ(q.pop(), &c);
    EXPECT_TRUE(q.empty());
}

// Queued by a thread whose timebase runs a little ahead (QEMU 7.2's TBU40):
// no wait at all, not a negative one taken as 2^64 ticks (PV-STAT worst_wait_us).
TEST(RunQueue, AQueueTimeAheadOfThePopperIsNoWait) {
    RunQueue q;
    Vcpu a;
    runnable(a);
    q.push(a);
    a.queued_tb += u64{512'000'000};  // one second ahead of this thread's clock
    EXPECT_EQ(q.pop(), &a);
    EXPECT_EQ(a.worst_wait_tb, 0u);
    EXPECT_EQ(q.worst_wait().tb, 0u);
}
