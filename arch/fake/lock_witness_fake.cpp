// The lock witness on the host (base/lock_witness.h): a record per host
// thread; a violation aborts (unit tests see it as a death).
#ifdef PV_LOCK_WITNESS
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "base/lock_witness.h"

namespace pv {

LockWitnessThread& lock_witness_thread() {
    static std::atomic<u32> next_id{0};
    thread_local LockWitnessThread t{{}, 0, next_id++, false};
    return t;
}

[[noreturn]] void lock_witness_failed(const char* message) {
    std::fprintf(stderr, "HYPERVISOR FAULT: %s\n", message);
    std::abort();
}

}  // namespace pv
#endif
