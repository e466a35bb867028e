#include "mm/pool.h"

#include "base/format.h"

namespace pv {
namespace {

using ull = unsigned long long;

void set_msg(char* msg, u32 len, const char* text) {
    if (msg && len) format(msg, len, "%s", text);
}

// Adds without wrapping: a config with absurd numbers must fail the size
// check, not wrap around and pass it.
u64 sat_add(u64 a, u64 b) { return a + b < a ? ~u64{0} : a + b; }

bool holds_frame(PageState s) { return s != PageState::NotResident; }

// A NotResident page whose contents are gone (discarded, or reinitialised
// after an error) reads as zero: no device copy, no error owed, no eviction
// stamp (a zero-fill page has no refault history). bad_block stays.
void make_zero_fill(PageInfo& pg) {
    pg.frame = 0;
    pg.on_device = false;
    pg.on_device_valid = true;
    pg.error = false;
    pg.lost = false;
}

// Err for an operation that needs a Resident page: pending pages are busy
// (retry after the I/O), absent ones are not found.
Err not_resident_err(PageState s) {
    return s == PageState::NotResident ? Err::NotFound : Err::Busy;
}

}  // namespace

Err validate_pool(u64 frames, std::span<const PoolNeed> needs, char* msg, u32 msg_len) {
    set_msg(msg, msg_len, "");
    if (frames == 0 || frames > kMaxPoolFrames) {
        set_msg(msg, msg_len, "shared pool: size must be 1 .. 2^25-1 frames (128 GiB of 4 KiB pages)");
        return Err::Invalid;
    }
    if (needs.size() > SharedPool::kSlots) {
        set_msg(msg, msg_len, "shared pool: too many shared partitions");
        return Err::Invalid;
    }
    u64 ent = 0, pinned = 0;
    for (u32 i = 0; i < needs.size(); ++i) {
        const PoolNeed& n = needs[i];
        if (n.logical_pages == 0 || sat_add(n.entitled, n.pinned) > n.logical_pages) {
            if (msg && msg_len)
                format(msg, msg_len, "shared partition %u: entitled %llu + pinned %llu frames exceed its %llu pages",
                       i, ull(n.entitled), ull(n.pinned), ull(n.logical_pages));
            return Err::Invalid;
        }
        ent = sat_add(ent, n.entitled);
        pinned = sat_add(pinned, n.pinned);
    }
    u64 need = sat_add(sat_add(ent, pinned), kPoolPagingReserve);
    if (need > frames) {
        if (msg && msg_len)
            format(msg, msg_len,
                   "shared pool of %llu frames is smaller than the %llu it must guarantee "
                   "(entitled %llu + pinned %llu + paging reserve %llu)",
                   ull(frames), ull(need), ull(ent), ull(pinned), ull(kPoolPagingReserve));
        return Err::NoMemory;
    }
    return Err::Ok;
}

Err SharedPool::init(Frame first, std::span<FrameInfo> frames) {
    if (frames.empty() || frames.size() > kMaxPoolFrames || first.value + frames.size() < first.value) return Err::Invalid;
    first_ = first;
    frames_ = frames;
    for (u32 i = 0; i < frames.size(); ++i) frames_[i] = FrameInfo{kFreeSlot, 0, Ring::Cold, false, 0, 0, i + 1, kNone};
    frames_[frames.size() - 1].next = kNone;
    free_head_ = 0;
    free_count_ = frames.size();
    out_pending_ = 0;
    for (Part& p : parts_) p = Part();
    set_watermarks();
    return Err::Ok;
}

// Low: 1/16 of the pool but at least 4 frames, so page-out starts while a
// burst of faults can still be served from the free list; high = 2 x low
// so that one reclaim run frees a batch. Tiny pools (tests) cap low at half.
void SharedPool::set_watermarks() {
    u64 n = frames_.size();
    low_ = n / 16 < 4 ? 4 : n / 16;
    if (low_ > n / 2) low_ = n / 2;
    high_ = 2 * low_ > n ? n : 2 * low_;
}

u64 SharedPool::guaranteed() const {
    u64 g = 0;
    for (u32 s = 0; s < slot_end_; ++s)
        if (parts_[s].active) g += parts_[s].entitled + parts_[s].stats.pinned;
    return g;
}

u64 SharedPool::reclaim_target() const {
    u64 avail = free_count_ + out_pending_;
    return avail >= high_ ? 0 : high_ - avail;
}

u64 SharedPool::slot_bytes() { return sizeof(Part); }

Err SharedPool::add_partition(u32 slot, std::span<PageInfo> pages, u64 entitled, u8 weight) {
    if (slot >= kSlots || parts_[slot].active || pages.empty() || pages.size() >= kNone) return Err::Invalid;
    if (entitled > pages.size()) return Err::Invalid;
    if (sat_add(guaranteed() + kPoolPagingReserve, entitled) > frames_.size()) return Err::NoMemory;
    for (PageInfo& pg : pages) pg = PageInfo{};
    Part& p = parts_[slot];
    p = Part();
    p.pages = pages;
    p.entitled = entitled;
    p.weight = weight;
    p.active = true;
    if (slot >= slot_end_) slot_end_ = slot + 1;
    return Err::Ok;
}

Err SharedPool::remove_partition(u32 slot) {
    if (!has_partition(slot)) return Err::Invalid;
    Part& p = parts_[slot];
    // A pending page has I/O in flight into or out of its frame.
    if (p.stats.in_pending || p.stats.out_pending) return Err::Busy;
    for (PageInfo& pg : p.pages) {
        if (pg.state == PageState::Resident) put_free(pg.frame);
        pg = PageInfo{};
    }
    p = Part();
    return Err::Ok;
}

Err SharedPool::set_entitlement(u32 slot, u64 entitled) {
    if (!has_partition(slot) || entitled > parts_[slot].pages.size()) return Err::Invalid;
    u64 others = guaranteed() - parts_[slot].entitled;
    if (sat_add(others + kPoolPagingReserve, entitled) > frames_.size()) return Err::NoMemory;
    parts_[slot].entitled = entitled;
    return Err::Ok;
}

Err SharedPool::set_weight(u32 slot, u8 weight) {
    if (!has_partition(slot)) return Err::Invalid;
    parts_[slot].weight = weight;
    return Err::Ok;
}

const PageInfo* SharedPool::page(u32 slot, LogicalPage lp) const {
    if (!has_partition(slot) || lp.value >= parts_[slot].pages.size()) return nullptr;
    return &parts_[slot].pages[lp.value];
}

PageInfo* SharedPool::page_mut(u32 slot, LogicalPage lp) { return const_cast<PageInfo*>(page(slot, lp)); }

u8 SharedPool::pins(u32 slot, LogicalPage lp) const {
    const PageInfo* pg = page(slot, lp);
    return pg && pg->state == PageState::Resident ? frames_[pg->frame].pins : 0;
}

u32 SharedPool::take_free() {
    u32 i = free_head_;
    free_head_ = frames_[i].next;
    --free_count_;
    return i;
}

void SharedPool::put_free(u32 i) {
    frames_[i] = FrameInfo{kFreeSlot, 0, Ring::Cold, false, 0, 0, free_head_, kNone};
    free_head_ = i;
    ++free_count_;
}

// A frame goes just behind the hand: the clock reaches it last, giving it a
// full revolution to be referenced again.
void SharedPool::ring_insert(Part& p, u32 i, Ring r) {
    RingHead& h = p.ring[ix(r)];
    frames_[i].ring = r;
    ++h.size;
    if (h.hand == kNone) {
        frames_[i].next = frames_[i].prev = i;
        h.hand = i;
        return;
    }
    u32 t = frames_[h.hand].prev;
    frames_[i].next = h.hand;
    frames_[i].prev = t;
    frames_[t].next = i;
    frames_[h.hand].prev = i;
}

void SharedPool::ring_remove(Part& p, u32 i) {
    RingHead& h = p.ring[ix(frames_[i].ring)];
    --h.size;
    u32 n = frames_[i].next, pr = frames_[i].prev;
    if (n == i) {
        h.hand = kNone;
        return;
    }
    frames_[pr].next = n;
    frames_[n].prev = pr;
    if (h.hand == i) h.hand = n;
}

std::optional<Frame> SharedPool::hand(u32 slot, Ring r) const {
    if (!has_partition(slot) || parts_[slot].ring[ix(r)].hand == kNone) return std::nullopt;
    return frame_at(parts_[slot].ring[ix(r)].hand);
}

void SharedPool::advance_hand(u32 slot, Ring r) {
    if (!has_partition(slot)) return;
    RingHead& h = parts_[slot].ring[ix(r)];
    if (h.hand != kNone) h.hand = frames_[h.hand].next;
}

void SharedPool::move_to_ring(Frame f, Ring r) {
    if (!contains(f)) return;
    u32 i = index_of(f);
    FrameInfo& fi = frames_[i];
    if (fi.slot >= kSlots || parts_[fi.slot].pages[fi.page].state != PageState::Resident) return;
    ring_remove(parts_[fi.slot], i);
    ring_insert(parts_[fi.slot], i, r);
}


// Gives a non-Resident page's frame back (pending states end here).
void SharedPool::release(u32 slot, PageInfo& pg) {
    put_free(pg.frame);
    pg.frame = 0;
    pg.state = PageState::NotResident;
    --parts_[slot].stats.held;
}

Result<Frame> SharedPool::alloc_frame(u32 slot, LogicalPage lp) {
    PageInfo* pg = page_mut(slot, lp);
    if (!pg) return Result<Frame>::failure(Err::Invalid);
    if (pg->state != PageState::NotResident) return Result<Frame>::failure(Err::Busy);
    if (free_count_ == 0) return Result<Frame>::failure(Err::NoMemory);
    u32 i = take_free();
    // Refault distance: evictions since the page's own eviction, i.e. how
    // much longer it would have had to stay to avoid this fault.
    // Within `resident` evictions it would not have been evicted with a
    // little more room. The stamp keeps kStampBits of the count: distances
    // wrap at 2^23, far beyond any partition's resident count.
    const PoolPartitionStats& s0 = parts_[slot].stats;
    u32 distance = (static_cast<u32>(s0.evictions) - pg->stamp()) & PageInfo::kStampMask;
    bool recent = pg->shadow() && distance <= s0.resident;
    u8 repl = pg->shadow_mark() ? kReplKeep : 0;
    frames_[i] = FrameInfo{static_cast<u16>(slot), repl, Ring::Cold, recent, 0, static_cast<u32>(lp.value), kNone, kNone};
    pg->frame = i;
    pg->state = PageState::PageInPending;
    PoolPartitionStats& s = parts_[slot].stats;
    ++s.held;
    ++s.in_pending;
    ++s.faults;
    return Result<Frame>::success(frame_at(i));
}

Err SharedPool::mark_resident(u32 slot, LogicalPage lp, Frame f) {
    PageInfo* pg = page_mut(slot, lp);
    if (!pg || !contains(f)) return Err::Invalid;
    if (pg->state != PageState::PageInPending || pg->frame != index_of(f)) return Err::Invalid;
    pg->state = PageState::Resident;
    pg->error = false;
    PoolPartitionStats& s = parts_[slot].stats;
    if (pg->on_device) ++s.page_ins;
    --s.in_pending;
    ++s.resident;
    ring_insert(parts_[slot], pg->frame, Ring::Cold);
    return Err::Ok;
}

Err SharedPool::fail_page_in(u32 slot, LogicalPage lp) {
    PageInfo* pg = page_mut(slot, lp);
    if (!pg || pg->state != PageState::PageInPending) return Err::Invalid;
    release(slot, *pg);
    pg->error = true;
    PoolPartitionStats& s = parts_[slot].stats;
    --s.in_pending;
    ++s.page_in_errors;
    return Err::Ok;
}

Err SharedPool::begin_page_out(u32 slot, LogicalPage lp) {
    PageInfo* pg = page_mut(slot, lp);
    if (!pg) return Err::Invalid;
    if (pg->state != PageState::Resident) return not_resident_err(pg->state);
    if (frames_[pg->frame].pins) return Err::Busy;
    ring_remove(parts_[slot], pg->frame);
    pg->state = PageState::PageOutPending;
    PoolPartitionStats& s = parts_[slot].stats;
    --s.resident;
    ++s.out_pending;
    ++out_pending_;
    return Err::Ok;
}

// Leaves PageOutPending; `written`: the device copy is now current (a
// dirty page was written; a clean one needed no write).
void SharedPool::end_page_out(u32 slot, PageInfo& pg, bool written) {
    PoolPartitionStats& s = parts_[slot].stats;
    --s.out_pending;
    --out_pending_;
    if (written && !pg.on_device_valid) {
        ++s.page_outs;
        pg.on_device = true;
        pg.on_device_valid = true;
    }
}

Err SharedPool::finish_page_out(u32 slot, LogicalPage lp, bool ok) {
    PageInfo* pg = page_mut(slot, lp);
    if (!pg || pg->state != PageState::PageOutPending) return Err::Invalid;
    end_page_out(slot, *pg, ok);
    if (!ok) return back_to_resident(slot, *pg);  // the frame holds the only current copy
    PoolPartitionStats& s = parts_[slot].stats;
    ++s.evictions;
    // Stamp the page for refault detection, with the policy's kept bit.
    bool mark = frames_[pg->frame].repl & kReplKeep;
    release(slot, *pg);
    pg->set_shadow(static_cast<u32>(s.evictions), mark);
    return Err::Ok;
}

Err SharedPool::cancel_page_out(u32 slot, LogicalPage lp, bool written) {
    PageInfo* pg = page_mut(slot, lp);
    if (!pg || pg->state != PageState::PageOutPending) return Err::Invalid;
    end_page_out(slot, *pg, written);
    return back_to_resident(slot, *pg);
}

// PageOutPending → Resident, on probation in the cold ring.
Err SharedPool::back_to_resident(u32 slot, PageInfo& pg) {
    pg.state = PageState::Resident;
    ++parts_[slot].stats.resident;
    frames_[pg.frame].repl = 0;
    frames_[pg.frame].recent_refault = false;
    ring_insert(parts_[slot], pg.frame, Ring::Cold);
    return Err::Ok;
}

Err SharedPool::free_frame(u32 slot, LogicalPage lp) {
    PageInfo* pg = page_mut(slot, lp);
    if (!pg) return Err::Invalid;
    if (pg->state == PageState::Resident) {
        if (frames_[pg->frame].pins) return Err::Busy;
        ring_remove(parts_[slot], pg->frame);
        --parts_[slot].stats.resident;
        release(slot, *pg);
    } else if (pg->state != PageState::NotResident) {
        return Err::Busy;
    }
    make_zero_fill(*pg);
    return Err::Ok;
}

Err SharedPool::pin(u32 slot, LogicalPage lp) {
    PageInfo* pg = page_mut(slot, lp);
    if (!pg) return Err::Invalid;
    if (pg->state != PageState::Resident) return not_resident_err(pg->state);
    FrameInfo& fi = frames_[pg->frame];
    if (fi.pins == kMaxPins) return Err::Invalid;
    if (fi.pins == 0) {
        // A pinned frame is guaranteed on top of the entitlement; the pool
        // must still cover every partition's guarantee.
        if (guaranteed() + 1 + kPoolPagingReserve > frames_.size()) return Err::NoMemory;
        PoolPartitionStats& s = parts_[slot].stats;
        if (++s.pinned > s.pinned_max) s.pinned_max = s.pinned;
    }
    ++fi.pins;
    return Err::Ok;
}

Err SharedPool::unpin(u32 slot, LogicalPage lp) {
    PageInfo* pg = page_mut(slot, lp);
    if (!pg || pg->state != PageState::Resident || frames_[pg->frame].pins == 0) return Err::Invalid;
    if (--frames_[pg->frame].pins == 0) --parts_[slot].stats.pinned;
    return Err::Ok;
}

void SharedPool::note_changed(u32 slot, LogicalPage lp) {
    PageInfo* pg = page_mut(slot, lp);
    if (pg && (pg->state == PageState::Resident || pg->state == PageState::PageOutPending)) pg->on_device_valid = false;
}

void SharedPool::mark_bad_block(u32 slot, LogicalPage lp) {
    if (PageInfo* pg = page_mut(slot, lp)) pg->bad_block = true;
}

Err SharedPool::mark_lost(u32 slot, LogicalPage lp) {
    PageInfo* pg = page_mut(slot, lp);
    if (!pg) return Err::Invalid;
    if (pg->state != PageState::NotResident || !pg->error) return Err::Busy;
    pg->lost = true;
    return Err::Ok;
}

Err SharedPool::clear_error(u32 slot, LogicalPage lp) {
    PageInfo* pg = page_mut(slot, lp);
    if (!pg) return Err::Invalid;
    if (pg->state != PageState::NotResident) return Err::Busy;
    make_zero_fill(*pg);
    return Err::Ok;
}

// ---- invariants (tests, debug) ----

// The free list holds exactly the free frames; owned frames point at a page
// of an active partition (so below slot_end_).
bool SharedPool::invariants_frames() const {
    u64 walked = 0;
    for (u32 i = free_head_; i != kNone; i = frames_[i].next) {
        if (i >= frames_.size() || frames_[i].slot != kFreeSlot || ++walked > free_count_) return false;
    }
    if (walked != free_count_) return false;
    u64 free_seen = 0;
    for (u32 i = 0; i < frames_.size(); ++i) {
        const FrameInfo& f = frames_[i];
        if (f.slot == kFreeSlot) {
            ++free_seen;
            continue;
        }
        if (f.slot >= kSlots || !parts_[f.slot].active || f.page >= parts_[f.slot].pages.size()) return false;
        const PageInfo& pg = parts_[f.slot].pages[f.page];
        if (!holds_frame(pg.state) || pg.frame != i) return false;
    }
    return free_seen == free_count_;
}

// Each page holding a frame is that frame's owner; state counts match.
bool SharedPool::invariants_pages(u32 slot, u64 held) const {
    const Part& p = parts_[slot];
    PoolPartitionStats c{};
    for (u32 lp = 0; lp < p.pages.size(); ++lp) {
        const PageInfo& pg = p.pages[lp];
        if (holds_frame(pg.state)) {
            if (pg.frame >= frames_.size() || frames_[pg.frame].slot != slot || frames_[pg.frame].page != lp) return false;
            ++c.held;
        }
        if (holds_frame(pg.state) && frames_[pg.frame].pins && pg.state != PageState::Resident)
            return false;  // only Resident pages pin
        if (pg.lost && (pg.state != PageState::NotResident || !pg.error)) return false;  // owed, no frame
        if ((pg.state == PageState::NotResident || pg.state == PageState::PageInPending) && !pg.on_device_valid)
            return false;
        c.resident += pg.state == PageState::Resident;
        c.in_pending += pg.state == PageState::PageInPending;
        c.out_pending += pg.state == PageState::PageOutPending;
        c.pinned += pg.state == PageState::Resident && frames_[pg.frame].pins != 0;
    }
    const PoolPartitionStats& s = p.stats;
    return c.held == held && c.held == s.held && c.resident == s.resident && c.in_pending == s.in_pending &&
           c.out_pending == s.out_pending && c.pinned == s.pinned;
}

// The ring from its hand is a consistent cycle of `size` Resident frames
// marked as on it.
bool SharedPool::invariants_ring(u32 slot, Ring r) const {
    const RingHead& h = parts_[slot].ring[ix(r)];
    if (h.hand == kNone) return h.size == 0;
    u64 n = 0;
    u32 i = h.hand;
    do {
        if (i >= frames_.size() || frames_[i].slot != slot || frames_[i].ring != r || ++n > h.size) return false;
        if (parts_[slot].pages[frames_[i].page].state != PageState::Resident) return false;
        if (frames_[frames_[i].next].prev != i) return false;
        i = frames_[i].next;
    } while (i != h.hand);
    return n == h.size;
}

bool SharedPool::check_invariants() const {
    if (frames_.empty()) return true;
    if (!invariants_frames()) return false;
    u64 total = free_count_, out = 0;
    bool any = false;
    // Every owned frame's slot is active (invariants_frames): count per slot
    // (no per-slot array on the stack: there are kMaxPartitions slots).
    for (u32 s = 0; s < slot_end_; ++s) {
        u64 held = 0;
        for (const FrameInfo& f : frames_) held += f.slot == s;
        if (!parts_[s].active) {
            if (held) return false;
            continue;
        }
        if (!invariants_pages(s, held) || !invariants_ring(s, Ring::Cold) || !invariants_ring(s, Ring::Hot))
            return false;
        // Both rings together hold exactly the Resident frames.
        if (parts_[s].ring[0].size + parts_[s].ring[1].size != parts_[s].stats.resident) return false;
        any = true;
        total += held;
        out += parts_[s].stats.out_pending;
    }
    // Guarantees only ever grow through checked calls, so they always fit.
    bool fits = !any || guaranteed() + kPoolPagingReserve <= frames_.size();
    return total == frames_.size() && out == out_pending_ && fits;
}

}  // namespace pv
