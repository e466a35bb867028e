// The lock witness on POWER9 (base/lock_witness.h; PV_LOCK_WITNESS builds
// only): one record per hardware thread, and a violation stops the machine.
#ifdef PV_LOCK_WITNESS
#include "arch/arch.h"
#include "arch/ppc64/opal.h"
#include "arch/ppc64/spr.h"
#include "arch/ppc64/thread.h"
#include "base/lock_witness.h"
#include "base/spinlock.h"
#include "hv/console.h"

extern "C" pv::arch::ThreadSlot pv_thread_slots[pv::kMaxThreads];

namespace pv {
namespace {
LockWitnessThread g_witness[kMaxThreads];
}

// HSPRG0 holds this thread's block once boot has set it (init_this_thread);
// before that only the boot thread runs.
LockWitnessThread& lock_witness_thread() {
    u64 tb = spr::read<spr::HSPRG0>();
    u64 first = reinterpret_cast<u64>(&pv_thread_slots[0].block);
    u64 end = reinterpret_cast<u64>(&pv_thread_slots[kMaxThreads]);
    u32 index = tb >= first && tb < end ? arch::this_thread().cpu.index : 0;
    if (index >= kMaxThreads) index = 0;
    LockWitnessThread& t = g_witness[index];
    t.id = index;
    return t;
}

// The report goes through the console lock unless this thread holds it (or
// the OPAL console's) itself.
[[noreturn]] void lock_witness_failed(const char* message) {
    const LockWitnessThread& t = lock_witness_thread();
    bool console_held = false;
    for (u32 i = 0; i < t.depth; ++i) {
        LockRank r = t.held[i]->rank();
        console_held |= r == LockRank::Console || r == LockRank::OpalConsole;
    }
    if (console_held) {
        static const char kPrefix[] = "\npoolvisor: HYPERVISOR FAULT: ";
        u32 n = 0;
        while (message[n]) ++n;
        opal::console_write(kPrefix, sizeof kPrefix - 1);
        opal::console_write(message, n);
        opal::console_write("\n", 1);
    } else {
        log("HYPERVISOR FAULT: %s", message);
    }
    arch::power_off();
}

}  // namespace pv
#endif
