// The shared memory pool (Active Memory Sharing): a range of physical frames
// that backs the logical memory of every `shared` partition, whose combined
// logical size is typically 2-4x the pool. This is the bookkeeping only:
// which logical page holds which frame, in which paging state, and the
// counters. The fault path, the paging I/O and the PTE updates belong to the
// caller; victim selection is mm/replacement.h. See docs/shared-pool.md.
//
// Storage comes from the caller (sized at boot): one FrameInfo per pool frame
// and, per partition, one PageInfo per logical page. Not internally locked:
// the caller serializes every call on one pool (the pool lock).
#pragma once
#include <optional>
#include <span>

#include "base/limits.h"
#include "base/result.h"

namespace pv {

enum class PageState : u8 {
    NotResident,     // no frame, no valid PTE: content on the paging device (on_device) or zero-fill
    PageInPending,   // frame taken, being zero-filled or read from the paging device
    Resident,        // frame mapped (or mappable) by the partition-scoped PTE
    PageOutPending,  // PTE gone, frame being written to the paging device
};

// One logical page of a shared partition: 4 bytes, as there are millions
// (metadata_bytes_per_page). A frame index fits in kPageFrameBits; a
// NotResident page holds no frame, so its `frame` bits hold the eviction
// stamp instead (shadow(), pool-internal). Pins live with the frame
// (FrameInfo::pins): only a Resident page can be pinned.
inline constexpr u32 kPageFrameBits = 25;
struct PageInfo {
    u32 frame : kPageFrameBits = 0;    // pool frame index while the state holds a frame
    PageState state : 2 = PageState::NotResident;
    bool on_device : 1 = false;        // the paging device holds a copy (else: backing is zero-fill)
    bool on_device_valid : 1 = true;   // the backing copy (device or zero-fill) equals the frame: clean
    bool error : 1 = false;            // the last page-in failed; cleared by clear_error
    bool bad_block : 1 = false;        // a read of its device block failed: keep it off that block
    bool lost : 1 = false;             // NotResident: a page-in a vCPU waited for failed and no vCPU
                                       // has taken the machine check for it yet: the next access does

