#include "hv/firmware_heartbeat.h"

#include "arch/arch.h"

namespace pv {
namespace {

u64 g_interval_tb = 0;
u64 g_due_tb = ~u64{0};

}  // namespace

void firmware_heartbeat_init(u64 interval_tb, u64 now) {
    g_interval_tb = interval_tb;
    __atomic_store_n(&g_due_tb, interval_tb ? now + interval_tb : ~u64{0}, __ATOMIC_RELEASE);
}

u64 firmware_heartbeat(u64 now) {
    u64 due = __atomic_load_n(&g_due_tb, __ATOMIC_ACQUIRE);
    if (now < due) return due;
    u64 next = now + g_interval_tb;
    // The thread that moves the deadline calls the firmware; the others go on.
    if (__atomic_compare_exchange_n(&g_due_tb, &due, next, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        arch::firmware_poll();
    return __atomic_load_n(&g_due_tb, __ATOMIC_ACQUIRE);
}

}  // namespace pv
