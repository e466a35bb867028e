// Spinlocks: the hypervisor's pv::SpinLock and pv::Guard (hv/spinlock.h),
// plus the bounded wait the panic paths need, which pv::SpinLock lacks.
#pragma once
#include <type_traits>

#include "hv/spinlock.h"
#include "partition/guest/rt/types.h"

namespace rt {

using pv::Guard;
using pv::SpinLock;

// Takes `l`, or gives up after about `spins` tries (panic paths: the holder
// may be us). pv::SpinLock has no try_lock(), so this works on its one member,
// the held flag: a standard-layout object shares its address with its first
// member. The asserts catch a change of that layout.
inline bool lock_for(SpinLock& l, u64 spins) {
    static_assert(std::is_standard_layout_v<SpinLock> && sizeof(SpinLock) == sizeof(bool));
    bool* held = reinterpret_cast<bool*>(&l);
    while (__atomic_exchange_n(held, true, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(held, __ATOMIC_RELAXED))
            if (spins-- == 0) return false;
    return true;
}

}  // namespace rt
