// The paging service proper, portable (no hcalls, no POWER instructions), so
// that it also runs on the host against the hypervisor's own CrqChannel and a
// fake device (service_test.cpp). main.cpp gives it the hcalls, the NVMe
// controller and the polling loop. Contract: docs/paging-service.md, docs/crq.md.
#pragma once
#include "vio/paging_protocol.h"

namespace psp {

using pv::CrqEntry;
using pv::i64;
using pv::u16;
using pv::u32;
using pv::u64;
using pv::u8;

// The partition's end of the CRQ: the queue pages it registered with
// H_REG_CRQ, read at a cursor. The hypervisor writes bytes 1..15 of a slot and
// then the valid byte with a release store; poll() loads the valid byte, then
// (acquire: lwsync) the rest, and frees the slot with a release store of 0 so
// that its reads are done before the hypervisor may write the slot again.
class CrqQueue {
public:
    CrqQueue(u8* base, u32 bytes) : base_(base), bytes_(bytes) {}
    // The entry at the cursor, if any: copied out, slot freed, cursor advanced.
    [[nodiscard]] bool poll(CrqEntry& out);
    // Zeroes every slot and rewinds (before H_REG_CRQ).
    void reset();
    u32 cursor() const { return cursor_; }

private:
    u8* base_;
    u32 bytes_;
    u32 cursor_ = 0;
};

// The paging device as the service sees it: NVMe in the image (main.cpp),
// a fake in the host test. Statuses are vio/nvme.h's: 0, an NVMe completion
// status (SCT << 8 | SC, at most 0x7ff), or the driver's own (kTimeout, ...).
// io() may add kStatusDnr to an NVMe status: the controller set Do Not Retry.
struct DeviceCompletion {
    u64 cookie = 0;
    u32 status = 0;  // as io() returns it (kStatusDnr included)
};

struct BlockDevice {
    u32 (*io)(void* ctx, bool write, u64 block, u32 count, u64 dma) = nullptr;
    u32 (*reset)(void* ctx) = nullptr;  // controller reset and bring-up again; 0 = usable
    u64 (*blocks)(void* ctx) = nullptr;
    u32 (*max_blocks)(void* ctx) = nullptr;  // per command
    // Optional: read (write) n pages at `block` into (from) the scattered
    // device addresses pages[0..n) in one command (merged page-ins, page-outs);
    // nullptr = one command each.
    u32 (*io_pages)(void* ctx, bool write, u64 block, const u64* pages, u32 n) = nullptr;
    // Optional asynchronous transfers (all three or none; nullptr = every
    // transfer waits, through io()/io_pages()). submit: the transfer of
    // count blocks at dma or, with pages, of n pages to/from pages[0..n),
    // queued; 0 = queued, kBusy = no room (poll first), anything else = the
    // transfer's status at once. poll: transfers that finished, at most max.
    // max_in_flight: transfers the device takes at once (0: none).
    u32 (*submit)(void* ctx, bool write, u64 block, u32 count, u64 dma, const u64* pages, u32 n, u64 cookie) = nullptr;
    u32 (*poll)(void* ctx, DeviceCompletion* out, u32 max) = nullptr;
    u32 (*max_in_flight)(void* ctx) = nullptr;
    void* ctx = nullptr;
};

// DNR where the NVMe completion status field has it (bit 14 of SCT/SC/CRD/M/DNR).
inline constexpr u32 kStatusDnr = 0x4000;
inline constexpr u32 kNvmeStatusMask = 0x7ff;  // SCT << 8 | SC: what a Completion carries

// Device I/O retries per request (bootarg retries=N; docs/paging-service.md).
inline constexpr u32 kDefaultRetries = 2;
inline constexpr u32 kMaxRetries = 8;

// H_SEND_CRQ of one entry, retried by the caller while the hypervisor's ring
// is full (H_DROPPED): returns the final PAPR code.
using SendFn = i64 (*)(void* ctx, const CrqEntry& e);
using NowFn = u64 (*)(void* ctx);

// Our own codes in a Failure's detail (besides the NVMe driver's statuses).
enum Detail : u32 {
    kDetailNoTable = 0x20001,      // doorbell before the descriptor table was accepted
    kDetailReqId = 0x20002,        // req_id beyond the table
    kDetailMismatch = 0x20003,     // descriptor opcode / tag / lpid differ from the doorbell
    kDetailBlocks = 0x20004,       // blocks 0 or more than one command moves
    kDetailRange = 0x20005,        // blocks beyond the end of the device
    kDetailDmaWindow = 0x20006,    // DMA range outside request id's own page of the request window
    kDetailDmaAlign = 0x20007,     // DMA address not dword aligned
    kDetailDeviceDown = 0x20008,   // no usable controller (bring-up or resets failed)
};

struct Counters {
    u64 requests = 0;       // doorbells received
    u64 page_ins = 0;       // completed with status 0
    u64 page_outs = 0;      // completed with status 0
    u64 errors = 0;         // answered with a Failure or a non-zero status
    u64 failures = 0;       // of which Failures
    u64 resets = 0;         // controller resets after a timeout or fatal status
    u64 page_in_ticks = 0;  // device time of the successful page-ins
    u64 page_out_ticks = 0;
    u64 send_errors = 0;    // answers H_SEND_CRQ did not take (H_CLOSED: the channel is going away)
    u64 ignored = 0;        // entries that were not for us or not expected now
    u64 retries = 0;        // device I/O attempts repeated after a retryable error
    u64 retried_ok = 0;     // requests that succeeded after at least one retry (not errors)
    u64 merged_reads = 0;   // device reads that served several page-ins at once
    u64 merged_writes = 0;  // device writes that served several page-outs at once
    u64 max_in_device = 0;  // most transfers in the device at once (asynchronous device)
    u64 merged_read_pages = 0;  // page-ins the merged reads served (÷ merged_reads: their mean length)
    u64 page_in_queue_ticks = 0;  // taken -> handed to the device, summed over the page-ins (asynchronous device)
};

class PagingService {
public:
    struct Setup {
        SendFn send = nullptr;
        void* send_ctx = nullptr;
        NowFn now = nullptr;  // for device-time statistics
        void* now_ctx = nullptr;
        u64 ticks_per_us = 1;
        BlockDevice dev;
        u32 dev_status = 0;    // bring-up result: non-zero = no usable device
        u8* table = nullptr;   // descriptor table, zeroed, page aligned, entries * 32 bytes
        // Asks for the completion ring after the table (then entries * 40
        // bytes): a pass's completions are records and one hcall, not an
        // H_SEND_CRQ each. Without it, or if the hypervisor does not take it,
        // they are Completion messages.
        bool completion_ring = false;
        u64 table_addr = 0;    // its logical address (what SetDescTable names)
        u16 entries = 0;       // = paging-requests
        u64 dma_request_base = 0;
        u32 log_every = 1000;  // a statistics line every this many requests
        u32 logged_errors = 16;  // errors (and retried requests) logged one by one; the rest only counted
        u32 retries = kDefaultRetries;  // device I/O attempts after the first (at most kMaxRetries)
        // Fault injection (fail_delay_ms): a page-in that failed for good is
        // answered this late, as a failing drive's own retries take seconds.
        u64 fail_delay_us = 0;
        void (*pause)(u64 us) = nullptr;  // waits that long (cedes)
    };
    enum class State : u8 { WaitInit, WaitTable, Serving, Closed };
    enum class Action : u8 {
        Continue,
        Closed,  // FF 02: the hypervisor closed the channel; shut down and power off
        Fatal,   // the hypervisor refused the descriptor table; power off
    };

