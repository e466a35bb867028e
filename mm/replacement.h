// Victim selection for the shared memory pool: which Resident page gives its
// frame up next. Two steps (docs/shared-pool.md):
//  1. the partition: never one whose unpinned frames are at or below its
//     entitlement; among the others the one furthest above its weighted
//     share of the pool (residency_target);
//  2. the page, inside that partition: a hot/cold clock (CLOCK-Pro-lite)
//     over its Resident frames, fed by the hardware reference/change bits.
//     New pages are on probation in a cold ring; a second reference while
//     there, or a refault soon after eviction, makes a page hot; victims
//     come only from the cold ring, whose target size adapts to refaults.
// Pinned and pending pages are never chosen.
#pragma once
#include "mm/pool.h"

namespace pv {

// Reads and clears the R and C bits of (slot, lp)'s partition-scoped PTE.
// The hypervisor implements it over RadixTable::test_and_clear_rc plus a TLB
// invalidation (so the next access sets R again); tests fake it. Returns
// false when the page has no valid PTE (then nothing was learned).
struct RcAccess {
    bool (*test_and_clear)(void* ctx, u32 slot, LogicalPage lp, bool& referenced, bool& changed);
    void* ctx;
};

struct Victim {
    u32 slot;
    LogicalPage lp;
    Frame frame;
    bool dirty;  // the backing copy is stale: write the frame before reusing it
};

// The frames a partition is entitled to hold when the pool is contended:
// its guarantee (entitled + pinned) plus a share of the unguaranteed rest in
// proportion to its weight (all weights 0: equal shares).
u64 residency_target(const SharedPool& pool, u32 slot);

// Chooses a victim and leaves it Resident: the caller removes its PTE,
// flushes the TLB, reports a last C bit with note_changed, then calls
// begin_page_out (before choosing again: the same page could come back)
// and writes it if dirty. NotFound when no partition can give a frame up
// (all at their entitlement, or only pinned pages).
[[nodiscard]] Result<Victim> choose_victim(SharedPool& pool, RcAccess rc);

// What a reclaim does with each victim (as choose_victim's caller does, up to
// begin_page_out) before the next is chosen; false: stop choosing.
struct VictimSink {
    bool (*take)(void* ctx, const Victim& v);
    void* ctx;
};
// Up to max victims, as max calls of choose_victim would choose them, with
// one pass over the partitions per run taken from one partition (not one per
// victim: that pass was a quarter of a victim's cost). Returns how many.
u32 choose_victims(SharedPool& pool, RcAccess rc, u32 max, VictimSink sink);

}  // namespace pv
