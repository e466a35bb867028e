// Why a partition left to the hypervisor, as the arch layer decoded it from
// the interrupt registers (HSRR1/SRR1, HDSISR, ASDR, HEIR, HMER, ...): the
// core reads this record, never register bits. See docs/scheduler.md.
#pragma once
#include "base/types.h"
#include "hv/ppc_defs.h"

namespace pv {

enum class ExitKind : u8 {
    Unknown,  // a vector nothing here expects from a running partition (a host event)
    // Caused by the partition (or the hypervisor's own timer and kicks).
    Hcall,                // sc 1
    HDecrementer,         // the time slice ended
    StorageFault,         // partition-scoped translation fault (HDSI/HISI)
    EmulationAssist,      // illegal or hypervisor-privileged instruction
    FacilityUnavailable,  // a facility the hypervisor does not give partitions (HFSCR)
    Doorbell,             // a hypervisor doorbell: another thread kicked this one
    // Host events: the machine's, not the partition's, whichever one ran.
    SystemReset,   // 0x100 (an NMI from the service processor or firmware)
    MachineCheck,  // 0x200
    Hmi,           // hypervisor maintenance interrupt (0xE60)
    External,      // host external or virtualization interrupt (0x500, 0xEA0)
};

constexpr bool is_host_event(ExitKind k) { return k == ExitKind::Unknown || k >= ExitKind::SystemReset; }

enum class Access : u8 { Load, Store, Fetch };

// All-zero by default (cheap to build on every exit).
struct Exit {
    ExitKind kind = ExitKind::Unknown;
    Vector vector{};  // the interrupt vector (logs, dispatch accounting)
    // StorageFault: the logical address that faulted, the effective address
    // the partition used (the instruction's own for a fetch), the access.
    LogicalAddr addr{};
    u64 ea = 0;
    Access access = Access::Load;
    // EmulationAssist: the instruction word. after_privileged: it is the
    // partition's own program-interrupt vector (0x700) that holds it, and its
    // program interrupt was for a privileged instruction at SRR0.
    u32 instruction = 0;
    bool after_privileged = false;
    // SystemReset, MachineCheck: the interrupted context cannot resume
    // (MSR[RI] was 0: SRR0/SRR1 were live and the interrupt overwrote them).
    bool lost = false;
    // For logs: HDSISR (StorageFault), the SRR1 reason bits (SystemReset,
    // MachineCheck), HMER (Hmi), the HFSCR interrupt cause (FacilityUnavailable).
    u64 cause = 0;
};

}  // namespace pv
