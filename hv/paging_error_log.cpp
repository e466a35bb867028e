#include "hv/paging_error_log.h"

namespace pv {

void PagingErrorLog::record(const PagingError& e) {
    Guard g(lock_);
    ring_[total_ % kCapacity] = e;
    ++total_;
    if (e.partition_slot < kMaxPartitions) ++per_slot_[e.partition_slot];
}

u64 PagingErrorLog::total() const {
    Guard g(lock_);
    return total_;
}

u64 PagingErrorLog::count_for(u32 slot) const {
    Guard g(lock_);
    return slot < kMaxPartitions ? per_slot_[slot] : 0;
}

u32 PagingErrorLog::retained() const {
    Guard g(lock_);
    return total_ < kCapacity ? static_cast<u32>(total_) : kCapacity;
}

bool PagingErrorLog::get(u32 i, PagingError& out) const {
    Guard g(lock_);
    u64 held = total_ < kCapacity ? total_ : kCapacity;
    if (i >= held) return false;
    out = ring_[(total_ - 1 - i) % kCapacity];
    return true;
}

bool PagingErrorLog::nth_newest_for(u32 slot, u32 n, PagingError& out) const {
    Guard g(lock_);
    u64 held = total_ < kCapacity ? total_ : kCapacity;
    for (u64 i = 0; i < held; ++i) {
        const PagingError& e = ring_[(total_ - 1 - i) % kCapacity];
        if (e.partition_slot != slot) continue;
        if (n-- == 0) {
            out = e;
            return true;
        }
    }
    return false;
}

Err PagingErrorLog::adopt(u32 slot, const PagingError* oldest_first, u32 n, u64 count) {
    Guard g(lock_);
    if (slot >= kMaxPartitions || count < n || (n && !oldest_first) || per_slot_[slot]) return Err::Invalid;
    for (u32 i = 0; i < n; ++i) {
        PagingError e = oldest_first[i];
        e.partition_slot = slot;
        ring_[total_ % kCapacity] = e;
        ++total_;
    }
    per_slot_[slot] = count;
    return Err::Ok;
}

void PagingErrorLog::clear() {
    Guard g(lock_);
    total_ = 0;
    for (u64& c : per_slot_) c = 0;
}

void PagingErrorLog::forget_slot(u32 slot) {
    Guard g(lock_);
    if (slot >= kMaxPartitions) return;
    for (PagingError& e : ring_)
        if (e.partition_slot == slot) e.partition_slot = kMaxPartitions;  // no slot's any more
    per_slot_[slot] = 0;
}

}  // namespace pv
