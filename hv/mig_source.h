// Live migration, source side: the pre-copy engine. It turns a running
// shared-memory partition into the ordered record stream of
// docs/migration-state.md ("The source engine") through a hook table: it
// knows neither the network nor the PSP. Fixed buffers, no heap; the page
// states' storage is the caller's. Not internally locked: begin, pump,
// read_done, suspended and abort are called by one thread at a time, with
// no lock held (it takes the pager lock itself, never around a hook).
#pragma once
#include <span>

#include "base/result.h"
#include "hv/mig_encode.h"
#include "hv/mig_page_state.h"
#include "hv/mig_tracking.h"

namespace pv {

struct Partition;
struct PartitionConfig;
class Pager;

struct MigSourceIo {
    // One record (copied before return); false: no room now (the caller's
    // mover slots / transport window are the back-pressure): the same record
    // is offered again on the next pump.
    bool (*send)(void* ctx, const u8* rec, u32 len) = nullptr;
    // Read lp's 8 blocks at `block` from the source paging device (the source
    // PSP reads it straight into a buffer: never a page-in); false: no room
    // now (asked again on the next pump; it must not have answered then).
    // The data comes back through MigSource::read_done, possibly from inside
    // this call.
    bool (*read_block)(void* ctx, LogicalPage lp, u64 block) = nullptr;
    void* ctx = nullptr;
};

// One snapshot batch: one PageStates record, then its pages' chunks.
inline constexpr u32 kMigSourceBatchPages = kMigSnapshotMaxPages;
// PSP reads in flight (each has a page buffer for its answer).
inline constexpr u32 kMigSourceReadSlots = 16;
// Records one pump sends at most (a whole batch of data pages and a few more).
inline constexpr u32 kMigSourcePumpRecords = kMigSourceBatchPages * kMigChunksPerPage + 8;

struct MigSourceStats {
    u32 rounds = 0;                     // passes ended, final ones included
    u64 pages[kMigPageKindLast + 1]{};  // page states sent, by kind, over all rounds
    u64 data_pages = 0;                 // pages whose 4 chunks were sent
    u64 busy = 0;                       // pages found busy (a page-in in flight): left for the next round
    u64 records = 0, bytes = 0;         // records send() accepted, and their bytes
    u64 refused = 0;                    // send() calls refused (back-pressure)
    u64 reads = 0, read_failures = 0;   // read_block calls accepted; reads answered failed
    u64 stray_reads = 0;                // read_done for no read in flight (ignored)
    u64 source_page_ins = 0;            // Pager::mig_stats: must stay 0
    u64 late_changes = 0;               // changes after the suspend (MigSourcePages)
    u64 precopy_tb = 0;                 // timebase ticks from begin to the suspend decision
};

enum class MigSourceFail : u8 {
    None,
    NotStarted,    // pump before begin
    Converge,      // the convergence decided Abort: the guest writes too much
    Encode,        // a record could not be encoded
    ReadFailures,  // more failed PSP reads than allowed
    Tracking,      // the pager refused a snapshot
    Aborted,       // abort()
};
const char* mig_source_fail_name(MigSourceFail f);

class MigSource {
public:
    enum class Step : u8 {
        Working,     // call pump again
        SuspendNow,  // stop every vCPU, then call suspended() (pump still sends what is due)
        Done,        // Complete sent: every record is out
        Failed,      // failure() says why; tracking ended, the partition runs on untouched
    };

