// Areas a partition registers with the hypervisor and the hypervisor reads or
// writes while the partition runs: the per-vCPU Virtual Processor Area (VPA),
// Dispatch Trace Log (DTL) and SLB shadow buffer (H_REGISTER_VPA), and the
// radix process table (H_REGISTER_PROC_TBL). Each is pinned while registered
// (transparent pinning, docs/pinning.md); the VPA fields Linux reads
// (struct lppaca: yield_count, dispersion_count, cmo_faults, cmo_fault_time,
// enqueue_dispatch_tb, dtl_idx) and DTL entries are kept current.
//
// Locks: each vCPU's VcpuVpa::lock is a leaf (nothing else is taken under
// it), so the dispatch hooks and vpa_note_hv_fault may be called under any
// lock. Pinning and unpinning (the pool lock) happen outside it and outside
// the partition lock.
#pragma once
#include <cstddef>

#include "base/lppaca.h"
#include "base/spinlock.h"
#include "base/types.h"

namespace pv {

struct Vcpu;
struct Partition;
enum class Next : u8;       // hv/hcall.h
enum class PinResult : u8;  // hv/ams.h
enum class Vector : u32;    // hv/ppc_defs.h

// One registered area: logical [addr, addr + len), inside one 4 KiB page.
struct VpaArea {
    u64 addr = 0;         // 0: not registered (address 0 is refused)
    u32 len = 0;
    u8* host = nullptr;   // the pinned page's host mapping at addr (VPA, DTL)

