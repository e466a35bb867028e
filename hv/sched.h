// The run queue: vCPUs ready to run on any hardware thread, FIFO.
#pragma once
#include "base/spinlock.h"
#include "hv/vcpu.h"

namespace pv {

class RunQueue {
public:
    void push(Vcpu& v);
    // The oldest vCPU still Runnable (entries stopped meanwhile are dropped).
    Vcpu* pop();
    bool empty() const { return head_ == nullptr; }

private:
    SpinLock lock_{LockRank::RunQueue};
    Vcpu* head_ = nullptr;
    Vcpu* tail_ = nullptr;
};

}  // namespace pv
