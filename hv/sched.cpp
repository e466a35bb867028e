#include "hv/sched.h"

namespace pv {

void RunQueue::push(Vcpu& v) {
    Guard g(lock_);
    if (v.queued) return;  // already waiting: one entry per vCPU
    v.queued = true;
    v.next = nullptr;
    if (tail_) tail_->next = &v;
    else head_ = &v;
    tail_ = &v;
}

Vcpu* RunQueue::pop() {
    Guard g(lock_);
    while (Vcpu* v = head_) {
        head_ = v->next;
        if (!head_) tail_ = nullptr;
        v->next = nullptr;
        v->queued = false;
        if (v->state == VcpuState::Runnable) {
            v->state = VcpuState::Running;
            return v;
        }
    }
    return nullptr;
}

}  // namespace pv
