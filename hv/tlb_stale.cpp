#include "hv/tlb_stale.h"

#include "hv/cpu.h"

namespace pv {

static_assert(kMaxThreads <= 64, "one bit per hardware thread");

bool tlb_dispatch_needs_flush(Partition& p, Vcpu& v, u32 thread) {
    if (v.tlb_thread != thread) {
        if (v.tlb_thread < 64) __atomic_fetch_or(&p.tlb_stale_threads, u64{1} << v.tlb_thread, __ATOMIC_ACQ_REL);
        v.tlb_thread = thread;
    }
    if (!(__atomic_load_n(&p.tlb_stale_threads, __ATOMIC_ACQUIRE) & (u64{1} << thread))) return false;
    __atomic_store_n(&p.tlb_stale_threads, 0, __ATOMIC_RELEASE);
    return true;
}

}  // namespace pv
