// Test-and-set spinlock on compiler atomics (lwarx/stwcx. on POWER).
#pragma once

namespace pv {

class SpinLock {
public:
    void lock() {
        while (__atomic_exchange_n(&held_, true, __ATOMIC_ACQUIRE))
            while (__atomic_load_n(&held_, __ATOMIC_RELAXED)) {
            }
    }
    [[nodiscard]] bool try_lock() {
        return !__atomic_load_n(&held_, __ATOMIC_RELAXED) && !__atomic_exchange_n(&held_, true, __ATOMIC_ACQUIRE);
    }
    void unlock() { __atomic_store_n(&held_, false, __ATOMIC_RELEASE); }

private:
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

}  // namespace pv
