#include "hv/sched.h"

#include "arch/arch.h"

namespace pv {

void RunQueue::push(Vcpu& v) {
    Guard g(lock_);
    if (v.queued) return;  // already waiting: one entry per vCPU
    v.queued = true;
    v.queued_tb = arch::timebase();
    v.next = nullptr;
    if (tail_) tail_->next = &v;
    else __atomic_store_n(&head_, &v, __ATOMIC_RELAXED);
    tail_ = &v;
}

namespace {

// Queued but still leaving its old thread: pop keeps its place and passes it.
// Acquire: what that thread did before releasing it is visible here.
bool still_leaving(const Vcpu& v) {
    return v.state == VcpuState::Runnable && __atomic_load_n(&v.on_thread, __ATOMIC_ACQUIRE);
}

}  // namespace

Vcpu* RunQueue::pop() {
    if (empty()) return nullptr;  // idle threads ask often: no lock for nothing
    Guard g(lock_);
    Vcpu* prev = nullptr;
    for (Vcpu* v = head_; v;) {
        Vcpu* next = v->next;
        if (still_leaving(*v)) {
            prev = v;
            v = next;
            continue;
        }
        if (prev) prev->next = next;
        else __atomic_store_n(&head_, next, __ATOMIC_RELAXED);
        if (tail_ == v) tail_ = prev;
        v->next = nullptr;
        v->queued = false;
        if (v->state == VcpuState::Runnable) {
            // Queued on another thread, whose timebase may be a little ahead
            // of ours (QEMU 7.2's TBU40 loses the time between its two clock
            // reads: a migrated partition's entries and exits leave the threads
            // microseconds apart): that is no wait, not 2^64 ticks of one.
            u64 now = arch::timebase();
            u64 waited = now > v->queued_tb ? now - v->queued_tb : 0;
            if (waited > v->worst_wait_tb) v->worst_wait_tb = waited;
            if (waited > worst_.tb) worst_ = Wait{waited, v, worst_.dispatches};
            ++worst_.dispatches;
            v->state = VcpuState::Running;
            __atomic_store_n(&v->on_thread, true, __ATOMIC_RELAXED);
            return v;
        }
        v = next;
    }
    return nullptr;
}

bool RunQueue::ready() {
    if (empty()) return false;
    Guard g(lock_);
    for (Vcpu* v = head_; v; v = v->next)
        if (!still_leaving(*v)) return true;
    return false;
}

}  // namespace pv