    // Start record first, tracking on. page_states: one byte per logical
    // page. Busy while a migration is active; Invalid for a partition that is
    // not shared or a storage of the wrong size; the pager's errors from
    // mig_track_begin. Nothing is sent before the first pump.
    [[nodiscard]] Err begin(Partition& p, const PartitionConfig& cfg, Pager& pager, std::span<u8> page_states,
                            const MigPolicy& policy, const MigSourceIo& io, u64 max_read_failures = 64);
    // Bounded work: at most one snapshot batch and kMigSourcePumpRecords records.
    Step pump(u64 now_tb);
    // The PSP read of lp finished: data is its 4096 bytes (copied), nullptr
    // when it failed (the page is sent again in a later round).
    void read_done(LogicalPage lp, const u8* data);
    // Every vCPU is stopped: a last harvest, then the final round, then per
    // vCPU VcpuCore + VcpuFp (now_tb: the host timebase their decrementers are
    // measured against), PartitionState (guest_tb, the wall clock wall_ns),
    // ErrorLog, Complete.
    void suspended(u64 now_tb, u64 guest_tb, u64 wall_ns = 0);
    // Tracking ends; nothing of the partition changes (it keeps running here).
    void abort();

    bool active() const { return phase_ != Phase::Idle && phase_ != Phase::Done && phase_ != Phase::Failed; }
    MigSourceFail failure() const { return failure_; }
    const MigSourceStats& stats() const { return stats_; }
    // The page tracker (read it under the pager lock while active).
    const MigSourcePages& pages() const { return src_; }

private:
    enum class Phase : u8 { Idle, Precopy, WaitSuspend, Final, FinalRecords, Done, Failed };
    enum class Cur : u8 { None, Batch, Read };
    enum class Slot : u8 { Free, Issued, Ready };
    struct ToRead {
        LogicalPage lp;
        u64 block;
        u32 round;
    };
    struct ReadSlot {
        Slot state;
        LogicalPage lp;
        u32 round;
        alignas(16) u8 data[kPageSize];
    };

    Step step() const;
    void fail(MigSourceFail why);
    bool produce();
    bool produce_pages(bool new_batch);
    bool take_batch();
    bool end_of_pass();
    bool produce_final();
    bool chunk();
    void issue_reads();
    bool encoded(Result<u32> r);

    Phase phase_ = Phase::Idle;
    MigSourceFail failure_ = MigSourceFail::None;
    Partition* p_ = nullptr;
    Pager* pager_ = nullptr;
    MigSourceIo io_{};
    MigSourcePages src_;
    MigConvergence conv_{MigPolicy{}};
    u64 max_read_failures_ = 0;
    MigSourceStats stats_{};
    u64 begin_tb_ = 0, now_tb_ = 0, guest_tb_ = 0, wall_ns_ = 0;
    bool started_ = false;     // the first pump saw the time
    bool cursor_done_ = false; // next_to_send found the round's end
    bool snapped_ = false;     // this pump took its one snapshot
    bool last_ = false;        // rec_ is Complete

    // The record waiting for send() (rec_len_ 0: none).
    alignas(16) u8 rec_[kMigMaxRecordBytes]{};
    u32 rec_len_ = 0;

    // The current page's chunks.
    Cur cur_ = Cur::None;
    u32 cur_idx_ = 0, cur_chunk_ = 0;

    // The batch: pages, what the snapshot found, their data.
    u32 batch_n_ = 0, batch_next_ = 0, batch_round_ = 0;
    LogicalPage batch_lp_[kMigSourceBatchPages]{};
    MigSnapPage batch_snap_[kMigSourceBatchPages]{};
    alignas(16) u8 batch_data_[kMigSourceBatchPages * kPageSize]{};

    // PagedOut pages whose state went out, to ask the PSP for; reads in
    // flight; answers waiting to be sent (oldest first).
    ToRead to_read_[kMigSourceBatchPages]{};
    u32 to_read_head_ = 0, to_read_n_ = 0;
    ReadSlot slots_[kMigSourceReadSlots]{};
    u8 ready_[kMigSourceReadSlots]{};
    u32 ready_head_ = 0, ready_n_ = 0;

    // The final records: vCPU records (2 per vCPU), PartitionState, ErrorLog, Complete.
    u32 fin_step_ = 0;
    u32 err_first_ = 0;
};

}  // namespace pv