    // NotResident after an eviction (refault distance, mm/replacement.h):
    // the partition's eviction count then, modulo 2^kStampBits, and the
    // frame's kReplKeep bit at eviction. They share `frame`'s bits.
    static constexpr u32 kStampBits = kPageFrameBits - 2;
    static constexpr u32 kStampMask = (u32{1} << kStampBits) - 1;
    bool shadow() const { return state == PageState::NotResident && (frame >> (kPageFrameBits - 1)); }
    bool shadow_mark() const { return shadow() && ((frame >> kStampBits) & 1); }
    u32 stamp() const { return frame & kStampMask; }
    void set_shadow(u32 evictions, bool mark) {
        frame = (u32{1} << (kPageFrameBits - 1)) | (u32{mark} << kStampBits) | (evictions & kStampMask);
    }
};
static_assert(sizeof(PageInfo) == 4);
// Pool frames are indexed by kPageFrameBits: 2^25 - 1 frames, 128 GiB of 4 KiB pages.
inline constexpr u64 kMaxPoolFrames = (u64{1} << kPageFrameBits) - 1;

// The two clock rings of a partition's Resident frames (mm/replacement.h).
enum class Ring : u8 {
    Cold,  // on probation: new pages, demoted pages; victims come from here
    Hot,   // the protected working set: re-referenced and recently refaulted pages
};

// The replacement-history bit the pool keeps with an evicted page and gives
// back (in FrameInfo::repl) when the page is faulted in again.
inline constexpr u8 kReplKeep = 0x80;

// One pool frame: free (on the free list) or owned by one logical page.
struct FrameInfo {
    u16 slot = 0;   // owner's partition slot (up to kMaxPartitions), kFreeSlot when free
    u8 repl = 0;    // replacement-policy history (mm/replacement.cpp owns it)
    Ring ring : 1 = Ring::Cold;  // which ring it is on, while Resident
    // Faulted in within `resident` evictions of its own eviction (ARC's
    // ghost-list hit, judged when it faulted): it would have stayed with a
    // little more room (mm/replacement.cpp).
    bool recent_refault : 1 = false;
    u8 pins : 6 = 0;  // the owner's pin count (overlapping registered areas share a page); only while Resident
    u32 page = 0;   // owner's logical page
    u32 next = 0;   // free list, or the owner's ring
    u32 prev = 0;   // the owner's ring
};
inline constexpr u8 kMaxPins = 0x3f;
// Every area a partition registers (VPA, DTL, SLB shadow of each vCPU, the
// process table, the RTAS area) may be in one page.
static_assert(kMaxPins >= 3 * kMaxConfigVcpus + 2);
static_assert(sizeof(FrameInfo) == 16);

// Counters of one partition (page counts are current, event counts cumulative).
struct PoolPartitionStats {
    u64 held = 0;         // frames owned in any state (PageInPending, Resident, PageOutPending)
    u64 resident = 0;     // pages in Resident state
    u64 in_pending = 0;   // pages in PageInPending
    u64 out_pending = 0;  // pages in PageOutPending
    u64 pinned = 0;       // pinned pages (all Resident)
    u64 pinned_max = 0;   // the most pinned at once
    u64 faults = 0;       // frames taken for a page (alloc_frame)
    u64 page_ins = 0;     // pages read from the paging device
    u64 page_outs = 0;    // pages written to the paging device
    u64 evictions = 0;    // frames taken back (clean or written)
    u64 page_in_errors = 0;
};

// What one partition needs guaranteed: config-time input of validate_pool.
struct PoolNeed {
    u64 logical_pages;
    u64 entitled;  // I/O entitled frames
    u64 pinned;    // frames it may pin (registered areas), on top of the entitlement
};

// Frames kept out of every guarantee so that partitions with nothing
// guaranteed can still fault (an instruction needs a few pages at once).
inline constexpr u64 kPoolPagingReserve = 4;

// Rejects a pool that cannot honour every guarantee: frames must cover
// sum(entitled + pinned) + kPoolPagingReserve. Err::Invalid for malformed
// needs, Err::NoMemory for a pool too small; `msg` (NUL-terminated when
// msg_len > 0) says why, or is "" on success.
[[nodiscard]] Err validate_pool(u64 frames, std::span<const PoolNeed> needs, char* msg, u32 msg_len);

class SharedPool {
public:
    static constexpr u32 kSlots = kMaxPartitions;  // slot = index of the partition in the hypervisor
    static constexpr u16 kFreeSlot = 0xffff;
    static_assert(kSlots < kFreeSlot);
    static constexpr u32 kNone = 0xffffffff;

    // The pool is host frames [first, first + frames.size()). All free.
    [[nodiscard]] Err init(Frame first, std::span<FrameInfo> frames);

    // A shared partition with pages.size() logical pages, all NotResident and
    // zero-fill. NoMemory if the pool could no longer honour every guarantee.
    [[nodiscard]] Err add_partition(u32 slot, std::span<PageInfo> pages, u64 entitled, u8 weight);
    // Only when it holds no pending page; its frames return to the free list.
    [[nodiscard]] Err remove_partition(u32 slot);
    [[nodiscard]] Err set_entitlement(u32 slot, u64 entitled);  // H_SET_MPP
    [[nodiscard]] Err set_weight(u32 slot, u8 weight);

