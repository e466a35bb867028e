// Page states the migration target sets on an incoming partition's pages
// before it first runs (docs/migration-state.md, "The target engine").
#include "mm/pool.h"

namespace pv {

Err SharedPool::set_incoming(u32 slot, LogicalPage lp, Incoming what) {
    PageInfo* pg = page_mut(slot, lp);
    if (!pg) return Err::Invalid;
    if (pg->state != PageState::NotResident) return Err::Busy;
    // No frame: the shadow stamp and the device flags say everything.
    pg->frame = 0;  // no eviction stamp
    pg->on_device = what == Incoming::Stored;
    pg->on_device_valid = true;
    pg->error = what == Incoming::Lost;
    pg->lost = what == Incoming::Lost;
    pg->bad_block = false;  // a new block, written just now
    return Err::Ok;
}

}  // namespace pv
