// Host events (hv/host_event.h): counted, logged at a bounded rate, and the
// partition that happened to run resumes.
#include "hv/host_event.h"

#include <cstdarg>

#include "arch/arch.h"
#include "base/format.h"
#include "hv/console.h"
#include "hv/hv.h"

namespace pv {
namespace {

// At most this many host-event lines per second; the rest are counted and
// summed up in one line when the next second begins.
constexpr u32 kLogBurst = 8;
// A machine check that comes back at once, again and again, is not going
// away by resuming: after this many in a row the machine stops.
constexpr u32 kMaxMachineCheckStreak = 100;

HostEventCounts g_counts;

struct LogBudget {
    u64 window_start = 0;
    u32 logged = 0, dropped = 0;
};
SpinLock g_budget_lock{LockRank::HostEvents};  // a leaf: nothing is logged under it
LogBudget g_budget;

void count(ExitKind k) {
    u64* c = &g_counts.unknown;
    switch (k) {
    case ExitKind::SystemReset: c = &g_counts.system_resets; break;
    case ExitKind::MachineCheck: c = &g_counts.machine_checks; break;
    case ExitKind::Hmi: c = &g_counts.hmis; break;
    case ExitKind::External: c = &g_counts.externals; break;
    default: break;
    }
    __atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

// Whether this line may be printed; reports lines dropped in the window that ended.
bool may_log() {
    u64 now = arch::timebase();
    u32 dropped = 0;
    bool ok;
    {
        Guard g(g_budget_lock);
        LogBudget& b = g_budget;
        if (b.window_start == 0 || now - b.window_start >= arch::timebase_hz()) {
            dropped = b.dropped;
            b = LogBudget{now, 0, 0};
        }
        ok = b.logged < kLogBurst;
        if (ok) ++b.logged;
        else ++b.dropped;
    }
    if (dropped) log("host events: %u more not logged in the last second", dropped);
    return ok;
}

const char* kind_name(ExitKind k) {
    switch (k) {
    case ExitKind::SystemReset: return "system reset";
    case ExitKind::MachineCheck: return "machine check";
    case ExitKind::Hmi: return "HMI";
    case ExitKind::External: return "external interrupt";
    default: return "interrupt";
    }
}

}  // namespace

Next host_event(PhysCpu& cpu, Vcpu& v, const Exit& e) {
    count(e.kind);
    const char* part = v.part->name;
    u32 vec = static_cast<u32>(e.vector);
    if (e.lost)
        host_stop_machine("host %s on thread %u while partition %s vCPU %u ran with MSR[RI]=0 (pc 0x%lx, "
                          "SRR1 bits 0x%lx): its state is lost",
                          kind_name(e.kind), cpu.index, part, v.id.value, v.regs.pc, e.cause);
    if (e.kind == ExitKind::MachineCheck && ++v.host_mc_streak >= kMaxMachineCheckStreak)
        host_stop_machine("host machine check on thread %u: %u in a row at pc 0x%lx of partition %s vCPU %u "
                          "(SRR1 bits 0x%lx)",
                          cpu.index, v.host_mc_streak, v.regs.pc, part, v.id.value, e.cause);
    if (!may_log()) return Next::Resume;
    switch (e.kind) {
    case ExitKind::Hmi:
        log("host HMI on thread %u (HMER 0x%lx) while partition %s vCPU %u ran (pc 0x%lx): handled, resumed",
            cpu.index, e.cause, part, v.id.value, v.regs.pc);
        break;
    case ExitKind::SystemReset:
    case ExitKind::MachineCheck:
        log("host %s on thread %u (SRR1 bits 0x%lx) while partition %s vCPU %u ran (pc 0x%lx): resumed",
            kind_name(e.kind), cpu.index, e.cause, part, v.id.value, v.regs.pc);
        break;
    case ExitKind::External:
        // No interrupt controller is the hypervisor's yet: nothing to acknowledge.
        log("host external interrupt 0x%x on thread %u while partition %s vCPU %u ran (pc 0x%lx): resumed", vec,
            cpu.index, part, v.id.value, v.regs.pc);
        break;
    default:
        log("host interrupt 0x%x on thread %u, unexpected while partition %s vCPU %u ran (pc 0x%lx): resumed", vec,
            cpu.index, part, v.id.value, v.regs.pc);
        break;
    }
    return Next::Resume;
}

void host_event_in_hypervisor(PhysCpu& cpu, const Exit& e, u64 pc) {
    count(e.kind);
    if (e.lost)
        host_stop_machine("host %s on thread %u while the hypervisor ran with MSR[RI]=0 (pc 0x%lx): not recoverable",
                          kind_name(e.kind), cpu.index, pc);
    cpu.hv_reset_pc = pc;
    __atomic_add_fetch(&cpu.hv_resets_noted, 1, __ATOMIC_RELEASE);
}

void host_events_log_noted(PhysCpu& cpu) {
    u64 pc = cpu.hv_reset_pc;
    u32 n = __atomic_exchange_n(&cpu.hv_resets_noted, 0u, __ATOMIC_ACQUIRE);
    if (n && may_log())
        log("host system reset on thread %u while the hypervisor ran (pc 0x%lx%s): resumed", cpu.index, pc,
            n > 1 ? ", and earlier ones" : "");
}

HostEventCounts host_event_counts() {
    HostEventCounts c;
    c.system_resets = __atomic_load_n(&g_counts.system_resets, __ATOMIC_RELAXED);
    c.machine_checks = __atomic_load_n(&g_counts.machine_checks, __ATOMIC_RELAXED);
    c.hmis = __atomic_load_n(&g_counts.hmis, __ATOMIC_RELAXED);
    c.externals = __atomic_load_n(&g_counts.externals, __ATOMIC_RELAXED);
    c.unknown = __atomic_load_n(&g_counts.unknown, __ATOMIC_RELAXED);
    return c;
}

void host_events_reset() {
    Guard g(g_budget_lock);
    g_budget = LogBudget{};
    g_counts = HostEventCounts{};
}

void print_host_stats() {
    HostEventCounts c = host_event_counts();
    arch::TceKillCounts k = arch::tce_kill_counts();
    log_raw("PV-STAT {\"type\":\"host\",\"system_resets\":%lu,\"machine_checks\":%lu,\"hmis\":%lu,"
            "\"externals\":%lu,\"unknown\":%lu,\"tce_kills_register\":%lu,\"tce_kills_opal\":%lu}",
            c.system_resets, c.machine_checks, c.hmis, c.externals, c.unknown, k.by_register, k.by_opal);
}

void host_stop_machine(const char* fmt, ...) {
    char why[192];
    va_list ap;
    va_start(ap, fmt);
    vformat(why, sizeof why, fmt, ap);
    va_end(ap);
    log("%s: stopping the machine", why);
    hv().finish_lock.lock();  // one thread reports; the others wait here until power-off
    print_stats();
    print_host_stats();
    arch::power_off();
}

}  // namespace pv