    // NotResident → PageInPending: a free frame for (slot, lp). The caller
    // zero-fills it (!on_device) or has the paging service partition read
    // it, then calls mark_resident or fail_page_in. NoMemory: no free frame
    // (run choose_victim); Busy: the page is not NotResident.
    [[nodiscard]] Result<Frame> alloc_frame(u32 slot, LogicalPage lp);
    // PageInPending → Resident; the caller maps the PTE after this.
    [[nodiscard]] Err mark_resident(u32 slot, LogicalPage lp, Frame f);
    // PageInPending → NotResident with `error` set: the read failed, frame freed.
    [[nodiscard]] Err fail_page_in(u32 slot, LogicalPage lp);

    // Resident → PageOutPending. The caller has removed the PTE and flushed
    // the TLB, and reported a final C bit with note_changed. Then it writes
    // the frame if the page is dirty (!on_device_valid) and calls
    // finish_page_out; a clean page needs no write (call finish at once).
    [[nodiscard]] Err begin_page_out(u32 slot, LogicalPage lp);
    // PageOutPending → NotResident (ok: the device copy is current, frame
    // freed), or back to Resident, still dirty, when the write failed.
    [[nodiscard]] Err finish_page_out(u32 slot, LogicalPage lp, bool ok);
    // PageOutPending → Resident: the page was wanted again before its frame
    // was freed (a fault during the write). `written`: the write completed,
    // so the device copy is current. The caller maps the frame again.
    [[nodiscard]] Err cancel_page_out(u32 slot, LogicalPage lp, bool written);
    // Resident (or NotResident) → NotResident, contents discarded: the page
    // reads as zero again and its device copy is dead (loaned page,
    // H_PAGE_INIT). The caller has removed the PTE.
    [[nodiscard]] Err free_frame(u32 slot, LogicalPage lp);

    // A pinned page is never chosen as a victim. Only Resident pages can be
    // pinned (NotFound if not resident, Busy while pending); NoMemory when
    // the pool could no longer honour sum(entitled + pinned) + reserve.
    [[nodiscard]] Err pin(u32 slot, LogicalPage lp);
    [[nodiscard]] Err unpin(u32 slot, LogicalPage lp);

    // The hardware C bit was seen set: the backing copy is stale.
    void note_changed(u32 slot, LogicalPage lp);
    // The partition was told of the failed page-in and reinitialised the
    // page: it becomes zero-fill.
    [[nodiscard]] Err clear_error(u32 slot, LogicalPage lp);
    // NotResident with `error`: the contents are lost and the next access to
    // the page, from any vCPU, takes the machine check (then clear_error).
    [[nodiscard]] Err mark_lost(u32 slot, LogicalPage lp);
    // Its device block failed a read: the hypervisor keeps the page resident
    // (pinned) from its next page-in on, so it is never written there again.
    void mark_bad_block(u32 slot, LogicalPage lp);
    // Live migration, target (mm/pool_incoming.cpp): a NotResident page of
    // an incoming partition becomes what the source sent. Stored: its device
    // block holds it (the mover wrote it; page-ins read it); Zero: zero-fill,
    // any device copy dead; Lost: the next access machine-checks (error and
    // lost, as a failed page-in no vCPU was told of). Busy: not NotResident.
    enum class Incoming : u8 { Stored, Zero, Lost };
    [[nodiscard]] Err set_incoming(u32 slot, LogicalPage lp, Incoming what);

    // Queries.
    bool has_partition(u32 slot) const { return slot < kSlots && parts_[slot].active; }
    // One past the highest slot ever added: loops over partitions stop here,
    // not at kSlots (a boot with 4 partitions does not walk 1000).
    u32 slot_end() const { return slot_end_; }
    // The pool's fixed state per partition slot (metadata figures).
    static u64 slot_bytes();
    const PageInfo* page(u32 slot, LogicalPage lp) const;  // nullptr if out of range
    // Its pin count (0 unless Resident and pinned).
    u8 pins(u32 slot, LogicalPage lp) const;
    u8 pins(Frame f) const { return frames_[index_of(f)].pins; }
    u64 logical_pages(u32 slot) const { return has_partition(slot) ? parts_[slot].pages.size() : 0; }
    u64 entitled(u32 slot) const { return has_partition(slot) ? parts_[slot].entitled : 0; }
    u8 weight(u32 slot) const { return has_partition(slot) ? parts_[slot].weight : 0; }
    PoolPartitionStats stats(u32 slot) const { return has_partition(slot) ? parts_[slot].stats : PoolPartitionStats{}; }
    u64 frames() const { return frames_.size(); }
    u64 free_frames() const { return free_count_; }
    u64 out_pending() const { return out_pending_; }
    u64 guaranteed() const;  // sum(entitled + pinned) over partitions
    bool contains(Frame f) const { return f >= first_ && f.value - first_.value < frames_.size(); }

