#include "mm/frame_alloc.h"

namespace pv {

void FrameAllocator::remove_at(u32 i) {
    for (u32 j = i; j + 1 < count_; ++j) ranges_[j] = ranges_[j + 1];
    --count_;
}

void FrameAllocator::insert_at(u32 i, MemRange r) {
    if (count_ == kMaxRanges) return;  // drop the fragment: losing memory is safe, using reserved is not
    for (u32 j = count_; j > i; --j) ranges_[j] = ranges_[j - 1];
    ranges_[i] = r;
    ++count_;
}

void FrameAllocator::add_usable(MemRange r) {
    if (r.size == 0) return;
    u32 i = 0;
    while (i < count_ && ranges_[i].base < r.base) ++i;
    insert_at(i, r);
}

void FrameAllocator::reserve(MemRange r) {
    for (u32 i = 0; i < count_;) {
        MemRange cur = ranges_[i];
        if (r.end() <= cur.base || r.base >= cur.end()) {
            ++i;
            continue;
        }
        remove_at(i);
        if (cur.base < r.base) insert_at(i++, {cur.base, r.base - cur.base});
        if (r.end() < cur.end()) insert_at(i++, {r.end(), cur.end() - r.end()});
    }
}

Result<HostReal> FrameAllocator::alloc(u64 size, u64 align) {
    if (size == 0 || align == 0 || (align & (align - 1))) return Result<HostReal>::failure(Err::Invalid);
    for (u32 i = 0; i < count_; ++i) {
        u64 base = align_up(ranges_[i].base, align);
        if (base < ranges_[i].base || base + size > ranges_[i].end() || base + size < base) continue;
        reserve({base, size});
        return Result<HostReal>::success(HostReal{base});
    }
    return Result<HostReal>::failure(Err::NoMemory);
}

u64 FrameAllocator::free_bytes() const {
    u64 n = 0;
    for (u32 i = 0; i < count_; ++i) n += ranges_[i].size;
    return n;
}

}  // namespace pv
