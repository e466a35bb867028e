// Switching the lazily switched vCPU state (hv/lazy_state.h): FP/VMX/VSX and
// the SPRs of VcpuLazySprs, moved only when a thread changes vCPU.
#pragma once
#include "arch/ppc64/thread.h"
#include "hv/vcpu.h"

namespace pv::arch {

// Entry of v on this thread (tb): nothing to do in the common case, when the
// registers still hold v's state and H_SET_MODE changed nothing.
[[gnu::always_inline]] inline bool lazy_switch_needed(const ThreadBlock& tb, const Vcpu& v) {
    return !lazy_fast_resident(tb.lazy, v);
}

// Nonzero when lazy_switch_needed (for a test merged with others).
[[gnu::always_inline]] inline u64 lazy_key_diff(const ThreadBlock& tb, const Vcpu& v) {
    return tb.lazy.key ^ v.lazy.key;
}

// Makes the registers hold v's state (the previous vCPU's was saved when it
// left the thread).
[[gnu::noinline]] void lazy_switch_in(ThreadBlock& tb, Vcpu& v);

}  // namespace pv::arch
