// Failed page-ins of shared-memory partitions, remembered for the operator
// (PV-STAT) and for the partition itself (H_PV_GET_ERROR_LOG). A fixed ring of
// the newest kCapacity errors of all partitions, plus per-partition counters
// that never wrap. See docs/machine-check.md.
#pragma once
#include "hv/config.h"
#include "base/result.h"
#include "base/spinlock.h"
#include "base/types.h"

namespace pv {

struct PagingError {
    u32 partition_slot = 0;  // Partition::slot
    Lpid lpid{};
    LogicalPage lp{};        // the page that could not be read in
    u32 vcpu = 0;            // the vCPU that faulted first
    u32 device = 0;          // paging device index
    u16 status = 0;          // the paging service partition's status for the request
    u64 timebase = 0;        // when the failure was seen, in the partition's timebase (host TB + its offset)
    u64 effective_addr = 0;  // the faulting access, as the partition saw it
};

class PagingErrorLog {
public:
    static constexpr u32 kCapacity = 64;

    void record(const PagingError& e);
    // Errors recorded so far (all partitions), including those the ring no longer holds.
    u64 total() const;
    // Errors recorded for one partition slot, including those the ring no longer holds.
    u64 count_for(u32 slot) const;
    // The newest retained error of a slot; false if the ring holds none.
    bool newest_for(u32 slot, PagingError& out) const { return nth_newest_for(slot, 0, out); }
    // The n-th newest (0 = newest) retained error of a slot; false if there is none.
    bool nth_newest_for(u32 slot, u32 n, PagingError& out) const;
    // The i-th newest (0 = newest) retained error of any partition; false past the retained ones.
    bool get(u32 i, PagingError& out) const;
    // Entries the ring holds now (≤ kCapacity).
    u32 retained() const;
    // A partition that arrived by migration: its retained errors (oldest
    // first) are recorded for its slot here, and its count becomes `count`,
    // what the source had ever recorded (≥ n). Invalid (nothing changed) for
    // a bad slot, a count below n, or a slot that has errors already.
    [[nodiscard]] Err adopt(u32 slot, const PagingError* oldest_first, u32 n, u64 count);
    void clear();
    // The slot's partition is gone and the slot is reused: its retained
    // errors and its count are forgotten (total() keeps counting them).
    void forget_slot(u32 slot);

private:
    mutable SpinLock lock_{LockRank::PagingErrorLog};
    PagingError ring_[kCapacity]{};
    u64 total_ = 0;  // ring_[total_ % kCapacity] is the next slot written
    u64 per_slot_[kMaxPartitions]{};
};

}  // namespace pv
