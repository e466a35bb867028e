// A polling NVMe driver, portable: no POWER instructions, no heap, no
// interrupts. Everything machine-specific comes in through three small
// interfaces, so the same code runs in the hypervisor (self-test), in the
// paging service partition, and on the host against a fake controller:
//   * NvmeHw: the controller's register block (BAR0), values in CPU order;
//   * NvmeDma: one caller-provided, device-visible memory area (queues,
//     identify data, PRP lists) and its CPU pointer → device address map;
//   * NvmeClock: a monotonic tick counter for timeouts.
// One admin queue pair and one I/O queue pair. Admin commands are submitted
// and waited for one at a time. I/O commands have a fixed pool of command
// slots (each with its own PRP list): submit_*() queues a command without
// waiting, poll() hands back completions as the controller posts them (any
// order, each matched to its command id); read()/write()/flush() are a submit
// and a wait for that one command, and may run while others are in flight.
// Data buffers are given by device (DMA) address, so the caller decides what
// the device may reach.
#pragma once
#include "base/types.h"

namespace pv::nvme {

struct NvmeHw {
    u32 (*read32)(void* ctx, u32 off);
    void (*write32)(void* ctx, u32 off, u32 v);
    u64 (*read64)(void* ctx, u32 off);
    void (*write64)(void* ctx, u32 off, u64 v);
    void* ctx;
    // The write accessors must order earlier stores to normal memory before
    // the register write (as Linux's writel does: sync first on POWER).
};

struct NvmeDma {
    void* base = nullptr;  // CPU pointer, 4 KiB aligned, kDmaAreaBytes long
    u64 size = 0;
    u64 (*dma_addr)(void* ctx, const void* p) = nullptr;  // device address of a byte in the area
    void* ctx = nullptr;
};

struct NvmeClock {
    u64 (*now)(void* ctx) = nullptr;  // monotonic ticks
    u64 ticks_per_ms = 0;
    void* ctx = nullptr;
};

// Memory the driver needs in its DMA area: admin SQ, admin CQ, I/O SQ, I/O
// CQ and an identify buffer, one 4 KiB page each, then the command slots' PRP
// lists (kPrpListEntries each, kPrpListPages pages).
inline constexpr u64 kNvmePage = 4096;
inline constexpr u32 kQueueDepth = 64;       // entries per queue (fewer if CAP.MQES says so)
inline constexpr u32 kCommandSlots = 32;     // I/O commands in flight at most (fewer on a shallow queue)
inline constexpr u32 kPrpListEntries = 64;   // per slot: transfers of up to 64 pages (256 KiB)
inline constexpr u64 kPrpListPages = kCommandSlots * kPrpListEntries * 8 / kNvmePage;
inline constexpr u64 kDmaAreaBytes = (5 + kPrpListPages) * kNvmePage;
static_assert(kCommandSlots == 32, "command ids keep the slot in their low 5 bits (a mask)");
inline constexpr u32 kLbaBytes = 512;   // the only LBA format accepted (as PowerVM)

// Status: 0 = success; 1..0x7ff = the controller's completion status,
// (SCT << 8) | SC; larger values are the driver's own.
enum Status : u32 {
    kOk = 0,
    kTimeout = 0x10000,       // no answer in time (command, RDY change), or SQ full of lost commands
    kFatal = 0x10001,         // CSTS.CFS: controller fatal status
    kUnsupported = 0x10002,   // controller cannot run our way (page size, command set)
    kBadLbaFormat = 0x10003,  // namespace 1 does not use 512-byte LBAs without metadata
    kNoNamespace = 0x10004,   // namespace 1 absent or empty
    kInvalid = 0x10005,       // bad argument (range, count, alignment) or wrong state
    kBusy = 0x10006,          // no free command slot: poll() first
};
inline constexpr u32 sct_of(u32 status) { return (status >> 8) & 0x7; }
inline constexpr u32 sc_of(u32 status) { return status & 0xff; }
const char* status_name(u32 status);  // short text, e.g. "timeout", "media error"

struct NvmeConfig {
    u32 command_timeout_ms = 5000;
    u32 min_ready_timeout_ms = 500;  // at least this long for CSTS.RDY changes (CAP.TO may say more)
};

// One finished I/O command, as poll() hands it back.
struct IoCompletion {
    u64 cookie = 0;   // what submit_*() was given
    u32 status = 0;   // kOk, SCT << 8 | SC, or kTimeout / kFatal (no answer in time)
    bool dnr = false; // the controller set Do Not Retry
};

class NvmeDriver {
public:
    NvmeDriver(const NvmeHw& hw, const NvmeDma& dma, const NvmeClock& clock, NvmeConfig cfg = {})
        : hw_(hw), dma_(dma), clock_(clock), cfg_(cfg) {}

    // Reset and enable the controller with a fresh admin queue pair.
    [[nodiscard]] u32 init();
    // Identify controller and namespace 1; fills model/serial/blocks.
    [[nodiscard]] u32 identify();
    // Set Features (number of queues), then create I/O CQ 1 and SQ 1.
    [[nodiscard]] u32 create_io_queues();
    // Transfer count 512-byte blocks at lba to/from the device address dma
    // (dword aligned; the pages dma .. dma + count*512 must be contiguous in
    // device address space). count ≤ max_blocks().
    [[nodiscard]] u32 read(u64 lba, u32 count, u64 dma);
    [[nodiscard]] u32 write(u64 lba, u32 count, u64 dma);
    // Read (or write) n 4 KiB pages starting at lba (8 blocks each) into (from)
    // the device addresses pages[0..n) (each page aligned; any order): one
    // command with a PRP list, so scattered buffers cost one device round trip.
    [[nodiscard]] u32 read_pages(u64 lba, const u64* pages, u32 n);
    [[nodiscard]] u32 write_pages(u64 lba, const u64* pages, u32 n);
    [[nodiscard]] u32 flush();
    // The last read/write/flush's completion had DNR set.
    bool last_dnr() const { return last_dnr_; }

