// Live migration, target side: the engine that turns the record stream of
// one incoming partition (in order, each record once) into a partition ready
// to resume. Whole pages go to the target's paging device while the source
// still runs (the patents' branch); the pool then says each page is on the
// device, zero-fill or lost, so after resume it faults in through the normal
// AMS path. Portable: the hypervisor, the mover and the paging device are
// behind MigTargetIo. Not internally locked (the caller's migration lock).
// docs/migration-state.md, "The target engine".
#pragma once
#include <optional>
#include <span>

#include "base/result.h"
#include "hv/mig_decode.h"
#include "hv/mig_page_state.h"

namespace pv {

class Pager;
class PagingErrorLog;
enum class PinResult : u8;  // hv/ams.h

struct MigTargetIo {
    // Start staged: the partition shell (name, vCPUs, logical memory, shared,
    // weight, entitlement, bootargs) with a paging region of its own, added
    // to `pager` with every page NotResident and zero-fill, its vCPUs not
    // runnable. nullptr and why when the system cannot (no slot, LPID, space).
    Partition* (*create)(void* ctx, const MigStagedStart& s, char* why, u32 why_len) = nullptr;
    // Write a whole page to the paging device at p's block for lp. True: in
    // flight, MigTarget::write_done follows (not from inside this call is
    // best; it is handled either way). False: no room now (on_record: Busy).
    bool (*write_page)(void* ctx, Partition& p, LogicalPage lp, const u8* data) = nullptr;
    // Install: register-time pin of a staged area (ams_pin_area). Blocked:
    // a page-in was started for v, which must NOT be made runnable by it;
    // install is called again once it is in.
    PinResult (*pin)(void* ctx, Vcpu& v, u64 addr, u64 len) = nullptr;
    void (*unpin)(void* ctx, Partition& p, u64 addr, u64 len) = nullptr;
    // Abort: drop a shell that never ran (frames, pool slot, paging region,
    // LPID, slot). Writes still in flight are the caller's to wait for.
    void (*destroy)(void* ctx, Partition& p) = nullptr;
    void* ctx = nullptr;
    Pager* pager = nullptr;            // the target's: page states of the new partition
    PagingErrorLog* errors = nullptr;  // the target's: the adopted error log
};

struct MigTargetStats {
    u64 records = 0;          // accepted
    u64 rejected = 0;         // Invalid
    u64 busy = 0;             // Busy answers (the caller gives the record again)
    u64 pages_received = 0;   // whole pages assembled
    u64 writes_started = 0;   // write_page accepted
    u64 writes_refused = 0;   // write_page said no room
    u64 writes_done = 0;
    u64 write_failures = 0;   // write_done(!ok): the page awaits its data again
    u64 stored_dropped = 0;   // Stored pages whose newer state had no data (device copy dropped)
    u64 aborts = 0;
};

class MigTarget {
public:
    enum class Phase : u8 { Idle, Receiving, Installed };

    // page_states: one byte per logical page of the largest partition this
    // target takes (the tracker's storage). Invalid without create,
    // write_page, pin, unpin, destroy or pager.
    [[nodiscard]] Err init(const MigTargetIo& io, std::span<u8> page_states);

    // The next record of the stream. Ok: consumed. Busy: not consumed (a page
    // in it is being written, or no room to write a page): give the same
    // record again later. Invalid: error() and why() say what; nothing
    // changed, and the caller aborts the migration.
    [[nodiscard]] Err on_record(const u8* rec, u32 len);
    // The paging device finished write_page(lp). !ok: lp awaits its data
    // again (awaiting_data finds it; the mover asks the source again).
    void write_done(LogicalPage lp, bool ok);
    // Pages whose data is missing after Complete (a failed write): the first
    // at or after `from`.
    std::optional<LogicalPage> awaiting_data(LogicalPage from = LogicalPage{0}) const;

    // Complete staged with the final state, every page settled (Zero,
    // Stored, InMemory, Failed), the tracker's counts equal the totals.
    bool ready() const;
    // vCPUs and partition state from staging, the error log adopted, the
    // areas registered again and pinned. Run states as sent; nothing is made
    // runnable (the caller resumes). Busy: not ready, or a pin started a
    // page-in (call again). Invalid: a pin over the limit or the log refused
    // (error()/why(); the caller aborts).
    [[nodiscard]] Err install(u64 now_tb);
    // Undo everything before install: areas unpinned, destroy called, the
    // engine Idle again. After install it does nothing (the partition is the
    // caller's).
    void abort();
    // After install, once the caller has resumed the partition (or ended it):
    // the engine is Idle for the next stream (the counters stay).
    void release();

    Phase phase() const { return phase_; }
    Partition* partition() const { return part_; }
    const MigStaging& staging() const { return staging_; }
    const MigTargetPages& pages() const { return pages_; }
    const MigTargetStats& stats() const { return stats_; }
    MigError error() const { return error_; }
    const char* why() const { return why_; }

private:
    Err fail(MigError e, const char* what);
    Err on_start(const u8* rec, u32 len);
    Err on_state_record(const u8* rec, u32 len, MigRecordType type);
    Err on_page_states(const u8* rec, u32 len);
    Err on_chunk(const u8* rec, u32 len);
    Err on_complete(const u8* rec, u32 len);
    Err start_write(LogicalPage lp);
    bool totals_match() const;
    Err pin_areas();
    void register_areas();
    void unpin_all();
    void reset();
    void clear_staging();

    MigTargetIo io_{};
    std::span<u8> storage_{};
    Phase phase_ = Phase::Idle;
    Partition* part_ = nullptr;
    MigStaging staging_{};
    MigTargetPages pages_{};
    MigPageAssembler asm_{};
    MigTargetStats stats_{};
    MigError error_ = MigError::Ok;
    char why_[96]{};
    // A whole page write_page refused: the chunk that completed it comes again.
    struct Held {
        bool active = false;
        LogicalPage page{};
        u32 round = 0, chunk = 0;
    } held_{};
    // write_done while write_page(lp) is still being called.
    bool issuing_ = false;
    LogicalPage issuing_lp_{};
    bool early_done_ = false, early_ok_ = false;
    // Install: the staged state is in; areas pinned so far, in pin order.
    bool state_installed_ = false;
    u32 pinned_ = 0;
    u64 received_ = 0;
    bool broken_ = false;  // the pool refused a page's state: never ready  // whole pages of this stream (Complete's data_pages_sent)
};

}  // namespace pv
