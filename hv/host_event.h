// Host events: interrupts that belong to the machine, not to the partition
// that happened to run (HMIs, host external interrupts, system resets,
// machine checks, vectors nothing expects). They are counted (PV-STAT
// "host"), logged at a bounded rate, and the partition resumes. Only when the
// interrupted state is lost does the machine stop, with a message; the
// partition is never blamed. See docs/scheduler.md, "Host events".
#pragma once
#include "hv/cpu.h"
#include "hv/exit.h"
#include "hv/hcall.h"

namespace pv {

struct HostEventCounts {
    u64 system_resets = 0, machine_checks = 0, hmis = 0, externals = 0, unknown = 0;
};

// A host event (is_host_event(e.kind)) taken while v ran on cpu: Resume, or
// it never returns (the machine stops) when v's state did not survive.
Next host_event(PhysCpu& cpu, Vcpu& v, const Exit& e);

// A system reset interrupted the hypervisor itself at pc (from the arch
// layer, MSR[RI] = 0, any lock possibly held, so nothing is logged here):
// counted and noted on cpu for host_events_flush. Returns when the hypervisor
// can resume (!e.lost), else stops the machine.
void host_event_in_hypervisor(PhysCpu& cpu, const Exit& e, u64 pc);

// Log what host_event_in_hypervisor noted on this thread. Call with no lock held.
void host_events_log_noted(PhysCpu& cpu);
inline void host_events_flush(PhysCpu& cpu) {
    if (__atomic_load_n(&cpu.hv_resets_noted, __ATOMIC_RELAXED)) host_events_log_noted(cpu);
}

HostEventCounts host_event_counts();
void host_events_reset();  // counts and the log budget to zero (unit tests)
void print_host_stats();  // PV-STAT {"type":"host",...}

// A host event the hypervisor cannot survive: say why, print PV-STAT and
// power off (one thread; the others wait).
[[noreturn]] void host_stop_machine(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace pv
