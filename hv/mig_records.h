// Live migration (issue 10): the state records the source hypervisor hands
// the mover and the target installs. Layouts only; encoding from the live
// structures is hv/mig_encode.h, validated decoding hv/mig_decode.h, the
// formats and their meaning docs/migration-state.md.
//
// Every record is one MigRecordHeader followed by one payload, big-endian,
// at most kMigMaxRecordBytes long, so that the transport (vio/mig_transport)
// carries each as one message without knowing what is in it. Records are
// self-describing (magic, version, type, length) and independent of the
// transport's own framing, sequence numbers and authentication.
#pragma once
#include <cstddef>

#include "base/endian.h"

namespace pv {

inline constexpr u32 kMigMagic = 0x50564d47;  // "PVMG"
inline constexpr u16 kMigVersion = 1;
// What one transport message carries at most (the transport allows ~1400).
inline constexpr u32 kMigMaxRecordBytes = 1280;
// A 4 KiB page travels as kMigChunksPerPage chunks of kMigChunkBytes.
inline constexpr u32 kMigChunkBytes = 1024;
inline constexpr u32 kMigChunksPerPage = kPageSize / kMigChunkBytes;
static_assert(kMigChunksPerPage * kMigChunkBytes == kPageSize);
inline constexpr u64 kMigTimebaseHz = 512000000;  // POWER9; both systems must agree
// POWER9 moves a partition's timebase by writing TBU40: offsets are whole 2^24 ticks.
inline constexpr u64 kMigTbOffsetUnit = u64{1} << 24;

enum class MigRecordType : u8 {
    Start = 1,           // partition configuration: first record of a migration
    VcpuCore = 2,        // one vCPU: GPRs, SPRs, lazy SPRs, ICP, VPA, run state
    VcpuFp = 3,          // one vCPU: VSR0-63, FPSCR, VSCR, VRSAVE
    PartitionState = 4,  // partition-wide registrations, console lines, timebase
    ErrorLog = 5,        // the partition's retained paging errors
    PageStates = 6,      // per logical page kinds, run-length batches
    PageChunk = 7,       // a quarter of one page's data
    Complete = 8,        // totals after the final round: the target checks them
};
inline constexpr u8 kMigRecordTypeLast = 8;

// What a logical page is at the source when its state is sent.
enum class MigPageKind : u8 {
    Zero = 0,           // never touched or discarded: reads as zeros, no data follows
    ResidentClean = 1,  // in a frame, equal to its paging-device copy; data follows
    ResidentDirty = 2,  // in a frame, newer than any device copy; data follows
    PagedOut = 3,       // on the source paging device only; the source PSP reads it into chunks
    Failed = 4,         // its page-in failed: touching it machine-checks, at the target too
};
inline constexpr u8 kMigPageKindLast = 4;
constexpr bool mig_kind_has_data(MigPageKind k) {
    return k == MigPageKind::ResidentClean || k == MigPageKind::ResidentDirty || k == MigPageKind::PagedOut;
}

// The run state a vCPU resumes in (it is never on a thread while suspended).
enum class MigRunState : u8 {
    Stopped = 0,   // never started or stop-self
    Runnable = 1,  // runnable, running or parked on paging (it re-executes its access)
    Ceded = 2,     // H_CEDE: wakes on H_PROD, an interrupt or its decrementer
};
inline constexpr u8 kMigRunStateLast = 2;

struct MigRecordHeader {
    Be32 magic;    // kMigMagic
    Be16 version;  // kMigVersion
    u8 type;       // MigRecordType
    u8 flags;      // 0
    Be32 length;   // the whole record, header included
    Be32 reserved; // 0
};
static_assert(sizeof(MigRecordHeader) == 16 && offsetof(MigRecordHeader, version) == 4 &&
              offsetof(MigRecordHeader, type) == 6 && offsetof(MigRecordHeader, length) == 8);

// Type 1. The partition as configured; the target checks it has room.
struct MigStart {
    char name[16];      // NUL-padded, 1..15 chars of [a-z0-9_-]
    Be32 vcpu_count;    // 1..kMaxConfigVcpus
    u8 mem_mode;        // MemMode
    u8 mem_weight;      // 0..255
    u8 reserved0[2];
    Be64 mem_bytes;     // multiple of 1 MiB
    Be64 logical_pages; // mem_bytes / 4096
    Be64 io_entitled_bytes;
    Be64 watchdog_us;
    Be32 source_lpid;   // informational: the LPID may change
    Be32 page_bytes;    // 4096
    Be32 chunk_bytes;   // kMigChunkBytes
    Be32 reserved1;
    Be64 timebase_hz;   // kMigTimebaseHz
    Be64 source_paging_block;  // a PagedOut page lp is at source block + lp * 8 (512-byte blocks)
    char bootargs[256]; // NUL-terminated
};
static_assert(sizeof(MigStart) == 344 && offsetof(MigStart, vcpu_count) == 16 && offsetof(MigStart, mem_mode) == 20 &&
              offsetof(MigStart, mem_bytes) == 24 && offsetof(MigStart, logical_pages) == 32 &&
              offsetof(MigStart, io_entitled_bytes) == 40 && offsetof(MigStart, watchdog_us) == 48 &&
              offsetof(MigStart, source_lpid) == 56 && offsetof(MigStart, page_bytes) == 60 &&
              offsetof(MigStart, chunk_bytes) == 64 && offsetof(MigStart, timebase_hz) == 72 &&
              offsetof(MigStart, source_paging_block) == 80 && offsetof(MigStart, bootargs) == 88);

// vCPU flags (MigVcpuCore::flags).
inline constexpr u8 kMigVcpuProdded = 0x01;        // an H_PROD arrived while not ceded
inline constexpr u8 kMigVcpuMcInProgress = 0x02;   // FWNMI machine check delivered, no interlock yet
inline constexpr u8 kMigVcpuEverDispatched = 0x04;
inline constexpr u8 kMigVcpuFlagsAll = 0x07;

struct MigVcpuRegs {  // VcpuRegs
    Be64 gpr[32];
    Be64 cr, lr, ctr, xer, pc, msr, cfar;
};
static_assert(sizeof(MigVcpuRegs) == 312 && offsetof(MigVcpuRegs, cr) == 256 && offsetof(MigVcpuRegs, pc) == 288 &&
              offsetof(MigVcpuRegs, msr) == 296 && offsetof(MigVcpuRegs, cfar) == 304);

struct MigVcpuSprs {  // VcpuSprs (the exit-cause registers are not state)
    Be64 srr0, srr1, dar, dsisr;
    Be64 sprg[4];
    Be64 pid;
    Be64 dec_remaining;   // signed: DEC ticks left at encoding (negative: already fired)
    Be64 wake_remaining;  // Ceded: ticks until its wake-up deadline (0 otherwise or past)
};
static_assert(sizeof(MigVcpuSprs) == 88 && offsetof(MigVcpuSprs, sprg) == 32 && offsetof(MigVcpuSprs, pid) == 64 &&
              offsetof(MigVcpuSprs, dec_remaining) == 72 && offsetof(MigVcpuSprs, wake_remaining) == 80);

struct MigVcpuLazySprs {  // VcpuLazySprs without HFSCR (the target's own)
    Be64 tar, dscr, fscr, pspb, tidr, ppr, ctrl;
    Be64 amr, iamr, uamor;
    Be64 ebbhr, ebbrr, bescr;
    Be64 mmcr0, mmcr1, mmcr2, mmcra;
    Be64 pmc[6];
    Be64 siar, sdar, sier;
    Be64 dawr0, dawrx0, ciabr;
};
static_assert(sizeof(MigVcpuLazySprs) == 232 && offsetof(MigVcpuLazySprs, amr) == 56 &&
              offsetof(MigVcpuLazySprs, mmcr0) == 104 && offsetof(MigVcpuLazySprs, pmc) == 136 &&
              offsetof(MigVcpuLazySprs, siar) == 184 && offsetof(MigVcpuLazySprs, dawr0) == 208);

struct MigIcp {  // Icp: presented and xisr follow from cppr and mfrr (checked)
    u8 cppr, mfrr;
    u8 presented;  // 0 or 1
    u8 reserved;
    Be32 xisr;     // 0 or kXicsIpi
};
static_assert(sizeof(MigIcp) == 8 && offsetof(MigIcp, xisr) == 4);

struct MigVpa {  // VcpuVpa: the registrations (logical) and the hypervisor's counters
    Be64 vpa_addr, dtl_addr, slb_addr;  // 0: not registered
    Be32 vpa_len, dtl_len, slb_len;
    Be32 yield_count;
    Be32 dispersion_count;
    Be32 reserved;
    Be64 cmo_faults, cmo_fault_time, enqueue_dispatch_tb, wait_ready_tb, dtl_index;
};
static_assert(sizeof(MigVpa) == 88 && offsetof(MigVpa, vpa_len) == 24 && offsetof(MigVpa, yield_count) == 36 &&
              offsetof(MigVpa, cmo_faults) == 48 && offsetof(MigVpa, dtl_index) == 80);

// Type 2.
struct MigVcpuCore {
    Be32 vcpu;       // index < MigStart::vcpu_count
    u8 run_state;    // MigRunState
    u8 flags;        // kMigVcpu*
    u8 reserved[2];
    MigVcpuRegs regs;
    MigVcpuSprs sprs;
    MigVcpuLazySprs lazy;
    MigIcp icp;
    MigVpa vpa;
    Be64 reserved2;        // 0 (a failed page-in owed to a later access travels as a Failed page)
    Be64 fault_ea;         // its last fault's effective address (machine-check logs)
};
static_assert(sizeof(MigVcpuCore) == 752 && offsetof(MigVcpuCore, regs) == 8 && offsetof(MigVcpuCore, sprs) == 320 &&
              offsetof(MigVcpuCore, lazy) == 408 && offsetof(MigVcpuCore, icp) == 640 &&
              offsetof(MigVcpuCore, vpa) == 648 && offsetof(MigVcpuCore, reserved2) == 736);

// Type 3. VcpuFp by value: vsr[n][0] and [1] as the exit path stores them.
struct MigVcpuFp {
    Be32 vcpu;
    Be32 reserved;
    Be64 vsr[64][2];
    Be64 fpscr;
    Be64 vscr[2];
    Be64 vrsave;
};
static_assert(sizeof(MigVcpuFp) == 1064 && offsetof(MigVcpuFp, vsr) == 8 && offsetof(MigVcpuFp, fpscr) == 1032 &&
              offsetof(MigVcpuFp, vscr) == 1040 && offsetof(MigVcpuFp, vrsave) == 1056);

// Type 4. The LPCR carries only the partition's own bits (ILE, AIL).
struct MigPartitionState {
    Be64 lpcr;            // & (ILE | AIL) only; AIL 0 or 3
    Be64 process_table;   // partition-table dw1 (H_REGISTER_PROC_TBL), 0: none
    Be64 prtb_pin_base, prtb_pin_len;  // the process table's pinned range (logical)
    Be64 rtas_base, rtas_size;
    Be64 fwnmi_sreset_addr, fwnmi_mc_addr;
    Be64 guest_tb;        // the partition's timebase at encoding (host TB + its offset)
    Be64 paging_errors;   // paging errors of this partition ever recorded (ErrorLog holds the newest)
    Be32 restarts;
    Be32 pinned_pages;    // informational: the target re-pins from the registrations
    u8 fwnmi_registered;  // 0 or 1
    u8 reserved[3];
    Be32 console_len;     // <= 160
    Be32 panel_len;       // <= 160
    Be32 errors_retained; // ErrorLog entries that follow (<= PagingErrorLog::kCapacity)
    char console[160];    // the unfinished console line
    char panel[160];      // the unfinished operator-panel line
    Be64 suspend_wall_ns; // the source's wall clock at the suspend (ns since 1970 UTC), 0: none
};
static_assert(sizeof(MigPartitionState) == 432 && offsetof(MigPartitionState, guest_tb) == 64 &&
              offsetof(MigPartitionState, restarts) == 80 && offsetof(MigPartitionState, fwnmi_registered) == 88 &&
              offsetof(MigPartitionState, console_len) == 92 && offsetof(MigPartitionState, console) == 104 &&
              offsetof(MigPartitionState, panel) == 264 && offsetof(MigPartitionState, suspend_wall_ns) == 424);

// Type 5.
struct MigPagingError {  // PagingError without the source's slot and LPID
    Be64 page;
    Be32 vcpu;
    Be32 device;
    Be16 status;
    u8 reserved[6];
    Be64 timebase;  // source host timebase when seen
    Be64 effective_addr;
};
static_assert(sizeof(MigPagingError) == 40 && offsetof(MigPagingError, status) == 16 &&
              offsetof(MigPagingError, timebase) == 24);
inline constexpr u32 kMigErrorsPerRecord = 16;
struct MigErrorLog {
    Be32 first;  // index of entries[0] among the newest (0 = newest)
    Be32 count;  // 1..kMigErrorsPerRecord
    MigPagingError entries[kMigErrorsPerRecord];  // only `count` travel
};
static_assert(sizeof(MigErrorLog) == 8 + 16 * 40);

// Type 6. Runs of consecutive logical pages of one kind, ascending, disjoint.
struct MigPageRun {
    Be32 first_page;
    Be32 count;  // >= 1
    u8 kind;     // MigPageKind
    u8 reserved[3];
};
static_assert(sizeof(MigPageRun) == 12 && offsetof(MigPageRun, kind) == 8);
inline constexpr u32 kMigRunsPerRecord = 100;
struct MigPageStates {
    Be32 round;      // pre-copy round that sent it (0: first pass)
    Be32 run_count;  // 1..kMigRunsPerRecord
    MigPageRun runs[kMigRunsPerRecord];  // only `run_count` travel
};
static_assert(sizeof(MigPageStates) == 8 + 100 * 12);

// Type 7. One chunk of one page; all kMigChunksPerPage chunks of a page are
// sent together, in order, after the page's state.
struct MigPageChunk {
    Be32 page;
    Be32 round;
    u8 chunk;        // 0..kMigChunksPerPage-1: bytes [chunk * kMigChunkBytes, +kMigChunkBytes)
    u8 chunk_count;  // kMigChunksPerPage
    u8 kind;         // the page's MigPageKind (one with data)
    u8 reserved;
    Be32 data_bytes; // kMigChunkBytes
    u8 data[kMigChunkBytes];
};
static_assert(sizeof(MigPageChunk) == 16 + kMigChunkBytes && offsetof(MigPageChunk, chunk) == 8 &&
              offsetof(MigPageChunk, data_bytes) == 12 && offsetof(MigPageChunk, data) == 16);

// Type 8. After the final round: per kind, how many logical pages the target
// must now hold (they sum to the logical pages).
struct MigComplete {
    Be32 rounds;  // pre-copy rounds, the final one included
    Be32 vcpu_count;
    Be64 pages[kMigPageKindLast + 1];  // by MigPageKind
    Be64 data_pages_sent;              // pages sent with data over all rounds
};
static_assert(sizeof(MigComplete) == 8 + 5 * 8 + 8);

template <typename P>
inline constexpr u32 kMigRecordBytes = sizeof(MigRecordHeader) + sizeof(P);
static_assert(kMigRecordBytes<MigStart> <= kMigMaxRecordBytes && kMigRecordBytes<MigVcpuCore> <= kMigMaxRecordBytes &&
              kMigRecordBytes<MigVcpuFp> <= kMigMaxRecordBytes &&
              kMigRecordBytes<MigPartitionState> <= kMigMaxRecordBytes &&
              kMigRecordBytes<MigErrorLog> <= kMigMaxRecordBytes &&
              kMigRecordBytes<MigPageStates> <= kMigMaxRecordBytes &&
              kMigRecordBytes<MigPageChunk> <= kMigMaxRecordBytes &&
              kMigRecordBytes<MigComplete> <= kMigMaxRecordBytes);

}  // namespace pv
