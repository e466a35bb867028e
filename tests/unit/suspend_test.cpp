// Suspending a partition for the migration switch-over (hv/suspend.h) on
// arch/fake: its running vCPU yields at its next exit and is held off the run
// queue, a queued one is held when popped, the others keep their states; a
// resume puts the held ones back; the partition itself never notices.
#include "hv/suspend.h"
#include "tests/unit/host_partition.h"

namespace pv::test {
namespace {

Exit hdec_exit() {
    Exit e;
    e.kind = ExitKind::HDecrementer;
    e.vector = Vector::HDecrementer;
    return e;
}

class SuspendTest : public HostPartitionTest {
protected:
    void SetUp() override {
        set_up_partition(3);
        Hypervisor& h = hv();
        h.runq = RunQueue{};
        h.all_done = false;
        cpu_.index = 0, cpu_.pir = Pir{0};
        h.threads[0] = &cpu_;
        h.thread_count = 1;
        h.slice_tb = arch::timebase_hz();  // no slice ends during a test
        // A bystander partition: what the thread runs while p is held.
        Partition& q = h.partitions[1];
        q = Partition{};
        std::strcpy(q.name, "q");
        q.lpid = Lpid{2};
        q.vcpu_count = 1;
        q.vcpus[0].part = &q;
        h.partition_count = 2;
        h.live_partitions = 2;
    }
    void TearDown() override {
        hv().runq = RunQueue{};
        HostPartitionTest::TearDown();
    }
    Partition& q() { return hv().partitions[1]; }
    PhysCpu cpu_;
};

TEST_F(SuspendTest, ARunningVcpuYieldsAndIsHeldUntilResume) {
    Partition& p = *p_;
    Vcpu& v0 = p.vcpus[0];
    make_runnable(v0);
    ASSERT_EQ(&schedule(cpu_), &v0);
    EXPECT_FALSE(partition_quiesced(p));  // not suspended yet
    suspend_partition(p);
    EXPECT_FALSE(partition_quiesced(p));  // v0 is still on the thread
    make_runnable(q().vcpus[0]);
    // Its exit would resume it; suspended, it leaves the thread for q.
    EXPECT_EQ(&handle_exit(cpu_, v0, hdec_exit()), &q().vcpus[0]);
    EXPECT_EQ(v0.state, VcpuState::Runnable);
    EXPECT_FALSE(v0.on_thread);
    EXPECT_TRUE(partition_quiesced(p));
    // The next thread to pop it holds it instead of running it.
    ASSERT_EQ(hv().runq.pop(), &v0);
    EXPECT_TRUE(park_if_suspended(v0));
    EXPECT_TRUE(v0.parked);
    EXPECT_FALSE(v0.queued);
    EXPECT_EQ(v0.state, VcpuState::Runnable);
    EXPECT_TRUE(partition_quiesced(p));
    resume_partition(p);
    EXPECT_FALSE(v0.parked);
    EXPECT_TRUE(v0.queued);
    // q yields back (its slice's end): v0 runs again.
    EXPECT_EQ(hv().runq.pop(), &v0);
}

TEST_F(SuspendTest, QueuedVcpusAreHeldWhenPoppedAndOthersKeepTheirState) {
    Partition& p = *p_;
    p.vcpus[1].state = VcpuState::Ceded;
    p.vcpus[2].state = VcpuState::PageWait;
    make_runnable(p.vcpus[0]);
    suspend_partition(p);
    make_runnable(q().vcpus[0]);
    EXPECT_EQ(&schedule(cpu_), &q().vcpus[0]);  // p's vCPU was popped first and held
    EXPECT_TRUE(p.vcpus[0].parked);
    EXPECT_EQ(p.vcpus[0].state, VcpuState::Runnable);
    EXPECT_NE(p.vcpus[1].state, VcpuState::Running);  // ceded, or woken by its decrementer and queued
    EXPECT_EQ(p.vcpus[2].state, VcpuState::PageWait);
    EXPECT_TRUE(partition_quiesced(p));
    EXPECT_TRUE(p.is_running());  // suspended is not stopped
    resume_partition(p);
    EXPECT_FALSE(partition_quiesced(p));
    Vcpu* next = hv().runq.pop();
    EXPECT_TRUE(next == &p.vcpus[0] || next == &p.vcpus[1]);
    EXPECT_FALSE(park_if_suspended(*next));
}

TEST_F(SuspendTest, AVcpuWokenWhileSuspendedIsHeldToo) {
    Partition& p = *p_;
    p.vcpus[1].state = VcpuState::Ceded;
    suspend_partition(p);
    make_runnable(p.vcpus[1]);  // its decrementer fired, or an H_PROD
    make_runnable(q().vcpus[0]);
    EXPECT_EQ(&schedule(cpu_), &q().vcpus[0]);
    EXPECT_TRUE(p.vcpus[1].parked);
    resume_partition(p);
    EXPECT_EQ(hv().runq.pop(), &p.vcpus[1]);
}

}  // namespace
}  // namespace pv::test
