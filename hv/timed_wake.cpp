// The scheduler's one timed-wake deadline (hv/timed_wake.h): an atomic minimum.
#include "hv/timed_wake.h"

namespace pv {
namespace {

u64 g_next_tb = 0;  // 0: scan on the first pass

constexpr u32 kNoThread = ~0u;
u32 g_holder = kNoThread;    // the idle thread that holds the timer
u64 g_holder_wake = ~u64{0};  // when it wakes

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

// Two threads taking the timer at once both sleep until their own wake_tb
// (one wake-up too many, none missed); the holder word names the last.
u64 timed_wake_sleep_until(u32 thread, u64 wake_tb, u64 fallback_tb) {
    u32 holder = __atomic_load_n(&g_holder, __ATOMIC_SEQ_CST);
    if (holder == kNoThread || holder == thread || wake_tb < __atomic_load_n(&g_holder_wake, __ATOMIC_SEQ_CST)) {
        __atomic_store_n(&g_holder_wake, wake_tb, __ATOMIC_SEQ_CST);
        __atomic_store_n(&g_holder, thread, __ATOMIC_SEQ_CST);
        return wake_tb;
    }
    return wake_tb > fallback_tb ? wake_tb : fallback_tb;
}

bool timed_wake_release(u32 thread) {
    u32 expected = thread;
    return __atomic_compare_exchange_n(&g_holder, &expected, kNoThread, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

}  // namespace pv
