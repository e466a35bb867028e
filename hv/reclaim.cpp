// Page-out ahead of need and sequential read-ahead: the pager's guesses about
// which pages to give up and which will be wanted next. docs/ams.md.
#include "arch/arch.h"
#include "hv/hv.h"
#include "hv/pager.h"
#include "mm/replacement.h"

namespace pv {

// Sampling only clears R: C stays set in the PTE (a cleared C with a cached
// writable translation would hide later writes); the pool remembers dirtiness.
bool Pager::rc_sample(void* ctx, u32 slot, LogicalPage lp, bool& referenced, bool& changed) {
    Pager& pager = *static_cast<Pager*>(ctx);
    Partition& p = pager.part(slot);
    auto rc = p.radix.test_and_clear_rc(lp);
    if (!rc) return false;
    referenced = rc->referenced;
    changed = rc->changed;
    if (changed) {
        (void)p.radix.set_changed(lp);
        pager.mig_note(slot, lp);
    }
    return true;
}

// Evict until the free frames reach the pool's target: clean victims are freed
// at once, dirty ones written out through the paging service. Victims are
// unmapped in a batch and the TLB flushed once for all of them (a tlbie is a
// global, synchronising flush); no frame is reused or written before it.
void Pager::reclaim(u64 at_least) {
    if (reclaiming_) return;
    reclaiming_ = true;
    reclaim_batch(at_least);
    reclaiming_ = false;
}

void Pager::reclaim_batch(u64 at_least) {
    constexpr u32 kBatch = 64, kMinBatch = 32;
    Victim batch[kBatch];
    u32 n = 0;
    // At least a batch's worth: each reclaim costs one TLB flush of the
    // partitions involved, so evicting a frame or two at a time is dear.
    u64 target = pool_.reclaim_target();
    if (at_least > target) target = at_least;
    if (target || frame_wait_len_) target = target > kMinBatch ? target : kMinBatch;
    bool flush[kMaxPartitions]{};
    // Each victim is unmapped and marked on its way out as it is chosen
    // (before the next choice: the same page could come back otherwise).
    struct Taking {
        Pager& pager;
        Victim* batch;
        u32& n;
        bool* flush;
    } taking{*this, batch, n, flush};
    VictimSink sink{[](void* ctx, const Victim& vi) {
                        Taking& t = *static_cast<Taking*>(ctx);
                        Partition& p = t.pager.part(vi.slot);
                        auto rc = p.radix.unmap_rc(vi.lp);
                        if (rc && rc->changed) {
                            t.pager.pool_.note_changed(vi.slot, vi.lp);
                            t.pager.mig_note(vi.slot, vi.lp);
                        }
                        if (t.pager.pool_.begin_page_out(vi.slot, vi.lp) != Err::Ok) {  // it stays: mapped again
                            t.pager.map_resident(p, vi.lp, vi.frame, false);
                            return true;
                        }
                        t.flush[vi.slot] = true;
                        t.batch[t.n++] = vi;
                        return true;
                    },
                    &taking};
    const u64 want = target < kBatch ? target : kBatch;
    // Choices that stayed (their page-out could not begin) are tried again, a batch's worth at most.
    for (u32 round = 0; n < want && round < kBatch; ++round)
        if (choose_victims(pool_, RcAccess{rc_sample, this}, static_cast<u32>(want - n), sink) == 0) break;
    for (u32 s = 0; s < pool_.slot_end(); ++s)
        if (flush[s]) arch::tlb_flush_partition(part(s).lpid);
    bool service_failed = transport_.failed(transport_.ctx);
    for (u32 i = 0; i < n; ++i) {
        Victim vi = batch[i];
        Partition& p = part(vi.slot);
        if (pool_.page(vi.slot, vi.lp)->on_device_valid) {
            (void)pool_.finish_page_out(vi.slot, vi.lp, true);  // clean: nothing to write
            continue;
        }
        PagingRequest* r = service_failed ? nullptr : start_page_out(requests_, vi.slot, vi.lp, arch::timebase());
        if (!r) {  // no request free (or nobody to write it): the page stays, mapped again
            (void)pool_.cancel_page_out(vi.slot, vi.lp, false);
            map_resident(p, vi.lp, vi.frame, false);
            continue;
        }
        start_io(requests_, *r, vi.frame, device_block(p, vi.lp));
        send(*r);
    }
}

// A page-in of lp that follows a resident (or arriving) lp-1 also starts
// page-ins of the next pages that are on the device, as long as requests
// are plentiful (never a vCPU's request for a guess) and reclaim can keep
// frames free. The PSP merges adjacent reads into one device command
// (docs/paging-service.md); faults on these pages share them.
//
// The window is half the request pool (at least 64 pages, at most 1024),
// so that a larger pool keeps more of a stream in flight. A cursor per
// partition remembers where the window ends, so a fault looks only at the
// pages it adds, and the window is topped up only once the stream has used
// a quarter of it: the PSP then gets runs of adjacent pages to merge, not
// one page per fault.
u32 Pager::read_ahead_window() const {
    constexpr u32 kMin = 64, kMax = 1024;
    u32 w = requests_.capacity() / 2;
    return w < kMin ? kMin : w > kMax ? kMax : w;
}

void Pager::read_ahead(Partition& p, LogicalPage lp) {
    // Requests kept beyond the page-out reserve for the faults of other vCPUs
    // and partitions: a guess never takes the last of them.
    const u32 kept = 4 + requests_.capacity() / 8;
    constexpr u32 kMaxReclaims = 16;  // per call: a window's worth of frames at 64 a reclaim
    u32 reclaims = 0;
    const PageInfo* prev = lp.value ? pool_.page(p.slot, LogicalPage{lp.value - 1}) : nullptr;
    if (!prev || prev->state == PageState::NotResident) return;
    const u64 window = read_ahead_window();
    u64& end = read_ahead_end_[p.slot];
    u64 from = lp.value + 1;
    if (end > from && end <= lp.value + window) {
        if (end - from > window - window / 4) return;  // most of the window is still ahead
        from = end;
    }
    end = from;
    // The window ahead of the fault: pages already in (or coming) are passed over.
    for (LogicalPage q{from}; q.value <= lp.value + window; ++q.value, end = q.value) {
        const PageInfo* info = pool_.page(p.slot, q);
        if (!info) return;
        if (info->state != PageState::NotResident) continue;
        if (!info->on_device || info->bad_block || info->error) return;  // not a page to guess at
        if (pool_.free_frames() <= pool_.low_watermark()) {
            // A stream makes room for itself: the pages it has read are
            // the cold ones now. Without this the window only moved as
            // fast as faults triggered reclaims of 64 frames.
            if (reclaims++ == kMaxReclaims) return;
            reclaim();
            if (pool_.free_frames() <= pool_.low_watermark()) return;
        }
        PagingRequest* r = nullptr;
        {
            Guard rl(requests_.lock());
            if (requests_.waiting() || requests_.free_count() <= kept + requests_.reserve() ||
                requests_.find(p.slot, q))
                return;
            r = requests_.alloc(PagingRequest::Kind::PageIn, p.slot, q, arch::timebase());
        }
        if (!r) return;
        auto f = pool_.alloc_frame(p.slot, q);
        if (!f.ok()) {
            Guard rl(requests_.lock());
            requests_.release(*r);
            return;
        }
        start_io(requests_, *r, f.value, device_block(p, q));
        send(*r);
        ++read_ahead_;
    }
}

}  // namespace pv
