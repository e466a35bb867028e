// The run queue: vCPUs ready to run on any hardware thread, FIFO.
//
// A vCPU woken while its old thread is still leaving it (Vcpu::on_thread:
// parked by its own exit, made runnable by another thread before that exit
// finished) is queued but not dispatched: pop passes over it, keeping its
// place, until the old thread has released it (docs/scheduler.md).
//
// Starvation is measured here: every vCPU's wait from being queued to being
// dispatched (timebase ticks), its worst in Vcpu::worst_wait_tb and the
// machine's worst in worst_wait() (PV-STAT, docs/scheduler.md).
#pragma once
#include "base/spinlock.h"
#include "hv/vcpu.h"

namespace pv {

class RunQueue {
public:
    void push(Vcpu& v);
    // The oldest vCPU still Runnable and off every thread, now Running and
    // on this one (entries stopped meanwhile are dropped).
    Vcpu* pop();
    // v's thread is done with it (its exit's accounting included): pop may
    // dispatch it again. Release order: everything before is seen by that pop.
    // Idle threads ask pop and ready often; on an empty queue they return
    // without the lock, so that a thread that is only looking for work never
    // holds up a thread that queues one (a holder the host preempts under
    // QEMU, or an SMT sibling on hardware, made a push spin for millions of
    // instructions).
    static void release(Vcpu& v) { __atomic_store_n(&v.on_thread, false, __ATOMIC_RELEASE); }
    // Without the lock: a push that this misses kicks the idle threads after
    // it (make_runnable), and a thread reads this only after publishing that
    // it is idle (a seq_cst fence between), so one of the two sees the other.
    bool empty() const { return __atomic_load_n(&head_, __ATOMIC_ACQUIRE) == nullptr; }
    // Whether pop would take (or drop) an entry now: false when the queue
    // holds only vCPUs still leaving their old threads. An idle thread then
    // sleeps; the leaving thread kicks it when it lets go (hv/exit.cpp).
    bool ready();

    // The longest any vCPU waited between being queued and dispatched, and
    // which one (nullptr before the first dispatch).
    struct Wait {
        u64 tb = 0;
        const Vcpu* vcpu = nullptr;
        u64 dispatches = 0;
    };
    Wait worst_wait() const { return worst_; }

private:
    SpinLock lock_{LockRank::RunQueue};
    Vcpu* head_ = nullptr;
    Vcpu* tail_ = nullptr;
    Wait worst_{};
};

}  // namespace pv
