// The I/O paging requests of Active Memory Sharing: a bounded pool of
// page-in / page-out operations the hypervisor hands to the paging service
// partition (PSP), and the FIFO of vCPUs waiting for one to become free.
//
// The pool is a data structure only: it does not decide when a vCPU parks or
// resumes (mm/fault.h does). Every member function expects lock() held; the
// functions in mm/fault.h take it.
#pragma once
#include "base/limits.h"
#include "base/spinlock.h"
#include "base/types.h"

namespace pv {

struct VcpuFaultState;  // mm/fault.h; the pool only stores pointers to it

// All waiters of one request belong to the request's partition and each
// appears once, so a request never needs more slots than a partition has vCPUs.
inline constexpr u32 kMaxRequestWaiters = kMaxConfigVcpus;
inline constexpr u32 kNoRequest = ~u32{0};

struct PagingRequest {
    enum class Kind : u8 { PageIn, PageOut };
    enum class State : u8 {
        Free,      // in the free list
        Queued,    // allocated, not yet handed to the PSP
        InFlight,  // the PSP has it
        Done,      // completed successfully (only until it is released)
        Failed,    // the PSP reported an error (only until it is released)
    };

    u32 id = 0;   // index in the pool; also the PSP's descriptor index
    u16 tag = 0;  // changes at every allocation: a stale or forged completion cannot match
    Kind kind = Kind::PageIn;
    State state = State::Free;
    u32 partition_slot = 0;  // index of the partition in the hypervisor's table
    u16 status = 0;          // 0 ok; NVMe status or protocol failure otherwise
    u16 waiter_count = 0;
    LogicalPage lp{};
    Frame frame{};          // the pool frame filled (PageIn) or written out (PageOut)
    u64 device_block = 0;   // first block of the page on the paging device
    u64 start_tb = 0;       // timebase at allocation
    u64 sent_tb = 0;        // timebase when handed to the paging service (its deadline runs from here)
    VcpuFaultState* waiters[kMaxRequestWaiters]{};
    u32 next_free = kNoRequest;
    u32 next_in_bucket = kNoRequest;  // the pool's (partition, page) index, while allocated

    bool active() const { return state == State::Queued || state == State::InFlight; }
    bool has_waiter(const VcpuFaultState* v) const;
    [[nodiscard]] bool add_waiter(VcpuFaultState* v);  // false only if full
    bool remove_waiter(const VcpuFaultState* v);
};
// Small fields first, no padding: the pool's requests count in metadata_bytes_per_page.
static_assert(sizeof(PagingRequest) == 56 + 8 * kMaxRequestWaiters + 8);
static_assert(kMaxRequestWaiters < 0x10000, "waiter_count is 16 bits");

// A vCPU that found no free request, and the page it needs.
struct RequestWaiter {
    VcpuFaultState* vcpu = nullptr;
    u32 partition_slot = 0;
    LogicalPage lp{};
};

struct PagingPoolStats {
    u64 allocs = 0;
    u64 releases = 0;
    u64 exhausted_waits = 0;     // faults that had to wait for a free request
    u64 stale_completions = 0;   // completions naming no active request (ignored)
    u64 retries = 0;             // faults sent back to re-execute (waiter storage too small)
    u32 allocated = 0;           // requests not free now
    u32 max_allocated = 0;       // high-water mark ("max in flight")
};

class PagingRequestPool {
public:
    // requests[count] and waiters[waiter_capacity] are the caller's storage.
    // waiter_capacity must cover every vCPU that can fault (each waits at most
    // once). page_out_reserve requests are kept from page-ins so that the pager
    // can always start a page-out to free a frame (else all requests could be
    // page-ins waiting for frames that only a page-out can produce).
    void init(PagingRequest* requests, u32 count, RequestWaiter* waiters, u32 waiter_capacity,
              u32 page_out_reserve = 0);

    [[nodiscard]] bool can_alloc(PagingRequest::Kind kind) const;
    // nullptr if none is free (for a page-in: none outside the reserve).
    PagingRequest* alloc(PagingRequest::Kind kind, u32 slot, LogicalPage lp, u64 now_tb);
    // The active request for that page, to share it.
    PagingRequest* find(u32 slot, LogicalPage lp);
    PagingRequest* by_id(u32 id);
    void release(PagingRequest& r);

    // The FIFO of vCPUs waiting for a free request, oldest first.
    [[nodiscard]] bool wait_push(const RequestWaiter& w);
    [[nodiscard]] bool wait_front(RequestWaiter& out) const;
    void wait_pop();
    // Removes every waiter for that page (keeping the others' order); returns how many.
    u32 take_waiters_for(u32 slot, LogicalPage lp, VcpuFaultState** out, u32 max);
    bool wait_remove(const VcpuFaultState* v);
    u32 waiting() const { return wait_len_; }

    u32 capacity() const { return count_; }
    u32 reserve() const { return reserve_; }  // kept from page-ins (for page-outs)
    u32 free_count() const { return free_count_; }
    const PagingPoolStats& stats() const { return stats_; }
    PagingPoolStats& stats() { return stats_; }
    SpinLock& lock() { return lock_; }

private:
    // Allocated requests by (partition, page): find() is on every fault's
    // path and on every page a read-ahead window passes over, so chains stay
    // short with thousands of requests in flight.
    static constexpr u32 kBucketsLog2 = 10, kBuckets = 1u << kBucketsLog2;
    static u32 bucket_of(u32 slot, LogicalPage lp) {
        return static_cast<u32>(((lp.value ^ (u64{slot} << 40)) * 0x9E3779B97F4A7C15ULL) >> (64 - kBucketsLog2));
    }
    void unlink(PagingRequest& r);

    RequestWaiter& wait_at(u32 i) const { return waiters_[(wait_head_ + i) % wait_cap_]; }
    template <typename Pred>
    u32 wait_extract(Pred match, VcpuFaultState** out, u32 max);

    PagingRequest* requests_ = nullptr;
    u32 count_ = 0;
    u32 free_head_ = kNoRequest;
    u32 bucket_[kBuckets]{};
    u32 free_count_ = 0;
    u32 reserve_ = 0;
    RequestWaiter* waiters_ = nullptr;
    u32 wait_cap_ = 0, wait_head_ = 0, wait_len_ = 0;
    PagingPoolStats stats_{};
    SpinLock lock_{LockRank::RequestPool};
};

}  // namespace pv
