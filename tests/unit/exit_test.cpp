// handle_exit on arch/fake: host events resume the partition that happened
// to run; a vCPU woken during its own exit is not dispatched elsewhere before
// that exit has finished with it (docs/scheduler.md).
#include <atomic>
#include <chrono>
#include <regex>
#include <thread>

#include "hv/guest_interrupt.h"
#include "hv/host_event.h"
#include "tests/unit/host_partition.h"

namespace pv::arch {
extern std::string g_fake_console;
}

namespace pv::test {
namespace {

Exit exit_of(ExitKind kind, Vector vec) {
    Exit e;
    e.kind = kind;
    e.vector = vec;
    return e;
}

u32 lines_matching(const std::string& text, const char* re) {
    std::regex r(re);
    return static_cast<u32>(std::distance(std::sregex_iterator(text.begin(), text.end(), r), std::sregex_iterator()));
}

// Spin until pred() holds (another thread's progress), at most 5 s.
template <typename F>
bool eventually(F pred) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred())
        if (std::chrono::steady_clock::now() > end) return false;
    return true;
}

class ExitTest : public HostPartitionTest {
protected:
    void SetUp() override {
        set_up_partition(2);
        Hypervisor& h = hv();
        h.runq = RunQueue{};
        h.all_done = false;
        cpu_[0].index = 0, cpu_[0].pir = Pir{0};
        cpu_[1].index = 1, cpu_[1].pir = Pir{4};
        h.threads[0] = &cpu_[0], h.threads[1] = &cpu_[1];
        h.thread_count = 2;
        h.slice_tb = arch::timebase_hz();  // 1 s: no slice ends during a test
        host_events_reset();
        arch::g_fake_console.clear();
    }

    void TearDown() override {
        hv().runq = RunQueue{};
        HostPartitionTest::TearDown();
    }

    // A second partition whose vCPU is runnable: what a thread runs next when
    // p's vCPUs leave it (else schedule() would idle forever).
    Vcpu& add_bystander() {
        Hypervisor& h = hv();
        Partition& q = h.partitions[1];
        q = Partition{};
        std::strcpy(q.name, "q");
        q.lpid = Lpid{2};
        q.vcpu_count = 1;
        q.vcpus[0].part = &q;
        h.partition_count = 2;
        h.live_partitions = 2;
        make_runnable(q.vcpus[0]);
        return q.vcpus[0];
    }

    // v as a thread dispatches it: Running, on cpu, VPA dispatch accounting done.
    Vcpu& dispatch(Vcpu& v, PhysCpu& cpu) {
        make_runnable(v);
        Vcpu& got = schedule(cpu);
        EXPECT_EQ(&got, &v);
        return got;
    }

    PhysCpu cpu_[2];
};

