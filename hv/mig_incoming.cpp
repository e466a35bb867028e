// Live migration, target side: what the pager learns of an incoming
// partition's pages before it first runs (docs/migration-state.md, "The
// target engine"). Its pages stay NotResident: a page the mover wrote to the
// paging device is faulted in later through the normal AMS path.
#include <cstring>

#include "arch/arch.h"
#include "hv/hv.h"
#include "hv/pager.h"
#include "mm/paging_request.h"

namespace pv {

Err Pager::mig_set_incoming(Partition& p, LogicalPage lp, u64 count, SharedPool::Incoming what) {
    Guard lk(lock_);
    if (p.mem_mode != MemMode::Shared || !pool_.has_partition(p.slot)) return Err::Invalid;
    u64 pages = pool_.logical_pages(p.slot);
    if (lp.value >= pages || count > pages - lp.value) return Err::NotFound;
    // All or nothing: a page holding a frame is not an incoming page any more.
    for (u64 i = lp.value; i < lp.value + count; ++i)
        if (pool_.page(p.slot, LogicalPage{i})->state != PageState::NotResident) return Err::Busy;
    for (u64 i = lp.value; i < lp.value + count; ++i) (void)pool_.set_incoming(p.slot, LogicalPage{i}, what);
    return Err::Ok;
}

Err Pager::mig_page_stored(Partition& p, LogicalPage lp, u64 count) {
    return mig_set_incoming(p, lp, count, SharedPool::Incoming::Stored);
}

Err Pager::mig_page_zero(Partition& p, LogicalPage lp, u64 count) {
    return mig_set_incoming(p, lp, count, SharedPool::Incoming::Zero);
}

Err Pager::mig_page_failed(Partition& p, LogicalPage lp, u64 count) {
    return mig_set_incoming(p, lp, count, SharedPool::Incoming::Lost);
}

// Not NotResident any more, or being read: true when lp is Resident. A page
// that cannot start now is simply not in yet (the caller asks again).
bool Pager::mig_bring_in(Partition& p, LogicalPage lp) {
    const PageInfo* info = pool_.page(p.slot, lp);
    if (info->state == PageState::Resident) return true;
    if (info->state != PageState::NotResident) return false;
    if (!info->on_device) {
        auto f = pool_.alloc_frame(p.slot, lp);
        if (!f.ok()) return false;
        u8* d = static_cast<u8*>(arch::host_ptr(base_of(f.value)));
        std::memset(d, 0, kPageSize);
        (void)pool_.mark_resident(p.slot, lp, f.value);
        map_resident(p, lp, f.value, false);  // C preset: it differs from no copy at all
        return true;
    }
    PagingRequest* r = nullptr;
    {
        Guard rl(requests_.lock());
        if (requests_.find(p.slot, lp) || requests_.free_count() <= requests_.reserve()) return false;
        r = requests_.alloc(PagingRequest::Kind::PageIn, p.slot, lp, arch::timebase());
    }
    if (!r) return false;
    auto f = pool_.alloc_frame(p.slot, lp);
    if (!f.ok()) {
        Guard rl(requests_.lock());
        requests_.release(*r);
        return false;
    }
    start_io(requests_, *r, f.value, device_block(p, lp));
    send(*r);
    return false;
}

Err Pager::mig_pin_incoming(Partition& p, u64 addr, u64 len) {
    if (p.mem_mode != MemMode::Shared || len == 0 || !p.logical_range_ok(addr, len)) return Err::Invalid;
    Guard lk(lock_);
    if (!pool_.has_partition(p.slot)) return Err::Invalid;
    bool all_in = true;
    for (u64 a = addr & ~(kPageSize - 1); a < addr + len; a += kPageSize) {
        LogicalPage lp = page_of(LogicalAddr{a});
        if (pool_.page(p.slot, lp)->lost) return Err::Invalid;  // a pinned page was resident at the source
        all_in &= mig_bring_in(p, lp);
    }
    if (!all_in) {
        if (pool_.needs_reclaim()) reclaim();
        return Err::Busy;
    }
    u64 missing;
    Err e = pin_resident_locked(p, addr, len, missing);
    return e == Err::NotFound ? Err::Busy : e;
}


}  // namespace pv
