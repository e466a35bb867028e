// Test-and-set spinlock on compiler atomics (lwarx/stwcx.).
#pragma once
#include "partition/guest/rt/types.h"

namespace rt {

class SpinLock {
public:
    void lock() {
        while (__atomic_exchange_n(&held_, true, __ATOMIC_ACQUIRE))
            while (__atomic_load_n(&held_, __ATOMIC_RELAXED)) relax();
    }
    // Gives up after about `spins` tries (panic paths: the holder may be us).
    bool lock_for(u64 spins) {
        while (__atomic_exchange_n(&held_, true, __ATOMIC_ACQUIRE)) {
            while (__atomic_load_n(&held_, __ATOMIC_RELAXED)) {
                if (spins-- == 0) return false;
                relax();
            }
        }
        return true;
    }
    void unlock() { __atomic_store_n(&held_, false, __ATOMIC_RELEASE); }

private:
    static void relax() { asm volatile("or 1,1,1; or 2,2,2" ::: "memory"); }  // SMT priority low, back to medium
    bool held_ = false;
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

}  // namespace rt
