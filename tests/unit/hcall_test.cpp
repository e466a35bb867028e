// The hcall and RTAS handlers, run against a partition whose "logical
// memory" is a host buffer (arch/fake maps host-real addresses 1:1).
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/host_partition.h"

namespace pv::arch {
extern std::string g_fake_console;
}

using namespace pv;
using namespace pv::papr;

namespace {

class HcallTest : public test::HostPartitionTest {
protected:
    void SetUp() override {
        set_up_partition(2);
        arch::g_fake_console.clear();
    }
};

TEST_F(HcallTest, UnknownHcallIsHFunction) {
    EXPECT_EQ(call(0x3FF0), Next::Resume);
    EXPECT_EQ(rc(), H_FUNCTION);
    call(0x1);  // not a multiple of 4
    EXPECT_EQ(rc(), H_FUNCTION);
}

TEST_F(HcallTest, PutTermCharPrintsWholeLinesWithThePartitionName) {
    call(H_PUT_TERM_CHAR, kVtermno, 3, 0x48690a0000000000ULL);  // "Hi\n"
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(arch::g_fake_console, "[p] Hi\n");
}

TEST_F(HcallTest, PutTermCharRejectsBadTermnoAndLength) {
    call(H_PUT_TERM_CHAR, 0x1234, 1, 0x41ULL << 56);
    EXPECT_EQ(rc(), H_PARAMETER);
    call(H_PUT_TERM_CHAR, kVtermno, 17, 0);
    EXPECT_EQ(rc(), H_PARAMETER);
    EXPECT_EQ(arch::g_fake_console, "");
}

TEST_F(HcallTest, SetModeLittleEndianTogglesIle) {
    call(H_SET_MODE, 1, H_SET_MODE_RESOURCE_LE);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_TRUE(p_->lpcr & lpcr::ILE);
    call(H_SET_MODE, 0, H_SET_MODE_RESOURCE_LE);
    EXPECT_FALSE(p_->lpcr & lpcr::ILE);
    call(H_SET_MODE, 0, 99);
    EXPECT_EQ(rc(), H_P2);
    call(H_SET_MODE, 2, H_SET_MODE_RESOURCE_LE);
    EXPECT_EQ(rc(), H_UNSUPPORTED_FLAG);
}

// Linux asks for AIL 3 (vectors at 0xc000000000004000) before it enables scv.
TEST_F(HcallTest, SetModeAddressTranslationMode) {
    call(H_SET_MODE, 3, H_SET_MODE_RESOURCE_ADDR_TRANS_MODE);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(lpcr::ail_of(p_->lpcr), 3u);
    for (u64 reserved : {1, 2, 4}) {
        call(H_SET_MODE, reserved, H_SET_MODE_RESOURCE_ADDR_TRANS_MODE);
        EXPECT_EQ(rc(), H_UNSUPPORTED_FLAG);
        EXPECT_EQ(lpcr::ail_of(p_->lpcr), 3u) << "a refused mode changes nothing";
    }
    call(H_SET_MODE, 0, H_SET_MODE_RESOURCE_ADDR_TRANS_MODE);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(p_->lpcr & lpcr::AIL_MASK, 0u);
}

// Linux then keeps every mitigation on (rfi-flush fallback, barriers).
TEST_F(HcallTest, GetCpuCharacteristicsAsksForEveryMitigation) {
    call(H_GET_CPU_CHARACTERISTICS);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(v_->regs.gpr[4], 0u);
    EXPECT_TRUE(v_->regs.gpr[5] & H_CPU_BEHAV_FAVOUR_SECURITY);
    EXPECT_TRUE(v_->regs.gpr[5] & H_CPU_BEHAV_L1D_FLUSH_PR);
    EXPECT_TRUE(v_->regs.gpr[5] & H_CPU_BEHAV_BNDS_CHK_SPEC_BAR);
}

TEST_F(HcallTest, CedeBlocksUntilProdded) {
    v_->sprs.dec = 1000000;
    EXPECT_EQ(call(H_CEDE), Next::Block);
    EXPECT_EQ(v_->state, VcpuState::Ceded);
    EXPECT_TRUE(v_->regs.msr & msr::EE);
    Vcpu* other = &p_->vcpus[1];
    std::swap(v_, other);
    call(H_PROD, 0);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(other->state, VcpuState::Runnable);
    EXPECT_EQ(hv().runq.pop(), other);
    call(H_PROD, 7);
    EXPECT_EQ(rc(), H_PARAMETER);
}

TEST_F(HcallTest, ProdBeforeCedeMakesCedeReturnAtOnce) {
    p_->vcpus[0].prodded = true;
    v_->sprs.dec = 1000000;
    EXPECT_EQ(call(H_CEDE), Next::Resume);
    EXPECT_FALSE(v_->prodded);
}

TEST_F(HcallTest, RegisterProcessTableChecksItsArguments) {
    call(H_REGISTER_PROC_TBL, PROC_TABLE_NEW | PROC_TABLE_RADIX | PROC_TABLE_GTSE, 0x10000, 0, 0);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(table_[1].dw1.get(), 0x8000000000010000ULL);
    call(H_REGISTER_PROC_TBL, PROC_TABLE_NEW | PROC_TABLE_RADIX, 0x10800, 0, 0);  // misaligned
    EXPECT_EQ(rc(), H_PARAMETER);
    call(H_REGISTER_PROC_TBL, PROC_TABLE_NEW | PROC_TABLE_RADIX, 0xff000, 0, 4);  // beyond memory
    EXPECT_EQ(rc(), H_PARAMETER);
    call(H_REGISTER_PROC_TBL, PROC_TABLE_NEW, 0x10000, 0, 0);  // hash: not offered
    EXPECT_EQ(rc(), H_PARAMETER);
}

TEST_F(HcallTest, RtasArgumentsMayCrossAPage) {
    u32 token = 0;
    for (const RtasToken& t : rtas_tokens())
        if (std::string(t.name) == "display-character") token = t.token;
    auto* w = reinterpret_cast<Be32*>(mem_.data() + 0x2000 - 8);  // token, nargs | nret, arg, ret
    w[0].set(token), w[1].set(1), w[2].set(1), w[3].set('\n'), w[4].set(0xffffffff);
    call(H_RTAS, 0x2000 - 8);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(w[4].get(), 0u);
}

TEST_F(HcallTest, RtasArgumentsOutsideThePartitionAreRejected) {
    call(H_RTAS, mem_.size() - 8);
    EXPECT_EQ(rc(), H_PARAMETER);
    call(H_RTAS, 0x1002);  // misaligned
    EXPECT_EQ(rc(), H_PARAMETER);
}

TEST_F(HcallTest, RtasStartCpuAndQueryStoppedState) {
    rtas("query-cpu-stopped-state", {1}, 2);
    EXPECT_EQ(rtas_ret(1, 0), 0u);
    EXPECT_EQ(rtas_ret(1, 1), 0u);  // stopped
    rtas("start-cpu", {1, 0x2000, 42}, 1);
    EXPECT_EQ(rtas_ret(3, 0), 0u);
    EXPECT_EQ(p_->vcpus[1].state, VcpuState::Runnable);
    EXPECT_EQ(p_->vcpus[1].regs.pc, 0x2000u);
    EXPECT_EQ(p_->vcpus[1].regs.gpr[3], 42u);
    rtas("query-cpu-stopped-state", {1}, 2);
    EXPECT_EQ(rtas_ret(1, 1), 2u);
    rtas("start-cpu", {1, 0x2000, 0}, 1);  // already running
    EXPECT_NE(rtas_ret(3, 0), 0u);
    rtas("start-cpu", {5, 0x2000, 0}, 1);  // no such vCPU
    EXPECT_EQ(static_cast<i32>(rtas_ret(3, 0)), -3);
    rtas("start-cpu", {1, 0x7fffffff, 0}, 1);  // outside memory
    EXPECT_EQ(static_cast<i32>(rtas_ret(3, 0)), -3);
    hv().runq.pop();
}

TEST_F(HcallTest, RtasWrongArgumentCountIsParameterError) {
    rtas("display-character", {}, 1);
    EXPECT_EQ(static_cast<i32>(rtas_ret(0, 0)), -3);
    rtas("display-character", {'x'}, 1);
    EXPECT_EQ(rtas_ret(1, 0), 0u);
}

// display-character is the operator panel: whole lines in the hypervisor's
// log, never mixed into the partition's console line.
TEST_F(HcallTest, DisplayCharacterGoesToThePanelNotTheConsole) {
    call(H_PUT_TERM_CHAR, kVtermno, 2, 0x4142000000000000ULL);  // "AB", no newline yet
    for (char ch : std::string("Linux\n")) rtas("display-character", {static_cast<u32>(ch)}, 1);
    EXPECT_EQ(arch::g_fake_console, "poolvisor: partition p: panel: Linux\n");
    EXPECT_EQ(p_->console.len, 2u);
    EXPECT_EQ(p_->panel.len, 0u);
}

// Parameter 44: a dedicated partition has no paging service partition.
TEST_F(HcallTest, GetSystemParameterCmoCharacteristics) {
    constexpr u32 kBuf = 0x3000;
    rtas("ibm,get-system-parameter", {44, kBuf, 1024}, 1);
    EXPECT_EQ(rtas_ret(3, 0), 0u);
    const u8* b = mem_.data() + kBuf;
    std::string text(reinterpret_cast<const char*>(b + 2));
    EXPECT_EQ(text, "PrPSP=-1,SecPSP=-1,CMOPageSize=" + std::to_string(kPageShift) + ",");
    EXPECT_EQ((b[0] << 8) | b[1], static_cast<int>(text.size() + 1));
    rtas("ibm,get-system-parameter", {44, kBuf, 8}, 1);  // buffer too small
    EXPECT_EQ(static_cast<i32>(rtas_ret(3, 0)), -3);
    rtas("ibm,get-system-parameter", {20, kBuf, 1024}, 1);  // not offered
    EXPECT_EQ(static_cast<i32>(rtas_ret(3, 0)), -3);
    rtas("ibm,get-system-parameter", {44, static_cast<u32>(mem_.size() - 4), 1024}, 1);  // outside
    EXPECT_EQ(static_cast<i32>(rtas_ret(3, 0)), -3);
}

TEST_F(HcallTest, RtasPowerOffStopsThePartition) {
    EXPECT_EQ(rtas("power-off", {0, 0}, 1), Next::Stop);
    EXPECT_EQ(static_cast<PartitionState>(p_->state), PartitionState::Stopped);
    EXPECT_STREQ(p_->reason, "power-off requested");
}

}  // namespace
