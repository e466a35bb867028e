// The POWER9 exit decoding (arch/ppc64/exit_decode.h): register bits → Exit.
#include <gtest/gtest.h>

#include "arch/ppc64/exit_decode.h"

using namespace pv;
using namespace pv::arch;

namespace {

ExitRegs at(Vector v) {
    ExitRegs r{};
    r.vector = static_cast<u64>(v);
    return r;
}

constexpr u64 kGuestMsr = msr::SF | msr::EE | msr::ME | msr::IR | msr::DR | msr::RI | msr::LE;

TEST(ExitDecode, HdsiStoreAndLoad) {
    ExitRegs r = at(Vector::HDSI);
    r.asdr = 0x12345000, r.hdar = 0xc000000012345678, r.hdsisr = 0x42000000;  // no translation, store (QEMU)
    Exit e = decode_exit(r);
    EXPECT_EQ(e.kind, ExitKind::StorageFault);
    EXPECT_EQ(e.addr.value, 0x12345000u);
    EXPECT_EQ(e.ea, 0xc000000012345678u);
    EXPECT_EQ(e.access, Access::Store);
    EXPECT_EQ(e.cause, 0x42000000u);
    r.hdsisr = 0x40000000;
    EXPECT_EQ(decode_exit(r).access, Access::Load);
}

TEST(ExitDecode, HisiIsAFetchAtThePc) {
    ExitRegs r = at(Vector::HISI);
    r.asdr = 0x7000, r.pc = 0xc000000000007010, r.hdar = 0xdead;  // HDAR is not set by an HISI
    Exit e = decode_exit(r);
    EXPECT_EQ(e.kind, ExitKind::StorageFault);
    EXPECT_EQ(e.access, Access::Fetch);
    EXPECT_EQ(e.ea, 0xc000000000007010u);
    EXPECT_EQ(e.addr.value, 0x7000u);
}

TEST(ExitDecode, EmulationAssistInstructionAndPriorProgramCheck) {
    ExitRegs r = at(Vector::HEmulAssist);
    r.heir = 0xffffffff7c0004ac, r.pc = 0x1234;
    Exit e = decode_exit(r);
    EXPECT_EQ(e.kind, ExitKind::EmulationAssist);
    EXPECT_EQ(e.instruction, 0x7c0004acu);
    EXPECT_FALSE(e.after_privileged);
    r.pc = 0x700, r.srr1 = kGuestMsr | ppc_bit(45);  // its program interrupt: privileged instruction
    EXPECT_TRUE(decode_exit(r).after_privileged);
    r.srr1 = kGuestMsr | ppc_bit(44);  // trap, not privileged
    EXPECT_FALSE(decode_exit(r).after_privileged);
}

TEST(ExitDecode, SystemResetAndMachineCheckRecoverableOnlyWithRi) {
    for (Vector v : {Vector::SystemReset, Vector::MachineCheck}) {
        ExitRegs r = at(v);
        r.srr1 = kGuestMsr | ppc_bit(44);  // POWER9: an externally requested system reset
        Exit e = decode_exit(r);
        EXPECT_EQ(e.kind, v == Vector::SystemReset ? ExitKind::SystemReset : ExitKind::MachineCheck);
        EXPECT_FALSE(e.lost);
        EXPECT_EQ(e.cause, ppc_bit(44));
        EXPECT_TRUE(is_host_event(e.kind));
        r.srr1 &= ~msr::RI;
        EXPECT_TRUE(decode_exit(r).lost);
    }
}

TEST(ExitDecode, HostInterruptsAndUnknownVectors) {
    ExitRegs r = at(Vector::HMaint);
    r.hmer = ppc_bit(2);
    EXPECT_EQ(decode_exit(r).kind, ExitKind::Hmi);
    EXPECT_EQ(decode_exit(r).cause, ppc_bit(2));
    EXPECT_EQ(decode_exit(at(Vector::External)).kind, ExitKind::External);
    EXPECT_EQ(decode_exit(at(Vector::HVirt)).kind, ExitKind::External);
    EXPECT_EQ(decode_exit(at(static_cast<Vector>(0x300))).kind, ExitKind::Unknown);
    EXPECT_EQ(decode_exit(at(static_cast<Vector>(0xf60))).kind, ExitKind::Unknown);
    for (Vector v : {Vector::HMaint, Vector::External, Vector::HVirt}) EXPECT_FALSE(decode_exit(at(v)).lost);
}

TEST(ExitDecode, PartitionExitsAreNotHostEvents) {
    EXPECT_EQ(decode_exit(at(Vector::Hcall)).kind, ExitKind::Hcall);
    EXPECT_EQ(decode_exit(at(Vector::HDecrementer)).kind, ExitKind::HDecrementer);
    EXPECT_EQ(decode_exit(at(Vector::HDoorbell)).kind, ExitKind::Doorbell);
    ExitRegs r = at(Vector::HFacility);
    r.hfscr = (u64{3} << 56) | 0xff;  // cause 3, facilities enabled below
    Exit e = decode_exit(r);
    EXPECT_EQ(e.kind, ExitKind::FacilityUnavailable);
    EXPECT_EQ(e.cause, 3u);
    for (Vector v : {Vector::Hcall, Vector::HDecrementer, Vector::HDSI, Vector::HISI, Vector::HEmulAssist,
                     Vector::HDoorbell, Vector::HFacility})
        EXPECT_FALSE(is_host_event(decode_exit(at(v)).kind));
}

TEST(ExitDecode, ResumeMsrDropsOnlyTheInterruptBits) {
    u64 srr1 = kGuestMsr | ppc_bit(33) | ppc_bit(36) | ppc_bit(42) | ppc_bit(44) | ppc_bit(47);
    EXPECT_EQ(resume_msr(srr1), kGuestMsr);
    EXPECT_EQ(resume_msr(kGuestMsr), kGuestMsr);
}

}  // namespace
