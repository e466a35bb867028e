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
    q.push(*first);  // slice over
    EXPECT_EQ(q.pop(), &b);
    EXPECT_EQ(q.pop(), &a);
}
