// XICS through hcalls (hv/xics.h): every hcall and state transition, delivery
// to a vCPU in each scheduling state, and the injection decision at entry.
#include <gtest/gtest.h>

#include "hv/exit.h"
#include "hv/machine_check.h"
#include "hv/xics.h"
#include "tests/unit/host_partition.h"

namespace pv::arch {
extern u64 g_fake_kicks;
extern Pir g_fake_last_kick;
}  // namespace pv::arch

namespace pv {
namespace {

using namespace papr;

class XicsTest : public test::HostPartitionTest {
protected:
    void SetUp() override {
        set_up_partition(2);
        while (hv().runq.pop()) {
        }
        for (u32 i = 0; i < 2; ++i) {
            Icp& icp = p_->vcpus[i].icp;
            icp.cppr = 0xff;  // as Linux sets it at boot
            icp.mfrr = 0xff;
            icp.xisr = 0;
            icp.presented = false;
            icp.lpcr_mer = 0;
        }
        t_ = &p_->vcpus[1];
        arch::g_fake_kicks = 0;
    }
    void TearDown() override {
        hv().thread_count = 0;
        hv().threads[0] = nullptr;
        test::HostPartitionTest::TearDown();
    }
    // The call as vCPU `from`.
    Next call_as(Vcpu* from, u64 nr, u64 a1 = 0, u64 a2 = 0) {
        std::swap(v_, from);
        Next n = call(nr, a1, a2);
        std::swap(v_, from);
        return n;
    }
    u64 r4(const Vcpu* v) const { return v->regs.gpr[4]; }
    Vcpu* t_ = nullptr;
};

TEST_F(XicsTest, IpiIsPresentedOnlyWhileMfrrIsMoreFavouredThanCppr) {
    call(H_IPI, 1, 5);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_TRUE(icp_presented(t_->icp));
    EXPECT_EQ(t_->icp.xisr, kXicsIpi);
    EXPECT_EQ(t_->icp.pending_pri, 5);
    EXPECT_FALSE(icp_presented(v_->icp));  // not the sender's

    call(H_IPI, 1, 0xff);  // cleared
    EXPECT_FALSE(icp_presented(t_->icp));
    EXPECT_EQ(t_->icp.xisr, 0u);

    t_->icp.cppr = 5;
    call(H_IPI, 1, 5);  // equal priority is not more favoured
    EXPECT_FALSE(icp_presented(t_->icp));
    call(H_IPI, 1, 4);
    EXPECT_TRUE(icp_presented(t_->icp));
}

TEST_F(XicsTest, IpiToAnUnknownServerIsHParameter) {
    call(H_IPI, 2, 5);
    EXPECT_EQ(rc(), H_PARAMETER);
    call(H_IPOLL, 9);
    EXPECT_EQ(rc(), H_PARAMETER);
}

TEST_F(XicsTest, XirrAcceptsRaisingCpprAndEoiRestoresIt) {
    call(H_IPI, 0, 5);  // to itself
    ASSERT_TRUE(icp_presented(v_->icp));
    call(H_XIRR, 0xff);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(r4(v_), 0xff000002u);  // old CPPR << 24 | XISR
    EXPECT_EQ(v_->icp.cppr, 5);
    EXPECT_FALSE(icp_presented(v_->icp));  // accepted
    call(H_XIRR);
    EXPECT_EQ(r4(v_), 0x05000000u);  // nothing more

    call(H_IPI, 0, 0xff);  // Linux clears MFRR in its IPI handler
    call(H_EOI, 0xff000002);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(v_->icp.cppr, 0xff);
    EXPECT_FALSE(icp_presented(v_->icp));
}

TEST_F(XicsTest, EoiWithMfrrStillSetPresentsAgain) {
    call(H_IPI, 0, 5);
    call(H_XIRR);
    u64 xirr = r4(v_);
    call(H_EOI, xirr);
    EXPECT_EQ(v_->icp.cppr, 0xff);
    EXPECT_TRUE(icp_presented(v_->icp));
    EXPECT_EQ(v_->icp.xisr, kXicsIpi);
}

TEST_F(XicsTest, EoiOfASourceThatDoesNotExistIsHParameterButRestoresCppr) {
    v_->icp.cppr = 3;
    call(H_EOI, 0xff000010);
    EXPECT_EQ(rc(), H_PARAMETER);
    EXPECT_EQ(v_->icp.cppr, 0xff);
}

TEST_F(XicsTest, CpprMasksAndUnmasksThePendingIpi) {
    call(H_IPI, 0, 5);
    ASSERT_TRUE(icp_presented(v_->icp));
    call(H_CPPR, 0);  // most favoured: rejects
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(v_->icp.cppr, 0);
    EXPECT_FALSE(icp_presented(v_->icp));
    call(H_XIRR);
    EXPECT_EQ(r4(v_), 0u);  // nothing to accept
    call(H_CPPR, 0xff);  // MFRR is still set: presented again
    EXPECT_TRUE(icp_presented(v_->icp));
}

TEST_F(XicsTest, IpollAndXirrXDoNotOrDoAccept) {
    call(H_IPI, 1, 4);
    call(H_IPOLL, 1);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(r4(v_), 0xff000002u);
    EXPECT_EQ(v_->regs.gpr[5], 4u);  // MFRR
    EXPECT_TRUE(icp_presented(t_->icp));  // not accepted

    u64 before = arch::timebase();
    call_as(t_, H_XIRR_X);
    EXPECT_EQ(static_cast<i64>(t_->regs.gpr[3]), H_SUCCESS);
    EXPECT_EQ(r4(t_), 0xff000002u);
    EXPECT_GE(t_->regs.gpr[5], before);
    EXPECT_EQ(t_->icp.cppr, 4);
    EXPECT_FALSE(icp_presented(t_->icp));
}

TEST_F(XicsTest, IpiWakesACededVcpu) {
    t_->sprs.dec = 1000000;
    ASSERT_EQ(call_as(t_, H_CEDE), Next::Block);
    ASSERT_EQ(t_->state, VcpuState::Ceded);
    call(H_IPI, 1, 5);
    EXPECT_EQ(t_->state, VcpuState::Runnable);
    EXPECT_EQ(hv().runq.pop(), t_);
}

TEST_F(XicsTest, CedeWithAPresentedIpiReturnsAtOnce) {
    call(H_IPI, 1, 5);
    t_->sprs.dec = 1000000;
    EXPECT_EQ(call_as(t_, H_CEDE), Next::Resume);
    EXPECT_NE(t_->state, VcpuState::Ceded);
}

TEST_F(XicsTest, IpiKicksTheThreadTheTargetRunsOn) {
    PhysCpu cpu;
    cpu.pir = Pir{0x42};
    cpu.current = t_;
    hv().threads[0] = &cpu;
    hv().thread_count = 1;
    t_->state = VcpuState::Running;
    call(H_IPI, 1, 5);
    EXPECT_EQ(arch::g_fake_kicks, 1u);
    EXPECT_EQ(arch::g_fake_last_kick, Pir{0x42});
    call(H_IPI, 1, 3);  // already presented: no second doorbell
    EXPECT_EQ(arch::g_fake_kicks, 1u);
    EXPECT_EQ(hv().runq.pop(), nullptr);
}

TEST_F(XicsTest, RunnableTargetIsNeitherKickedNorQueuedTwice) {
    t_->state = VcpuState::Runnable;
    call(H_IPI, 1, 5);
    EXPECT_EQ(arch::g_fake_kicks, 0u);
    EXPECT_EQ(t_->state, VcpuState::Runnable);
    EXPECT_TRUE(icp_presented(t_->icp));  // taken at its next entry
}

TEST_F(XicsTest, InjectionWithEeTakesTheExternalInterrupt) {
    call(H_IPI, 0, 5);
    v_->regs.pc = 0x12340;
    v_->regs.msr = msr::SF | msr::EE | msr::ME | msr::RI | msr::LE | msr::IR | msr::DR;
    p_->lpcr |= lpcr::ILE;
    xics_prepare_entry_slow(*v_);
    EXPECT_EQ(v_->regs.pc, 0x500u);
    EXPECT_EQ(v_->sprs.srr0, 0x12340u);
    EXPECT_EQ(v_->sprs.srr1, msr::SF | msr::EE | msr::ME | msr::RI | msr::LE | msr::IR | msr::DR);
    EXPECT_EQ(v_->regs.msr, msr::SF | msr::ME | msr::LE);  // EE, RI, IR, DR off
    EXPECT_EQ(v_->icp.lpcr_mer, 0u);
    EXPECT_TRUE(icp_presented(v_->icp));  // until H_XIRR
}

TEST_F(XicsTest, InjectionClearsTheInterruptSpecificSrr1Bits) {
    call(H_IPI, 0, 5);
    v_->regs.msr = msr::SF | msr::EE | kSrr1InterruptBits;
    xics_prepare_entry_slow(*v_);
    EXPECT_EQ(v_->sprs.srr1, msr::SF | msr::EE);
}

TEST_F(XicsTest, InjectionHonoursAil3ForATranslatedContext) {
    call(H_IPI, 0, 5);
    p_->lpcr |= lpcr::AIL_MASK;  // AIL = 3
    v_->regs.msr = msr::SF | msr::EE | msr::IR | msr::DR;
    xics_prepare_entry_slow(*v_);
    EXPECT_EQ(v_->regs.pc, 0xc000000000004500u);
    EXPECT_EQ(v_->regs.msr & (msr::IR | msr::DR), msr::IR | msr::DR);
}

TEST_F(XicsTest, WithEeOffEntryRequestsMerInstead) {
    call(H_IPI, 0, 5);
    v_->regs.pc = 0x12340;
    v_->regs.msr = msr::SF | msr::ME;
    xics_prepare_entry_slow(*v_);
    EXPECT_EQ(v_->regs.pc, 0x12340u);  // not delivered
    EXPECT_EQ(v_->icp.lpcr_mer, lpcr::MER);
    EXPECT_TRUE(xics_mediated_exit(*v_));
    EXPECT_EQ(v_->icp.lpcr_mer, 0u);  // withdrawn at the exit; entry decides again

    v_->regs.msr |= msr::EE;  // the partition enabled EE: the MER exit, then entry delivers
    xics_prepare_entry_slow(*v_);
    EXPECT_EQ(v_->regs.pc, 0x500u);
    EXPECT_EQ(v_->icp.lpcr_mer, 0u);
    EXPECT_FALSE(xics_mediated_exit(*v_));
}

TEST_F(XicsTest, CpprRaisedWhileMerWasRequestedDropsTheRequest) {
    call(H_IPI, 0, 5);
    v_->regs.msr = msr::SF;
    xics_prepare_entry_slow(*v_);
    ASSERT_EQ(v_->icp.lpcr_mer, lpcr::MER);
    call(H_CPPR, 0);
    EXPECT_EQ(v_->icp.lpcr_mer, 0u);  // no stale MER exit later
}

TEST_F(XicsTest, IpiClearedBySenderDropsTheTargetsMerRequest) {
    call(H_IPI, 1, 5);
    t_->regs.msr = msr::SF;
    xics_prepare_entry_slow(*t_);
    ASSERT_EQ(t_->icp.lpcr_mer, lpcr::MER);
    call(H_IPI, 1, 0xff);
    EXPECT_EQ(t_->icp.lpcr_mer, 0u);
    EXPECT_FALSE(xics_mediated_exit(*t_));  // a host external interrupt, then
}

TEST_F(XicsTest, NothingPresentedLeavesTheVcpuAlone) {
    v_->regs.pc = 0x700;
    v_->regs.msr = msr::SF | msr::EE;
    xics_prepare_entry_slow(*v_);
    EXPECT_EQ(v_->regs.pc, 0x700u);
    EXPECT_EQ(v_->regs.msr, msr::SF | msr::EE);
}

// H_XIRR_X's timebase is the partition's (host TB + its offset).
TEST_F(XicsTest, XirrXReturnsThePartitionsTimebase) {
    p_->tb_offset = u64{0x55} << 24;
    u64 before = arch::timebase();
    call_as(t_, H_XIRR_X);
    u64 after = arch::timebase();
    EXPECT_EQ(static_cast<i64>(t_->regs.gpr[3]), H_SUCCESS);
    EXPECT_GE(t_->regs.gpr[5], before + p_->tb_offset);
    EXPECT_LE(t_->regs.gpr[5], after + p_->tb_offset);
}

}  // namespace
}  // namespace pv