    explicit PagingService(const Setup& s) : s_(s) {}

    // After H_REG_CRQ: partner_open (H_SUCCESS) means we send the init
    // request; otherwise (H_CLOSED) the hypervisor sends it when it opens.
    void start(bool partner_open);
    // One entry taken from the queue.
    Action handle(const CrqEntry& e);
    // Entries taken from the queue in order: page-ins (page-outs) of
    // consecutive device pages among them are read (written) with one device
    // command (read-ahead and batched reclaim make them common); everything
    // else as handle() would, in order.
    Action handle_batch(const CrqEntry* es, u32 n);
    static constexpr u32 kMaxMerge = 64;

    // With an asynchronous device (BlockDevice::submit), handle() and
    // handle_batch() only start requests: the transfers of up to the
    // device's max_in_flight() run at once, the rest wait in order.
    // progress() takes the transfers that finished, answers them (or
    // retries them), starts waiting ones; true if anything finished.
    bool progress();
    // Requests taken and not yet answered.
    u32 in_flight() const { return in_flight_; }
    static constexpr u32 kMaxTracked = 4096;  // request ids served asynchronously (the hypervisor's pool: ≤ 4096)

    // One device transfer outside the paging protocol (the mover's Read and
    // Write, docs/mover.md): the same checks of the device, retries and
    // controller recovery as a request's. The answer as a request's status
    // (paging::request_status): 0, an NVMe status, or kFailureStatusBit | reason.
    u16 transfer(bool write, u64 block, u32 blocks, u64 dma);