    Lppaca* lppaca() const { return reinterpret_cast<Lppaca*>(host); }
    DtlEntry* dtl_entries() const { return reinterpret_cast<DtlEntry*>(host); }
};

// Per-vCPU state. The counters are the hypervisor's own: they are written
// into the VPA (absolute values, big-endian) whenever they change and at
// registration, so a partition scribbling on its VPA cannot confuse them.
struct VcpuVpa {
    SpinLock lock{LockRank::Vpa};
    VpaArea vpa, dtl, slb;
    u32 yield_count = 1;        // odd: not dispatched (PAPR); +1 at each dispatch and undispatch
    u32 dispersion_count = 0;   // dispatches on another hardware thread than the previous one
    u64 cmo_faults = 0;         // hypervisor page faults (vpa_note_hv_fault)
    u64 cmo_fault_time = 0;     // timebase ticks parked on them
    u64 cmo_faults_shown = 0;   // the cmo_faults last written into a registered VPA (PV-STAT)
    u64 cmo_fault_time_shown = 0;  // and its cmo_fault_time (timebase ticks): what the partition can read
    u64 enqueue_dispatch_tb = 0;  // runnable but not dispatched (Linux: steal time)
    u64 wait_ready_tb = 0;      // ceded or parked until dispatched again
    u64 dtl_index = 0;          // DTL entries written since the DTL was registered
    u64 undispatch_tb = 0;
    u64 fault_addr = 0;         // logical address of the page fault that undispatched it
    u32 last_thread = ~0u;
    u8 preempt_reason = 0;      // DTL preempt reason of the last undispatch (0: none to log)
    bool ever_dispatched = false;
};

// H_REGISTER_VPA (0xDC): r4 flags (subfunction in bits 16-18), r5 target
// vCPU, r6 logical address. See docs/pinning.md for the checks.
Next vpa_hcall(Vcpu& v);

// H_REGISTER_PROC_TBL after its argument checks: pin [base, base + len)
// (len 0: deregistration, nothing to pin), make dw1 the partition-table
// entry's second word, flush, then unpin the previous table. Sets r3; returns
// Next::Block when the pin parked v (the hcall re-executes).
Next vpa_register_process_table(Vcpu& v, u64 dw1, u64 base, u64 len);

// Scheduler hooks (hv/exit.cpp): v goes onto hardware thread `thread`; v
// left its thread because its exit handler answered `next` to exit `vec`
// (Resume here means its time slice ended).
void vpa_dispatched(Vcpu& v, u32 thread);
void vpa_undispatched(Vcpu& v, Next next, Vector vec);

// A parked vCPU resumes after a hypervisor page fault that kept it wait_tb
// timebase ticks: cmo_faults += 1, cmo_fault_time += wait_tb.
void vpa_note_hv_fault(Vcpu& v, u64 wait_tb);

// The partition has ended (no vCPU on a thread): deregister every area and
// unpin it. Idempotent. Takes the partition lock and the pool lock: call it
// holding neither.
void vpa_partition_stopped(Partition& p);
// From the scheduler loop (no lock held): vpa_partition_stopped, once, for
// every partition that has ended; returns when all of them are unpinned
// (waiting for another thread doing it), so PV-STAT after it is settled.
void vpa_release_ended_partitions();
// A partition has ended (maybe_finish): the next pass above releases it.
void vpa_note_partition_finished();

// Tests: replace ams_pin_area / ams_unpin_area (nullptr restores them).
struct VpaPinOps {
    PinResult (*pin)(Vcpu& v, u64 addr, u64 len);
    void (*unpin)(Partition& p, u64 addr, u64 len);
};
void vpa_set_pin_ops(const VpaPinOps* ops);

// H_REGISTER_VPA's numbers; the areas' layouts are base/lppaca.h (PAPR VPA,
// Linux struct lppaca, struct dtl_entry; big-endian), their offsets here.
namespace vpa {
inline constexpr u64 kFuncShift = 63 - 18;  // H_VPA_FUNC_SHIFT
inline constexpr u64 kFuncMask = 7;
inline constexpr u64 kRegVpa = 1, kRegDtl = 2, kRegSlb = 3, kDeregVpa = 5, kDeregDtl = 6, kDeregSlb = 7;

inline constexpr u32 kMinVpaSize = sizeof(Lppaca);      // 640
inline constexpr u32 kDtlEntrySize = sizeof(DtlEntry);  // 48
inline constexpr u32 kMinSlbSize = 8;        // the length word must fit
inline constexpr u64 kAlign = 128;           // cache line

inline constexpr u32 kOffSize = offsetof(Lppaca, size);  // be16 (VPA) / be32 (DTL, SLB shadow): the area's length
static_assert(kOffSize == offsetof(RegisteredBufferHeader, length));
inline constexpr u32 kOffStatus = offsetof(Lppaca, old_status);
inline constexpr u8 kSharedProc = kLppacaOldSharedProc;
inline constexpr u32 kOffDtlMask = offsetof(Lppaca, dtl_enable_mask);  // partition-written
inline constexpr u32 kOffYieldCount = offsetof(Lppaca, yield_count);
inline constexpr u32 kOffDispersion = offsetof(Lppaca, dispersion_count);
inline constexpr u32 kOffCmoFaults = offsetof(Lppaca, cmo_faults);
inline constexpr u32 kOffCmoFaultTime = offsetof(Lppaca, cmo_fault_time);
inline constexpr u32 kOffEnqueueDispatchTb = offsetof(Lppaca, enqueue_dispatch_tb);
inline constexpr u32 kOffWaitReadyTb = offsetof(Lppaca, wait_ready_tb);
inline constexpr u32 kOffDtlIdx = offsetof(Lppaca, dtl_idx);

using pv::kDtlLogCede, pv::kDtlLogPreempt, pv::kDtlLogFault;
// dtl_entry.dispatch_reason / preempt_reason values.
inline constexpr u8 kDispatchProd = 2, kDispatchDecrementer = 3, kDispatchTimeSlice = 7, kDispatchPageFault = 8;
inline constexpr u8 kPreemptCede = 2, kPreemptConfer = 3, kPreemptTimeSlice = 4, kPreemptPageFault = 6;
}  // namespace vpa

}  // namespace pv
