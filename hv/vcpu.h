// A virtual processor: its saved register state and its scheduling state.
#pragma once
#include <cstddef>

#include "base/types.h"
#include "mm/fault.h"
#include "hv/vpa.h"

namespace pv {

struct Partition;

// Saved by the exit path in assembly (arch/ppc64/exceptions.S); the offsets
// below are that code's contract with C++.
struct VcpuRegs {
    u64 gpr[32];
    u64 cr;
    u64 lr;
    u64 ctr;
    u64 xer;
    u64 pc;   // where the partition resumes (HSRR0, or SRR0 after sc 1)
    u64 msr;  // its MSR (HSRR1, or SRR1 after sc 1)
};
inline constexpr std::size_t kRegsCr = 256, kRegsLr = 264, kRegsCtr = 272, kRegsXer = 280,
                             kRegsPc = 288, kRegsMsr = 296;
static_assert(offsetof(VcpuRegs, cr) == kRegsCr && offsetof(VcpuRegs, lr) == kRegsLr &&
              offsetof(VcpuRegs, ctr) == kRegsCtr && offsetof(VcpuRegs, xer) == kRegsXer &&
              offsetof(VcpuRegs, pc) == kRegsPc && offsetof(VcpuRegs, msr) == kRegsMsr);

// Partition-visible SPRs switched in C++ on every exit and entry.
struct VcpuSprs {
    u64 srr0, srr1, dar, dsisr;
    u64 sprg[4];
    u64 dec;       // guest decrementer at exit (sign-extended 32-bit)
    u64 dec_tb;    // timebase when dec was saved
    u64 pid, amr, cfar;
    // Why the partition left (hypervisor interrupt registers at exit).
    u64 hdar, hdsisr, asdr, heir;
};

enum class VcpuState : u8 {
    Stopped,   // never started, stop-self, or its partition ended
    Runnable,  // on the run queue
    Running,   // on a hardware thread
    Ceded,     // H_CEDE: waits for H_PROD or its decrementer
    PageWait,  // parked on a hypervisor page fault (docs/page-fault.md)
};

struct VcpuStats {
    u64 hcalls = 0;
    u64 exits = 0;
    u64 guest_tb = 0;  // timebase ticks spent in the partition
};

struct Vcpu {
    VcpuRegs regs{};
    VcpuSprs sprs{};
    Partition* part = nullptr;
    VcpuId id{};
    VcpuState state = VcpuState::Stopped;
    bool prodded = false;         // an H_PROD arrived while not ceded
    u64 wake_tb = 0;              // Ceded: resume no later than this
    u64 entry_tb = 0;             // timebase at the last entry
    u64 tb_since_hcall = 0;       // watchdog: guest time without a hypervisor call
    Vcpu* next = nullptr;         // run queue link
    bool queued = false;          // on the run queue (guarded by its lock)
    VcpuStats stats{};
    VcpuFaultState fault{};       // shared-memory partitions: paging state
    VcpuVpa vpa{};                // registered VPA/DTL/SLB shadow and their counters (hv/vpa.h)
    bool mc_in_progress = false;  // FWNMI machine check delivered, ibm,nmi-interlock not yet called
    u64 resume_instructions = 0;  // make bench: completion path up to runnable (0: none)
};

}  // namespace pv
