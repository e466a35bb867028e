// Machine-check delivery to a parked vCPU, the FWNMI RTAS calls
// (ibm,nmi-register, ibm,nmi-interlock), ibm,os-term and H_PV_GET_ERROR_LOG,
// against a partition whose "logical memory" is a host buffer (arch/fake maps
// host-real addresses 1:1), like hcall_test.cpp.
#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstring>
#include <string>
#include <vector>

#include "hv/guest_fdt.h"
#include "hv/machine_check.h"
#include "hv/rtas_error_log.h"
#include "tests/unit/host_partition.h"

using namespace pv;
using namespace pv::papr;

namespace {

constexpr u64 kMem = test::kHostPartitionMem;
constexpr u64 kRtasBase = kMem - (64 << 10);
constexpr u64 kRtasSize = 64 << 10;
constexpr u64 kGuestMsr = msr::SF | msr::ME | msr::IR | msr::DR | msr::RI | msr::LE | msr::EE;
constexpr u64 kHandler = 0x7100;

u32 be32(const u8* p) { return u32{p[0]} << 24 | u32{p[1]} << 16 | u32{p[2]} << 8 | p[3]; }
u64 be64(const u8* p) { return u64{be32(p)} << 32 | be32(p + 4); }

class MachineCheckTest : public test::HostPartitionTest {
protected:
    void SetUp() override {
        hv().paging_errors.clear();
        set_up_partition(2);
        p_->rtas_base = kRtasBase;
        p_->rtas_size = kRtasSize;
    }

    // A vCPU parked on a page-in: where it was, what it had in r3.
    void park(Vcpu& v, u64 pc, u64 r3) {
        v.state = VcpuState::PageWait;
        v.regs.pc = pc;
        v.regs.msr = kGuestMsr;
        v.regs.gpr[3] = r3;
    }

