// Spinlocks: the hypervisor's pv::SpinLock and pv::Guard (base/spinlock.h),
// plus the bounded wait the panic paths need.
#pragma once
#include "base/spinlock.h"
#include "partition/guest/rt/types.h"

namespace rt {

using pv::Guard;
using pv::SpinLock;

// Takes `l`, or gives up after about `spins` tries (panic paths: the holder
// may be us).
inline bool lock_for(SpinLock& l, u64 spins) {
    while (!l.try_lock())
        if (spins-- == 0) return false;
    return true;
}

}  // namespace rt
