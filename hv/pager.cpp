// The pager's fault and completion paths: a vCPU touches a page that is not
// resident → a paging request (shared with other vCPUs faulting on the same
// page) → a frame → the paging service reads it → the vCPUs run again, or
// take a machine check when the read failed. docs/page-fault.md.
#include "hv/pager.h"

#include <cstring>

#include "arch/arch.h"
#include "base/format.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/machine_check.h"
#include "hv/timed_wake.h"
#include "hv/vpa.h"
#include "vio/paging_protocol.h"

namespace pv {

bool LogLimiter::allow(u64 now_tb, u64 tb_hz) {
    if (now_tb - window_start >= tb_hz) window_start = now_tb, in_window = 0;
    if (in_window < burst) {
        ++in_window;
        return true;
    }
    ++suppressed;
    return false;
}

bool Pager::init(Frame first, std::span<FrameInfo> frames, std::span<PagingRequest> requests, std::span<Partition> parts,
                 const PagingTransport& transport) {
    for (FrameInfo& f : frames) new (&f) FrameInfo{};
    pool_first_ = first;
    parts_ = parts;
    transport_ = transport;
    if (pool_.init(first, frames) != Err::Ok) return false;
    u32 nreq = requests.size() < kMaxRequests ? static_cast<u32>(requests.size()) : kMaxRequests;
    if (nreq < 2) return false;
    // A quarter of the requests are kept for page-outs: page-ins that wait
    // for frames must never hold every request a page-out would need.
    u32 reserve = nreq >= 4 ? nreq / 4 : 1;
    requests_.init(requests.data(), nreq, waiter_store_, sizeof waiter_store_ / sizeof waiter_store_[0], reserve);
    return true;
}

Err Pager::add_partition(Partition& p, std::span<PageInfo> pages, u64 entitled_pages, u8 weight,
                         u32 fault_threshold) {
    for (PageInfo& i : pages) new (&i) PageInfo{};
    if (Err e = pool_.add_partition(p.slot, pages, entitled_pages, weight); e != Err::Ok) return e;
    read_ahead_end_[p.slot] = 0;
    for (u32 i = 0; i < p.vcpu_count; ++i) {
        VcpuFaultState& f = p.vcpus[i].fault;
        f.vcpu = &p.vcpus[i];
        f.partition_slot = p.slot;
        f.threshold = fault_threshold;
    }
    return Err::Ok;
}

u64 Pager::device_block(const Partition& p, LogicalPage lp) const {
    return p.paging_block + lp.value * paging::kBlocksPerPage;
}

void Pager::map_resident(Partition& p, LogicalPage lp, Frame f, bool clean) {
    auto kind = clean ? RadixTable::MapKind::Clean : RadixTable::MapKind::Normal;
    if (p.radix.map(lp, f, Perm::RWX, kind) != Err::Ok)
        log("partition %s: cannot map logical page 0x%lx (page-table pool exhausted)", p.name, lp.value);
}

// Boot-time contents (image, RTAS stub, device tree): each page gets a frame
// now, dirty, so it is written out before its frame is reused.
bool Pager::populate(Partition& p, u64 addr, const void* data, u64 len) {
    Guard lk(lock_);
    for (u64 a = addr & ~(kPageSize - 1); a < addr + len; a += kPageSize) {
        LogicalPage lp = page_of(LogicalAddr{a});
        if (p.radix.lookup(lp)) continue;
        auto f = pool_.alloc_frame(p.slot, lp);
        if (!f.ok()) return false;
        std::memset(arch::host_ptr(base_of(f.value)), 0, kPageSize);
        (void)pool_.mark_resident(p.slot, lp, f.value);
        pool_.note_changed(p.slot, lp);
        map_resident(p, lp, f.value, false);
    }
    return p.copy_to(addr, data, len);
}

Next Pager::storage_fault(Vcpu& v, u64 addr, u64 ea) {
    Partition& p = *v.part;
    LogicalPage lp = page_of(LogicalAddr{addr});
    Guard lk(lock_);
    v.fault.fault_ea = ea;
    const PageInfo* info = pool_.page(p.slot, lp);
    if (info && info->lost) {
        // Its page-in failed while every vCPU that wanted it ran for an
        // interrupt: this access, whichever vCPU and process make it, is the
        // one that learns of it. Then the page is zero-fill.
        (void)pool_.clear_error(p.slot, lp);
        mig_note(p.slot, lp);  // lost -> zero-fill
        deliver_machine_check(v, ea, lp.value * kPageSize);
        return p.is_running() ? Next::Resume : Next::Stop;
    }
    if (info && info->state == PageState::Resident) {
        // Mapped meanwhile, or the hardware wants R/C set (POWER9 partition scope).
        (void)p.radix.set_rc(lp, true);
        return Next::Resume;
    }
    ++pool_faults_;
    FaultDecision d = on_page_fault(requests_, v.fault, lp, arch::timebase());
    if (d.action == FaultAction::Retry) return Next::Resume;
    {
        Guard pg(p.lock);
        v.state = VcpuState::PageWait;
    }
    // Its decrementer may wake it (hv/timed_wake.h): from the state saved at this exit.
    if (v.regs.msr & msr::EE) timed_wake_note(v.sprs.dec_tb + v.sprs.dec);
    if (d.action == FaultAction::ShareRequest) read_ahead(p, lp);  // keep the window ahead filled
    if (d.action == FaultAction::NewRequest) {
        u64 sent = page_ins_sent_;
        start_page_in(*d.request);
        // Measured when this fault's page-in went straight to the service (no
        // zero-fill, no wait for a frame).
        if (page_ins_sent_ == sent + 1) {
            fault_path_.add(pmc_delta(arch::instructions_at_exit(), arch::instructions()));
            read_ahead(p, lp);
        }
    }
    if (pool_.needs_reclaim()) reclaim();
    return Next::Block;
}

// The caller returns Next::Block; if the fault did not park v (the page came
// in meanwhile), v must not be lost, so it runs again at once.
void Pager::fault_and_reexecute(Vcpu& v, u64 addr) {
    v.regs.pc -= 4;
    if (storage_fault(v, addr, addr) == Next::Resume) make_runnable(v);
}

bool Pager::ensure_resident(Vcpu& v, u64 addr, u64 len) {
    Partition& p = *v.part;
    if (p.mem_mode != MemMode::Shared) return true;
    for (u64 a = addr & ~(kPageSize - 1); a < addr + len; a += kPageSize) {
        if (p.radix.lookup(page_of(LogicalAddr{a}))) continue;
        fault_and_reexecute(v, a);
        return false;
    }
    return true;
}

// A page-in request with no frame yet: take one (reclaiming if needed); a page
// that was never written out is zero-filled here, without I/O.
void Pager::start_page_in(PagingRequest& r) {
    Partition& p = part(r.partition_slot);
    if (!p.is_running()) {  // it stopped (or is restarting) meanwhile: nothing to read for it
        finish(on_completion(requests_, r.id, r.tag, kStatusNoService, arch::timebase()), false);
        return;
    }
    auto frame = pool_.alloc_frame(r.partition_slot, r.lp);
    if (!frame.ok()) {
        if (frame_wait_len_ < kMaxRequests) frame_wait_[frame_wait_len_++] = &r;
        reclaim();
        return;
    }
    const PageInfo* info = pool_.page(r.partition_slot, r.lp);
    if (!info->on_device) {
        std::memset(arch::host_ptr(base_of(frame.value)), 0, kPageSize);
        (void)pool_.mark_resident(r.partition_slot, r.lp, frame.value);
        mig_note(r.partition_slot, r.lp);  // mapped with C preset: a change either way
        // Its device block failed: it stays resident, never written there again.
        if (info->bad_block && pool_.pin(r.partition_slot, r.lp) != Err::Ok)
            log("paging: %s logical page 0x%lx has a failed device block and cannot be kept resident", p.name,
                r.lp.value * kPageSize);
        map_resident(p, r.lp, frame.value, false);
        start_io(requests_, r, frame.value, 0);
        finish(on_completion(requests_, r.id, r.tag, 0, arch::timebase()), false);
        return;
    }
    start_io(requests_, r, frame.value, device_block(p, r.lp));
    send(r);
}

// Hand a request (frame and block chosen) to the paging service; one it cannot
// take (a failed service refuses everything) fails at once: nothing waits for
// an answer that cannot come.
void Pager::send(PagingRequest& r) {
    Partition& p = part(r.partition_slot);
    r.sent_tb = arch::timebase();
    if (transport_.send(transport_.ctx, r, p)) {
        if (r.kind == PagingRequest::Kind::PageIn) ++page_ins_sent_;
        return;
    }
    complete_locked(r.id, r.tag, kStatusNoService);
}

// from_service: the service completed it. In a service pass (the PSP's hcall
// on this thread) the resume path meter's first half ends as each vCPU is
// runnable: the pass so far, whole (latency) and per completion served.
void Pager::resume(const CompletionOutcome& out, bool from_service) {
    u64 now = arch::timebase();
    for (u32 i = 0; i < out.resume_count; ++i) {
        Vcpu* v = out.resume[i]->vcpu;
        vpa_note_hv_fault(*v, now - out.resume[i]->wait_start_tb);  // the VPA's cmo_faults, cmo_fault_time
        bool wake = false;
        {
            Guard pg(v->part->lock);
            if (v->state == VcpuState::PageWait && v->part->is_running()) v->state = VcpuState::Runnable, wake = true;
        }
        if (!wake) continue;
        if (from_service && in_pass_) {
            u64 pass = pmc_delta(arch::instructions_at_exit(), arch::instructions());
            v->resume_latency_instructions = pass;
            v->resume_instructions = pass / (pass_completions_ ? pass_completions_ : 1);
        }
        make_runnable(*v);
    }
}

// A request ended: its waiters run again, and the request it freed may have
// gone to a vCPU that waited for one (that page-in starts now).
void Pager::finish(const CompletionOutcome& out, bool from_service) {
    if (out.wakeups_reenabled) timed_wake_note(0);  // a pending interrupt may wake it now
    resume(out, from_service);
    if (out.issue) start_page_in(*out.issue);
}

// A free frame appeared: the oldest page-in waiting for one gets it.
void Pager::serve_frame_waiters() {
    while (frame_wait_len_ && pool_.free_frames()) {
        PagingRequest* r = frame_wait_[0];
        for (u32 i = 1; i < frame_wait_len_; ++i) frame_wait_[i - 1] = frame_wait_[i];
        --frame_wait_len_;
        start_page_in(*r);
    }
}

void Pager::complete_locked(u32 id, u16 tag, u16 status) {
    RequestSummary r;  // the common case needs a few words of it; a failure the whole request
    if (!lookup_request(requests_, id, tag, r)) return;  // stale or forged
    Partition& p = part(r.partition_slot);
    bool running = p.is_running();
    if (r.kind == PagingRequest::Kind::PageIn && status == 0) {
        u64 t = arch::timebase() - r.sent_tb;
        page_in_service_tb_ += t;
        if (t > page_in_service_max_tb_) page_in_service_max_tb_ = t;
        ++page_ins_served_;
        (void)pool_.mark_resident(r.partition_slot, r.lp, r.frame);
        if (running) map_resident(p, r.lp, r.frame, true);
    } else if (r.kind == PagingRequest::Kind::PageOut) {
        (void)pool_.finish_page_out(r.partition_slot, r.lp, status == 0);
    }
    if (status != 0) failed_io(p, id, tag, status, running);
    // It ended or is restarting meanwhile: the frame goes back, and whatever
    // the I/O left on the device is dead (a restart must find the page zero).
    if (!running) (void)pool_.free_frame(r.partition_slot, r.lp);
    finish(on_completion(requests_, id, tag, status, arch::timebase()), true);
    serve_frame_waiters();
    if (!in_pass_ && pool_.needs_reclaim()) reclaim();
}

void Pager::end_service_pass() {
    in_pass_ = false;
    if (pool_.needs_reclaim()) reclaim();
}

void Pager::fail_all_locked(u16 status) {
    frame_wait_len_ = 0;
    for (u32 id = 0; id < requests_.capacity(); ++id) {
        PagingRequest* r = requests_.by_id(id);
        bool active;
        u16 tag;
        {
            Guard rl(requests_.lock());
            active = r->active();
            tag = r->tag;
        }
        if (!active) continue;
        if (status == kStatusTimedOut) ++timed_out_;
        complete_locked(id, tag, status);
    }
}

u32 Pager::requests_allocated() {
    Guard rl(requests_.lock());
    return requests_.stats().allocated;
}

u32 Pager::overdue_request(u64 now_tb) {
    const u64 limit = kRequestTimeoutMs * (arch::timebase_hz() / 1000);
    Guard rl(requests_.lock());
    u32 oldest = ~0u;
    u64 oldest_tb = now_tb;
    for (u32 id = 0; id < requests_.capacity(); ++id) {
        const PagingRequest* r = requests_.by_id(id);
        if (r->state != PagingRequest::State::InFlight || !r->sent_tb || r->sent_tb > oldest_tb) continue;
        oldest = id, oldest_tb = r->sent_tb;
    }
    return oldest != ~0u && now_tb - oldest_tb > limit ? oldest : ~0u;
}

// A vCPU in the hypervisor (parked or at a fault) takes a machine check for a
// failed page-in; a second one before ibm,nmi-interlock ends the partition.
void Pager::deliver_machine_check(Vcpu& v, u64 ea, u64 logical) {
    Partition& p = *v.part;
    switch (pv::deliver_machine_check(v, ea, logical)) {
    case McDelivery::Fwnmi:
    case McDelivery::Architected:
        return;
    case McDelivery::Nested:
        stop_partition(p, PartitionState::Killed,
                       "machine check on vCPU %u before the previous one was interlocked (page-in of 0x%lx failed)",
                       v.id.value, logical);
        return;
    case McDelivery::Failed:
        stop_partition(p, PartitionState::Killed, "page-in of 0x%lx failed and no machine check could be delivered",
                       logical);
        return;
    }
}

// The partition learns of a failed page-in through a machine check on the
// vCPU(s) that wanted the page (docs/machine-check.md). The page is never read
// from that device block again: it becomes zero-fill at once.
void Pager::page_in_failed(Partition& p, const PagingRequest& r, u16 status) {
    (void)pool_.fail_page_in(r.partition_slot, r.lp);
    u64 now = arch::timebase();
    if (r.waiter_count == 0) {
        // Read ahead, wanted by nobody yet: the device copy stays the page's
        // content; the access that wants it reads it again (and takes the
        // machine check if that fails too). Nothing is lost or zeroed.
        if (read_ahead_log_.allow(now, arch::timebase_hz()))
            log("paging: read-ahead of %s logical page 0x%lx failed (status 0x%x): read again when touched", p.name,
                r.lp.value * kPageSize, status);
        return;
    }
    pool_.mark_bad_block(r.partition_slot, r.lp);
    u64 logical = r.lp.value * kPageSize;
    VcpuFaultState* first = r.waiters[0];
    PagingError e{};
    e.partition_slot = r.partition_slot;
    e.lpid = p.lpid;
    e.lp = r.lp;
    e.vcpu = static_cast<u32>(first->vcpu->id.value);
    e.status = status;
    e.timebase = now + p.tb_offset;  // the partition's timebase: it reads it and it migrates with it
    e.effective_addr = first->fault_ea;
    hv().paging_errors.record(e);
    bool logged = page_in_log_.allow(now, arch::timebase_hz());
    if (logged)
        log("paging: page-in of %s logical page 0x%lx from block %lu failed (status 0x%x): machine check to %u "
            "vCPU(s) (%lu lines not logged)",
            p.name, logical, r.device_block, status, r.waiter_count, page_in_log_.take_suppressed());
    u32 told = 0;
    for (u32 i = 0; i < r.waiter_count; ++i) {
        VcpuFaultState& f = *r.waiters[i];
        Vcpu& v = *f.vcpu;
        bool parked;
        {
            Guard pg(p.lock);
            Guard rl(requests_.lock());
            parked = v.state == VcpuState::PageWait && f.phase == FaultPhase::FaultWait &&
                     f.waiting_on == requests_.by_id(r.id);  // r is a copy
            // Claimed for the machine check: an interrupt may no longer end
            // this wait (poll_interrupts runs without the pager lock), or the
            // vCPU could run while its registers are being written below,
            // losing the check and reading the cleared page.
            if (parked) f.park = ParkMode::WakeupsDisabled;
        }
        // A waiter woken for an interrupt meanwhile runs elsewhere in the
        // partition now: not it but the page's next access takes the check
        // (not its next fault, which may be another page's in another context,
        // even one it is parked on now).
        if (!parked) continue;
        deliver_machine_check(v, f.fault_ea, logical);
        ++told;
    }
    if (told) {
        (void)pool_.clear_error(r.partition_slot, r.lp);
    } else {
        (void)pool_.mark_lost(r.partition_slot, r.lp);
        if (logged)
            log("paging: no vCPU of %s waits for logical page 0x%lx now: its next access takes the machine check",
                p.name, logical);
    }
    mig_note(r.partition_slot, r.lp);  // zero-fill now, or Failed
}

// The rare case, out of the completion path: the whole request (its waiters,
// its device block) for the error's report.
void Pager::failed_io(Partition& p, u32 id, u16 tag, u16 status, bool running) {
    PagingRequest r;
    if (!lookup_request(requests_, id, tag, r)) return;
    if (r.kind == PagingRequest::Kind::PageIn) page_in_failed(p, r, status);
    else if (running) page_out_failed(p, r, status);
}

// A page that could not be written out stays resident, dirty and pinned: it
// is never chosen (and written to that block) again. A partition whose
// failed writes would pin more than its share of the pool can no longer be
// paged: it stops, with the reason, so the others keep their frames.
void Pager::page_out_failed(Partition& p, const PagingRequest& r, u16 status) {
    u32 s = r.partition_slot;
    ++page_out_errors_[s];
    map_resident(p, r.lp, r.frame, false);
    pool_.mark_bad_block(s, r.lp);
    u64 limit = pool_.frames() / 16;
    bool kept = write_pins_[s] < limit && pool_.pin(s, r.lp) == Err::Ok;
    if (kept) ++write_pins_[s];
    u64 now = arch::timebase();
    if (page_out_log_.allow(now, arch::timebase_hz())) {
        u64 held_back = page_out_log_.take_suppressed();
        log("paging: page-out of %s logical page 0x%lx to block %lu failed (status 0x%x): %s; %lu failed writes "
            "(%lu lines not logged)",
            p.name, r.lp.value * kPageSize, r.device_block, status, kept ? "kept resident" : "cannot keep it",
            page_out_errors_[s], held_back);
    }
    if (!kept)
        stop_partition(p, PartitionState::Killed,
                       "paging device write errors: %lu pages of its paging region cannot be written (last block "
                       "%lu, status 0x%x) and the pool cannot keep more of them resident",
                       page_out_errors_[s], r.device_block, status);
}

// A vCPU that may not take interrupts now (its wake-ups are off) is left out
// of the next deadline: the completion that turns them on asks for a scan.
u64 Pager::poll_interrupts(u64 now) {
    u64 next = ~u64{0};
    for (Partition& p : parts_) {
        if (p.mem_mode != MemMode::Shared) continue;
        for (u32 j = 0; j < p.vcpu_count; ++j) {
            Vcpu& v = p.vcpus[j];
            if (v.state != VcpuState::PageWait || !(v.regs.msr & msr::EE)) continue;
            i64 left = static_cast<i64>(v.sprs.dec) - static_cast<i64>(now - v.sprs.dec_tb);
            if (left >= 0 && !icp_presented(v.icp)) {
                u64 at = now + static_cast<u64>(left) + 1;
                if (at < next) next = at;
                continue;
            }
            // Under the partition lock, and only once it is parked: a vCPU
            // between its fault decision and PageWait must not lose its wait.
            bool wake = false;
            {
                Guard pg(p.lock);
                if (v.state == VcpuState::PageWait && on_interrupt_pending(requests_, v.fault, now))
                    v.state = VcpuState::Runnable, wake = true;
            }
            if (wake) make_runnable(v);
        }
    }
    return next;
}

void Pager::partition_ended(Partition& p) {
    if (p.mem_mode != MemMode::Shared) return;
    for (u32 i = 0; i < p.vcpu_count; ++i) detach_vcpu(requests_, p.vcpus[i].fault);
}

// Its LPID does not run again before the slot is reclaimed, which flushes
// it (hv/incoming_partition.cpp). Pages with I/O in flight are freed when it
// completes (complete_locked).
void Pager::release_partition(Partition& p) {
    if (p.mem_mode != MemMode::Shared) return;
    Guard lk(lock_);
    for (u64 i = 0, n = p.mem_bytes / kPageSize; i < n; ++i) {
        LogicalPage lp{i};
        const PageInfo* info = pool_.page(p.slot, lp);
        if (!info || info->state != PageState::Resident) continue;
        while (pool_.pins(p.slot, lp)) (void)pool_.unpin(p.slot, lp);
        (void)p.radix.unmap_rc(lp);
        (void)pool_.free_frame(p.slot, lp);
    }
    serve_frame_waiters();
}

Err Pager::remove_partition(Partition& p) {
    if (p.mem_mode != MemMode::Shared || p.slot >= kMaxPartitions) return Err::Invalid;
    if (has_active_requests(p.slot)) return Err::Busy;
    release_partition(p);  // pinned pages (an install's, a write kept resident) go back too
    Guard lk(lock_);
    Err e = pool_.remove_partition(p.slot);
    if (e != Err::Ok) return e;
    mig_[p.slot] = MigTracking{};
    page_out_errors_[p.slot] = write_pins_[p.slot] = read_ahead_end_[p.slot] = 0;
    return Err::Ok;
}

// Page-ins of slot that wait for a frame have no I/O yet: they end now.
void Pager::forget_frame_waiters(u32 slot) {
    for (u32 i = 0; i < frame_wait_len_;) {
        PagingRequest* r = frame_wait_[i];
        if (r->partition_slot != slot) {
            ++i;
            continue;
        }
        for (u32 j = i + 1; j < frame_wait_len_; ++j) frame_wait_[j - 1] = frame_wait_[j];
        --frame_wait_len_;
        finish(on_completion(requests_, r->id, r->tag, kStatusNoService, arch::timebase()), false);
        i = 0;  // finish may have started (and queued) others
    }
}

bool Pager::has_active_requests(u32 slot) {
    Guard rl(requests_.lock());
    for (u32 id = 0; id < requests_.capacity(); ++id) {
        const PagingRequest* r = requests_.by_id(id);
        if (r->active() && r->partition_slot == slot) return true;
    }
    return false;
}

// No frame is freed while the paging service may still DMA into or out of
// it: pending pages keep theirs until complete_locked (p is not running, so
// it frees them there). The PTEs of freed pages go now; the caller flushes.
bool Pager::reset_partition(Partition& p, u64* device_copies) {
    if (p.mem_mode != MemMode::Shared) return true;
    Guard lk(lock_);
    forget_frame_waiters(p.slot);
    for (u64 i = 0, n = p.mem_bytes / kPageSize; i < n; ++i) {
        LogicalPage lp{i};
        const PageInfo* info = pool_.page(p.slot, lp);
        if (!info) break;
        if (info->state == PageState::Resident) {
            while (pool_.pins(p.slot, lp)) (void)pool_.unpin(p.slot, lp);
            (void)p.radix.unmap_rc(lp);
        }
        bool copy = info->on_device && (info->state == PageState::Resident || info->state == PageState::NotResident);
        if (pool_.free_frame(p.slot, lp) == Err::Ok && copy && device_copies) ++*device_copies;  // Busy (kept) while its I/O is in flight
        mig_note(p.slot, lp);  // every page reads as zero after the restart
    }
    write_pins_[p.slot] = 0;
    serve_frame_waiters();
    return !has_active_requests(p.slot);
}

bool Pager::io_pending(const Partition& p) { return has_active_requests(p.slot); }

bool Pager::make_room(u64 pages) {
    Guard lk(lock_);
    u64 want = pages + kPoolPagingReserve;
    if (pool_.free_frames() >= want) return true;
    reclaim(want - pool_.free_frames());
    return pool_.free_frames() >= want;
}

void Pager::note_resume_path(u64 per_completion, u64 latency) {
    Guard lk(meter_lock_);
    resume_path_.add(per_completion);
    resume_latency_.add(latency);
}

u32 Pager::format_partition_stats(const Partition& p, char* buf, u32 n) {
    u64 faults = 0, wait_tb = 0;
    u32 max_out = 0;
    for (u32 i = 0; i < p.vcpu_count; ++i) {
        const VcpuFaultState& f = p.vcpus[i].fault;
        faults += f.faults, wait_tb += f.wait_tb_total;
        if (f.max_outstanding > max_out) max_out = f.max_outstanding;
    }
    bool shared = p.mem_mode == MemMode::Shared;
    PoolPartitionStats s = shared ? pool_.stats(p.slot) : PoolPartitionStats{};
    return format(buf, n,
                  ",\"page_ins\":%lu,\"page_outs\":%lu,\"hv_faults\":%lu,\"fault_wait_tb\":%lu,"
                  "\"max_outstanding\":%u,\"resident_pages\":%lu,\"pinned_pages\":%lu,\"max_pinned_pages\":%lu,"
                  "\"errors\":%lu,\"page_out_errors\":%lu",
                  s.page_ins, s.page_outs, faults, wait_tb, max_out, s.resident, s.pinned, s.pinned_max,
                  shared ? hv().paging_errors.count_for(p.slot) : 0, shared ? page_out_errors_[p.slot] : 0);
}

void Pager::print_stats() {
    // Path lengths (PMC5; QEMU 7.2 undercounts, see docs/benchmarks.md).
    struct {
        const char* name;
        const PathMeter& m;
        const char* goal;
    } paths[] = {{"hv_fault_to_queued", fault_path_, "300"},
                 {"hv_completion_to_resume", resume_path_, "300"},
                 {"hv_completion_to_resume_latency", resume_latency_, "null"}};
    for (const auto& p : paths) {
        if (!p.m.count) continue;
        log_raw("PV-BENCH {\"name\":\"%s_instructions\",\"value\":%lu,\"unit\":\"instructions\",\"goal\":%s}",
                p.name, p.m.min, p.goal);
        log_raw("PV-BENCH {\"name\":\"%s_instructions_median\",\"value\":%lu,\"unit\":\"instructions\","
                "\"goal\":%s,\"samples\":%lu}",
                p.name, p.m.median(), p.goal, p.m.count);
        log_raw("PV-BENCH {\"name\":\"%s_instructions_mean\",\"value\":%lu,\"unit\":\"instructions\",\"goal\":null,"
                "\"samples\":%lu}",
                p.name, p.m.mean(), p.m.count);
    }
    const PagingPoolStats& r = requests_.stats();
    log_raw("PV-STAT {\"type\":\"pool\",\"frames\":%lu,\"free\":%lu,\"pool_faults\":%lu,"
            "\"request_pool_exhausted_waits\":%lu,\"max_requests_in_flight\":%u,\"paging_requests\":%u,"
            "\"read_ahead\":%lu,\"timed_out_requests\":%lu,\"page_in_service_us_mean\":%lu,"
            "\"page_in_service_us_max\":%lu}",
            pool_.frames(), pool_.free_frames(), pool_faults_, r.exhausted_waits, r.max_allocated,
            requests_.capacity(), read_ahead_, timed_out_,
            page_ins_served_ ? page_in_service_tb_ / page_ins_served_ * 1000000 / arch::timebase_hz() : 0,
            page_in_service_max_tb_ * 1000000 / arch::timebase_hz());
}

}  // namespace pv
