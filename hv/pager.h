// The pager of Active Memory Sharing: which logical pages of the shared
// partitions hold pool frames, and the paging I/O that moves them. It owns
// the shared pool, the bounded pool of paging requests and the vCPUs parked
// on them; the paging service is behind a PagingTransport. See
// docs/shared-pool.md, docs/page-fault.md and docs/ams.md.
//
// Locking: lock() (the AMS pool lock) covers the pool, the replacement state
// and the partition-scoped PTEs of shared partitions. Under it the pager
// takes partition locks, the run queue and the request pool's lock
// (docs/locks.md). Functions named *_locked expect it held; the others take it.
#pragma once
#include <span>

#include "base/spinlock.h"
#include "hv/hcall.h"
#include "hv/mig_tracking.h"
#include "hv/paging_transport.h"
#include "hv/path_meter.h"
#include "mm/fault.h"
#include "mm/paging_request.h"
#include "mm/pool.h"

namespace pv {

struct Partition;
struct PartitionConfig;
struct Vcpu;
struct CompletionOutcome;

// Statuses of requests that never got a device answer (the PSP's Failure
// reasons with the top bit set, as the PSP reports them).
inline constexpr u16 kStatusNoService = 0x8004;  // the service is gone (FailureReason::DeviceFatal)
inline constexpr u16 kStatusTimedOut = 0x8003;   // no answer before the deadline (DeviceTimeout)

// Log lines of one kind at most `burst` per second; the rest are counted and
// said in the next line that gets through.
struct LogLimiter {
    u32 burst = 8;
    u64 window_start = 0;
    u32 in_window = 0;
    u64 suppressed = 0;
    // True: log now (suppressed() tells how many were held back before it).
    bool allow(u64 now_tb, u64 tb_hz);
    u64 take_suppressed() {
        u64 n = suppressed;
        suppressed = 0;
        return n;
    }
};

class Pager {
public:
    // Request ids the paging protocol can have in flight at once: a CRQ of
    // crq::kMaxQueueBytes holds one IoRequest entry for each.
    static constexpr u32 kMaxRequests = 4096;
    // A request the paging service has not answered in this long fails, and
    // the service is declared failed (a stuck PSP must not park vCPUs forever).
    static constexpr u64 kRequestTimeoutMs = 15000;

    // Boot: the pool is host frames [first, first + frames.size()), requests
    // its paging requests (storage sized from the config; at most kMaxRequests),
    // paging requests, `parts` the hypervisor's partitions by slot.
    [[nodiscard]] bool init(Frame first, std::span<FrameInfo> frames, std::span<PagingRequest> requests, std::span<Partition> parts,
                            const PagingTransport& transport);
    // Boot: a shared partition's page state (pages: one PageInfo per logical page).
    [[nodiscard]] Err add_partition(Partition& p, std::span<PageInfo> pages, u64 entitled_pages, u8 weight,
                                    u32 fault_threshold);
    // Boot: data at logical addr; its pages get frames now, dirty.
    [[nodiscard]] bool populate(Partition& p, u64 addr, const void* data, u64 len);

    // HDSI/HISI on logical addr (inside the partition), ea as the partition used it.
    Next storage_fault(Vcpu& v, u64 addr, u64 ea);
    // A hypervisor access for v found [addr, addr+len) not resident: false
    // when v was parked on the page-in (the caller returns Next::Block and
    // the hcall runs again once it is in).
    bool ensure_resident(Vcpu& v, u64 addr, u64 len);

    // The paging service finished request id/tag (status 0 ok). Its DMA
    // mapping is revoked already. Lock held.
    void complete_locked(u32 id, u16 tag, u16 status);
    // Every active request fails (the service died or was declared failed). Lock held.
    void fail_all_locked(u16 status);
    // Requests that are not free: the service's channel may close at 0.
    u32 requests_allocated();
    // The active request that was handed to the service longest ago, if
    // older than its deadline (now_tb): its id, else ~0u.
    u32 overdue_request(u64 now_tb);

    // Parked vCPUs whose decrementer fired may run to take it; returns the
    // earliest decrementer still to fire of a parked vCPU (~0: none).
    u64 poll_interrupts(u64 now_tb);
    // An IPI for parked v (caller holds v.part->lock): true if it may run to take it.
    bool interrupt_pending(Vcpu& v, u64 now_tb) {
        return v.state == VcpuState::PageWait && on_interrupt_pending(requests_, v.fault, now_tb);
    }
    // p ended: its vCPUs are forgotten by the request pool.
    void partition_ended(Partition& p);
    // After it ended: its frames go back to the pool.
    void release_partition(Partition& p);
    // RTAS system-reboot of shared p (stopped, its vCPUs detached, its
    // registered areas unpinned): every page it holds without I/O goes back
    // to the pool now, unpinned and unmapped, and reads as zero from now on
    // (device copies dead); page-ins waiting for a frame are forgotten; a page
    // with I/O in flight keeps its frame until the completion frees it. True
    // once none of its requests is active: every page is never-touched then.
    // Call again until true (the caller flushes the TLB before it runs again).
    // device_copies: += the paging-device copies it dropped.
    [[nodiscard]] bool reset_partition(Partition& p, u64* device_copies = nullptr);
    // One of p's paging requests is active (cheap: the requests, not the pages).
    bool io_pending(const Partition& p);
    // Restart: true when `pages` frames are free beyond the low watermark;
    // otherwise starts evicting toward that and returns false (ask again).
    [[nodiscard]] bool make_room(u64 pages);

