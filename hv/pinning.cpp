// Transparent pinning (docs/pinning.md): the pages of an area a shared
// partition registered, which the hypervisor touches while it runs, are made
// resident and pinned: never paged out, counted against the pool's guarantees.
#include "hv/hv.h"
#include "hv/pager.h"

namespace pv {

// Pins every page of [addr, addr+len) if all are resident: Ok; NotFound with
// `missing` = a page that is not; NoMemory over the limit (then nothing
// stays pinned).
Err Pager::pin_resident_locked(Partition& p, u64 addr, u64 len, u64& missing) {
    u64 first = addr & ~(kPageSize - 1);
    for (u64 a = first; a < addr + len; a += kPageSize) {
        const PageInfo* info = pool_.page(p.slot, page_of(LogicalAddr{a}));
        if (!info || info->state != PageState::Resident) {
            missing = a;
            return Err::NotFound;
        }
    }
    for (u64 a = first; a < addr + len; a += kPageSize) {
        Err e = pool_.pin(p.slot, page_of(LogicalAddr{a}));
        if (e == Err::Ok) continue;
        for (u64 b = first; b < a; b += kPageSize) (void)pool_.unpin(p.slot, page_of(LogicalAddr{b}));
        return e == Err::NoMemory ? Err::NoMemory : Err::NotFound;
    }
    return Err::Ok;
}

Pager::PinOutcome Pager::pin_area(Vcpu& v, u64 addr, u64 len) {
    u64 missing;
    {
        Guard lk(lock_);
        Err e = pin_resident_locked(*v.part, addr, len, missing);
        if (e == Err::Ok) return PinOutcome::Pinned;
        if (e == Err::NoMemory) return PinOutcome::OverLimit;
    }
    fault_and_reexecute(v, missing);  // pinned when the hcall runs again
    return PinOutcome::Blocked;
}

void Pager::unpin_area(Partition& p, u64 addr, u64 len) {
    Guard lk(lock_);
    for (u64 a = addr & ~(kPageSize - 1); a < addr + len; a += kPageSize)
        (void)pool_.unpin(p.slot, page_of(LogicalAddr{a}));
}

void Pager::note_written(Partition& p, u64 addr, u64 len) {
    Guard lk(lock_);
    for (u64 a = addr & ~(kPageSize - 1); a < addr + len; a += kPageSize)
        (void)p.radix.set_changed(page_of(LogicalAddr{a}));
}

// Boot: the area gets frames (zeroed where nothing was placed) and is pinned
// for good (the RTAS area: the hypervisor writes machine-check logs there).
bool Pager::pin_boot_area(Partition& p, u64 addr, u64 len) {
    static const u8 zero[kPageSize] = {};
    for (u64 a = addr & ~(kPageSize - 1); a < addr + len; a += kPageSize) {
        if (p.radix.lookup(page_of(LogicalAddr{a}))) continue;
        if (!populate(p, a, zero, kPageSize)) return false;
    }
    Guard lk(lock_);
    u64 missing;
    return pin_resident_locked(p, addr, len, missing) == Err::Ok;
}

}  // namespace pv
