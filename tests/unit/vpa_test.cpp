// H_REGISTER_VPA, the VPA/DTL fields the hypervisor keeps, and transparent
// pinning of registered areas (hv/vpa.h), against a partition whose logical
// memory is a host buffer (arch/fake maps host-real addresses 1:1).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "hv/ams.h"
#include "hv/vpa.h"
#include "tests/unit/host_partition.h"

using namespace pv;
using namespace pv::papr;

namespace {

struct PinCall {
    bool pin;
    u64 addr, len;
    bool operator==(const PinCall&) const = default;
};
std::vector<PinCall> g_calls;
PinResult g_next_pin = PinResult::Pinned;

PinResult fake_pin(Vcpu&, u64 addr, u64 len) {
    g_calls.push_back({true, addr, len});
    return g_next_pin;
}
void fake_unpin(Partition&, u64 addr, u64 len) { g_calls.push_back({false, addr, len}); }
const VpaPinOps kFakeOps{fake_pin, fake_unpin};

PinCall pin(u64 a, u64 l) { return {true, a, l}; }
PinCall unpin(u64 a, u64 l) { return {false, a, l}; }

constexpr u64 kMem = test::kHostPartitionMem;
constexpr u64 kVpa0 = 0x10000, kVpa1 = 0x10400, kDtl0 = 0x11000, kDtl1 = 0x12000, kSlb0 = 0x13000;

class VpaTest : public test::HostPartitionTest {
protected:
    void SetUp() override {
        set_up_partition(3);
        g_calls.clear();
        g_next_pin = PinResult::Pinned;
        vpa_set_pin_ops(&kFakeOps);
    }

    void TearDown() override {
        vpa_set_pin_ops(nullptr);
        Hypervisor& h = hv();
        h.partition_count = 0;
        h.live_partitions = 0;
        HostPartitionTest::TearDown();
    }

    // Areas as Linux prepares them: zeroed, the length at offset 4.
    void prepare_vpa(u64 addr, u16 size = 0x400) {
        std::memset(&mem_[addr], 0, size);
        be16(addr + 4, size);
    }
    void prepare32(u64 addr, u32 size) {
        std::memset(&mem_[addr], 0, 8);
        be32(addr + 4, size);
    }

    Next reg(u64 func, u64 cpu, u64 addr) { return call(H_REGISTER_VPA, func << vpa::kFuncShift, cpu, addr); }
    // kVpa0, kDtl0 and kSlb0 registered for vCPU 0; kVpa1 prepared too.
    void register_all_on_vcpu0() {
        prepare_vpa(kVpa0);
        prepare_vpa(kVpa1);
        prepare32(kDtl0, 4096);
        prepare32(kSlb0, 0x80);
        reg(vpa::kRegVpa, 0, kVpa0);
        reg(vpa::kRegDtl, 0, kDtl0);
        reg(vpa::kRegSlb, 0, kSlb0);
    }

