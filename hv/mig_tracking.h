// Live migration, source side: the pager's write tracking during pre-copy
// and the page snapshots a round sends (Pager::mig_*, hv/mig_tracking.cpp).
// Tracking harvests C bits, which QEMU sets itself and POWER9 sets through
// the HDSI "R/C update" that Pager::storage_fault answers with set_rc: it
// works the same on both. docs/migration.md "Write tracking during pre-copy".
#pragma once
#include "hv/mig_records.h"

namespace pv {

class MigSourcePages;

// A snapshot holds the pager lock while it copies: at most this many pages.
inline constexpr u32 kMigSnapshotMaxPages = 64;

// What mig_snapshot found for one page.
struct MigSnapPage {
    MigPageKind kind = MigPageKind::Zero;
    bool busy = false;  // a page-in is in flight: not sent, it comes again in the next round
    bool data = false;  // Resident*: its 4096 bytes are in the caller's buffer
    u64 block = 0;      // PagedOut: its first 512-byte block on the paging device (the source PSP reads it)
};

// One partition's tracking counters, since mig_track_begin (a later PV-STAT).
struct MigTrackStats {
    u64 pages_snapshotted = 0;  // pages classified by mig_snapshot, busy ones included
    u64 pages_copied = 0;       // Resident* frames copied
    u64 c_harvested = 0;        // set C bits the tracker cleared (recorded in the pool first)
    u64 pinned_changed = 0;     // pinned pages a harvest counted changed (hypervisor stores set no C)
    u64 changes = 0;            // MigSourcePages::note_changed calls
    u64 tlb_flushes = 0;        // partition TLB flushes after clearing C
    u64 source_page_ins = 0;    // page-ins or frames a snapshot caused: must stay 0
};

struct MigTracking {
    MigSourcePages* src = nullptr;  // tracking while set
    MigTrackStats stats{};
};

}  // namespace pv
