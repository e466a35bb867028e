// Hypervisor page faults of shared-memory partitions: what a vCPU does when it
// touches a logical page that is not resident (no valid partition-scoped PTE,
// so the access raised HDSI/HISI), and what happens when the paging request
// completes. See docs/page-fault.md for the state machine and its invariants.
//
// Pure decision logic: nothing here touches page tables, the scheduler or the
// PSP. The hypervisor calls these functions and acts on what they return. Each
// takes the pool's lock; the lock is a leaf (call none of them with it held).
#pragma once
#include "mm/paging_request.h"

namespace pv {

struct Vcpu;

// Outstanding requests below which a parked vCPU may still be woken to take a
// virtual interrupt (per vCPU; configurable).
inline constexpr u32 kDefaultFaultThreshold = 2;

enum class FaultPhase : u8 {
    Running,      // not parked on paging (it may still be a waiter of requests)
    FaultWait,    // parked until `waiting_on` completes (or an interrupt, if enabled)
    RequestWait,  // parked in the pool's FIFO until a request is free
};

enum class ParkMode : u8 { WakeupsEnabled, WakeupsDisabled };

enum class FaultAction : u8 {
    ShareRequest,    // the page already has a request: park on it
    NewRequest,      // a request was allocated: fill frame/device block, send it to the PSP, park
    WaitForRequest,  // the pool is empty: park; a later completion hands this vCPU a request
    Retry,           // no room to wait (storage sized too small): resume unchanged, it faults again
};

// Per-vCPU fault state; the hypervisor keeps one beside each vCPU.
struct VcpuFaultState {
    Vcpu* vcpu = nullptr;     // the owner (opaque here; for the caller's convenience)
    u32 partition_slot = 0;   // which partition's pages it faults on
    u32 threshold = kDefaultFaultThreshold;

    FaultPhase phase = FaultPhase::Running;
    ParkMode park = ParkMode::WakeupsDisabled;
    PagingRequest* waiting_on = nullptr;  // FaultWait: the request whose completion resumes it
    u64 wait_start_tb = 0;                // when it parked
    u64 fault_ea = 0;                     // effective address of its last fault (machine-check logs)
    u32 outstanding = 0;                  // requests whose waiter list holds it

    // Statistics (cmo_faults / cmo_fault_time in the VPA come from faults / wait_tb_total).
    u32 max_outstanding = 0;
    u64 faults = 0;             // hypervisor page faults taken
    u64 shared = 0;             // joined a request another vCPU (or the pager) started
    u64 refaults = 0;           // faulted again on a request it already waits on
    u64 request_waits = 0;      // found the pool empty
    u64 interrupt_wakeups = 0;  // left FaultWait early to take a virtual interrupt
    u64 wait_tb_total = 0;      // timebase ticks parked
};

struct FaultDecision {
    FaultAction action;
    ParkMode park;
    PagingRequest* request;  // Share/New: the request it waits on; otherwise nullptr
};

// An HDSI/HISI on a non-resident logical page `lp` of v's partition. On
// NewRequest call start_io() once the frame and device block are chosen.
FaultDecision on_page_fault(PagingRequestPool& pool, VcpuFaultState& v, LogicalPage lp, u64 now_tb);

// The request is handed to the PSP (Queued → InFlight).
void start_io(PagingRequestPool& pool, PagingRequest& r, Frame frame, u64 device_block);

// The pager wants to write a resident page out. nullptr if no request is free
// or the page already has one.
PagingRequest* start_page_out(PagingRequestPool& pool, u32 slot, LogicalPage lp, u64 now_tb);

// A virtual interrupt (decrementer, external, IPI) is pending for v. True: v
// left FaultWait and may run now to take it; it stays a waiter of its request
// and, when it touches the page again, faults and shares that request without
// counting it twice. False: it stays parked (the interrupt waits). Call it
// again while the interrupt stays pending: a completion elsewhere can re-enable
// wake-ups of a vCPU parked with them disabled.
bool on_interrupt_pending(PagingRequestPool& pool, VcpuFaultState& v, u64 now_tb);

// What a completion needs of its request: a few words, not the waiter list
// (the completion path copies it on every page).
struct RequestSummary {
    PagingRequest::Kind kind = PagingRequest::Kind::PageIn;
    PagingRequest::State state = PagingRequest::State::Free;
    u16 status = 0;
    u32 partition_slot = 0;
    LogicalPage lp{};
    Frame frame{};
    u64 sent_tb = 0;  // handed to the paging service (its service time runs from here)
};

// A copy of an active request, checked against its tag (for mapping the frame
// before on_completion). False if id/tag name no active request.
bool lookup_request(PagingRequestPool& pool, u32 id, u16 tag, PagingRequest& out);
bool lookup_request(PagingRequestPool& pool, u32 id, u16 tag, RequestSummary& out);
// Whether id/tag names an active request (the same check, without the copy).
bool request_active(PagingRequestPool& pool, u32 id, u16 tag);

struct CompletionOutcome {
    bool valid = false;   // false: id/tag named no active request; nothing changed
    bool failed = false;  // status != 0: resumed vCPUs get a machine check, not their page
    RequestSummary request{};  // as it completed (kind, partition, page, frame, status)
    u32 resume_count = 0;
    VcpuFaultState* resume[kMaxRequestWaiters]{};  // parked on it: make them runnable, in this order
    PagingRequest* issue = nullptr;  // handed to vCPUs that waited for a free request: start_io it
    // A vCPU that stays parked may take interrupts again (its wake-ups were
    // off): whatever is already pending for it may wake it now.
    bool wakeups_reenabled = false;
};

// The PSP finished request id/tag with status (0 = ok). Map the frame BEFORE
// calling this (so that no vCPU can find the page absent and no request for
// it); the request is released here.
CompletionOutcome on_completion(PagingRequestPool& pool, u32 id, u16 tag, u16 status, u64 now_tb);

// v's partition stopped: forget it everywhere (its requests still complete).
void detach_vcpu(PagingRequestPool& pool, VcpuFaultState& v);

}  // namespace pv
