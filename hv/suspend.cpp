// Suspend and resume for the migration switch-over; the scheduler's half.
#include "hv/suspend.h"

#include "arch/arch.h"
#include "hv/hv.h"

namespace pv {

void suspend_partition(Partition& p) {
    {
        Guard g(p.lock);
        __atomic_store_n(&p.suspended, true, __ATOMIC_SEQ_CST);
    }
    // Running vCPUs exit at once (their exit yields, the scheduler parks them).
    Hypervisor& h = hv();
    for (u32 i = 0; i < h.thread_count; ++i)
        if (h.threads[i]->current && h.threads[i]->current->part == &p) arch::kick_thread(h.threads[i]->pir);
}

bool partition_quiesced(Partition& p) {
    Guard g(p.lock);
    if (!p.suspended) return false;
    for (u32 i = 0; i < p.vcpu_count; ++i) {
        const Vcpu& v = p.vcpus[i];
        if (v.state == VcpuState::Running || __atomic_load_n(&v.on_thread, __ATOMIC_ACQUIRE)) return false;
    }
    return true;
}

// Under p.lock on both sides, so a vCPU parked while the resume runs is seen
// by it, and one the resume looked at is never parked afterwards.
void resume_partition(Partition& p) {
    Vcpu* again[kMaxConfigVcpus];
    u32 n = 0;
    {
        Guard g(p.lock);
        __atomic_store_n(&p.suspended, false, __ATOMIC_SEQ_CST);
        for (u32 i = 0; i < p.vcpu_count; ++i)
            if (p.vcpus[i].parked) {
                p.vcpus[i].parked = false;
                again[n++] = &p.vcpus[i];
            }
    }
    for (u32 i = 0; i < n; ++i) make_runnable(*again[i]);
}

bool park_if_suspended(Vcpu& v) {
    Partition& p = *v.part;
    if (!__atomic_load_n(&p.suspended, __ATOMIC_ACQUIRE)) return false;
    Guard g(p.lock);
    if (!p.suspended) return false;
    // pop made it Running on this thread; it never entered: back to Runnable, off the thread.
    v.state = VcpuState::Runnable;
    v.parked = true;
    RunQueue::release(v);
    return true;
}

}  // namespace pv
