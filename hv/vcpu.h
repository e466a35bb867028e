// A virtual processor: its saved register state and its scheduling state.
#pragma once
#include <cstddef>

#include "base/types.h"
#include "hv/facilities.h"
#include "mm/fault.h"
#include "hv/lazy_state.h"
#include "hv/vcpu_regs.h"
#include "hv/vpa.h"
#include "hv/xics.h"

namespace pv {

struct Partition;

// Partition-visible SPRs switched in C++ on every exit and entry.
struct VcpuSprs {
    u64 srr0, srr1, dar, dsisr;
    u64 sprg[4];
    u64 dec;       // guest decrementer at exit (sign-extended 32-bit)
    u64 dec_tb;    // timebase when dec was saved
    u64 pid;
    // Why the partition left (hypervisor interrupt registers at exit); the
    // core reads the decoded Exit (hv/exit.h), not these.
    u64 hdar, hdsisr, asdr, heir;
};


// Partition-visible SPRs the hypervisor never uses itself: switched only when
// a thread changes vCPU (hv/lazy_state.h, docs/vcpu_state.md), with fp.
struct VcpuLazySprs {
    u64 tar, dscr, fscr, pspb, tidr;
    u64 ppr = u64{4} << 50;  // PPR[PRI] medium
    u64 ctrl = 1;            // CTRL[RUN]: the run latch on
    u64 amr, iamr, uamor;
    u64 ebbhr, ebbrr, bescr;
    // PMU. MMCR0 0: counters run (make bench reads PMC5 from a partition).
    u64 mmcr0, mmcr1, mmcr2, mmcra;
    u64 pmc[6];
    u64 siar, sdar, sier;
    // H_SET_MODE only (the partition cannot write them): never saved, loaded
    // with the rest and after H_SET_MODE (lazy_recheck).
    u64 dawr0, dawrx0, ciabr;
    u64 hfscr = kGuestHfscr;  // its partition's (Partition::hfscr): loaded, never saved
};

enum class VcpuState : u8 {
    Stopped,   // never started, stop-self, or its partition ended
    Runnable,  // on the run queue
    Running,   // dispatched on a hardware thread
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
    VcpuFp fp{};
    VcpuLazySprs lazy_sprs{};
    LazyOwner lazy{};             // which thread's registers hold fp and lazy_sprs
    Partition* part = nullptr;
    VcpuId id{};
    VcpuState state = VcpuState::Stopped;
    bool prodded = false;         // an H_PROD arrived while not ceded
    u64 wake_tb = 0;              // Ceded: resume no later than this
    u64 entry_tb = 0;             // timebase at the last entry
    u64 tb_since_hcall = 0;       // watchdog: guest time without a hypervisor call
    Vcpu* next = nullptr;         // run queue link
    bool queued = false;          // on the run queue (guarded by its lock)
    u64 queued_tb = 0;            // when it was last queued (guarded by the run queue lock)
    u64 worst_wait_tb = 0;        // the longest it waited on the run queue to be dispatched
    bool parked = false;          // Runnable, held off the run queue while its partition is suspended (p.lock)
    // A thread holds it: from its dispatch until the exit that takes it off
    // has finished with it (undispatch accounting included). Woken meanwhile
    // it may be queued, but no other thread dispatches it (hv/sched.h).
    bool on_thread = false;
    u32 host_mc_streak = 0;       // host machine checks in a row with nothing else between
    u32 tlb_thread = kNoThread;   // the thread it was last dispatched on (hv/tlb_stale.h)
    VcpuStats stats{};
    VcpuFaultState fault{};       // shared-memory partitions: paging state
    VcpuVpa vpa{};                // registered VPA/DTL/SLB shadow and their counters (hv/vpa.h)
    Icp icp{};                    // XICS presentation state (hv/xics.h)
    bool mc_in_progress = false;  // FWNMI machine check delivered, ibm,nmi-interlock not yet called
    // make bench: the completion path up to runnable (0: none), per completion
    // of its service pass and as this vCPU's own latency (hv/pager.h).
    u64 resume_instructions = 0, resume_latency_instructions = 0;
    u64 entry_instructions = 0;   // PMC5 count at its last entry (hv/instruction_account.h)
    bool entry_instructions_valid = false;
};

}  // namespace pv
