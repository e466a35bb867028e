// Partition exits and scheduling: what a hardware thread does between two
// partition entries.
#include <cstdarg>

#include "hv/ams.h"
#include "arch/arch.h"
#include "hv/console.h"
#include "hv/console_input.h"
#include "hv/mig_control.h"
#include "hv/suspend.h"
#include "base/format.h"
#include "hv/exit.h"
#include "hv/firmware_heartbeat.h"
#include "hv/hcall.h"
#include "hv/guest_interrupt.h"
#include "hv/host_event.h"
#include "hv/timed_wake.h"
#include "hv/tlb_stale.h"
#include "hv/hv.h"
#include "hv/path_meter.h"
#include "hv/vpa.h"
#include "hv/xics.h"

namespace pv {
namespace {

// Wake one thread that waits for work (a doorbell sent before it stops ends
// its stop at once, so none is lost).
void kick_idle_thread() {
    Hypervisor& h = hv();
    // What the caller queued, then who is idle: an idle thread publishes
    // `idle` before it looks at the queue (RunQueue::empty takes no lock).
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (u32 i = 0; i < h.thread_count; ++i) {
        if (h.threads[i]->idle) {
            arch::kick_thread(h.threads[i]->pir);
            break;
        }
    }
}

// A partition has ended when it is no longer Running and none of its vCPUs
// is on a thread. The last partition to end ends the machine. Caller holds p.lock.
void maybe_finish(Partition& p) {
    if (p.is_running()) return;
    for (u32 i = 0; i < p.vcpu_count; ++i)
        if (p.vcpus[i].state != VcpuState::Stopped || __atomic_load_n(&p.vcpus[i].on_thread, __ATOMIC_ACQUIRE))
            return;
    if (p.finished) return;
    if (p.restart_requested) {
        if (restart_partition(p)) return;
        p.restart_requested = false;
        format(p.reason, sizeof p.reason, "system-reboot requested; the restart failed");
    }
    p.finished = true;
    vpa_note_partition_finished();
    console_input().poll_soon();  // the console focus moves on now,
    kick_idle_thread();           // in a pass that runs now (an idle thread waits for a kick or a timer)
    partition_console_flush(p);
    ams_partition_ended(p);
    if (p.state == PartitionState::Killed) log("partition %s killed: %s", p.name, p.reason);
    else log("partition %s stopped: %s", p.name, p.reason);
    if (__atomic_sub_fetch(&hv().live_partitions, 1, __ATOMIC_ACQ_REL) == 0) {
        hv().all_done = true;
        for (u32 i = 0; i < hv().thread_count; ++i) arch::kick_thread(hv().threads[i]->pir);
    }
}

// Ceded vCPUs whose decrementer has expired become runnable again (and
// vCPUs parked on paging with wake-ups enabled may run to take it). The scan
// runs only once the earliest timed wake-up is due (hv/timed_wake.h): a
// pass through the scheduler costs the same with 4 vCPUs or 256.
u64 wake_ceded(u64 now) {
    ams_poll_link(now);
    mig_poll(now);
    u64 next = console_input().poll(now);  // typed input may wake a ceded vCPU too
    if (!timed_wake_take(now)) {
        u64 due = timed_wake_next();
        return due < next ? due : next;
    }
    u64 timed = ams_poll_interrupts(now);  // the parked vCPUs' next decrementer
    Hypervisor& h = hv();
    for (u32 i = 0; i < h.partition_count; ++i) {
        Partition& p = h.partitions[i];
        for (u32 j = 0; j < p.vcpu_count; ++j) {
            Vcpu& v = p.vcpus[j];
            if (v.state != VcpuState::Ceded) continue;
            bool wake = false;
            {
                Guard g(p.lock);
                if (v.state == VcpuState::Ceded && (v.wake_tb <= now || !p.is_running())) {
                    v.state = p.is_running() ? VcpuState::Runnable : VcpuState::Stopped;
                    wake = true;
                } else if (v.state == VcpuState::Ceded && v.wake_tb < timed) {
                    timed = v.wake_tb;
                }
            }
            if (wake && v.state == VcpuState::Runnable) {
                make_runnable(v);
            } else if (wake) {
                Guard g(p.lock);
                maybe_finish(p);
            }
        }
    }
    timed_wake_note(timed);
    return timed < next ? timed : next;
}

void finish_machine() {
    Hypervisor& h = hv();
    h.finish_lock.lock();  // one thread reports; the others wait here until power-off
    // The partition that ended last may still be releasing its frames on the
    // thread that ended it: finish (or wait for) every release before the
    // pool line is printed (it must show every frame back).
    vpa_release_ended_partitions();
    print_stats();
    print_host_stats();
    log("all partitions have ended; powering off");
    arch::power_off();
}

void start_slice(PhysCpu& cpu, Vcpu& v) {
    cpu.current = &v;
    cpu.slice_end_tb = arch::timebase() + hv().slice_tb;
    __atomic_or_fetch(&v.part->stats.threads_used, u64{1} << cpu.index, __ATOMIC_RELAXED);
}

// The watchdog catches a vCPU that runs without ever calling the hypervisor.
bool watchdog_expired(const Vcpu& v) {
    u64 limit = v.part->watchdog_tb;
    return limit && v.tb_since_hcall > limit;
}

Next handle_storage_fault(Vcpu& v, const Exit& e) {
    Partition& p = *v.part;
    u64 addr = e.addr.value;
    const char* kind = e.access == Access::Fetch ? "instruction fetch from"
                       : e.access == Access::Store ? "store to"
                                                   : "load from";
    if (p.logical_range_ok(addr, 1) && p.mem_mode == MemMode::Shared) return ams_storage_fault(v, addr, e.ea);
    if (!p.logical_range_ok(addr, 1))
        stop_partition(p, PartitionState::Killed, "%s logical address 0x%lx outside its %lu MiB at pc 0x%lx",
                       kind, addr, p.mem_bytes >> 20, v.regs.pc);
    else
        stop_partition(p, PartitionState::Killed, "unexpected %s fault at logical 0x%lx (pc 0x%lx, hdsisr 0x%lx)",
                       kind, addr, v.regs.pc, e.cause);
    return Next::Stop;
}

// The partition's Program interrupt vector, at its real or relocated address.
bool at_program_vector(u64 pc) {
    constexpr u64 kProgram = 0x700;
    return pc == kProgram || pc == kProgram + 0x18000 || pc == kProgram + 0xc000000000004000;
}

// An illegal instruction, or a hypervisor-only one in privileged state: the
// partition gets a Program interrupt (illegal instruction), as KVM and
// PowerVM give it, and its OS decides (Linux sends the process SIGILL). Only
// a partition that cannot take it, because its program vector holds an
// illegal instruction too (no handler), is stopped, with both causes; SRR0
// then holds the first one.
Next handle_emulation_assist(Vcpu& v, const Exit& e) {
    Partition& p = *v.part;
    if (e.after_privileged) {
        stop_partition(p, PartitionState::Killed,
                       "privileged instruction at pc 0x%lx (partition has no program-check handler; "
                       "then illegal instruction 0x%08x at 0x700)",
                       v.sprs.srr0, e.instruction);
        return Next::Stop;
    }
    if (at_program_vector(v.regs.pc)) {
        stop_partition(p, PartitionState::Killed,
                       "illegal instruction at pc 0x%lx; its program vector 0x%lx has no handler (0x%08x there)",
                       v.sprs.srr0, v.regs.pc, e.instruction);
        return Next::Stop;
    }
    deliver_guest_interrupt(v, 0x700, kSrr1ProgramIllegal);
    return Next::Resume;
}

// FSCR[IC], the interruption cause of a Facility Unavailable interrupt (bits 0:7).
constexpr unsigned kFscrIcShift = 56;
constexpr u64 kFscrIcMask = u64{0xff} << kFscrIcShift;

// A facility its HFSCR does not give it (denied by deny_facilities, or one no
// partition gets). Used in problem state, one with an FSCR enable bit is the
// partition's own Facility Unavailable interrupt (0xF60, FSCR[IC] = it), as
// if its FSCR had it off: Linux sends the process SIGILL, as on a machine
// without it. The ISA gives privileged state no such interrupt, and FP and
// VMX/VSX have no FSCR bit: those stop the partition, naming the facility.
Next handle_facility_unavailable(Vcpu& v, const Exit& e) {
    Partition& p = *v.part;
    u32 f = e.cause < 64 ? static_cast<u32>(e.cause) : 64;
    bool withheld = f < 64 && !(p.hfscr & facility::bit(f));
    if (withheld && (v.regs.msr & msr::PR) && facility::has_fscr_bit(f)) {
        // FSCR is lazily switched and live in this thread's registers: saved,
        // set here, loaded again with the cause at the vCPU's next entry.
        arch::vcpu_leaves_thread(v);
        v.lazy_sprs.fscr = (v.lazy_sprs.fscr & ~kFscrIcMask) | (u64{f} << kFscrIcShift);
        lazy_saved(v.lazy, false);
        deliver_guest_interrupt(v, 0xf60, 0);
        return Next::Resume;
    }
    if (withheld && (kGuestHfscr & facility::bit(f)))
        stop_partition(p, PartitionState::Killed,
                       "use of a facility its configuration denies (HFSCR cause %u: %s, deny_facilities) in %s "
                       "state at pc 0x%lx",
                       f, facility::display_name(f), (v.regs.msr & msr::PR) ? "problem" : "privileged", v.regs.pc);
    else
        stop_partition(p, PartitionState::Killed,
                       "use of a facility the hypervisor does not provide (HFSCR cause %lu) at pc 0x%lx", e.cause,
                       v.regs.pc);
    return Next::Stop;
}

Next dispatch_exit(PhysCpu& cpu, Vcpu& v, const Exit& e) {
    switch (e.kind) {
    case ExitKind::Hcall:
        v.tb_since_hcall = 0;
        return dispatch_hcall(v);
    case ExitKind::HDecrementer:
        if (watchdog_expired(v)) {
            stop_partition(*v.part, PartitionState::Killed,
                           "watchdog: vCPU %u ran %lu ms without a hypervisor call (pc 0x%lx)", v.id.value,
                           v.tb_since_hcall / (arch::timebase_hz() / 1000), v.regs.pc);
            return Next::Stop;
        }
        // Busy threads may never pass through schedule(): wake ceded vCPUs here too.
        wake_ceded(arch::timebase());
        return arch::timebase() >= cpu.slice_end_tb ? Next::Yield : Next::Resume;
    case ExitKind::StorageFault:
        return handle_storage_fault(v, e);
    case ExitKind::EmulationAssist:
        return handle_emulation_assist(v, e);
    case ExitKind::FacilityUnavailable:
        return handle_facility_unavailable(v, e);
    case ExitKind::Doorbell:
        return Next::Resume;  // a kick: the checks below decide
    case ExitKind::External:
        if (xics_mediated_exit(v)) return Next::Resume;  // LPCR[MER]: the partition set MSR[EE]
        break;
    case ExitKind::SystemReset:
    case ExitKind::MachineCheck:
    case ExitKind::Hmi:
    case ExitKind::Unknown:
        break;
    }
    return host_event(cpu, v, e);  // not the partition's doing: it resumes
}

// v's exit is done with it, its undispatch accounting included: from here
// another thread may dispatch it (it may have been woken and queued while
// it was leaving). A stop that came meanwhile may have waited for this to
// end the partition.
void leave_thread(Vcpu& v) {
    arch::vcpu_leaves_thread(v);  // its FP/VSX and lazy SPRs to memory first
    Partition& p = *v.part;
    Guard g(p.lock);
    RunQueue::release(v);
    // Woken while it was leaving: the thread that popped past it sleeps now
    // (RunQueue::ready). Release, then read queued; the idle thread sets
    // idle, then reads on_thread: one of the two sees the other.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&v.queued, __ATOMIC_RELAXED)) kick_idle_thread();
    if (!p.is_running()) maybe_finish(p);
}

// Before every entry: the common path's one check (nothing presented). A MER
// request outlives its interrupt only until the next MER exit clears it.
inline Vcpu& entering(Vcpu& v) {
    if (__builtin_expect(icp_presented(v.icp), 0)) xics_prepare_entry_slow(v);
    return v;
}

}  // namespace

void make_runnable(Vcpu& v) {
    v.state = VcpuState::Runnable;
    hv().runq.push(v);
    kick_idle_thread();
}

void vcpu_stopped(Vcpu& v) {
    Partition& p = *v.part;
    Guard g(p.lock);
    v.state = VcpuState::Stopped;
    bool all_stopped = true;
    for (u32 i = 0; i < p.vcpu_count; ++i) all_stopped &= p.vcpus[i].state == VcpuState::Stopped;
    if (all_stopped && p.is_running()) {
        p.state = PartitionState::Stopped;
        format(p.reason, sizeof p.reason, "all vCPUs stopped themselves");
    }
    maybe_finish(p);
}

void stop_partition(Partition& p, PartitionState how, const char* fmt, ...) {
    {
        Guard g(p.lock);
        if (!p.is_running()) return;  // the first reason wins
        va_list ap;
        va_start(ap, fmt);
        vformat(p.reason, sizeof p.reason, fmt, ap);
        va_end(ap);
        p.state = how;
        if (how == PartitionState::Killed) log("stopping partition %s: %s", p.name, p.reason);
        // vCPUs that are not on a thread stop now; running ones at their next exit.
        for (u32 i = 0; i < p.vcpu_count; ++i) {
            VcpuState s = p.vcpus[i].state;
            if (s == VcpuState::Ceded || s == VcpuState::Runnable || s == VcpuState::PageWait)
                p.vcpus[i].state = VcpuState::Stopped;
        }
        maybe_finish(p);
    }
    Hypervisor& h = hv();
    for (u32 i = 0; i < h.thread_count; ++i)
        if (h.threads[i]->current && h.threads[i]->current->part == &p) arch::kick_thread(h.threads[i]->pir);
}

Vcpu& schedule(PhysCpu& cpu) {
    cpu.current = nullptr;
    // From the thread's first wait on, it is waiting for work, not working
    // for the vCPU that exited here: the passes that wake it between waits
    // (another partition's timed wake-up, the heartbeat) up to the pass that
    // finds a vCPU count as idle (hv/instruction_account.h).
    bool waited = false;
    u64 wait_from = 0;
    for (;;) {
        u64 pick_pmc = arch::instructions();
        // Areas of ended partitions are unpinned here, where no lock is held
        // (maybe_finish runs under the partition lock, sometimes the pool's).
        vpa_release_ended_partitions();
        restart_shared_partitions();  // a shared partition's system-reboot (its pager work takes no partition lock)
        if (hv().all_done) finish_machine();
        u64 now = arch::timebase();
        u64 next_wake = wake_ceded(now);
        if (u64 beat = firmware_heartbeat(now); beat < next_wake) next_wake = beat;
        host_events_flush(cpu);
        if (Vcpu* v = hv().runq.pop()) {
            if (!v->part->is_running()) {
                leave_thread(*v);
                vcpu_stopped(*v);
                continue;
            }
            if (park_if_suspended(*v)) continue;  // migration switch-over (hv/suspend.h)
            if (v->resume_instructions) {  // make bench: the resume path's dispatch half starts here
                cpu.resume_pick_pmc = pick_pmc;
                cpu.resume_completion_instructions = v->resume_instructions;
                cpu.resume_latency_instructions = v->resume_latency_instructions;
                v->resume_instructions = v->resume_latency_instructions = 0;
            }
            if (tlb_dispatch_needs_flush(*v, cpu.index)) arch::tlb_flush_partition(v->part->lpid);
            start_slice(cpu, *v);
            vpa_dispatched(*v, cpu.index);
            if (waited) cpu.idle_instructions += pmc_delta(wait_from, pick_pmc);
            // current is published: an H_IPI sender now kicks this thread, or we see its interrupt.
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            return entering(*v);
        }
        cpu.idle = true;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);  // idle, then what the queue holds (leave_thread)
        if (!waited) {
            waited = true;
            wait_from = arch::instructions();
        }
        // Not while the queue holds a vCPU we could take; one still leaving
        // its old thread is no reason to spin (that thread kicks us).
        if (!hv().runq.ready() && !hv().all_done) {
            arch::idle_wait(next_wake);
            ++cpu.idle_stops;
            if (hv().runq.empty()) ++cpu.idle_empty_wakes;
        }
        cpu.idle = false;
    }
}