    // Transparent pinning (hv/pinning.cpp, docs/pinning.md).
    enum class PinOutcome : u8 { Pinned, Blocked, OverLimit };
    PinOutcome pin_area(Vcpu& v, u64 addr, u64 len);
    void unpin_area(Partition& p, u64 addr, u64 len);
    void note_written(Partition& p, u64 addr, u64 len);
    [[nodiscard]] bool pin_boot_area(Partition& p, u64 addr, u64 len);

    // H_PAGE_INIT on a shared partition (hv/page_init.cpp).
    i64 page_init(Vcpu& v, bool zero, u64 dest, u64 src, bool& blocked);

    // Live migration, source side (hv/mig_tracking.cpp, docs/migration.md).
    // While p is tracked every change to a page's contents or kind calls
    // src.note_changed; the caller makes its own calls on src under lock().
    // Invalid: p is not shared, src does not match its pages, or p is tracked.
    [[nodiscard]] Err mig_track_begin(Partition& p, MigSourcePages& src);
    void mig_track_end(Partition& p);
    // Pages as they are now: out[i] for pages[i] (at most
    // kMigSnapshotMaxPages); a Resident* page's frame is copied to
    // data[i * kPageSize, +kPageSize) after its C bit is cleared and the TLB
    // flushed; a PagedOut page gives its block (no page-in). Invalid when not
    // tracking or the buffers are short, NotFound for a page outside p.
    [[nodiscard]] Err mig_snapshot(Partition& p, std::span<const LogicalPage> pages, std::span<MigSnapPage> out,
                                   std::span<u8> data);
    // End of a round: every Sent (or Reading) page in [first, first + count)
    // whose C bit is set, or that is pinned, is changed. Returns the C bits found.
    u64 mig_harvest(Partition& p, u64 first = 0, u64 count = ~u64{0});
    MigTrackStats mig_stats(const Partition& p);
    // Live migration, target side (hv/mig_incoming.cpp): pages [lp, lp +
    // count) of an incoming partition that has not run yet, NotResident:
    // Stored on its paging device at device_block (they fault in through
    // the normal path), Zero (zero-fill, a stored copy dropped), or Failed
    // (lost: the first touch machine-checks). Busy if a page holds a frame.
    [[nodiscard]] Err mig_page_stored(Partition& p, LogicalPage lp, u64 count = 1);
    [[nodiscard]] Err mig_page_zero(Partition& p, LogicalPage lp, u64 count = 1);
    [[nodiscard]] Err mig_page_failed(Partition& p, LogicalPage lp, u64 count = 1);
    // Install of an incoming partition: a registered area's pages made
    // resident without parking any vCPU (a stored page is read in by a
    // request with no waiter, as read-ahead does; a zero page zero-filled),
    // then pinned as pin_area does. Busy: reads in flight or no frame or
    // request free now (call again); NoMemory: over the pinning limit;
    // Invalid: outside p, or a lost page.
    [[nodiscard]] Err mig_pin_incoming(Partition& p, u64 addr, u64 len);
    // A partition that has ended (or an incoming one that never ran) leaves
    // the pool: frames freed, entitlement given back, the slot's counters
    // reset for the next partition in it. Busy while one of its paging
    // requests is active.
    [[nodiscard]] Err remove_partition(Partition& p);

    // PV-STAT fields of one partition, the pool line, make bench figures.
    u32 format_partition_stats(const Partition& p, char* buf, u32 n);
    void print_stats();
    // make bench: the completion → resume path of one vCPU ended: the
    // instructions per completion of its service pass, and its own.
    void note_resume_path(u64 per_completion, u64 latency);
    // A service pass (the PSP's hcall): its completions share the pass's
    // instructions (docs/benchmarks.md), counted as each record or message
    // is taken; the reclaim they call for runs once, at the end, after every
    // vCPU they resumed is runnable.
    void begin_service_pass() { pass_completions_ = 0, in_pass_ = true; }
    void note_pass_completions(u32 n) { pass_completions_ += n; }
    // A vCPU waits for request id (below the pool's capacity): the PSP link
    // completes it ahead of its burst. Waiters change only under the pager lock.
    bool has_waiters(u32 id) { return requests_.by_id(id)->waiter_count != 0; }
    void end_service_pass();