    i32 rtas_status(u32 nargs) { return static_cast<i32>(rtas_ret(nargs, 0)); }
    void register_fwnmi() {
        rtas("ibm,nmi-register", {0x7000, static_cast<u32>(kHandler)}, 1);
        ASSERT_EQ(rtas_status(2), 0);
    }
};

TEST_F(MachineCheckTest, WithoutFwnmiTheArchitectedInterruptIsTaken) {
    Vcpu& t = p_->vcpus[1];
    park(t, 0x4444, 77);
    EXPECT_EQ(deliver_machine_check(t, 0xc000000000123450ULL, 0x123450), McDelivery::Architected);
    EXPECT_EQ(t.regs.pc, 0x200u);
    EXPECT_EQ(t.regs.msr, msr::SF | msr::ME);  // LPCR[ILE] clear: big-endian
    EXPECT_EQ(t.sprs.srr0, 0x4444u);
    EXPECT_EQ(t.sprs.srr1, kGuestMsr | ppc_bit(42));
    EXPECT_EQ(t.sprs.dar, 0xc000000000123450ULL);
    EXPECT_EQ(t.sprs.dsisr, 0x8000u);
    EXPECT_EQ(t.regs.gpr[3], 77u);  // untouched: no log
    EXPECT_FALSE(t.mc_in_progress);
    for (u64 i = kRtasBase; i < kRtasBase + 0x200; ++i) ASSERT_EQ(mem_[i], 0) << i;
}

TEST_F(MachineCheckTest, Srr1KeepsTheMsrButReplacesTheInterruptBits) {
    Vcpu& t = p_->vcpus[1];
    park(t, 0x4444, 0);
    t.regs.msr = kGuestMsr | 0x783f0000;  // junk where the interrupt-specific bits go
    p_->lpcr |= lpcr::ILE;
    EXPECT_EQ(deliver_machine_check(t, 0x10, 0x10), McDelivery::Architected);
    EXPECT_EQ(t.sprs.srr1, kGuestMsr | ppc_bit(42));
    EXPECT_TRUE(t.sprs.srr1 & msr::RI);
    EXPECT_EQ(t.regs.msr, msr::SF | msr::ME | msr::LE);
}

TEST_F(MachineCheckTest, FwnmiEntersTheHandlerWithTheLogInTheRtasArea) {
    register_fwnmi();
    p_->lpcr |= lpcr::ILE;
    Vcpu& t = p_->vcpus[0];
    park(t, 0x5550, 0x1122334455667788ULL);
    EXPECT_EQ(deliver_machine_check(t, 0xc000000000abc008ULL, 0xabc008), McDelivery::Fwnmi);
    EXPECT_EQ(t.regs.pc, kHandler);
    EXPECT_EQ(t.regs.msr, msr::SF | msr::ME | msr::LE);
    EXPECT_EQ(t.regs.gpr[3], kRtasBase + 0x30);
    EXPECT_EQ(t.sprs.srr0, 0x5550u);
    EXPECT_EQ(t.sprs.srr1, kGuestMsr | ppc_bit(42));
    EXPECT_TRUE(t.mc_in_progress);
    // Linux (pseries/ras.c VALID_FWNMI_BUFFER): r3 inside RTAS, 16 bytes from its end.
    u64 savep = t.regs.gpr[3] & ~(u64{3} << 62);
    EXPECT_TRUE(savep >= kRtasBase && savep <= kRtasBase + kRtasSize - 16);
    const u8* at = mem_.data() + savep;
    EXPECT_EQ(be64(at), 0x1122334455667788ULL);  // the original r3
    const u8* log = at + 8;
    EXPECT_EQ(log[0], 6);
    EXPECT_EQ(be32(log + 4), rtaslog::kMcLogBytes - 8);
    const u8* mc = log + 8 + 16 + 8;  // rtas_error_log, v6 header, section header
    EXPECT_EQ(log[8 + 16], 'M');
    EXPECT_EQ(log[8 + 16 + 1], 'C');
    EXPECT_EQ(be32(mc + 4), 0u);  // proc_id: vCPU 0
    EXPECT_EQ(mc[9], 0x40 | 0x20 | 3);
    EXPECT_EQ(be64(mc + 16), 0xc000000000abc008ULL);
    EXPECT_EQ(be64(mc + 24), 0xabc008u);
}

TEST_F(MachineCheckTest, SecondMachineCheckBeforeInterlockIsNestedAndChangesNothing) {
    register_fwnmi();
    Vcpu& t = p_->vcpus[1];
    park(t, 0x5550, 1);
    ASSERT_EQ(deliver_machine_check(t, 0x1000, 0x1000), McDelivery::Fwnmi);
    VcpuRegs regs = t.regs;
    VcpuSprs sprs = t.sprs;
    std::vector<u8> rtas(mem_.begin() + kRtasBase, mem_.begin() + kRtasBase + 0x400);
    EXPECT_EQ(deliver_machine_check(t, 0x2000, 0x2000), McDelivery::Nested);
    EXPECT_EQ(std::memcmp(&regs, &t.regs, sizeof regs), 0);
    EXPECT_EQ(std::memcmp(&sprs, &t.sprs, sizeof sprs), 0);
    EXPECT_TRUE(std::equal(rtas.begin(), rtas.end(), mem_.begin() + kRtasBase));
    EXPECT_TRUE(t.mc_in_progress);
}

TEST_F(MachineCheckTest, InterlockReleasesTheVcpuForTheNextMachineCheck) {
    register_fwnmi();
    park(*v_, 0x5550, 1);
    ASSERT_EQ(deliver_machine_check(*v_, 0x1000, 0x1000), McDelivery::Fwnmi);
    v_->state = VcpuState::Running;  // its handler runs and calls ibm,nmi-interlock
    rtas("ibm,nmi-interlock", {}, 1);
    EXPECT_EQ(rtas_status(0), 0);
    EXPECT_FALSE(v_->mc_in_progress);
    park(*v_, 0x6660, 2);
    EXPECT_EQ(deliver_machine_check(*v_, 0x3000, 0x3000), McDelivery::Fwnmi);
}

TEST_F(MachineCheckTest, InterlockWithoutAMachineCheckSucceedsButNotBeforeRegistering) {
    rtas("ibm,nmi-interlock", {}, 1);
    EXPECT_EQ(rtas_status(0), -3);
    register_fwnmi();
    rtas("ibm,nmi-interlock", {}, 1);  // Linux does this after a system reset
    EXPECT_EQ(rtas_status(0), 0);
    rtas("ibm,nmi-interlock", {1}, 1);
    EXPECT_EQ(rtas_status(1), -3);
}

TEST_F(MachineCheckTest, InterlockOnlyReleasesTheCallingVcpu) {
    register_fwnmi();
    Vcpu& other = p_->vcpus[1];
    park(other, 0x5550, 1);
    ASSERT_EQ(deliver_machine_check(other, 0x1000, 0x1000), McDelivery::Fwnmi);
    rtas("ibm,nmi-interlock", {}, 1);  // issued by vCPU 0
    EXPECT_EQ(rtas_status(0), 0);
    EXPECT_TRUE(other.mc_in_progress);
}

TEST_F(MachineCheckTest, VcpusInFlightTogetherKeepTheirOwnBuffers) {
    register_fwnmi();
    Vcpu& a = p_->vcpus[0];
    Vcpu& b = p_->vcpus[1];
    park(a, 0x100, 0xaaaa);
    park(b, 0x200, 0xbbbb);
    ASSERT_EQ(deliver_machine_check(a, 0x1000, 0x1000), McDelivery::Fwnmi);
    ASSERT_EQ(deliver_machine_check(b, 0x2000, 0x2000), McDelivery::Fwnmi);
    EXPECT_EQ(a.regs.gpr[3], kRtasBase + 0x30);
    EXPECT_EQ(b.regs.gpr[3], kRtasBase + 0x30 + kFwnmiSlotBytes);
    EXPECT_EQ(be64(mem_.data() + a.regs.gpr[3]), 0xaaaau);
    EXPECT_EQ(be64(mem_.data() + b.regs.gpr[3]), 0xbbbbu);
    EXPECT_EQ(be64(mem_.data() + a.regs.gpr[3] + 8 + 32 + 16), 0x1000u);  // a's effective address
    EXPECT_EQ(be32(mem_.data() + b.regs.gpr[3] + 8 + 32 + 4), 1u);        // b's proc_id
}

TEST_F(MachineCheckTest, NoRoomForTheLogFailsAndChangesNothing) {
    register_fwnmi();
    p_->rtas_size = 0x30 + 8 + 32;  // too small for the log
    Vcpu& t = p_->vcpus[0];
    park(t, 0x5550, 9);
    VcpuRegs regs = t.regs;
    VcpuSprs sprs = t.sprs;
    EXPECT_EQ(deliver_machine_check(t, 0x1000, 0x1000), McDelivery::Failed);
    EXPECT_EQ(std::memcmp(&regs, &t.regs, sizeof regs), 0);
    EXPECT_EQ(std::memcmp(&sprs, &t.sprs, sizeof sprs), 0);
    EXPECT_FALSE(t.mc_in_progress);
    p_->rtas_base = kMem - 0x40;  // the slot would run past the partition's memory
    p_->rtas_size = kRtasSize;
    EXPECT_EQ(deliver_machine_check(t, 0x1000, 0x1000), McDelivery::Failed);
}

TEST_F(MachineCheckTest, NmiRegisterChecksItsAddresses) {
    rtas("ibm,nmi-register", {0x7000, static_cast<u32>(kMem)}, 1);  // outside memory
    EXPECT_EQ(rtas_status(2), -3);
    rtas("ibm,nmi-register", {0x7002, 0x7100}, 1);  // misaligned
    EXPECT_EQ(rtas_status(2), -3);
    rtas("ibm,nmi-register", {0x7000, 0x7101}, 1);
    EXPECT_EQ(rtas_status(2), -3);
    rtas("ibm,nmi-register", {0x7000}, 1);  // one argument
    EXPECT_EQ(rtas_status(1), -3);
    EXPECT_FALSE(p_->fwnmi_registered);
    rtas("ibm,nmi-register", {0x7000, 0x7100}, 1);
    EXPECT_EQ(rtas_status(2), 0);
    EXPECT_TRUE(p_->fwnmi_registered);
    EXPECT_EQ(p_->fwnmi_sreset_addr, 0x7000u);
    EXPECT_EQ(p_->fwnmi_mc_addr, 0x7100u);
}

TEST_F(MachineCheckTest, OsTermStopsThePartitionWithItsMessage) {
    const char msg[] = "OS panic: Attempted to kill init!\n";
    std::memcpy(mem_.data() + 0x3000, msg, sizeof msg);
    EXPECT_EQ(rtas("ibm,os-term", {0x3000}, 1), Next::Stop);
    EXPECT_EQ(rtas_status(1), 0);
    EXPECT_EQ(static_cast<PartitionState>(p_->state), PartitionState::Stopped);
    EXPECT_STREQ(p_->reason, "os-term: OS panic: Attempted to kill init!");
}

TEST_F(MachineCheckTest, OsTermReadsAtMost100Bytes) {
    std::memset(mem_.data() + 0x3000, 'x', 300);
    rtas("ibm,os-term", {0x3000}, 1);
    EXPECT_EQ(std::string(p_->reason), "os-term: " + std::string(100, 'x'));
}

TEST_F(MachineCheckTest, OsTermStopsReadingAtTheEndOfMemory) {
    std::memcpy(mem_.data() + kMem - 5, "ab\x01" "cd", 5);  // no NUL; a control character
    rtas("ibm,os-term", {static_cast<u32>(kMem - 5)}, 1);
    EXPECT_STREQ(p_->reason, "os-term: ab?cd");
}

TEST_F(MachineCheckTest, OsTermWithAnUnreadableMessageStillStops) {
    EXPECT_EQ(rtas("ibm,os-term", {static_cast<u32>(kMem + 0x1000)}, 1), Next::Stop);
    EXPECT_STREQ(p_->reason, "os-term: (message not readable)");
}

TEST_F(MachineCheckTest, ErrorLogHcallReturnsThisPartitionsErrorsNewestFirst) {
    call(H_PV_GET_ERROR_LOG, 0);
    EXPECT_EQ(rc(), H_NOT_FOUND);
    auto rec = [](u32 slot, u64 page, u32 vcpu, u16 status, u64 tb) {
        PagingError e;
        e.partition_slot = slot;
        e.lp = LogicalPage{page};
        e.vcpu = vcpu;
        e.device = 2;
        e.status = status;
        e.timebase = tb;
        hv().paging_errors.record(e);
    };
    rec(0, 0x12, 1, 7, 1000);
    rec(1, 0x99, 0, 8, 1500);  // another partition's
    rec(0, 0x34, 0, 9, 2000);
    call(H_PV_GET_ERROR_LOG, 0);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(v_->regs.gpr[4], 0x34000u);
    EXPECT_EQ(v_->regs.gpr[5], 0u);
    EXPECT_EQ(v_->regs.gpr[6], 2u);
    EXPECT_EQ(v_->regs.gpr[7], 9u);
    EXPECT_EQ(v_->regs.gpr[8], 2000u);
    call(H_PV_GET_ERROR_LOG, 1);
    EXPECT_EQ(rc(), H_SUCCESS);
    EXPECT_EQ(v_->regs.gpr[4], 0x12000u);
    EXPECT_EQ(v_->regs.gpr[5], 1u);
    call(H_PV_GET_ERROR_LOG, 2);
    EXPECT_EQ(rc(), H_NOT_FOUND);
    call(H_PV_GET_ERROR_LOG, PagingErrorLog::kCapacity);
    EXPECT_EQ(rc(), H_PARAMETER);
    call(H_PV_GET_ERROR_LOG, ~u64{0});
    EXPECT_EQ(rc(), H_PARAMETER);
}

TEST(MachineCheckFdt, RtasNodeAdvertisesTheFwnmiAndOsTermCalls) {
    GuestFdtParams p{};
    p.partition_name = "p";
    p.lpid = Lpid{1};
    p.vcpus = 1;
    p.mem_bytes = 64ull << 20;
    p.rtas_base = p.mem_bytes - (1 << 20);
    p.rtas_size = 64 << 10;
    p.rtas_entry = p.rtas_base;
    p.rtas_tokens = rtas_tokens();
    p.vty_reg = 0x30000000;
    p.timebase_hz = 512000000;
    std::vector<u64> buf((64 << 10) / 8);
    ASSERT_EQ(build_guest_fdt(p, buf.data(), static_cast<u32>(buf.size() * 8)), Err::Ok);
    const void* f = buf.data();
    int rtas = fdt_path_offset(f, "/rtas");
    ASSERT_GE(rtas, 0);
    for (const char* name : {"ibm,nmi-register", "ibm,nmi-interlock", "ibm,os-term", "rtas-error-log-max"}) {
        int len = 0;
        EXPECT_NE(fdt_getprop(f, rtas, name, &len), nullptr) << name;
        EXPECT_EQ(len, 4) << name;
    }
    int len = -1;
    EXPECT_NE(fdt_getprop(f, rtas, "ibm,extended-os-term", &len), nullptr);
    EXPECT_EQ(len, 0);
    // The buffers of every vCPU fit in the RTAS area Linux is told about.
    EXPECT_LE(kFwnmiLogOffset + kMaxVcpusPerPartition * kFwnmiSlotBytes, p.rtas_size);
}

}  // namespace
