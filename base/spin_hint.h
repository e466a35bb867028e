// The processor's hint that a thread only spins: on POWER the SMT priority
// nop `or 1,1,1` (Power ISA Book II, "Program Priority Register"; Linux's
// HMT_low). A spinning thread at low priority leaves the core's shared
// resources to its sibling threads, one of which may hold the lock it waits
// for. The PPR is put back as it was afterwards, not set to medium: a lock
// taken on the exit or entry path, before the guest's PPR is saved or after
// it is loaded, must not change the partition's priority. Nothing on other
// hosts (the unit tests).
#pragma once
#include "base/types.h"

namespace pv {

struct SpinPriority {
    u64 ppr = 0;
};

inline SpinPriority spin_hint_begin() {
    SpinPriority p;
#if defined(__powerpc64__)
    asm volatile("mfspr %0, 896" : "=r"(p.ppr));  // PPR
#endif
    return p;
}

inline void spin_hint_low() {
#if defined(__powerpc64__)
    asm volatile("or 1,1,1" ::: "memory");
#endif
}

inline void spin_hint_end(SpinPriority p) {
#if defined(__powerpc64__)
    asm volatile("mtspr 896, %0" ::"r"(p.ppr) : "memory");
#else
    (void)p;
#endif
}

}  // namespace pv
