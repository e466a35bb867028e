// Physical memory the hypervisor hands out at boot: usable RAM minus every
// reserved range (firmware, our image, the bundle). Contiguous, aligned
// chunks, never returned: partition memory and page-table pools are sized at
// boot. (The shared pool will manage its own frames inside one chunk.)
#pragma once
#include "base/result.h"

namespace pv {

struct MemRange {
    u64 base = 0;
    u64 size = 0;
    constexpr u64 end() const { return base + size; }
};

class FrameAllocator {
public:
    static constexpr u32 kMaxRanges = 32;

    void add_usable(MemRange r);
    void reserve(MemRange r);  // carve out of whatever usable ranges it overlaps
    [[nodiscard]] Result<HostReal> alloc(u64 size, u64 align);
    u64 free_bytes() const;
    u32 range_count() const { return count_; }
    MemRange range(u32 i) const { return ranges_[i]; }

private:
    void remove_at(u32 i);
    void insert_at(u32 i, MemRange r);
    MemRange ranges_[kMaxRanges]{};
    u32 count_ = 0;
};

}  // namespace pv