    SpinLock& lock() { return lock_; }
    // Where lp of p lives on the paging device (its first 512-byte block).
    u64 device_block(const Partition& p, LogicalPage lp) const;
    SharedPool& pool() { return pool_; }
    PagingRequestPool& requests() { return requests_; }
    // The frame a resident page is in.
    HostReal frame_base(const PageInfo& info) const { return base_of(Frame{pool_first_.value + info.frame}); }

private:
    Partition& part(u32 slot) { return parts_[slot]; }
    void map_resident(Partition& p, LogicalPage lp, Frame f, bool clean);

    // The fault and completion paths (hv/pager.cpp).
    void start_page_in(PagingRequest& r);
    void send(PagingRequest& r);
    void resume(const CompletionOutcome& out, bool from_service);
    void finish(const CompletionOutcome& out, bool from_service);
    [[gnu::noinline, gnu::cold]] void failed_io(Partition& p, u32 id, u16 tag, u16 status, bool running);
    void page_in_failed(Partition& p, const PagingRequest& r, u16 status);
    void page_out_failed(Partition& p, const PagingRequest& r, u16 status);
    void forget_frame_waiters(u32 slot);
    bool has_active_requests(u32 slot);
    void deliver_machine_check(Vcpu& v, u64 ea, u64 logical);
    void serve_frame_waiters();
    void fault_and_reexecute(Vcpu& v, u64 addr);

    // Page-out ahead of need and read-ahead (hv/reclaim.cpp).
    void reclaim(u64 at_least = 0);
    void reclaim_batch(u64 at_least);
    void read_ahead(Partition& p, LogicalPage lp);
    u32 read_ahead_window() const;

    // Migration hooks (hv/mig_tracking.cpp): lp of slot changed.
    void mig_note(u32 slot, LogicalPage lp) {
        if (mig_[slot].src) mig_note_tracked(slot, lp);
    }
    void mig_note_tracked(u32 slot, LogicalPage lp);
    bool mig_clear_c(Partition& p, LogicalPage lp);
    static bool rc_sample(void* ctx, u32 slot, LogicalPage lp, bool& referenced, bool& changed);
    Err mig_set_incoming(Partition& p, LogicalPage lp, u64 count, SharedPool::Incoming what);
    bool mig_bring_in(Partition& p, LogicalPage lp);

    // Pinning (hv/pinning.cpp).
    Err pin_resident_locked(Partition& p, u64 addr, u64 len, u64& missing);

    SpinLock lock_{LockRank::AmsPool};
    SpinLock meter_lock_{LockRank::PathMeter};  // resume_path_, resume_latency_ (the fault path's: lock_)
    SharedPool pool_;
    Frame pool_first_{};
    std::span<Partition> parts_;
    PagingTransport transport_{};
    PagingRequestPool requests_;
    RequestWaiter waiter_store_[kMaxPartitions * kMaxConfigVcpus];
    // Page-ins that have a request but no frame yet (the pool was empty), oldest first.
    PagingRequest* frame_wait_[kMaxRequests]{};
    u32 frame_wait_len_ = 0;
    MigTracking mig_[kMaxPartitions];
    bool reclaiming_ = false;  // reclaim() is not re-entered (a failed send completes at once)

    u64 pool_faults_ = 0;
    u64 page_ins_sent_ = 0;
    u64 read_ahead_ = 0;    // page-ins started ahead of a fault
    u64 read_ahead_end_[kMaxPartitions]{};  // per slot: the first page past the last read-ahead window
    u64 page_out_errors_[kMaxPartitions]{};  // failed writes, per slot
    u64 write_pins_[kMaxPartitions]{};       // pages kept resident because their write failed
    u64 timed_out_ = 0;     // requests failed at their deadline
    // Page-ins the service completed: sent -> completion taken (timebase), the
    // wait the device, the PSP and the channel add up to.
    u64 page_in_service_tb_ = 0, page_in_service_max_tb_ = 0, page_ins_served_ = 0;
    // Paging error lines, one limiter per kind (a flood of one never hides the other).
    LogLimiter read_ahead_log_, page_in_log_, page_out_log_;
    // make bench (docs/benchmarks.md): HDSI/HISI entry → page-in handed to the
    // service; service completion → the vCPU entered again, per completion
    // of the service pass and for each vCPU on its own.
    PathMeter fault_path_, resume_path_, resume_latency_;
    u32 pass_completions_ = 0;  // completions taken in this service pass so far
    bool in_pass_ = false;
};

}  // namespace pv
