// Lock witness (debug builds, PV_LOCK_WITNESS): every SpinLock a thread takes
// is checked against the locks that thread already holds. A lock whose rank
// (base/lock_rank.h) is not strictly after every held lock's, a lock taken
// twice, or an unlock of a lock not held stops the machine with both locks
// named (docs/locks.md). Without PV_LOCK_WITNESS nothing here is defined
// (base/lock_witness.cpp is empty) and lock_witness_assert_none_held is a no-op.
#pragma once
#include "base/lock_rank.h"
#include "base/types.h"

namespace pv {

class SpinLock;

// The locks one thread holds, oldest first.
struct LockWitnessThread {
    static constexpr u32 kMaxHeld = 16;
    const SpinLock* held[kMaxHeld];
    u32 depth;
    u32 id;       // for the report: the hardware thread (or host thread)
    bool failed;  // reporting a violation: nothing more is checked here
};

const char* lock_rank_name(LockRank r);

// The checks SpinLock calls (base/lock_witness.cpp).
void lock_witness_acquire(const SpinLock& l);  // before it spins: order, recursion
void lock_witness_acquired_try(const SpinLock& l);  // a try_lock succeeded: held, no order check
void lock_witness_release(const SpinLock& l);

// Locks the calling thread holds now.
u32 lock_witness_depth();

// Stops with a report unless the calling thread holds no lock (`where`: e.g.
// "partition entry": no lock may be held across it). Nothing without the witness.
#ifdef PV_LOCK_WITNESS
void lock_witness_assert_none_held(const char* where);
#else
inline void lock_witness_assert_none_held(const char*) {}
#endif

// Implemented per architecture: this thread's record (arch/ppc64: the
// hardware thread's; arch/fake: a thread_local), and how a violation ends the
// machine (arch/ppc64: "HYPERVISOR FAULT: ..." and power-off; the host: abort).
LockWitnessThread& lock_witness_thread();
[[noreturn]] void lock_witness_failed(const char* message);

}  // namespace pv
