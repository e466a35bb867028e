// Active Memory Sharing: shared-memory partitions whose logical pages live in
// the shared pool's frames only while resident, paged by the hypervisor
// through the paging service partition (PSP). See docs/ams.md,
// docs/shared-pool.md, docs/page-fault.md, docs/crq.md, docs/paging-service.md.
//
// The state is an Ams object owned by the hypervisor (Hypervisor::ams): the
// pager (hv/pager.h) and the PSP link (hv/psp_link.h). The functions below
// are the rest of the hypervisor's entry points into it.
#pragma once
#include "hv/cpu.h"
#include "hv/hcall.h"
#include "hv/pager.h"
#include "hv/partition.h"
#include "hv/psp_link.h"

namespace pv {

struct Ams {
    bool enabled = false;
    Pager pager;
    PspLink link;
};

// Boot: carve the pool, attach the paging device. False (with the reason
// printed) when the configuration cannot be honoured.
[[nodiscard]] bool ams_init(const SystemConfig& cfg);
bool ams_enabled();
bool ams_is_psp(const Partition& p);
void ams_mark_psp(Partition& p);
// The pager of a shared partition; nullptr for a dedicated one.
Pager* ams_pager_of(const Partition& p);
// Boot: a shared partition's logical memory: tables, pool slot, and the
// pages holding its image, RTAS area and device tree made resident.
[[nodiscard]] bool ams_create_partition(Partition& p, const PartitionConfig& pc, u32 slot);
// The part of a shared partition's table memory that does not grow with its
// size (radix::fixed_table_bytes: the root and a few directories).
inline constexpr u64 kSharedFixedTableBytes = radix::fixed_table_bytes(3);
// Boot: put data at logical addr of a shared partition (pages get frames, dirty).
[[nodiscard]] bool ams_populate(Partition& p, u64 addr, const void* data, u64 len);
// Boot: the PSP gets the device registers, its DMA window and the
// /poolvisor-paging node in its device tree (fdt of fdt_size bytes, grown in place).
[[nodiscard]] bool ams_attach_psp(Partition& psp, void* fdt, u32 fdt_size);

// HDSI/HISI at logical `addr` of a shared partition (inside its memory).
// ea: the effective address the partition used (machine-check logs).
Next ams_storage_fault(Vcpu& v, u64 addr, u64 ea);
// A hypervisor access on the partition's behalf found [addr, addr+len) not
// resident: start the page-in and park v (the caller re-executes the hcall).
bool ams_ensure_resident(Vcpu& v, u64 addr, u64 len);
// H_PAGE_INIT (zero or copy a 4 KiB page; hv/page_init.cpp).
Next ams_page_init_hcall(Vcpu& v);
// CRQ hcalls (H_REG_CRQ, H_FREE_CRQ, H_SEND_CRQ, H_ENABLE_CRQ).
Next ams_crq_hcall(Vcpu& v, u64 number);
// Timer work (no lock held), on every scheduler pass: messages the PSP's full
// queue refused; paging request deadlines.
void ams_poll_link(u64 now);
// lsvcpu (hv/vcpu_report.h): one "command: paging ..." line, the request
// pool by state and the oldest request the PSP holds; read without the locks.
void ams_log_report(u64 now);
// When a timed wake-up is due (hv/timed_wake.h): parked vCPUs whose
// decrementer fired (or that hold an interrupt) may run to take it. Returns
// the next decrementer of a parked vCPU that may be woken (~0: none).
u64 ams_poll_interrupts(u64 now);
// An interrupt became pending for v (an IPI, hv/xics.cpp), parked on paging
// with MSR[EE]=1. Caller holds v.part->lock. True: v left its wait
// (now Runnable): make_runnable it after the lock.
bool ams_interrupt_pending(Vcpu& v, u64 now);
// A partition ended: forget its vCPUs; when only the PSP is left, close its channel.
void ams_partition_ended(Partition& p);
// After it ended and its registered areas were unpinned (no lock held): its
// frames go back to the pool for the partitions still running.
void ams_release_partition(Partition& p);
void ams_print_stats();
// make bench: the thread is about to enter a vCPU resumed after a page-in
// (PhysCpu::resume_completion_instructions set); pmc = PMC5 now.
void ams_note_resume_entry(PhysCpu& cpu, u64 pmc);

// Transparent pinning (docs/pinning.md): the pages of an area the partition
// registered, which the hypervisor touches while it runs, are made resident
// and pinned: never paged out, counted against the pool and the partition.
// Dedicated partitions: always Pinned (nothing to do).
enum class PinResult : u8 {
    Pinned,     // every page of the area is resident and pinned (once more)
    Blocked,    // a page was not resident: v is parked on its page-in and the
                // hcall re-executes when it is in (return Next::Block)
    OverLimit,  // pinning would break the pool's guarantees: nothing pinned (H_RESOURCE)
    Invalid,    // not inside the partition's memory (H_PARAMETER)
};
[[nodiscard]] PinResult ams_pin_area(Vcpu& v, u64 addr, u64 len);
// Undo one ams_pin_area of the same area (deregistration, partition stop).
void ams_unpin_area(Partition& p, u64 addr, u64 len);
// The hypervisor wrote [addr, addr+len) of a shared partition (resident): the
// pages are dirty now (the PTE's C bit is how the pager knows).
void ams_note_written(Partition& p, u64 addr, u64 len);
// A partition buffer the hypervisor copies to or from during one hcall or
// RTAS call. A shared partition's pages may be paged out: hold() pages them in
// (false: v is parked, return Next::Block and the call re-executes) and pins
// them for the call, so the pager cannot take them while we copy; the pin
// goes when the HeldArea does. Past the pinning limit the pages are only made
// resident (the copy then fails harmlessly if one is taken meanwhile). An
// area outside the partition holds nothing: copy_from/copy_to refuse it.
class HeldArea {
public:
    HeldArea() = default;
    HeldArea(const HeldArea&) = delete;
    HeldArea& operator=(const HeldArea&) = delete;
    ~HeldArea() {
        if (pinned_) ams_unpin_area(*part_, addr_, len_);
    }
    [[nodiscard]] bool hold(Vcpu& v, u64 addr, u64 len);

private:
    Partition* part_ = nullptr;
    u64 addr_ = 0, len_ = 0;
    bool pinned_ = false;
};
// Boot: the area gets frames (zeroed where nothing was placed) and is pinned
// for good (the RTAS area: the hypervisor writes machine-check logs there).
[[nodiscard]] bool ams_pin_boot_area(Partition& p, u64 addr, u64 len);
// The partition number of p's paging service partition, as PAPR's CMO
// characteristics name it (PrPSP), or -1 when p is not a shared-memory partition.
i32 ams_paging_service_number(const Partition& p);
// Per-partition PV-STAT fields (appended to its line).
u32 ams_format_partition_stats(const Partition& p, char* buf, u32 n);

}  // namespace pv
