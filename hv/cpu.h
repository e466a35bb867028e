// A hardware thread as the portable core sees it.
#pragma once
#include "base/types.h"

namespace pv {

struct Vcpu;

inline constexpr u32 kMaxThreads = 16;

struct PhysCpu {
    Pir pir{};
    u32 index = 0;            // dense 0..n-1, in device-tree order
    Vcpu* current = nullptr;  // running (or about to run) on this thread
    u64 slice_end_tb = 0;     // when the current vCPU's time slice ends
    volatile bool idle = false;
    // make bench: a vCPU resumed after a page-in is being dispatched here;
    // PMC5 when this thread began choosing it, and the completion side's count.
    u64 resume_pick_pmc = 0, resume_completion_instructions = 0, resume_latency_instructions = 0;
    u64 idle_instructions = 0;  // PMC5 spent waiting for work in schedule (hv/instruction_account.h)
    // Stops (idle_wait) this thread entered, and wake-ups from them that found
    // no vCPU to run: each a sleep and a wake-up of a hardware thread (under
    // QEMU, of a host thread). PV-STAT scheduler, docs/scheduler.md.
    u64 idle_stops = 0, idle_empty_wakes = 0;
    // System resets that interrupted the hypervisor on this thread, not yet
    // logged (hv/host_event.h), and where the last one hit.
    u32 hv_resets_noted = 0;
    u64 hv_reset_pc = 0;
};

}  // namespace pv
