// Which vCPU's lazily switched state a hardware thread's registers hold.
//
// The hypervisor never uses FP/VMX/VSX nor the guest SPRs of this group (TAR,
// DSCR, PPR, FSCR, the PMU, EBB, ... docs/vcpu_state.md), so a vCPU's values
// stay in the thread's registers across its exits and hcalls. They are saved
// when the vCPU leaves the thread (another thread may dispatch it next) and
// loaded on entry unless the thread still holds them: the vCPU left this very
// thread last and nothing else was loaded since. The decisions are here,
// portable; arch/ppc64/vcpu_switch.cpp moves the registers.
#pragma once
#include "base/types.h"

namespace pv {

inline constexpr u32 kNoThread = ~u32{0};

// Per vCPU.
struct LazyOwner {
    // The thread whose registers hold a copy of this vCPU's state, kNoThread
    // if none does (never loaded, or the copy there was changed in saving).
    u32 thread = kNoThread;
    // The holder's key when that copy was loaded; 0: look closer at the next
    // entry (never loaded, or H_SET_MODE changed a debug register).
    u64 key = 0;
};

// Per hardware thread: the vCPU whose state its registers hold (nullptr:
// none) and the key of that load. Owner is the vCPU type, with a LazyOwner
// named `lazy`. Keys are unique per load and thread, never 0 nor ~0.
template <class Owner>
struct LazyHolder {
    Owner* holder = nullptr;
    u64 key = ~u64{0};
    u64 loads = 0;
};

// The whole entry path's cost: one compare. Equal keys: the registers hold
// v's state (v was loaded here last, and nothing since).
template <class Owner>
inline bool lazy_fast_resident(const LazyHolder<Owner>& t, const Owner& v) {
    return t.key == v.lazy.key;
}

// The slower look (keys differ): whether the registers still hold v's state
// all the same (only v's key was cleared), or it must be loaded.
template <class Owner>
inline bool lazy_resident(const LazyHolder<Owner>& t, u32 self, const Owner& v) {
    return t.holder == &v && v.lazy.thread == self;
}

// v's state was loaded into thread self's registers (or found there).
template <class Owner>
inline void lazy_loaded(LazyHolder<Owner>& t, u32 self, Owner& v) {
    if (!lazy_resident(t, self, v)) t.key = (++t.loads << 10) | (self & 0x3ff);
    t.holder = &v;
    v.lazy.thread = self;
    v.lazy.key = t.key;
}

// v leaves thread self (every vCPU leaves a thread this way before another
// runs there or it runs elsewhere): whether the registers hold its state,
// which must be saved then.
template <class Owner>
inline bool lazy_must_save(const LazyHolder<Owner>& t, u32 self, const Owner& v) {
    return lazy_resident(t, self, v);
}

// Saved. kept: the registers still equal what was saved (nothing changed
// them in saving), so v may re-enter this thread without a load.
inline void lazy_saved(LazyOwner& v, bool kept) {
    if (kept) return;
    v.thread = kNoThread;
    v.key = 0;
}

// The vCPU's next entry takes the slow look (H_SET_MODE changed a register
// that is loaded there).
inline void lazy_recheck(LazyOwner& v) { v.key = 0; }

}  // namespace pv