Vcpu& handle_exit(PhysCpu& cpu, Vcpu& v, const Exit& e) {
    host_events_flush(cpu);
    u64 now = arch::timebase();
    u64 ran = now - v.entry_tb;
    v.stats.exits++;
    v.stats.guest_tb += ran;
    v.tb_since_hcall += ran;
    if (e.kind != ExitKind::MachineCheck) v.host_mc_streak = 0;
    __atomic_add_fetch(&v.part->stats.hv_exits, 1, __ATOMIC_RELAXED);

    Next next = dispatch_exit(cpu, v, e);
    if (!v.part->is_running()) next = Next::Stop;
    else if (next == Next::Resume && __atomic_load_n(&v.part->suspended, __ATOMIC_ACQUIRE)) next = Next::Yield;
    // Leaving the thread: the accounting first, then leave_thread publishes
    // v to the other threads (a wake-up may already have queued it).
    switch (next) {
    case Next::Resume:
        if (now < cpu.slice_end_tb || hv().runq.empty()) {
            if (now >= cpu.slice_end_tb) {
                start_slice(cpu, v);
                firmware_heartbeat(now);  // a thread that never leaves its vCPU beats too
            }
            return entering(v);
        }
        [[fallthrough]];
    case Next::Yield:
        vpa_undispatched(v, next, e.vector);
        leave_thread(v);
        v.state = VcpuState::Runnable;
        hv().runq.push(v);
        break;
    case Next::Block:
        vpa_undispatched(v, next, e.vector);
        leave_thread(v);
        break;
    case Next::Stop:
        vpa_undispatched(v, next, e.vector);
        leave_thread(v);
        vcpu_stopped(v);
        break;
    }
    return schedule(cpu);
}

}  // namespace pv
