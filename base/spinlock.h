// Test-and-set spinlock on compiler atomics (lwarx/stwcx. on POWER). Each
// hypervisor lock has a rank (base/lock_rank.h, docs/locks.md); a debug build
// (PV_LOCK_WITNESS) checks the order at run time, the release build neither
// stores nor checks it.
#pragma once
#include "base/lock_rank.h"
#include "base/spin_hint.h"
#ifdef PV_LOCK_WITNESS
#include "base/lock_witness.h"
#endif

namespace pv {

class SpinLock {
public:
    constexpr SpinLock() = default;
#ifdef PV_LOCK_WITNESS
    constexpr explicit SpinLock(LockRank rank) : rank_(rank) {}
    // Before first use (a lock whose object's role is known only at boot).
    void set_rank(LockRank rank) { rank_ = rank; }
    LockRank rank() const { return rank_; }
#else
    constexpr explicit SpinLock(LockRank) {}
    void set_rank(LockRank) {}
#endif

    void lock() {
#ifdef PV_LOCK_WITNESS
        lock_witness_acquire(*this);  // before spinning: an order violation is reported, not a hang
#endif
        if (!__atomic_exchange_n(&held_, true, __ATOMIC_ACQUIRE)) return;
        SpinPriority was = spin_hint_begin();  // contended: spin at low SMT priority
        do {
            while (__atomic_load_n(&held_, __ATOMIC_RELAXED)) spin_hint_low();
        } while (__atomic_exchange_n(&held_, true, __ATOMIC_ACQUIRE));
        spin_hint_end(was);
    }
    [[nodiscard]] bool try_lock() {
        bool got = !__atomic_load_n(&held_, __ATOMIC_RELAXED) && !__atomic_exchange_n(&held_, true, __ATOMIC_ACQUIRE);
#ifdef PV_LOCK_WITNESS
        if (got) lock_witness_acquired_try(*this);
#endif
        return got;
    }
    void unlock() {
#ifdef PV_LOCK_WITNESS
        lock_witness_release(*this);
#endif
        __atomic_store_n(&held_, false, __ATOMIC_RELEASE);
    }

private:
    bool held_ = false;
#ifdef PV_LOCK_WITNESS
    LockRank rank_ = LockRank::Unranked;
#endif
};

class Guard {
public:
    explicit Guard(SpinLock& l) : l_(l) { l_.lock(); }
    ~Guard() { l_.unlock(); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

private:
    SpinLock& l_;
};

}  // namespace pv
