// The lock witness's checks (base/lock_witness.h); empty without PV_LOCK_WITNESS.
#ifdef PV_LOCK_WITNESS
#include "base/lock_witness.h"

#include <cstdarg>

#include "base/format.h"
#include "base/spinlock.h"

namespace pv {
namespace {

constexpr const char* kRankNames[] = {
    "finish", "console-input", "migration", "ams-pool", "partition", "psp-partition", "request-pool", "run-queue",
    "vpa", "crq", "paging-error-log", "icp", "host-events", "path-meter", "console-ring", "console", "opal-console",
    "unranked",
};
static_assert(sizeof kRankNames / sizeof kRankNames[0] == static_cast<unsigned>(LockRank::Unranked) + 1,
              "a name for every LockRank");

// The message: what happened, then every lock the thread holds.
[[noreturn]] void fail(LockWitnessThread& t, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
[[noreturn]] void fail(LockWitnessThread& t, const char* fmt, ...) {
    t.failed = true;  // the report itself takes locks (the console's)
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    u32 n = vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    n += format(msg + n, sizeof msg - n, " [thread %u holds:", t.id);
    for (u32 i = 0; i < t.depth && n < sizeof msg - 1; ++i)
        n += format(msg + n, sizeof msg - n, " %s %p", lock_rank_name(t.held[i]->rank()),
                    static_cast<const void*>(t.held[i]));
    if (t.depth == 0 && n < sizeof msg - 1) n += format(msg + n, sizeof msg - n, " nothing");
    if (n < sizeof msg - 1) format(msg + n, sizeof msg - n, "]");
    lock_witness_failed(msg);
}

void push(LockWitnessThread& t, const SpinLock& l) {
    if (t.depth == LockWitnessThread::kMaxHeld)
        fail(t, "lock order: %s lock %p: more than %u locks held", lock_rank_name(l.rank()),
             static_cast<const void*>(&l), LockWitnessThread::kMaxHeld);
    t.held[t.depth++] = &l;
}

}  // namespace

const char* lock_rank_name(LockRank r) {
    auto i = static_cast<unsigned>(r);
    return i < sizeof kRankNames / sizeof kRankNames[0] ? kRankNames[i] : "?";
}

void lock_witness_acquire(const SpinLock& l) {
    LockWitnessThread& t = lock_witness_thread();
    if (t.failed) return;
    for (u32 i = 0; i < t.depth; ++i) {
        const SpinLock& h = *t.held[i];
        if (&h == &l)
            fail(t, "lock order: %s lock %p taken again by the thread that holds it", lock_rank_name(l.rank()),
                 static_cast<const void*>(&l));
        if (h.rank() >= l.rank())
            fail(t, "lock order: %s lock %p taken while holding %s lock %p", lock_rank_name(l.rank()),
                 static_cast<const void*>(&l), lock_rank_name(h.rank()), static_cast<const void*>(&h));
    }
    push(t, l);
}

// A try_lock cannot deadlock: no order to check, but later locks are checked against it.
void lock_witness_acquired_try(const SpinLock& l) {
    LockWitnessThread& t = lock_witness_thread();
    if (!t.failed) push(t, l);
}

// Any held lock may be released (not only the newest).
void lock_witness_release(const SpinLock& l) {
    LockWitnessThread& t = lock_witness_thread();
    if (t.failed) return;
    for (u32 i = t.depth; i-- > 0;) {
        if (t.held[i] != &l) continue;
        for (u32 j = i + 1; j < t.depth; ++j) t.held[j - 1] = t.held[j];
        --t.depth;
        return;
    }
    fail(t, "lock order: %s lock %p released by a thread that does not hold it", lock_rank_name(l.rank()),
         static_cast<const void*>(&l));
}

u32 lock_witness_depth() { return lock_witness_thread().depth; }

void lock_witness_assert_none_held(const char* where) {
    LockWitnessThread& t = lock_witness_thread();
    if (!t.failed && t.depth) fail(t, "lock order: %s with a lock held", where);
}

}  // namespace pv
#endif
