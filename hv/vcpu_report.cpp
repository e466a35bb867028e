#include "hv/vcpu_report.h"

#include "arch/arch.h"
#include "base/format.h"
#include "hv/ams.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/timed_wake.h"

namespace pv {
namespace {

const char* vcpu_state_name(VcpuState s) {
    switch (s) {
    case VcpuState::Stopped: return "stopped";
    case VcpuState::Runnable: return "runnable";
    case VcpuState::Running: return "running";
    case VcpuState::Ceded: return "ceded";
    case VcpuState::PageWait: return "page-wait";
    }
    return "?";
}

// Milliseconds from now to tb, negative when it has passed.
long ms_from(u64 tb, u64 now) {
    u64 per_ms = arch::timebase_hz() / 1000;
    return tb >= now ? static_cast<long>((tb - now) / per_ms) : -static_cast<long>((now - tb) / per_ms);
}

template <typename T>
T peek(const T& field) {
    return __atomic_load_n(&field, __ATOMIC_RELAXED);
}

}  // namespace

void log_vcpu_report() {
    Hypervisor& h = hv();
    u64 now = arch::timebase();
    u64 timed = timed_wake_next();
    log("command: threads=%u,run_queue=%s,timed_wake_in_ms=%ld", h.thread_count, h.runq.empty() ? "empty" : "queued",
        timed == ~u64{0} ? -1L : ms_from(timed, now));
    for (u32 i = 0; i < h.thread_count; ++i) {
        const PhysCpu& c = *h.threads[i];
        const Vcpu* cur = peek(c.current);
        char current[48] = "-";
        if (cur) format(current, sizeof current, "%s/%u,slice_left_ms=%ld", cur->part->name, cur->id.value,
                        ms_from(peek(c.slice_end_tb), now));
        log("command: thread=%u,pir=0x%x,idle=%u,current=%s,idle_stops=%lu", i, c.pir.value, c.idle ? 1u : 0u,
            current, c.idle_stops);
    }
    ams_log_report(now);
    for (u32 i = 0; i < h.partition_count; ++i) {
        const Partition& p = h.partitions[i];
        for (u32 j = 0; j < p.vcpu_count; ++j) {
            const Vcpu& v = p.vcpus[j];
            VcpuState s = peek(v.state);
            char thread[12] = "-";  // the thread it is current on, or "held" while one lets go of it
            for (u32 k = 0; k < h.thread_count; ++k)
                if (peek(h.threads[k]->current) == &v) format(thread, sizeof thread, "%u", k);
            if (thread[0] == '-' && peek(v.on_thread)) format(thread, sizeof thread, "held");
            log("command: vcpu=%s/%u,state=%s,thread=%s,queued=%u,parked=%u,prodded=%u,wake_in_ms=%ld,"
                "paging_outstanding=%u,pc=0x%lx,msr=0x%lx,exits=%lu,worst_wait_ms=%lu",
                p.name, v.id.value, vcpu_state_name(s), thread, peek(v.queued) ? 1u : 0u,
                peek(v.parked) ? 1u : 0u, peek(v.prodded) ? 1u : 0u,
                s == VcpuState::Ceded ? ms_from(peek(v.wake_tb), now) : -1L, peek(v.fault.outstanding), v.regs.pc,
                v.regs.msr, v.stats.exits, v.worst_wait_tb / (arch::timebase_hz() / 1000));
        }
    }
}

}  // namespace pv
