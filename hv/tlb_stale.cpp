#include "hv/tlb_stale.h"

namespace pv {

bool tlb_dispatch_needs_flush(Vcpu& v, u32 thread) {
    u32 last = v.tlb_thread;
    v.tlb_thread = thread;
    return last != kNoThread && last != thread;
}

}  // namespace pv