    // Watermarks on free frames. Reclaim (page-out ahead of need) starts when
    // free + out_pending falls below low and refills up to high.
    u64 low_watermark() const { return low_; }
    u64 high_watermark() const { return high_; }
    bool needs_reclaim() const { return free_count_ + out_pending_ < low_; }
    u64 reclaim_target() const;  // frames to evict now to reach high (0 if none)

    // For the replacement policy: each partition's Resident frames are on
    // two rings, each with a clock hand; a frame enters just behind the hand.
    // Pages become Resident on the cold ring; the policy moves them.
    std::optional<Frame> hand(u32 slot, Ring r) const;
    void advance_hand(u32 slot, Ring r);
    u64 ring_size(u32 slot, Ring r) const { return has_partition(slot) ? parts_[slot].ring[ix(r)].size : 0; }
    Ring ring_of(Frame f) const { return frames_[index_of(f)].ring; }
    void move_to_ring(Frame f, Ring r);  // a Resident frame, to just behind r's hand
    u8& repl_bits(Frame f) { return frames_[index_of(f)].repl; }
    bool refaulted_recently(Frame f) const { return frames_[index_of(f)].recent_refault; }
    u64& policy_state(u32 slot) { return parts_[slot < kSlots ? slot : 0].policy; }  // 0 at add_partition
    u32 owner_slot(Frame f) const { return frames_[index_of(f)].slot; }
    LogicalPage owner_page(Frame f) const { return LogicalPage{frames_[index_of(f)].page}; }

    // Every frame free xor owned by exactly one page whose state holds it,
    // rings hold exactly the Resident frames, counters match. O(pool + pages):
    // tests and debug builds only.
    bool check_invariants() const;

private:
    struct RingHead {
        u32 hand = kNone;
        u64 size = 0;
    };
    struct Part {
        std::span<PageInfo> pages{};
        u64 entitled = 0;
        u8 weight = 0;
        bool active = false;
        RingHead ring[2]{};  // by Ring
        u64 policy = 0;      // the replacement policy's own per-partition state
        PoolPartitionStats stats{};
    };
    static u32 ix(Ring r) { return static_cast<u32>(r); }

    u32 index_of(Frame f) const { return static_cast<u32>(f.value - first_.value); }
    Frame frame_at(u32 i) const { return Frame{first_.value + i}; }
    PageInfo* page_mut(u32 slot, LogicalPage lp);
    u32 take_free();
    void put_free(u32 i);
    void ring_insert(Part& p, u32 i, Ring r);
    void ring_remove(Part& p, u32 i);
    void release(u32 slot, PageInfo& pg);
    void end_page_out(u32 slot, PageInfo& pg, bool written);
    Err back_to_resident(u32 slot, PageInfo& pg);
    void set_watermarks();
    bool invariants_frames() const;
    bool invariants_pages(u32 slot, u64 held) const;
    bool invariants_ring(u32 slot, Ring r) const;

    Frame first_{};
    std::span<FrameInfo> frames_{};
    u32 free_head_ = kNone;
    u64 free_count_ = 0;
    u64 out_pending_ = 0;
    u64 low_ = 0, high_ = 0;
    u32 slot_end_ = 0;
    Part parts_[kSlots]{};
};

}  // namespace pv