    void be16(u64 a, u16 x) { mem_[a] = static_cast<u8>(x >> 8), mem_[a + 1] = static_cast<u8>(x); }
    void be32(u64 a, u32 x) {
        for (int i = 0; i < 4; ++i) mem_[a + i] = static_cast<u8>(x >> (24 - 8 * i));
    }
    u64 rd(u64 a, int bytes) const {
        u64 x = 0;
        for (int i = 0; i < bytes; ++i) x = x << 8 | mem_[a + i];
        return x;
    }
    u32 yield_count(u64 vpa) const { return static_cast<u32>(rd(vpa + vpa::kOffYieldCount, 4)); }
};

TEST_F(VpaTest, RegisterVpaChecksTargetAddressAndSize) {
    prepare_vpa(kVpa0);
    reg(vpa::kRegVpa, 7, kVpa0);  // no such vCPU
    EXPECT_EQ(rc(), H_PARAMETER);
    reg(vpa::kRegVpa, 0, 0);  // address 0
    EXPECT_EQ(rc(), H_PARAMETER);
    reg(vpa::kRegVpa, 0, kVpa0 + 8);  // not cache-line aligned
    EXPECT_EQ(rc(), H_PARAMETER);
    reg(vpa::kRegVpa, 0, kMem);  // outside the partition
    EXPECT_EQ(rc(), H_PARAMETER);
    prepare_vpa(kVpa0, 639);  // smaller than struct lppaca
    reg(vpa::kRegVpa, 0, kVpa0);
    EXPECT_EQ(rc(), H_PARAMETER);
    prepare_vpa(0x10e00, 0x400);  // would cross into the next 4 KiB page
    reg(vpa::kRegVpa, 0, 0x10e00);
    EXPECT_EQ(rc(), H_PARAMETER);
    reg(0, 0, kVpa0);  // no such subfunction
    EXPECT_EQ(rc(), H_PARAMETER);
    reg(4, 0, kVpa0);
    EXPECT_EQ(rc(), H_PARAMETER);
    EXPECT_TRUE(g_calls.empty());  // nothing pinned on any error

    prepare_vpa(kVpa0, 640);  // 640 is enough (KVM accepts it too)
    reg(vpa::kRegVpa, 0, kVpa0);
    EXPECT_EQ(rc(), H_SUCCESS);
    prepare_vpa(0x10c00, 0x400);  // ends exactly at the page end
    reg(vpa::kRegVpa, 0, 0x10c00);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(v_->vpa.vpa.addr, 0x10c00u);
}

TEST_F(VpaTest, DtlAndSlbShadowNeedAVpaWhichStaysWhileTheyAre) {
    prepare32(kDtl0, 4096);
    prepare32(kSlb0, 0x80);
    reg(vpa::kRegDtl, 0, kDtl0);
    EXPECT_EQ(rc(), H_RESOURCE);
    reg(vpa::kRegSlb, 0, kSlb0);
    EXPECT_EQ(rc(), H_RESOURCE);
    prepare32(kDtl0, 47);  // length checks come first (as KVM)
    reg(vpa::kRegDtl, 0, kDtl0);
    EXPECT_EQ(rc(), H_PARAMETER);
    prepare32(kSlb0, 4);
    reg(vpa::kRegSlb, 0, kSlb0);
    EXPECT_EQ(rc(), H_PARAMETER);

    prepare_vpa(kVpa0);
    reg(vpa::kRegVpa, 0, kVpa0);
    ASSERT_EQ(rc(), H_SUCCESS);
    prepare32(kDtl0, 4097);  // beyond its page
    reg(vpa::kRegDtl, 0, kDtl0);
    EXPECT_EQ(rc(), H_PARAMETER);
    prepare32(kDtl0, 4096);
    reg(vpa::kRegDtl, 0, kDtl0);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(v_->vpa.dtl.len, 85u * 48);  // whole entries only
    prepare32(kSlb0, 0x80);
    reg(vpa::kRegSlb, 0, kSlb0);
    EXPECT_EQ(rc(), H_SUCCESS);

    reg(vpa::kDeregVpa, 0, 0);
    EXPECT_EQ(rc(), H_RESOURCE);
    reg(vpa::kDeregDtl, 0, 0);
    EXPECT_EQ(rc(), H_SUCCESS);
    reg(vpa::kDeregVpa, 0, 0);
    EXPECT_EQ(rc(), H_RESOURCE);  // the SLB shadow is still there
    reg(vpa::kDeregSlb, 0, 0);
    EXPECT_EQ(rc(), H_SUCCESS);
    reg(vpa::kDeregVpa, 0, 0);
    EXPECT_EQ(rc(), H_SUCCESS);
    reg(vpa::kDeregVpa, 0, 0);  // nothing registered: still fine
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(v_->vpa.vpa.addr, 0u);
}

TEST_F(VpaTest, RegistrationPinsAndDeregistrationOrReplacementUnpins) {
    register_all_on_vcpu0();
    reg(vpa::kRegVpa, 0, kVpa1);  // another VPA: the old one is released after the new one is pinned
    EXPECT_EQ(rc(), H_SUCCESS);
    reg(vpa::kDeregDtl, 0, 0);
    reg(vpa::kDeregSlb, 0, 0);
    reg(vpa::kDeregVpa, 0, 0);
    EXPECT_EQ(g_calls, (std::vector<PinCall>{pin(kVpa0, 0x400), pin(kDtl0, 4080), pin(kSlb0, 0x80), pin(kVpa1, 0x400),
                                             unpin(kVpa0, 0x400), unpin(kDtl0, 4080), unpin(kSlb0, 0x80),
                                             unpin(kVpa1, 0x400)}));
}

TEST_F(VpaTest, PinFailuresLeaveEverythingAsItWas) {
    prepare_vpa(kVpa0);
    g_next_pin = PinResult::OverLimit;
    reg(vpa::kRegVpa, 0, kVpa0);
    EXPECT_EQ(rc(), H_RESOURCE);
    g_next_pin = PinResult::Invalid;
    reg(vpa::kRegVpa, 0, kVpa0);
    EXPECT_EQ(rc(), H_PARAMETER);
    g_next_pin = PinResult::Blocked;  // parked on a page-in: the hcall re-executes later
    v_->regs.gpr[3] = H_REGISTER_VPA;
    v_->regs.gpr[4] = vpa::kRegVpa << vpa::kFuncShift, v_->regs.gpr[5] = 0, v_->regs.gpr[6] = kVpa0;
    EXPECT_EQ(dispatch_hcall(*v_), Next::Block);
    EXPECT_EQ(v_->regs.gpr[3], u64{H_REGISTER_VPA});
    EXPECT_EQ(v_->vpa.vpa.addr, 0u);
    EXPECT_EQ(yield_count(kVpa0), 0u);
    for (const PinCall& c : g_calls) EXPECT_TRUE(c.pin);  // nothing to undo

    g_next_pin = PinResult::Pinned;
    reg(vpa::kRegVpa, 0, kVpa0);
    ASSERT_EQ(rc(), H_SUCCESS);
    prepare_vpa(kVpa1);
    g_next_pin = PinResult::OverLimit;
    reg(vpa::kRegVpa, 0, kVpa1);  // a failed re-registration keeps the old VPA
    EXPECT_EQ(rc(), H_RESOURCE);
    EXPECT_EQ(v_->vpa.vpa.addr, kVpa0);
    EXPECT_EQ(g_calls.back(), pin(kVpa1, 0x400));
}

TEST_F(VpaTest, AVcpuMayRegisterAnotherVcpusAreas) {
    prepare_vpa(kVpa1);
    reg(vpa::kRegVpa, 2, kVpa1);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(p_->vcpus[2].vpa.vpa.addr, kVpa1);
    EXPECT_EQ(v_->vpa.vpa.addr, 0u);
    EXPECT_EQ(yield_count(kVpa1), 1u);  // never dispatched: odd
    EXPECT_EQ(mem_[kVpa1 + vpa::kOffStatus] & vpa::kSharedProc, vpa::kSharedProc);
}

TEST_F(VpaTest, YieldCountIsEvenWhileDispatchedAndCountsEveryChange) {
    vpa_dispatched(*v_, 0);  // the caller is on a thread when it registers
    prepare_vpa(kVpa0);
    reg(vpa::kRegVpa, 0, kVpa0);
    ASSERT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(yield_count(kVpa0), 2u);
    v_->state = VcpuState::Ceded;
    vpa_undispatched(*v_, Next::Block, Vector::Hcall);
    EXPECT_EQ(yield_count(kVpa0), 3u);
    vpa_dispatched(*v_, 0);
    EXPECT_EQ(yield_count(kVpa0), 4u);
    vpa_undispatched(*v_, Next::Resume, Vector::HDecrementer);  // time slice over
    vpa_dispatched(*v_, 1);  // elsewhere this time
    vpa_undispatched(*v_, Next::Yield, Vector::Hcall);  // H_CONFER
    vpa_dispatched(*v_, 1);
    EXPECT_EQ(yield_count(kVpa0), 8u);
    EXPECT_EQ(rd(kVpa0 + vpa::kOffDispersion, 4), 1u);
    vpa_undispatched(*v_, Next::Stop, Vector::Hcall);
    EXPECT_EQ(yield_count(kVpa0), 9u);
    EXPECT_EQ(v_->vpa.yield_count, 9u);
}

TEST_F(VpaTest, CmoFaultCountersAccumulateBeforeAndAfterRegistration) {
    vpa_note_hv_fault(*v_, 1000);  // before any VPA: kept, published at registration
    prepare_vpa(kVpa0);
    reg(vpa::kRegVpa, 0, kVpa0);
    EXPECT_EQ(rd(kVpa0 + vpa::kOffCmoFaults, 8), 1u);
    EXPECT_EQ(rd(kVpa0 + vpa::kOffCmoFaultTime, 8), 1000u);
    vpa_note_hv_fault(*v_, 234);
    EXPECT_EQ(rd(kVpa0 + vpa::kOffCmoFaults, 8), 2u);
    EXPECT_EQ(rd(kVpa0 + vpa::kOffCmoFaultTime, 8), 1234u);
    vpa_note_hv_fault(p_->vcpus[1], 5);  // another vCPU's counters are its own
    EXPECT_EQ(rd(kVpa0 + vpa::kOffCmoFaults, 8), 2u);
}

TEST_F(VpaTest, TheGuestCannotCorruptTheCounters) {
    prepare_vpa(kVpa0);
    reg(vpa::kRegVpa, 0, kVpa0);
    vpa_note_hv_fault(*v_, 10);
    be32(kVpa0 + vpa::kOffYieldCount, 0xdead);
    std::memset(&mem_[kVpa0 + vpa::kOffCmoFaults], 0xff, 16);
    vpa_note_hv_fault(*v_, 10);
    vpa_dispatched(*v_, 0);
    EXPECT_EQ(yield_count(kVpa0), 2u);
    EXPECT_EQ(rd(kVpa0 + vpa::kOffCmoFaults, 8), 2u);
    EXPECT_EQ(rd(kVpa0 + vpa::kOffCmoFaultTime, 8), 20u);
}

TEST_F(VpaTest, DispatchTraceLogEntriesFollowTheEnableMask) {
    prepare_vpa(kVpa0);
    reg(vpa::kRegVpa, 0, kVpa0);
    prepare32(kDtl0, 2 * 48 + 10);  // two entries
    reg(vpa::kRegDtl, 0, kDtl0);
    ASSERT_EQ(rc(), H_SUCCESS);
    vpa_dispatched(*v_, 0);
    v_->sprs.asdr = 0x5000;
    vpa_undispatched(*v_, Next::Block, Vector::HDSI);
    vpa_dispatched(*v_, 3);
    EXPECT_EQ(rd(kVpa0 + vpa::kOffDtlIdx, 8), 0u);  // mask 0: nothing logged

    mem_[kVpa0 + vpa::kOffDtlMask] = vpa::kDtlLogFault | vpa::kDtlLogPreempt;
    v_->regs.pc = 0x1234, v_->regs.msr = 0x8000000000001000ULL;
    vpa_undispatched(*v_, Next::Block, Vector::HDSI);
    vpa_dispatched(*v_, 3);
    ASSERT_EQ(rd(kVpa0 + vpa::kOffDtlIdx, 8), 1u);
    EXPECT_EQ(mem_[kDtl0 + 0], vpa::kDispatchPageFault);
    EXPECT_EQ(mem_[kDtl0 + 1], vpa::kPreemptPageFault);
    EXPECT_EQ(rd(kDtl0 + 2, 2), 3u);            // processor
    EXPECT_NE(rd(kDtl0 + 16, 8), 0u);           // timebase
    EXPECT_EQ(rd(kDtl0 + 24, 8), 0x5000u);      // fault address
    EXPECT_EQ(rd(kDtl0 + 32, 8), 0x1234u);      // srr0
    EXPECT_EQ(rd(kDtl0 + 40, 8), 0x8000000000001000ULL);

    v_->state = VcpuState::Ceded;
    vpa_undispatched(*v_, Next::Block, Vector::Hcall);  // H_CEDE: not enabled
    vpa_dispatched(*v_, 3);
    EXPECT_EQ(rd(kVpa0 + vpa::kOffDtlIdx, 8), 1u);
    vpa_undispatched(*v_, Next::Resume, Vector::HDecrementer);
    vpa_dispatched(*v_, 3);
    vpa_undispatched(*v_, Next::Resume, Vector::HDecrementer);
    vpa_dispatched(*v_, 2);
    EXPECT_EQ(rd(kVpa0 + vpa::kOffDtlIdx, 8), 3u);
    EXPECT_EQ(mem_[kDtl0 + 48 + 1], vpa::kPreemptTimeSlice);
    EXPECT_EQ(mem_[kDtl0 + 1], vpa::kPreemptTimeSlice);  // the ring wrapped
    EXPECT_EQ(rd(kDtl0 + 2, 2), 2u);
    EXPECT_EQ(mem_[kDtl0 + 2 * 48], 0u);  // never beyond the registered entries

    prepare32(kDtl1, 4096);  // a new DTL starts again at index 0
    reg(vpa::kRegDtl, 0, kDtl1);
    EXPECT_EQ(rd(kVpa0 + vpa::kOffDtlIdx, 8), 0u);
}

TEST_F(VpaTest, NoWritesThroughADeregisteredArea) {
    prepare_vpa(kVpa0);
    reg(vpa::kRegVpa, 0, kVpa0);
    reg(vpa::kDeregVpa, 0, 0);
    std::vector<u8> before(mem_.begin() + kVpa0, mem_.begin() + kVpa0 + 0x400);
    vpa_dispatched(*v_, 0);
    vpa_undispatched(*v_, Next::Yield, Vector::Hcall);
    vpa_note_hv_fault(*v_, 99);
    EXPECT_TRUE(std::equal(before.begin(), before.end(), mem_.begin() + kVpa0));
}

TEST_F(VpaTest, ProcessTableIsPinnedAndTheOldOneUnpinnedAfterTheSwitch) {
    constexpr u64 kFlags = PROC_TABLE_NEW | PROC_TABLE_RADIX | PROC_TABLE_GTSE;
    call(H_REGISTER_PROC_TBL, kFlags, 0x20000, 0, 0);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(table_[1].dw1.get(), 0x8000000000020000ULL);
    call(H_REGISTER_PROC_TBL, kFlags, 0x40000, 0, 2);  // 16 KiB table
    EXPECT_EQ(rc(), H_SUCCESS);
    call(H_REGISTER_PROC_TBL, PROC_TABLE_DEREG, 0, 0, 0);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(table_[1].dw1.get(), 0x8000000000000000ULL);
    EXPECT_EQ(g_calls, (std::vector<PinCall>{pin(0x20000, 0x1000), pin(0x40000, 0x4000), unpin(0x20000, 0x1000),
                                             unpin(0x40000, 0x4000)}));
    EXPECT_EQ(p_->prtb_pin_len, 0u);

    g_calls.clear();
    g_next_pin = PinResult::OverLimit;
    call(H_REGISTER_PROC_TBL, kFlags, 0x20000, 0, 0);
    EXPECT_EQ(rc(), H_RESOURCE);
    EXPECT_EQ(table_[1].dw1.get(), 0x8000000000000000ULL);
    g_next_pin = PinResult::Blocked;
    EXPECT_EQ(call(H_REGISTER_PROC_TBL, kFlags, 0x20000, 0, 0), Next::Block);
    EXPECT_EQ(table_[1].dw1.get(), 0x8000000000000000ULL);
    EXPECT_EQ(p_->prtb_pin_len, 0u);
    call(H_REGISTER_PROC_TBL, kFlags, 0x20800, 0, 0);  // argument errors come before any pin
    EXPECT_EQ(rc(), H_PARAMETER);
    EXPECT_EQ(g_calls.size(), 2u);
}

TEST_F(VpaTest, PartitionStopUnpinsEverythingOnce) {
    register_all_on_vcpu0();
    reg(vpa::kRegVpa, 1, kVpa1);
    call(H_REGISTER_PROC_TBL, PROC_TABLE_NEW | PROC_TABLE_RADIX, 0x20000, 0, 0);
    g_calls.clear();

    Hypervisor& h = hv();
    vpa_release_ended_partitions();  // still running: nothing
    EXPECT_TRUE(g_calls.empty());
    p_->state = PartitionState::Stopped;
    p_->finished = true;
    h.live_partitions = 0;
    vpa_release_ended_partitions();  // not announced as ended yet (maybe_finish does that): nothing
    EXPECT_TRUE(g_calls.empty());
    vpa_note_partition_finished();
    vpa_release_ended_partitions();
    EXPECT_EQ(g_calls, (std::vector<PinCall>{unpin(kSlb0, 0x80), unpin(kDtl0, 4080), unpin(kVpa0, 0x400),
                                             unpin(kVpa1, 0x400), unpin(0x20000, 0x1000)}));
    vpa_release_ended_partitions();
    vpa_partition_stopped(*p_);  // idempotent
    EXPECT_EQ(g_calls.size(), 5u);
    EXPECT_EQ(v_->vpa.vpa.addr, 0u);
    u32 yc = yield_count(kVpa0);
    vpa_dispatched(*v_, 0);
    EXPECT_EQ(yield_count(kVpa0), yc);
}

TEST_F(VpaTest, DedicatedPartitionsPinThroughTheAmsLayer) {
    vpa_set_pin_ops(nullptr);  // the real ams_pin_area: nothing to do for dedicated memory
    prepare_vpa(kVpa0);
    reg(vpa::kRegVpa, 0, kVpa0);
    EXPECT_EQ(rc(), H_SUCCESS);
    vpa_dispatched(*v_, 0);
    EXPECT_EQ(yield_count(kVpa0), 2u);
    reg(vpa::kDeregVpa, 0, 0);
    EXPECT_EQ(rc(), H_SUCCESS);
}

// A partition that migrated in reads its own timebase (host TB + its offset,
// docs/migration.md "Timebase"): the DTL's timestamps are in that timebase.
TEST_F(VpaTest, DispatchTraceLogTimestampsAreThePartitionsTimebase) {
    prepare_vpa(kVpa0);
    reg(vpa::kRegVpa, 0, kVpa0);
    prepare32(kDtl0, 2 * 48 + 10);
    reg(vpa::kRegDtl, 0, kDtl0);
    ASSERT_EQ(rc(), H_SUCCESS);
    mem_[kVpa0 + vpa::kOffDtlMask] = vpa::kDtlLogPreempt;
    p_->tb_offset = u64{0x1234} << 24;
    vpa_dispatched(*v_, 0);
    u64 before = arch::timebase();
    vpa_undispatched(*v_, Next::Resume, Vector::HDecrementer);
    vpa_dispatched(*v_, 0);
    u64 after = arch::timebase();
    ASSERT_EQ(rd(kVpa0 + vpa::kOffDtlIdx, 8), 1u);
    EXPECT_GE(rd(kDtl0 + 16, 8), before + p_->tb_offset);
    EXPECT_LE(rd(kDtl0 + 16, 8), after + p_->tb_offset);
}

}  // namespace
