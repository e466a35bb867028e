#include "mm/replacement.h"

namespace pv {
namespace {

// ---- step 1: which partition gives a frame up ----

// Frames the partition keeps that are neither pinned nor already on their
// way out: only those can be robbed, and only down to the entitlement.
// How many it can give (0: none).
u64 frames_to_give(const SharedPool& pool, u32 slot) {
    PoolPartitionStats s = pool.stats(slot);
    if (s.resident <= s.pinned) return 0;  // nothing evictable
    u64 unpinned_kept = s.held - s.out_pending - s.pinned;
    return unpinned_kept > pool.entitled(slot) ? unpinned_kept - pool.entitled(slot) : 0;
}

bool can_give_frame(const SharedPool& pool, u32 slot) { return frames_to_give(pool, slot) > 0; }

// What every partition's target shares: taken once per choice, not once per
// partition asked (each is a pass over the partitions; with 1000 slots that
// pass was most of a reclaim's cost).
struct PoolShares {
    u64 extra = 0;    // frames beyond every guarantee
    u64 weights = 0;  // of the partitions in the pool
    u64 active = 0;
};

PoolShares pool_shares(const SharedPool& pool) {
    PoolShares sh;
    u64 guaranteed = pool.guaranteed();
    sh.extra = pool.frames() > guaranteed ? pool.frames() - guaranteed : 0;
    for (u32 s = 0; s < pool.slot_end(); ++s) {
        if (!pool.has_partition(s)) continue;
        sh.weights += pool.weight(s);
        ++sh.active;
    }
    return sh;
}

u64 residency_target(const SharedPool& pool, u32 slot, const PoolShares& sh) {
    if (!pool.has_partition(slot)) return 0;
    u64 share = sh.weights ? sh.extra * pool.weight(slot) / sh.weights : sh.extra / sh.active;
    return pool.entitled(slot) + pool.stats(slot).pinned + share;
}

// How far above its target the partition is (negative: below).
i64 excess(const SharedPool& pool, u32 slot, const PoolShares& sh) {
    PoolPartitionStats s = pool.stats(slot);
    return static_cast<i64>(s.held - s.out_pending) - static_cast<i64>(residency_target(pool, slot, sh));
}

// Partitions whose sweep already failed in this choice (a bit each: zeroing
// a byte per slot cost more than the choice).
struct TriedSlots {
    u64 bits[(SharedPool::kSlots + 63) / 64]{};
    bool has(u32 s) const { return bits[s / 64] >> (s % 64) & 1; }
    void add(u32 s) { bits[s / 64] |= u64{1} << (s % 64); }
};

// The partition to take frames from: the one furthest above its target
// among those that can give one; lowest slot on ties. `tried` excludes
// partitions whose sweep already failed. `run` is how many frames it can
// give before another partition would be the choice (at least 1): a
// reclaim takes that many from it for one pass over the partitions.
struct Pick {
    u32 slot;
    u64 run;
};

std::optional<Pick> pick_partition(const SharedPool& pool, const TriedSlots& tried) {
    std::optional<u32> best;
    i64 best_excess = 0, second_excess = 0;
    bool second = false;
    PoolShares sh = pool_shares(pool);
    for (u32 s = 0; s < pool.slot_end(); ++s) {
        if (tried.has(s) || !pool.has_partition(s) || !can_give_frame(pool, s)) continue;
        i64 e = excess(pool, s, sh);
        if (!best || e > best_excess) {
            if (best) second_excess = best_excess, second = true;
            best = s;
            best_excess = e;
        } else if (!second || e > second_excess) {
            second_excess = e;
            second = true;
        }
    }
    if (!best) return std::nullopt;
    u64 give = frames_to_give(pool, *best);  // > 0: it passed can_give_frame
    u64 run = second ? static_cast<u64>(best_excess - second_excess) : give;
    if (run < 1) run = 1;
    return Pick{*best, run < give ? run : give};
}

// ---- step 2: which page, inside the partition ----

constexpr u8 kSeen = 1;              // visited once on the cold ring since it got there
constexpr u8 kDemoted = kReplKeep;   // came to the cold ring from the hot one (kept across eviction)

// Reads and clears R/C; a C bit is folded into the page at once because the
// hardware copy is gone after the clear.
bool referenced(SharedPool& pool, RcAccess rc, u32 slot, LogicalPage lp) {
    bool ref = false, chg = false;
    if (!rc.test_and_clear(rc.ctx, slot, lp, ref, chg)) return false;  // no PTE: nothing learned
    if (chg) pool.note_changed(slot, lp);
    return ref;
}

// The cold ring's target size adapts: a refault of a page evicted from
// probation means the cold ring was too short for it (grow it); a refault of
// a page that had been hot means the hot ring was (shrink the cold one).
// Kept as a fraction of the resident frames (policy_state, 1/65536 units;
// 0 = not set yet) so that it follows the partition's residency as that
// changes with weights and entitlements. The clamp keeps one frame a side.
constexpr u64 kFracOne = u64{1} << 16;

u64 cold_target(SharedPool& pool, u32 slot) {
    u64 resident = pool.stats(slot).resident;
    u64& frac = pool.policy_state(slot);
    if (frac == 0) frac = kFracOne / 4;  // start: a quarter on probation
    if (resident < 2) return resident;
    u64 t = resident * frac / kFracOne;
    return t < 1 ? 1 : t > resident - 1 ? resident - 1 : t;
}

// Step as ARC's: one frame, or the other ring's size relative to this one's.
void adapt_cold_target(SharedPool& pool, u32 slot, bool was_hot) {
    u64 resident = pool.stats(slot).resident;
    if (resident < 2) return;
    u64 t = cold_target(pool, slot);
    u64 cold = pool.ring_size(slot, Ring::Cold), hot = pool.ring_size(slot, Ring::Hot);
    u64 step = was_hot ? (hot ? cold / hot : 1) : (cold ? hot / cold : 1);
    if (step == 0) step = 1;
    if (was_hot) t = t > step ? t - step : 1;
    else t = t + step < resident ? t + step : resident - 1;
    pool.policy_state(slot) = (t * kFracOne + resident - 1) / resident;  // round up: t survives the way back
}

u64 hot_max(SharedPool& pool, u32 slot) { return pool.stats(slot).resident - cold_target(pool, slot); }

// Hot hand, second chance: referenced pages keep their place (R cleared),
// the first unreferenced one moves to the cold ring, where it is visited once
// more: referenced by then it comes back, else it is evicted. False if the
// hot ring holds nothing that can move (empty, or only pinned pages).
bool demote_one(SharedPool& pool, RcAccess rc, u32 slot) {
    u64 limit = 2 * pool.ring_size(slot, Ring::Hot) + 1;  // one revolution clears every R
    for (u64 step = 0; step < limit; ++step) {
        std::optional<Frame> f = pool.hand(slot, Ring::Hot);
        if (!f) return false;
        pool.advance_hand(slot, Ring::Hot);
        LogicalPage lp = pool.owner_page(*f);
        if (pool.pins(*f) || referenced(pool, rc, slot, lp)) continue;
        pool.move_to_ring(*f, Ring::Cold);
        pool.repl_bits(*f) = kSeen | kDemoted;
        return true;
    }
    return false;
}

// A cold page proved itself: into the hot ring, which gives up a page if
// that takes it over its cap.
void promote(SharedPool& pool, RcAccess rc, u32 slot, Frame f) {
    pool.move_to_ring(f, Ring::Hot);
    pool.repl_bits(f) = 0;
    if (pool.ring_size(slot, Ring::Hot) > hot_max(pool, slot)) demote_one(pool, rc, slot);
}

// One cold-hand visit; returns true when f is the victim. A page at its
// first visit that had been evicted recently (the pool judged it when it
// faulted: within `resident` evictions of its own) would have stayed with a
// little more room, so it is part of the working set (hot at once) and tells
// which ring should have kept it.
bool visit_cold(SharedPool& pool, RcAccess rc, u32 slot, Frame f, LogicalPage lp) {
    u8& bits = pool.repl_bits(f);
    bool ref = referenced(pool, rc, slot, lp);
    if (!(bits & kSeen) && pool.refaulted_recently(f)) {
        adapt_cold_target(pool, slot, bits & kDemoted);
        if (ref) {
            promote(pool, rc, slot, f);
            return false;
        }
    }
    if (!ref) return true;
    if (bits & kSeen) promote(pool, rc, slot, f);
    else bits = kSeen;  // R here is the faulting access itself
    return false;
}

// Cold hand. A page arrives with R set by the access that faulted it in, so
// its first visit only marks it seen; at a later visit R set means a second
// reference while on probation → hot, R clear → the victim. One-time pages
// (a scan) thus stay at most two revolutions of the cold ring and never
// displace the hot ring; pinned pages are parked on the hot ring.
std::optional<Victim> sweep(SharedPool& pool, RcAccess rc, u32 slot) {
    if (pool.ring_size(slot, Ring::Hot) > hot_max(pool, slot)) demote_one(pool, rc, slot);
    u64 limit = 3 * pool.stats(slot).resident + 3;  // each page: seen, promoted, or chosen
    for (u64 step = 0; step < limit; ++step) {
        if (pool.ring_size(slot, Ring::Cold) == 0 && !demote_one(pool, rc, slot)) return std::nullopt;
        std::optional<Frame> f = pool.hand(slot, Ring::Cold);
        if (!f) return std::nullopt;
        pool.advance_hand(slot, Ring::Cold);  // past f in every case: a victim ends up last
        LogicalPage lp = pool.owner_page(*f);
        if (pool.pins(*f)) {
            pool.move_to_ring(*f, Ring::Hot);
            continue;
        }
        if (visit_cold(pool, rc, slot, *f, lp)) return Victim{slot, lp, *f, !pool.page(slot, lp)->on_device_valid};
    }
    return std::nullopt;
}

}  // namespace

u64 residency_target(const SharedPool& pool, u32 slot) { return residency_target(pool, slot, pool_shares(pool)); }

u32 choose_victims(SharedPool& pool, RcAccess rc, u32 max, VictimSink sink) {
    TriedSlots tried;
    u32 n = 0;
    for (u32 attempt = 0; n < max && attempt < pool.slot_end(); ++attempt) {
        std::optional<Pick> pick = pick_partition(pool, tried);
        if (!pick) break;
        u64 run = pick->run < max - n ? pick->run : max - n, got = 0;
        for (; got < run; ++got) {
            std::optional<Victim> v = sweep(pool, rc, pick->slot);
            if (!v) break;
            ++n;
            if (!sink.take(sink.ctx, *v)) return n;
        }
        if (got < run) tried.add(pick->slot);  // its sweep failed: the others are asked
        else attempt = 0;                      // a full run: every partition may be asked again
    }
    return n;
}

Result<Victim> choose_victim(SharedPool& pool, RcAccess rc) {
    Victim v{};
    VictimSink keep{[](void* ctx, const Victim& found) {
                        *static_cast<Victim*>(ctx) = found;
                        return true;
                    },
                    &v};
    if (choose_victims(pool, rc, 1, keep) == 0) return Result<Victim>::failure(Err::NotFound);
    return Result<Victim>::success(v);
}

}  // namespace pv
