// The scheduler's one timed-wake deadline (hv/timed_wake.h): an atomic minimum.
#include "hv/timed_wake.h"

namespace pv {
namespace {

u64 g_next_tb = 0;  // 0: scan on the first pass

}  // namespace

void timed_wake_note(u64 tb) {
    u64 cur = __atomic_load_n(&g_next_tb, __ATOMIC_SEQ_CST);
    while (tb < cur && !__atomic_compare_exchange_n(&g_next_tb, &cur, tb, true, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
}

bool timed_wake_take(u64 now_tb) {
    u64 cur = __atomic_load_n(&g_next_tb, __ATOMIC_SEQ_CST);
    while (now_tb >= cur)
        if (__atomic_compare_exchange_n(&g_next_tb, &cur, ~u64{0}, true, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return true;
    return false;
}

u64 timed_wake_next() { return __atomic_load_n(&g_next_tb, __ATOMIC_SEQ_CST); }

}  // namespace pv
