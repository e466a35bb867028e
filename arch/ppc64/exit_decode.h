// POWER9 interrupt registers → the typed Exit record the core reads
// (hv/exit.h). Pure: no instructions here, so host unit tests check it
// (tests/unit/exit_decode_test.cpp); arch/ppc64/cpu.cpp reads the registers.
#pragma once
#include "hv/exit.h"

namespace pv::arch {

// Interrupt-specific bits of SRR1/HSRR1 (ISA 3.0: 33:36 and 42:47); the rest
// is the interrupted MSR.
inline constexpr u64 kSrr1InterruptBits = 0x783f0000;
static_assert(kSrr1InterruptBits == (ppc_bit(33) | ppc_bit(34) | ppc_bit(35) | ppc_bit(36) | ppc_bit(42) |
                                     ppc_bit(43) | ppc_bit(44) | ppc_bit(45) | ppc_bit(46) | ppc_bit(47)));
inline constexpr u64 kSrr1ProgramPrivileged = ppc_bit(45);  // program interrupt: privileged instruction
inline constexpr u64 kHdsisrStore = ppc_bit(38);            // HDSI: the access was a store
inline constexpr unsigned kHfscrCauseShift = 56;            // HFSCR[IC], bits 0:7

// What the exit path and save_sprs read at an exit. Not initialised (the
// exit path fills what its vector needs, on every exit): decode_exit reads
// vector, pc, msr, srr0 and srr1 always, the others only for their vector.
struct ExitRegs {
    u64 vector;
    u64 pc, msr;      // the resume point (HSRR0/1, or SRR0/1), as saved
    u64 srr0, srr1;   // SRR0/SRR1 at the exit
    u64 hdar, hdsisr, asdr;  // HDSI (ASDR also HISI)
    u64 heir;         // HEAI
    u64 hfscr;        // hypervisor facility unavailable
    u64 hmer;         // HMI: HMER as it was before it was handled
};

constexpr Exit decode_exit(const ExitRegs& r) {
    Exit e;
    e.vector = static_cast<Vector>(r.vector);
    switch (e.vector) {
    case Vector::Hcall: e.kind = ExitKind::Hcall; break;
    case Vector::HDecrementer: e.kind = ExitKind::HDecrementer; break;
    case Vector::HDSI:
        e.kind = ExitKind::StorageFault;
        e.addr = LogicalAddr{r.asdr};  // partition-scoped: ASDR holds the logical address
        e.ea = r.hdar;
        e.access = (r.hdsisr & kHdsisrStore) ? Access::Store : Access::Load;
        e.cause = r.hdsisr;
        break;
    case Vector::HISI:
        e.kind = ExitKind::StorageFault;
        e.addr = LogicalAddr{r.asdr};
        e.ea = r.pc;
        e.access = Access::Fetch;
        break;
    case Vector::HEmulAssist:
        e.kind = ExitKind::EmulationAssist;
        e.instruction = static_cast<u32>(r.heir);
        e.after_privileged = r.pc == 0x700 && (r.srr1 & kSrr1ProgramPrivileged);
        break;
    case Vector::HFacility:
        e.kind = ExitKind::FacilityUnavailable;
        e.cause = r.hfscr >> kHfscrCauseShift;
        break;
    case Vector::HDoorbell: e.kind = ExitKind::Doorbell; break;
    case Vector::SystemReset:
    case Vector::MachineCheck:
        // Both overwrite SRR0/SRR1 whatever the interrupted context did with them.
        e.kind = e.vector == Vector::SystemReset ? ExitKind::SystemReset : ExitKind::MachineCheck;
        e.lost = !(r.srr1 & msr::RI);
        e.cause = r.srr1 & kSrr1InterruptBits;
        break;
    case Vector::HMaint:
        e.kind = ExitKind::Hmi;
        e.cause = r.hmer;
        break;
    case Vector::External:
    case Vector::HVirt: e.kind = ExitKind::External; break;
    default: e.kind = ExitKind::Unknown; break;
    }
    return e;
}

// The MSR to resume with: the saved (H)SRR1 without its interrupt bits.
constexpr u64 resume_msr(u64 saved_srr1) { return saved_srr1 & ~kSrr1InterruptBits; }

}  // namespace pv::arch