// The old exit switch stopped whatever partition ran on an interrupt it did
// not know ("unexpected hypervisor interrupt"): now each is the machine's.
TEST_F(ExitTest, HostEventsLeaveThePartitionRunning) {
    Vcpu& v = dispatch(*v_, cpu_[0]);
    v.regs.pc = 0x4000;
    Exit events[] = {exit_of(ExitKind::Hmi, Vector::HMaint), exit_of(ExitKind::External, Vector::External),
                     exit_of(ExitKind::External, Vector::HVirt), exit_of(ExitKind::Unknown, static_cast<Vector>(0x300)),
                     exit_of(ExitKind::SystemReset, Vector::SystemReset),
                     exit_of(ExitKind::MachineCheck, Vector::MachineCheck)};
    events[0].cause = u64{1} << 63;  // HMER
    for (const Exit& e : events) {
        EXPECT_EQ(&handle_exit(cpu_[0], v, e), &v) << static_cast<u32>(e.vector);
        EXPECT_TRUE(p_->is_running()) << p_->reason;
        EXPECT_EQ(v.state, VcpuState::Running);
        EXPECT_EQ(v.regs.pc, 0x4000u);  // resumes where it was
        EXPECT_FALSE(v.queued);
    }
    HostEventCounts c = host_event_counts();
    EXPECT_EQ(c.hmis, 1u);
    EXPECT_EQ(c.externals, 2u);
    EXPECT_EQ(c.unknown, 1u);
    EXPECT_EQ(c.system_resets, 1u);
    EXPECT_EQ(c.machine_checks, 1u);
    const std::string& out = arch::g_fake_console;
    EXPECT_NE(out.find("poolvisor: host HMI on thread 0 (HMER 0x8000000000000000) while partition p vCPU 0 ran "
                       "(pc 0x4000): handled, resumed"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("host external interrupt 0xea0 on thread 0"), std::string::npos) << out;
    EXPECT_NE(out.find("host interrupt 0x300 on thread 0, unexpected"), std::string::npos) << out;
    EXPECT_NE(out.find("host system reset on thread 0"), std::string::npos) << out;
    EXPECT_NE(out.find("host machine check on thread 0"), std::string::npos) << out;
    EXPECT_EQ(out.find("stopping partition"), std::string::npos) << out;
}

TEST_F(ExitTest, AStormOfHostEventsIsCountedButLoggedAtABoundedRate) {
    Vcpu& v = dispatch(*v_, cpu_[0]);
    for (int i = 0; i < 50; ++i) ASSERT_EQ(&handle_exit(cpu_[0], v, exit_of(ExitKind::Hmi, Vector::HMaint)), &v);
    EXPECT_EQ(host_event_counts().hmis, 50u);
    EXPECT_TRUE(p_->is_running());
    EXPECT_LE(lines_matching(arch::g_fake_console, "host HMI on thread"), 8u) << arch::g_fake_console;
    EXPECT_GE(lines_matching(arch::g_fake_console, "host HMI on thread"), 1u);
}

// Host events are never the partition's fault; its own faults still stop it.
TEST_F(ExitTest, APartitionsOwnFaultStillStopsIt) {
    Vcpu& v = dispatch(*v_, cpu_[0]);
    Vcpu& other = add_bystander();
    Exit e = exit_of(ExitKind::FacilityUnavailable, Vector::HFacility);
    e.cause = 2;
    EXPECT_EQ(&handle_exit(cpu_[0], v, e), &other);
    EXPECT_EQ(static_cast<PartitionState>(p_->state), PartitionState::Killed);
    EXPECT_NE(std::string(p_->reason).find("facility the hypervisor does not provide (HFSCR cause 2)"),
              std::string::npos)
        << p_->reason;
    EXPECT_TRUE(p_->finished);
    EXPECT_EQ(host_event_counts().unknown, 0u);
}

// An illegal instruction becomes the partition's Program interrupt (Linux:
// SIGILL for the process), with the AIL-relocated vector when translation is on.
TEST_F(ExitTest, AnIllegalInstructionIsTheGuestsProgramInterrupt) {
    Vcpu& v = dispatch(*v_, cpu_[0]);
    p_->lpcr |= lpcr::ILE | lpcr::ail(3);
    v.regs.pc = 0x7fff00001234;
    v.regs.msr = msr::SF | msr::EE | msr::PR | msr::IR | msr::DR | msr::RI | msr::LE;
    Exit e = exit_of(ExitKind::EmulationAssist, Vector::HEmulAssist);
    e.instruction = 0x87c0ffff;  // lwzu r30,-1(0): an invalid form
    EXPECT_EQ(&handle_exit(cpu_[0], v, e), &v);
    EXPECT_EQ(static_cast<PartitionState>(p_->state), PartitionState::Running);
    EXPECT_EQ(v.regs.pc, 0xc000000000004700u);
    EXPECT_EQ(v.sprs.srr0, 0x7fff00001234u);
    EXPECT_EQ(v.sprs.srr1, (msr::SF | msr::EE | msr::PR | msr::IR | msr::DR | msr::RI | msr::LE) | kSrr1ProgramIllegal);
    EXPECT_EQ(v.regs.msr, msr::SF | msr::LE | msr::IR | msr::DR);
    // Its program vector itself illegal (no handler): stopped, both places named.
    e.instruction = 0;
    Vcpu& other = add_bystander();
    EXPECT_EQ(&handle_exit(cpu_[0], v, e), &other);
    EXPECT_EQ(static_cast<PartitionState>(p_->state), PartitionState::Killed);
    EXPECT_NE(std::string(p_->reason).find("illegal instruction at pc 0x7fff00001234; its program vector 0xc000000000004700 has no handler (0x00000000 there)"),
              std::string::npos)
        << p_->reason;
}

// A facility its configuration denies (deny_facilities): used in problem
// state, the partition's own Facility Unavailable interrupt with FSCR[IC] =
// the facility (Linux: SIGILL for the process); in privileged state, or FP
// and VMX/VSX (no FSCR bit), the partition stops and the reason names it.
TEST_F(ExitTest, ADeniedFacilityInProblemStateIsTheGuestsFacilityUnavailableInterrupt) {
    Vcpu& v = dispatch(*v_, cpu_[0]);
    p_->hfscr = kGuestHfscr & ~facility::bit(facility::kTar) & ~facility::bit(facility::kFp);
    p_->lpcr |= lpcr::ILE | lpcr::ail(3);
    v.regs.pc = 0x7fff00002000;
    v.regs.msr = msr::SF | msr::EE | msr::PR | msr::IR | msr::DR | msr::RI | msr::LE;
    v.lazy_sprs.fscr = 0x184;  // TAR, EBB, DSCR enabled by the partition
    v.lazy.key = 7;
    Exit e = exit_of(ExitKind::FacilityUnavailable, Vector::HFacility);
    e.cause = facility::kTar;
    EXPECT_EQ(&handle_exit(cpu_[0], v, e), &v);
    EXPECT_EQ(static_cast<PartitionState>(p_->state), PartitionState::Running);
    EXPECT_EQ(v.regs.pc, 0xc000000000004f60u);
    EXPECT_EQ(v.sprs.srr0, 0x7fff00002000u);
    EXPECT_EQ(v.sprs.srr1, msr::SF | msr::EE | msr::PR | msr::IR | msr::DR | msr::RI | msr::LE);
    EXPECT_EQ(v.lazy_sprs.fscr, (u64{facility::kTar} << 56) | 0x184);
    EXPECT_EQ(v.lazy.key, 0u) << "its FSCR is loaded again at its next entry";
    // The same in privileged state: stopped, with the facility named.
    v.regs.msr = msr::SF | msr::IR | msr::DR | msr::RI | msr::LE;
    Vcpu& other = add_bystander();
    EXPECT_EQ(&handle_exit(cpu_[0], v, e), &other);
    EXPECT_EQ(static_cast<PartitionState>(p_->state), PartitionState::Killed);
    EXPECT_NE(std::string(p_->reason).find("use of a facility its configuration denies (HFSCR cause 8: TAR, "
                                           "deny_facilities) in privileged state"),
              std::string::npos)
        << p_->reason;
}

TEST_F(ExitTest, ADeniedFpStopsThePartitionEvenInProblemState) {
    Vcpu& v = dispatch(*v_, cpu_[0]);
    p_->hfscr = kGuestHfscr & ~facility::bit(facility::kFp);
    v.regs.msr = msr::SF | msr::PR;
    Vcpu& other = add_bystander();
    Exit e = exit_of(ExitKind::FacilityUnavailable, Vector::HFacility);
    e.cause = facility::kFp;
    EXPECT_EQ(&handle_exit(cpu_[0], v, e), &other);
    EXPECT_EQ(static_cast<PartitionState>(p_->state), PartitionState::Killed);
    EXPECT_NE(std::string(p_->reason).find("(HFSCR cause 0: FP, deny_facilities) in problem state"),
              std::string::npos)
        << p_->reason;
}

TEST_F(ExitTest, StorageFaultsReadTheDecodedRecord) {
    Vcpu& v = dispatch(*v_, cpu_[0]);
    Vcpu& other = add_bystander();
    Exit e = exit_of(ExitKind::StorageFault, Vector::HDSI);
    e.addr = LogicalAddr{kHostPartitionMem + 0x1000};
    e.access = Access::Store;
    EXPECT_EQ(&handle_exit(cpu_[0], v, e), &other);
    EXPECT_EQ(static_cast<PartitionState>(p_->state), PartitionState::Killed);
    EXPECT_NE(std::string(p_->reason).find("store to logical address 0x101000 outside its 1 MiB"), std::string::npos)
        << p_->reason;
}

// A system reset or machine check that found MSR[RI] = 0 destroyed the
// partition's SRR0/SRR1: the machine stops with a message; the partition is
// not blamed (PV-STAT still shows it running).
TEST_F(ExitTest, AnUnrecoverableHostEventStopsTheMachineNotThePartition) {
    Vcpu& v = dispatch(*v_, cpu_[0]);
    Exit e = exit_of(ExitKind::SystemReset, Vector::SystemReset);
    e.lost = true;
    EXPECT_EXIT(handle_exit(cpu_[0], v, e), ::testing::ExitedWithCode(0),
                "host system reset on thread 0 while partition p vCPU 0 ran with MSR\\[RI\\]=0 .*its state is lost: "
                "stopping the machine.*\"name\":\"p\".*\"state\":\"running\".*\"type\":\"host\",\"system_resets\":1");
}

TEST_F(ExitTest, AMachineCheckThatKeepsComingBackStopsTheMachine) {
    Vcpu& v = dispatch(*v_, cpu_[0]);
    Exit mc = exit_of(ExitKind::MachineCheck, Vector::MachineCheck);
    for (int i = 0; i < 99; ++i) ASSERT_EQ(&handle_exit(cpu_[0], v, mc), &v);
    ASSERT_EQ(&handle_exit(cpu_[0], v, exit_of(ExitKind::Doorbell, Vector::HDoorbell)), &v);  // progress between
    for (int i = 0; i < 99; ++i) ASSERT_EQ(&handle_exit(cpu_[0], v, mc), &v);
    EXPECT_TRUE(p_->is_running());
    EXPECT_EXIT(handle_exit(cpu_[0], v, mc), ::testing::ExitedWithCode(0),
                "host machine check on thread 0: 100 in a row .*stopping the machine");
}

// The arch layer notes a system reset that interrupted the hypervisor itself
// (no lock may be taken there); the thread logs it at its next safe point.
TEST_F(ExitTest, ASystemResetInTheHypervisorIsLoggedLater) {
    Exit e = exit_of(ExitKind::SystemReset, Vector::SystemReset);
    host_event_in_hypervisor(cpu_[0], e, 0x20001234);
    EXPECT_EQ(host_event_counts().system_resets, 1u);
    EXPECT_EQ(arch::g_fake_console.find("host system reset"), std::string::npos);
    Vcpu& v = dispatch(*v_, cpu_[0]);  // schedule() is such a point
    (void)v;
    EXPECT_NE(arch::g_fake_console.find("poolvisor: host system reset on thread 0 while the hypervisor ran "
                                        "(pc 0x20001234): resumed"),
              std::string::npos)
        << arch::g_fake_console;
    EXPECT_EQ(cpu_[0].hv_resets_noted, 0u);
}

// Issue: a vCPU parked by its own exit (H_CEDE here; a page fault alike)
// can be woken and queued by another thread before that exit is over. It
// must not be dispatched until its undispatch accounting is done: else the
// VPA yield count of a running vCPU would turn odd. The exiting thread is
// held inside that accounting (the test holds the vCPU's VPA lock) while
// another thread prods the vCPU and tries to dispatch it.
TEST_F(ExitTest, AVcpuWokenDuringItsExitIsNotDispatchedBeforeItsAccounting) {
    Vcpu& a = dispatch(p_->vcpus[0], cpu_[0]);
    Vcpu& b = p_->vcpus[1];
    ASSERT_EQ(a.vpa.yield_count, 2u);  // even: dispatched
    a.sprs.dec = arch::timebase_hz() * 60;
    a.sprs.dec_tb = arch::timebase();
    a.regs.gpr[3] = papr::H_CEDE;

    a.vpa.lock.lock();
    Vcpu* next = nullptr;
    std::thread exiting([&] { next = &handle_exit(cpu_[0], a, exit_of(ExitKind::Hcall, Vector::Hcall)); });
    ASSERT_TRUE(eventually([&] { return __atomic_load_n(&a.state, __ATOMIC_ACQUIRE) == VcpuState::Ceded; }));

    Vcpu* popped = nullptr;
    u32 yield_at_pop = 0;
    std::thread waker([&] {
        b.regs.gpr[3] = papr::H_PROD;
        b.regs.gpr[4] = a.id.value;
        (void)dispatch_hcall(b);  // a: Ceded → Runnable, queued
        popped = hv().runq.pop();  // what an idle thread would dispatch now
        yield_at_pop = a.vpa.yield_count;
        if (popped) {  // (the bug) give it back so that the exiting thread finds it
            RunQueue::release(*popped);
            popped->state = VcpuState::Runnable;
            hv().runq.push(*popped);
        }
    });
    waker.join();
    EXPECT_EQ(popped, nullptr) << "dispatched while its exit still runs (yield count " << yield_at_pop << ")";
    EXPECT_EQ(a.state, VcpuState::Runnable);
    EXPECT_TRUE(a.queued);
    a.vpa.lock.unlock();
    exiting.join();

    // The exiting thread accounted the undispatch, released a and, finding
    // it queued, dispatched it again itself.
    EXPECT_EQ(next, &a);
    EXPECT_EQ(a.state, VcpuState::Running);
    EXPECT_TRUE(a.on_thread);
    EXPECT_EQ(a.vpa.yield_count, 4u);
}

// A stop that comes while a vCPU is still leaving its thread does not end
// the partition (its areas unpinned, its pages given back) under that exit:
// the exit ends it when it lets go.
TEST_F(ExitTest, APartitionDoesNotEndWhileAVcpuIsStillLeavingItsThread) {
    p_->vcpu_count = 1;
    Vcpu& a = dispatch(p_->vcpus[0], cpu_[0]);
    Vcpu& other = add_bystander();
    a.sprs.dec = arch::timebase_hz() * 60;
    a.sprs.dec_tb = arch::timebase();
    a.regs.gpr[3] = papr::H_CEDE;

    a.vpa.lock.lock();
    Vcpu* next = nullptr;
    std::thread exiting([&] { next = &handle_exit(cpu_[0], a, exit_of(ExitKind::Hcall, Vector::Hcall)); });
    ASSERT_TRUE(eventually([&] { return __atomic_load_n(&a.state, __ATOMIC_ACQUIRE) == VcpuState::Ceded; }));
    std::thread stopper([&] { stop_partition(*p_, PartitionState::Killed, "stopped by the test"); });
    stopper.join();
    EXPECT_EQ(a.state, VcpuState::Stopped);
    EXPECT_FALSE(p_->finished);
    EXPECT_EQ(hv().live_partitions, 2u);
    a.vpa.lock.unlock();
    exiting.join();

    EXPECT_EQ(next, &other);
    EXPECT_TRUE(p_->finished);
    EXPECT_EQ(hv().live_partitions, 1u);
    EXPECT_FALSE(a.on_thread);
}

}  // namespace
}  // namespace pv::test