    State state() const { return state_; }
    const char* state_name() const;
    const Counters& counters() const { return c_; }
    bool device_usable() const { return s_.dev_status == 0; }
    void log_stats(const char* why) const;

private:
    void send(const CrqEntry& e, const char* what);
    void send_table();
    void serve(const pv::paging::IoRequestMsg& m);
    // A request that a merged transfer can serve as is: one whole page at its
    // request window page, everything serve() would check holds.
    bool mergeable(const pv::paging::IoRequestMsg& m, pv::paging::Descriptor& d) const;
    // Everything a request must satisfy before its transfer (one place for
    // serve() and mergeable()): false with the Failure's reason and detail.
    bool check(const pv::paging::IoRequestMsg& m, pv::paging::Descriptor& d, pv::paging::FailureReason& r,
               u32& detail) const;
    // Serve requests ms[0..n) (one opcode) of consecutive pages with one
    // transfer; false if it failed (then each is served on its own, with its
    // retries).
    bool serve_merged(const pv::paging::IoRequestMsg* ms, const pv::paging::Descriptor* ds, u32 n);
    void complete(const pv::paging::IoRequestMsg& m, u16 status, bool more = false);
    void fail(const pv::paging::IoRequestMsg& m, pv::paging::FailureReason r, u32 detail, u32 retries = 0);
    // The transfer, again after a retryable error (retryable()) up to
    // s_.retries more times; a timeout resets the controller (recover())
    // before the next attempt or the answer. ticks: the last attempt's.
    u32 io_with_retries(bool out, u64 block, u32 blocks, u64 dma, u32& tries, u32& first, u64& ticks);
    void recover(u32 status);
    bool retryable(u32 status) const;
    bool log_error();  // true while errors are still logged one by one
    void ignore(const CrqEntry& e, const char* why);
    u64 now() const { return s_.now ? s_.now(s_.now_ctx) : 0; }

    // --- asynchronous serving ---
    // A request taken: its doorbell, descriptor, attempts. A transfer (a
    // "unit") is one request or a run of merged ones, named by its first
    // request id; the others follow through next.
    enum class OpState : u8 { Idle, Waiting, InDevice };
    struct Op {
        pv::paging::IoRequestMsg m{};
        pv::paging::Descriptor d{};
        u64 t0 = 0;
        u32 tries = 0, first = 0;
        u16 next = 0, run = 1;  // run: requests of the unit (at its first)
        OpState state = OpState::Idle;
        bool head = true;       // the unit's first request
        u64 taken = 0;          // when its doorbell was taken; 0 once first handed to the device
    };
    bool async_ok(const pv::paging::IoRequestMsg& m) const;
    void accept(const pv::paging::IoRequestMsg& m);
    void accept_run(const pv::paging::IoRequestMsg* ms, const pv::paging::Descriptor* ds, u32 n);
    void wait_idle(u16 id);  // a request id taken again while still in flight: its answer first
    void enqueue(u16 head, bool front);
    void pump();
    void finished(u16 head, u32 status);
    void finished_one(Op& o, u32 status);
    void requeue_in_device();  // a controller reset lost every transfer in flight
    void answer(const pv::paging::IoRequestMsg& m, u16 status);
    void flush_answers();
    void note_request();  // the statistics line every log_every requests

    Setup s_;
    State state_ = State::WaitInit;
    Counters c_;
    Op ops_[kMaxTracked];
    u16 wait_[kMaxTracked];  // units waiting for the device, a ring
    u32 wait_head_ = 0, wait_len_ = 0;
    u32 in_device_ = 0, in_flight_ = 0;
    pv::paging::CompletionMsg answers_[kMaxTracked];  // sent together: all but the last with more = 1
    u32 answers_len_ = 0;
    pv::paging::CompletionRing ring_;  // active once the hypervisor took it
};

}  // namespace psp
