#include "mm/fault.h"

namespace pv {
namespace {

using Kind = PagingRequest::Kind;

// Below the threshold a parked vCPU may be woken for interrupts; at it, it may
// not, so it cannot fault again: `outstanding` never exceeds the threshold.
ParkMode park_mode(const VcpuFaultState& v) {
    return v.outstanding < v.threshold ? ParkMode::WakeupsEnabled : ParkMode::WakeupsDisabled;
}

void count_outstanding(VcpuFaultState& v) {
    ++v.outstanding;
    if (v.outstanding > v.max_outstanding) v.max_outstanding = v.outstanding;
}

void start_wait(VcpuFaultState& v, u64 now_tb) {
    if (v.phase == FaultPhase::Running) v.wait_start_tb = now_tb;
}

void end_wait(VcpuFaultState& v, u64 now_tb) {
    v.wait_tb_total += now_tb - v.wait_start_tb;
    v.phase = FaultPhase::Running;
    v.waiting_on = nullptr;
}

FaultDecision park_on(VcpuFaultState& v, PagingRequest& r, FaultAction action, u64 now_tb) {
    start_wait(v, now_tb);
    v.phase = FaultPhase::FaultWait;
    v.waiting_on = &r;
    v.park = park_mode(v);
    return {action, v.park, &r};
}

// Becomes a waiter of r unless it already is (a refault after an interrupt
// wake-up must not count the same request twice).
bool join(VcpuFaultState& v, PagingRequest& r) {
    if (r.has_waiter(&v)) return true;
    if (!r.add_waiter(&v)) return false;
    count_outstanding(v);
    return true;
}

FaultDecision retry(PagingRequestPool& pool) {
    pool.stats().retries++;
    return {FaultAction::Retry, ParkMode::WakeupsEnabled, nullptr};
}

FaultDecision share(PagingRequestPool& pool, VcpuFaultState& v, PagingRequest& r, u64 now_tb) {
    if (r.has_waiter(&v)) v.refaults++;
    else if (join(v, r)) v.shared++;
    else return retry(pool);
    return park_on(v, r, FaultAction::ShareRequest, now_tb);
}

// In the FIFO the vCPU cannot be woken for interrupts: it holds no request to
// come back to, and the wait ends at the next release anyway.
FaultDecision wait_for_request(PagingRequestPool& pool, VcpuFaultState& v, LogicalPage lp, u64 now_tb) {
    if (!pool.wait_push({&v, v.partition_slot, lp})) return retry(pool);
    v.request_waits++;
    start_wait(v, now_tb);
    v.phase = FaultPhase::RequestWait;
    v.waiting_on = nullptr;
    v.park = ParkMode::WakeupsDisabled;
    return {FaultAction::WaitForRequest, v.park, nullptr};
}

// A vCPU leaves the FIFO for request r: still parked, now on r (and it may
// take interrupts again if below its threshold).
void attach_from_fifo(VcpuFaultState& v, PagingRequest& r, u64 now_tb, bool& wakeups_reenabled) {
    if (!join(v, r)) return;  // cannot happen: r's waiters are v's partition's vCPUs, each once
    if (park_on(v, r, FaultAction::ShareRequest, now_tb).park == ParkMode::WakeupsEnabled) wakeups_reenabled = true;
}

// The pool gained a free request: serve the FIFO in order. Heads whose page
// got a request meanwhile join it; the first that needs a new one gets it,
// together with every later waiter for the same page.
PagingRequest* hand_off(PagingRequestPool& pool, u64 now_tb, bool& wakeups_reenabled) {
    PagingRequest* issued = nullptr;
    RequestWaiter w;
    while (pool.wait_front(w)) {
        if (PagingRequest* r = pool.find(w.partition_slot, w.lp)) {
            pool.wait_pop();
            attach_from_fifo(*w.vcpu, *r, now_tb, wakeups_reenabled);
            continue;
        }
        if (issued || !pool.can_alloc(Kind::PageIn)) break;
        issued = pool.alloc(Kind::PageIn, w.partition_slot, w.lp, now_tb);
        VcpuFaultState* same[kMaxRequestWaiters];
        u32 n = pool.take_waiters_for(w.partition_slot, w.lp, same, kMaxRequestWaiters);
        for (u32 i = 0; i < n; ++i) attach_from_fifo(*same[i], *issued, now_tb, wakeups_reenabled);
    }
    return issued;
}

// Each waiter loses one outstanding request; those parked on this one resume.
void settle_waiters(PagingRequest& r, CompletionOutcome& out, u64 now_tb) {
    for (u32 i = 0; i < r.waiter_count; ++i) {
        VcpuFaultState& v = *r.waiters[i];
        if (v.outstanding > 0) --v.outstanding;
        if (v.phase == FaultPhase::FaultWait && v.waiting_on == &r) {
            end_wait(v, now_tb);
            out.resume[out.resume_count++] = &v;
        } else if (v.phase == FaultPhase::FaultWait) {
            ParkMode was = v.park;
            v.park = park_mode(v);  // parked on another request: may take interrupts again
            if (was != v.park && v.park == ParkMode::WakeupsEnabled) out.wakeups_reenabled = true;
        }
    }
}

RequestSummary summary_of(const PagingRequest& r) {
    RequestSummary s;
    s.kind = r.kind;
    s.state = r.state;
    s.status = r.status;
    s.partition_slot = r.partition_slot;
    s.lp = r.lp;
    s.frame = r.frame;
    s.sent_tb = r.sent_tb;
    return s;
}

}  // namespace

FaultDecision on_page_fault(PagingRequestPool& pool, VcpuFaultState& v, LogicalPage lp, u64 now_tb) {
    Guard g(pool.lock());
    v.faults++;
    if (v.phase == FaultPhase::RequestWait) return {FaultAction::WaitForRequest, v.park, nullptr};
    if (PagingRequest* r = pool.find(v.partition_slot, lp)) return share(pool, v, *r, now_tb);
    // Older FIFO waiters come first: a fault never overtakes them.
    if (pool.waiting() == 0 && pool.can_alloc(Kind::PageIn)) {
        PagingRequest& r = *pool.alloc(Kind::PageIn, v.partition_slot, lp, now_tb);
        if (!join(v, r)) return retry(pool);  // cannot happen: r has no waiter yet
        return park_on(v, r, FaultAction::NewRequest, now_tb);
    }
    return wait_for_request(pool, v, lp, now_tb);
}

void start_io(PagingRequestPool& pool, PagingRequest& r, Frame frame, u64 device_block) {
    Guard g(pool.lock());
    if (!r.active()) return;
    r.frame = frame;
    r.device_block = device_block;
    r.state = PagingRequest::State::InFlight;
}

PagingRequest* start_page_out(PagingRequestPool& pool, u32 slot, LogicalPage lp, u64 now_tb) {
    Guard g(pool.lock());
    if (pool.find(slot, lp)) return nullptr;
    return pool.alloc(Kind::PageOut, slot, lp, now_tb);
}

bool on_interrupt_pending(PagingRequestPool& pool, VcpuFaultState& v, u64 now_tb) {
    Guard g(pool.lock());
    if (v.phase != FaultPhase::FaultWait || v.park != ParkMode::WakeupsEnabled) return false;
    end_wait(v, now_tb);
    v.interrupt_wakeups++;
    return true;
}

bool request_active(PagingRequestPool& pool, u32 id, u16 tag) {
    Guard g(pool.lock());
    const PagingRequest* r = pool.by_id(id);
    return r && r->active() && r->tag == tag;
}

bool lookup_request(PagingRequestPool& pool, u32 id, u16 tag, PagingRequest& out) {
    Guard g(pool.lock());
    PagingRequest* r = pool.by_id(id);
    if (!r || !r->active() || r->tag != tag) return false;
    out = *r;
    return true;
}

bool lookup_request(PagingRequestPool& pool, u32 id, u16 tag, RequestSummary& out) {
    Guard g(pool.lock());
    PagingRequest* r = pool.by_id(id);
    if (!r || !r->active() || r->tag != tag) return false;
    out = summary_of(*r);
    return true;
}

CompletionOutcome on_completion(PagingRequestPool& pool, u32 id, u16 tag, u16 status, u64 now_tb) {
    CompletionOutcome out;
    Guard g(pool.lock());
    PagingRequest* r = pool.by_id(id);
    if (!r || !r->active() || r->tag != tag) {
        pool.stats().stale_completions++;  // the PSP is a partition: do not trust it
        return out;
    }
    r->state = status == 0 ? PagingRequest::State::Done : PagingRequest::State::Failed;
    r->status = status;
    out.valid = true;
    out.failed = status != 0;
    out.request = summary_of(*r);
    settle_waiters(*r, out, now_tb);
    pool.release(*r);
    out.issue = hand_off(pool, now_tb, out.wakeups_reenabled);
    return out;
}

void detach_vcpu(PagingRequestPool& pool, VcpuFaultState& v) {
    Guard g(pool.lock());
    pool.wait_remove(&v);
    for (u32 i = 0; i < pool.capacity(); ++i) pool.by_id(i)->remove_waiter(&v);
    v.outstanding = 0;
    v.phase = FaultPhase::Running;
    v.waiting_on = nullptr;
}

}  // namespace pv