    // Asynchronous I/O: the same transfers as read()/write() and
    // read_pages()/write_pages(), queued without waiting. kOk once the
    // doorbell is rung; kBusy when max_in_flight() commands are out (poll
    // first); kInvalid as above. A command that is not answered within the
    // command timeout comes back from poll() as kTimeout (kFatal if the
    // controller says so); its slot stays taken until its late completion
    // or init(), as the controller may still read its PRP list.
    [[nodiscard]] u32 submit(bool write, u64 lba, u32 count, u64 dma, u64 cookie);
    [[nodiscard]] u32 submit_pages(bool write, u64 lba, const u64* pages, u32 n, u64 cookie);
    // Completions that arrived (and commands that timed out), at most max.
    u32 poll(IoCompletion* out, u32 max);
    u32 in_flight() const { return in_flight_async_; }
    // Asynchronous commands at once: min(kCommandSlots, depth - 1) less the
    // one slot kept for read()/write(); 0 on a queue too shallow for it.
    u32 max_in_flight() const { return async_limit_; }
    // Orderly shutdown (CC.SHN normal, wait SHST complete), then disable.
    u32 shutdown();

    const char* model() const { return model_; }
    const char* serial() const { return serial_; }
    const char* firmware() const { return firmware_; }
    u64 blocks() const { return blocks_; }
    u32 max_blocks() const { return max_blocks_; }
    u32 queue_depth() const { return depth_; }
    u32 doorbell_stride() const { return stride_; }
    u64 cap() const { return cap_; }
    u32 version() const { return vs_; }

    // Submission queue entry (64 bytes) and completion queue entry (16 bytes).
    struct Sqe {
        u32 cdw0, nsid, rsvd2, rsvd3;
        u64 mptr, prp1, prp2;
        u32 cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
    };
    struct Cqe {
        u32 dw0, dw1, dw2, dw3;
    };
    static_assert(sizeof(Sqe) == 64 && sizeof(Cqe) == 16);

private:
    struct Queue {
        Sqe* sq = nullptr;
        Cqe* cq = nullptr;
        u16 id = 0;
        u16 tail = 0;  // next SQ slot we fill
        u16 head = 0;  // next CQ slot we look at
        u8 phase = 1;  // phase bit a new completion carries
        u16 sq_head = 0;  // controller's SQ head, from the last completion
    };
    enum SlotState : u8 { kSlotFree, kSlotAsync, kSlotSync, kSlotDone, kSlotLost };
    struct Slot {
        u64 cookie = 0;
        u64 deadline = 0;
        u32 status = 0;
        u16 cid = 0;
        SlotState state = kSlotFree;
        bool async = false;
        bool dnr = false;
    };
    u32 submit_and_wait(Queue& q, Sqe cmd, u32* dw0_out = nullptr);
    // Checks, PRPs into the slot's list, SQE, doorbell: the one way an I/O
    // command starts (pages == nullptr: dma is contiguous).
    u32 start(u8 opcode, u64 lba, u32 count, u64 dma, const u64* pages, u32 n, bool async, u64 cookie, u32& slot);
    u32 wait_slot(u32 slot);
    u32 sync_io(u8 opcode, u64 lba, u32 count, u64 dma, const u64* pages, u32 n);
    void reap();  // consume posted completions into their slots
    u32 lost_status() const;
    void reset_slots();
    u64* prp_list(u32 slot) const { return reinterpret_cast<u64*>(page(5)) + slot * kPrpListEntries; }
    u32 wait_ready(bool want);
    u64 deadline(u32 ms) const;
    bool expired(u64 deadline) const;
    u32 sq_doorbell(u16 qid) const { return 0x1000 + (2 * qid) * stride_; }
    u32 cq_doorbell(u16 qid) const { return 0x1000 + (2 * qid + 1) * stride_; }
    u8* page(u32 i) const { return static_cast<u8*>(dma_.base) + i * kNvmePage; }
    u64 dma_of(const void* p) const { return dma_.dma_addr(dma_.ctx, p); }

    NvmeHw hw_;
    NvmeDma dma_;
    NvmeClock clock_;
    NvmeConfig cfg_;
    u64 cap_ = 0;
    u32 vs_ = 0;
    u32 stride_ = 4;
    u32 depth_ = kQueueDepth;
    u32 ready_timeout_ms_ = 500;
    Queue admin_, io_;
    u16 next_cid_ = 0;
    bool enabled_ = false, io_ready_ = false, last_dnr_ = false;
    Slot slots_[kCommandSlots];
    u32 slot_limit_ = 0, async_limit_ = 0, in_flight_ = 0, in_flight_async_ = 0;
    u16 generation_ = 0;
    u64 blocks_ = 0;
    u32 max_blocks_ = 0;
    char model_[41]{}, serial_[21]{}, firmware_[9]{};
};

}  // namespace pv::nvme
