// Live migration, target side: state records (hv/mig_records.h) checked
// field by field and decoded into a staging copy, never into a live
// partition. A record that is truncated, corrupt or inconsistent with what
// was staged before gets a MigError and changes nothing. Installing the
// staged state into a partition is a later step (docs/migration-state.md).
#pragma once
#include <span>

#include "hv/config.h"
#include "hv/mig_encode.h"
#include "hv/mig_records.h"
#include "hv/paging_error_log.h"
#include "hv/partition.h"
#include "hv/vcpu_regs.h"
#include "hv/vcpu.h"

namespace pv {

enum class MigError : u8 {
    Ok = 0,
    Truncated,     // shorter than its header or than its header's length says
    BadMagic,
    BadVersion,
    BadType,
    BadLength,     // the length is not the type's (or its count's)
    BadReserved,   // a reserved byte or flag is not zero
    BadEnum,       // an enumerated field (mode, kind, run state) out of range
    BadIndex,      // a vCPU or page index outside the partition
    BadAddress,    // a logical address or range outside the partition, or misaligned
    BadCount,      // a count outside its bounds
    BadValue,      // a field no partition can produce (MSR[HV], a hypervisor breakpoint, ...)
    OutOfOrder,    // before the Start record, or not where the sequence says
    Duplicate,     // a record already staged once
    Inconsistent,  // contradicts the staged state (totals, ICP, registrations)
};
const char* mig_error_name(MigError e);

// The header of any record, checked: magic, version, a known type, flags and
// reserved 0, and len exactly the header's length (at most kMigMaxRecordBytes).
MigError mig_check_header(const u8* rec, u32 len, MigRecordType& type);

struct MigStagedStart {
    char name[16];
    u32 vcpu_count;
    MemMode mem_mode;
    u8 mem_weight;
    u64 mem_bytes, logical_pages, io_entitled_bytes, watchdog_us;
    u32 source_lpid;
    u64 source_paging_block;
    char bootargs[256];
};

struct MigStagedArea {
    u64 addr;  // 0: not registered
    u32 len;
};

struct MigStagedVcpu {
    bool have_core, have_fp;
    MigRunState run_state;
    u8 flags;  // kMigVcpu*
    VcpuRegs regs;
    u64 srr0, srr1, dar, dsisr, sprg[4], pid;
    i64 dec_remaining;
    u64 wake_remaining;
    VcpuLazySprs lazy;  // hfscr left at the target's kGuestHfscr
    VcpuFp fp;
    u8 cppr, mfrr;
    u32 xisr;
    bool presented;
    MigStagedArea vpa, dtl, slb;
    u32 yield_count, dispersion_count;
    u64 cmo_faults, cmo_fault_time, enqueue_dispatch_tb, wait_ready_tb, dtl_index;
    u64 fault_ea;
};

struct MigStagedPartition {
    u64 lpcr;  // ILE | AIL only
    u64 process_table, prtb_pin_base, prtb_pin_len;
    u64 rtas_base, rtas_size;
    bool fwnmi_registered;
    u64 fwnmi_sreset_addr, fwnmi_mc_addr;
    u64 guest_tb;
    u64 suspend_wall_ns;  // the source's wall clock at the suspend, 0: unknown
    u64 paging_errors;
    u32 errors_retained;
    u32 restarts, pinned_pages;
    ConsoleLine console, panel;
};

// A decoded page-state batch (runs ascending, disjoint, inside the partition).
struct MigPageStatesView {
    u32 round;
    u32 run_count;
    struct Run {
        u32 first_page, count;
        MigPageKind kind;
    } runs[kMigRunsPerRecord];
};

// A decoded chunk: data points into the record.
struct MigChunkView {
    LogicalPage page;
    u32 round;
    u32 chunk;
    MigPageKind kind;
    const u8* data;  // kMigChunkBytes
};

class MigStaging {
public:
    // Start, VcpuCore, VcpuFp, PartitionState, ErrorLog, Complete: staged on
    // Ok, nothing changed otherwise. PageStates and PageChunk are not staged
    // here (BadType): they go through decode_page_states / decode_chunk to
    // the page tracker (hv/mig_page_state.h).
    MigError apply(const u8* rec, u32 len);
    MigError decode_page_states(const u8* rec, u32 len, MigPageStatesView& out) const;
    MigError decode_chunk(const u8* rec, u32 len, MigChunkView& out) const;
    // Every record of the final state staged: start, every vCPU's two, the
    // partition state, the totals, and the error log entries the partition
    // state announces (as many as the source retained).
    bool complete() const;

    bool have_start = false;
    bool have_partition = false;
    bool have_complete = false;
    MigStagedStart start{};
    MigStagedVcpu vcpus[kMaxConfigVcpus]{};
    MigStagedPartition part{};
    PagingError errors[PagingErrorLog::kCapacity]{};  // newest first; slot and LPID are the target's
    u32 error_count = 0;
    MigTotals totals{};
};

}  // namespace pv
