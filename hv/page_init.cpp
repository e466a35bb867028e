// H_PAGE_INIT (PAPR): zero or copy a 4 KiB page. A partition clears a page
// whose page-in failed with it (docs/machine-check.md).
#include <cstring>

#include "arch/arch.h"
#include "base/papr.h"
#include "hv/ams.h"
#include "hv/hv.h"
#include "hv/pager.h"

namespace pv {

// A shared partition's pages are held (pinned) while the hypervisor writes
// them, so a reclaim on another thread cannot take the frame mid-copy, and
// the destination is marked changed, so the copy is written out before its
// frame is reused. blocked: a page was not resident and v is parked on it
// (the hcall runs again when it is in).
i64 Pager::page_init(Vcpu& v, bool zero, u64 dest, u64 src, bool& blocked) {
    Partition& p = *v.part;
    LogicalPage dlp = page_of(LogicalAddr{dest}), slp = page_of(LogicalAddr{src});
    blocked = false;
    u64 missing = 0;
    {
        Guard lk(lock_);
        const PageInfo* info = pool_.page(p.slot, dlp);
        if (zero && info->state == PageState::NotResident) {  // becomes zero-fill: no frame, no I/O
            (void)pool_.free_frame(p.slot, dlp);
            mig_note(p.slot, dlp);
            return papr::H_SUCCESS;
        }
        Err e = pin_resident_locked(p, dest, kPageSize, missing);
        if (e == Err::Ok && !zero) {
            e = pin_resident_locked(p, src, kPageSize, missing);
            if (e != Err::Ok) (void)pool_.unpin(p.slot, dlp);
        }
        if (e == Err::NoMemory) return papr::H_RESOURCE;
        if (e == Err::Ok) {
            void* to = arch::host_ptr(frame_base(*pool_.page(p.slot, dlp)));
            if (zero) std::memset(to, 0, kPageSize);
            else std::memmove(to, arch::host_ptr(frame_base(*pool_.page(p.slot, slp))), kPageSize);
            pool_.note_changed(p.slot, dlp);  // the device copy is stale now
            (void)p.radix.set_changed(dlp);
            mig_note(p.slot, dlp);
            (void)pool_.unpin(p.slot, dlp);
            if (!zero) (void)pool_.unpin(p.slot, slp);
            return papr::H_SUCCESS;
        }
    }
    // Not resident (or a page-in or page-out in flight): wait for it, then do it again.
    fault_and_reexecute(v, missing);
    blocked = true;
    return papr::H_SUCCESS;
}

Next ams_page_init_hcall(Vcpu& v) {
    using namespace papr;
    Partition& p = *v.part;
    u64 flags = v.regs.gpr[4], dest = v.regs.gpr[5], src = v.regs.gpr[6];
    auto ret = [&v](i64 rc) {
        v.regs.gpr[3] = static_cast<u64>(rc);
        return Next::Resume;
    };
    constexpr u64 kKnown = H_ICACHE_INVALIDATE | H_ICACHE_SYNCHRONIZE | H_ZERO_PAGE | H_COPY_PAGE;
    bool zero = flags & H_ZERO_PAGE, copy = flags & H_COPY_PAGE;
    if (flags & ~kKnown) return ret(H_PARAMETER);
    if ((dest & (kPageSize - 1)) || !p.logical_range_ok(dest, kPageSize)) return ret(H_PARAMETER);
    if (copy && (zero || (src & (kPageSize - 1)) || !p.logical_range_ok(src, kPageSize))) return ret(H_PARAMETER);
    // Cache operations alone: not performed yet (QEMU's caches are coherent;
    // POWER9 needs dcbst/icbi for H_ICACHE_SYNCHRONIZE: docs/hcalls.md).
    if (!zero && !copy) return ret(H_SUCCESS);
    if (Pager* pager = ams_pager_of(p)) {
        bool blocked;
        i64 rc = pager->page_init(v, zero, dest, src, blocked);
        return blocked ? Next::Block : ret(rc);
    }
    // Dedicated memory is contiguous and always resident.
    void* to = p.logical_ptr(dest);
    if (zero) std::memset(to, 0, kPageSize);
    else std::memmove(to, p.logical_ptr(src), kPageSize);
    return ret(H_SUCCESS);
}

}  // namespace pv
