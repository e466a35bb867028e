// Write tracking and page snapshots for pre-copy (docs/migration.md "Write
// tracking during pre-copy"). The C bit of a partition-scoped PTE is the one
// record of a store on QEMU (it sets C itself) and on POWER9 (the HDSI "R/C
// update" makes storage_fault set it), so the tracker harvests C bits and
// relies on neither. The C bit is also the pool's "frame differs from its
// device copy" signal for a page mapped Clean: a set C is recorded with
// pool.note_changed before the tracker clears it, so page-out decisions stay
// what they were.
#include <cstring>

#include "arch/arch.h"
#include "hv/hv.h"
#include "hv/mig_page_state.h"
#include "hv/pager.h"

namespace pv {

Err Pager::mig_track_begin(Partition& p, MigSourcePages& src) {
    Guard lk(lock_);
    if (p.mem_mode != MemMode::Shared || !pool_.has_partition(p.slot)) return Err::Invalid;
    if (src.pages() != pool_.logical_pages(p.slot) || mig_[p.slot].src) return Err::Invalid;
    mig_[p.slot] = MigTracking{&src, {}};
    return Err::Ok;
}

void Pager::mig_track_end(Partition& p) {
    Guard lk(lock_);
    if (p.slot < kMaxPartitions) mig_[p.slot].src = nullptr;  // the counters stay readable
}

MigTrackStats Pager::mig_stats(const Partition& p) {
    Guard lk(lock_);
    return p.slot < kMaxPartitions ? mig_[p.slot].stats : MigTrackStats{};
}

namespace {

// The target holds the page (or is being sent it) as it was: a change must be noted.
bool holds_sent(MigSrcPage s) { return s == MigSrcPage::Sent || s == MigSrcPage::Reading || s == MigSrcPage::Failed; }

}  // namespace

void Pager::mig_note_tracked(u32 slot, LogicalPage lp) {
    MigTracking& t = mig_[slot];
    (void)t.src->note_changed(lp);
    ++t.stats.changes;
}

// Clears lp's C bit, recorded first in the pool and the tracker when it was
// set (true then: the caller flushes the TLB before it relies on the clear).
// R stays as it was: reference sampling owns it. A page about to be sent
// (Unsent, Dirty) needs no note: the snapshot holds the change (after the
// suspend a note would count as a late change).
bool Pager::mig_clear_c(Partition& p, LogicalPage lp) {
    auto rc = p.radix.test_and_clear_rc(lp);
    if (!rc) return false;
    if (rc->referenced) (void)p.radix.set_rc(lp, false);  // ORs R back in: a C set meanwhile stays
    if (!rc->changed) return false;
    pool_.note_changed(p.slot, lp);
    ++mig_[p.slot].stats.c_harvested;
    if (holds_sent(mig_[p.slot].src->state(lp))) mig_note(p.slot, lp);
    return true;
}

// Classify, clear C, one flush, then copy: a store through a translation
// cached before the flush is performed by the time the flush completes, and
// any later store finds C clear and sets it again (QEMU) or takes the HDSI
// (POWER9), so the harvest sees it. Everything is under the pager lock: no
// frame is reclaimed, and no page-in completes, between classifying and copying.
Err Pager::mig_snapshot(Partition& p, std::span<const LogicalPage> pages, std::span<MigSnapPage> out,
                        std::span<u8> data) {
    if (pages.size() > kMigSnapshotMaxPages || out.size() < pages.size() || data.size() / kPageSize < pages.size())
        return Err::Invalid;
    Guard lk(lock_);
    if (p.slot >= kMaxPartitions || !mig_[p.slot].src) return Err::Invalid;
    for (LogicalPage lp : pages)
        if (!pool_.page(p.slot, lp)) return Err::NotFound;
    MigTrackStats& st = mig_[p.slot].stats;
    const u64 ins = page_ins_sent_, taken = pool_.stats(p.slot).faults;
    bool flush = false;
    for (std::size_t i = 0; i < pages.size(); ++i) {
        const PageInfo& pg = *pool_.page(p.slot, pages[i]);
        if (pg.state == PageState::Resident && mig_clear_c(p, pages[i])) flush = true;
        MigClass c = mig_classify(pg);  // after the clear: a recorded C makes it ResidentDirty
        out[i] = MigSnapPage{c.kind, c.busy, false, 0};
        if (!c.busy && c.kind == MigPageKind::PagedOut) out[i].block = device_block(p, pages[i]);
    }
    if (flush) {
        arch::tlb_flush_partition(p.lpid);
        ++st.tlb_flushes;
    }
    for (std::size_t i = 0; i < pages.size(); ++i) {
        if (out[i].busy || (out[i].kind != MigPageKind::ResidentClean && out[i].kind != MigPageKind::ResidentDirty))
            continue;
        // Resident or PageOutPending: the frame holds the data (a write-out only reads it).
        std::memcpy(data.data() + i * kPageSize, arch::host_ptr(frame_base(*pool_.page(p.slot, pages[i]))),
                    kPageSize);
        out[i].data = true;
        ++st.pages_copied;
    }
    st.pages_snapshotted += pages.size();
    st.source_page_ins += (page_ins_sent_ - ins) + (pool_.stats(p.slot).faults - taken);
    return Err::Ok;
}

namespace {

// A pinned page the hypervisor never stores into: pinned once, for the
// process table (the MMU only reads it; the partition's own stores set its
// C), in none of the areas the hypervisor writes through its own mapping.
// Linux's table is 8 MiB: sent every round, it alone kept a round from
// getting below 2048 pages and made up most of the final round.
bool pin_with_c(const Partition& p, u8 pins, LogicalPage lp) {
    if (pins != 1) return false;
    u64 a = lp.value * kPageSize;
    auto in = [a](u64 base, u64 len) { return len && a < base + len && base < a + kPageSize; };
    if (!in(p.prtb_pin_base, p.prtb_pin_len) || in(p.rtas_base, p.rtas_size)) return false;
    for (u32 i = 0; i < p.vcpu_count; ++i) {
        const VcpuVpa& v = p.vcpus[i].vpa;
        if ((v.vpa.addr && in(v.vpa.addr, v.vpa.len)) || (v.dtl.addr && in(v.dtl.addr, v.dtl.len)) ||
            (v.slb.addr && in(v.slb.addr, v.slb.len)))
            return false;
    }
    return true;
}

}  // namespace

// Only pages the target holds as they were (Sent) or that are being read for
// it (Reading) need their C bit: for the others note_changed changes nothing,
// and their C is recorded when they are snapshotted. A pinned page is an area
// the hypervisor stores into (VPA, DTL, the RTAS area's error logs) through
// its own mapping, which sets no C bit: it counts as changed every round,
// unless it is only the process table's (pin_with_c).
u64 Pager::mig_harvest(Partition& p, u64 first, u64 count) {
    Guard lk(lock_);
    if (p.slot >= kMaxPartitions || !mig_[p.slot].src) return 0;
    MigTracking& t = mig_[p.slot];
    u64 n = pool_.logical_pages(p.slot);
    u64 end = first < n ? first + (count < n - first ? count : n - first) : first;
    u64 found = 0;
    for (u64 i = first; i < end; ++i) {
        LogicalPage lp{i};
        MigSrcPage s = t.src->state(lp);
        if (!holds_sent(s)) continue;  // Failed: no frame
        const PageInfo& pg = *pool_.page(p.slot, lp);
        if (pg.state != PageState::Resident) continue;  // no PTE: its last C was recorded at the unmap
        u8 pins = pool_.pins(p.slot, lp);
        if (pins && !pin_with_c(p, pins, lp)) {
            ++t.stats.pinned_changed;
            mig_note(p.slot, lp);
            continue;
        }
        if (mig_clear_c(p, lp)) ++found;
    }
    if (found) {
        arch::tlb_flush_partition(p.lpid);
        ++t.stats.tlb_flushes;
    }
    return found;
}

}  // namespace pv
