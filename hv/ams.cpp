// Active Memory Sharing in the hypervisor: the shared pool's frames behind
// shared partitions' logical pages, hypervisor page faults, page-out ahead of
// need, and the CRQ conversation with the paging service partition (PSP).
//
// One lock (g.lock) covers the pool, the replacement state and the PTEs of
// shared partitions; the request pool and the CRQ channel have their own leaf
// locks. Order: g.lock → partition lock → run queue.
#include "hv/ams.h"

#include <cstring>

#include <libfdt.h>

#include "arch/arch.h"
#include "hv/console.h"
#include "base/format.h"
#include "hv/hv.h"
#include "hv/machine_check.h"
#include "hv/paging_space.h"
#include "base/papr.h"
#include "hv/path_meter.h"
#include "hv/vpa.h"
#include "mm/fault.h"
#include "mm/paging_request.h"
#include "mm/pool.h"
#include "mm/replacement.h"
#include "vio/crq.h"
#include "vio/paging_protocol.h"

namespace pv {
namespace {

constexpr u32 kMaxRequests = 256;
constexpr u64 kPspRegsLogical = u64{1} << 36;  // far above any PSP memory (desired_mem <= 4G)

struct Ams {
    bool enabled = false;
    SpinLock lock;
    SharedPool pool;
    u64 pool_frames = 0;
    Frame pool_first{};  // PageInfo::frame indexes from here
    PagingRequestPool requests;
    PagingRequest request_store[kMaxRequests];
    RequestWaiter waiter_store[kMaxPartitions * kMaxVcpusPerPartition];
    // Page-ins that have a request but no frame yet (the pool was empty).
    PagingRequest* frame_wait[kMaxRequests];
    u32 frame_wait_len = 0;
    // Requests started before the PSP was ready: sent when it is.
    PagingRequest* unsent[kMaxRequests];
    u32 unsent_len = 0;

    Partition* psp = nullptr;
    char psp_name[16]{};
    CrqChannel channel;
    u64 desc_table = 0;  // PSP logical address of its descriptor table
    bool desc_ready = false;
    arch::PagingDevice device;
    u64 dma_request_index = 0;  // TCE index of request 0's page
    bool closed = false;
    bool close_wanted = false;  // every partition but the PSP has ended
    bool psp_dead = false;      // the PSP ended while shared partitions ran: paging I/O fails

    u64 pool_faults = 0;
    // make bench (docs/benchmarks.md): HDSI/HISI entry → page-in queued to
    // the PSP; PSP completion (its H_SEND_CRQ exit) → the vCPU entered again.
    PathMeter fault_path, resume_path;
    u64 page_ins_sent = 0;
    u64 read_ahead = 0;  // page-ins started ahead of a fault
    // Completions of a merged transfer waiting for its last one (handle_completion).
    struct Deferred {
        u32 id;
        u16 tag, status;
    } deferred[kMaxRequests];
    u32 deferred_len = 0;
};

Ams g;

Partition& part_of_slot(u32 slot) { return hv().partitions[slot]; }

// ---- partition memory as the CRQ and descriptors need it ------------------

void* psp_ptr(void* ctx, u64 logical, u64 len) {
    auto* p = static_cast<Partition*>(ctx);
    if (!p->logical_range_ok(logical, len)) return nullptr;
    return p->logical_ptr(logical);  // the PSP has dedicated, contiguous memory
}

PartitionMemory psp_memory() { return PartitionMemory{psp_ptr, g.psp}; }

// ---- PTE side of the pool ---------------------------------------------------

HostReal frame_addr(Frame f) { return base_of(f); }

// Sampling only clears R: C stays set in the PTE (a cleared C with a cached
// writable translation would hide later writes); the pool remembers dirtiness.
bool rc_sample(void*, u32 slot, LogicalPage lp, bool& referenced, bool& changed) {
    Partition& p = part_of_slot(slot);
    auto rc = p.radix.test_and_clear_rc(lp);
    if (!rc) return false;
    referenced = rc->referenced;
    changed = rc->changed;
    if (changed) (void)p.radix.set_changed(lp);
    return true;
}

void map_resident(Partition& p, LogicalPage lp, Frame f, bool from_device) {
    auto kind = from_device ? RadixTable::MapKind::Clean : RadixTable::MapKind::Normal;
    if (p.radix.map(lp, f, Perm::RWX, kind) != Err::Ok)
        log("partition %s: cannot map logical page 0x%lx (page-table pool exhausted)", p.name, lp.value);
}

u64 device_block(const Partition& p, LogicalPage lp) { return p.paging_block + lp.value * paging::kBlocksPerPage; }

// ---- talking to the PSP -------------------------------------------------------

void prod_psp() {
    Vcpu& v = g.psp->vcpus[0];
    bool wake = false;
    {
        Guard pg(g.psp->lock);
        if (v.state == VcpuState::Ceded) v.state = VcpuState::Runnable, wake = true;
        else v.prodded = true;
    }
    if (wake) make_runnable(v);
}

void deliver(const CrqEntry& e) {
    if (!g.channel.deliver(e)) log("paging: the PSP's queue is full; message 0x%02x dropped", e.bytes[1]);
    prod_psp();
}

// Hand a request with its frame to the PSP: map the frame for the device in
// the direction needed, describe it, ring the doorbell.
bool send_request(PagingRequest& r) {
    Partition& p = part_of_slot(r.partition_slot);
    bool page_in = r.kind == PagingRequest::Kind::PageIn;
    u64 index = g.dma_request_index + r.id;
    if (g.psp_dead) return false;
    if (!g.desc_ready) {  // the PSP is still starting: it gets this once it is ready
        if (g.unsent_len == kMaxRequests) return false;
        g.unsent[g.unsent_len++] = &r;
        return true;
    }
    if (!arch::dma_map(index, frame_addr(r.frame), !page_in, page_in)) return false;
    paging::Descriptor d{};
    d.op = page_in ? paging::Opcode::PageIn : paging::Opcode::PageOut;
    d.tag = r.tag;
    d.lpid = static_cast<u16>(p.lpid.value);
    d.blocks = paging::kBlocksPerPage;
    d.logical_page = r.lp.value;
    d.device_block = r.device_block;
    d.dma_addr = index * kPageSize;
    if (!paging::write_descriptor(psp_memory(), g.desc_table, r.id, d)) return false;
    deliver(paging::encode(paging::IoRequestMsg{d.op, static_cast<u16>(r.id), r.tag, d.lpid}));
    if (page_in) ++g.page_ins_sent;
    return true;
}

// from_psp: the completion arrived in the PSP's exit on this thread (the
// resume path meter's first half ends when each vCPU is runnable).
void resume(const CompletionOutcome& out, bool from_psp) {
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
        if (from_psp) v->resume_instructions = pmc_delta(arch::instructions_at_exit(), arch::instructions());
        make_runnable(*v);
    }
}

void start_page_in(PagingRequest& r);
void not_sent(PagingRequest& r);

// A vCPU in the hypervisor (parked or at a fault) takes a machine check for a
// failed page-in; a second one before ibm,nmi-interlock ends the partition.
void deliver_paging_machine_check(Vcpu& v, u64 ea, u64 logical) {
    Partition& p = *v.part;
    switch (deliver_machine_check(v, ea, logical)) {
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

// A request ended: its waiters run again, and the request it freed may have
// gone to a vCPU that waited for one (that page-in starts now).
void finish(const CompletionOutcome& out, bool from_psp) {
    resume(out, from_psp);
    if (out.issue) start_page_in(*out.issue);
}

// A free frame appeared: the oldest page-in waiting for one gets it.
void serve_frame_waiters() {
    while (g.frame_wait_len && g.pool.free_frames()) {
        PagingRequest* r = g.frame_wait[0];
        for (u32 i = 1; i < g.frame_wait_len; ++i) g.frame_wait[i - 1] = g.frame_wait[i];
        --g.frame_wait_len;
        start_page_in(*r);
    }
}

// Evict until the free frames reach the pool's target: clean victims are freed
// at once, dirty ones written out through the PSP. Victims are unmapped in a
// batch and the TLB flushed once for all of them (a tlbie is a global,
// synchronising flush under QEMU); no frame is reused or written before it.
void reclaim() {
    constexpr u32 kBatch = 64, kMinBatch = 32;
    Victim batch[kBatch];
    u32 n = 0;
    // At least a batch's worth: each reclaim costs one TLB flush of the
    // partitions involved, so evicting a frame or two at a time is dear.
    u64 target = g.pool.reclaim_target();
    if (target || g.frame_wait_len) target = target > kMinBatch ? target : kMinBatch;
    bool flush[kMaxPartitions]{};
    while (n < kBatch && n < target) {
        auto victim = choose_victim(g.pool, RcAccess{rc_sample, nullptr});
        if (!victim.ok()) break;
        Victim vi = victim.value;
        Partition& p = part_of_slot(vi.slot);
        auto rc = p.radix.unmap_rc(vi.lp);
        if (rc && rc->changed) g.pool.note_changed(vi.slot, vi.lp);
        if (g.pool.begin_page_out(vi.slot, vi.lp) != Err::Ok) {  // it stays: mapped again
            map_resident(p, vi.lp, vi.frame, false);
            continue;
        }
        flush[vi.slot] = true;
        batch[n++] = vi;
    }
    for (u32 s = 0; s < kMaxPartitions; ++s)
        if (flush[s]) arch::tlb_flush_partition(part_of_slot(s).lpid);
    for (u32 i = 0; i < n; ++i) {
        Victim vi = batch[i];
        Partition& p = part_of_slot(vi.slot);
        if (g.pool.page(vi.slot, vi.lp)->on_device_valid) {
            (void)g.pool.finish_page_out(vi.slot, vi.lp, true);  // clean: nothing to write
            continue;
        }
        PagingRequest* r = g.psp_dead ? nullptr : start_page_out(g.requests, vi.slot, vi.lp, arch::timebase());
        if (!r) {  // no request free (or nobody to write it): the page stays, mapped again
            (void)g.pool.cancel_page_out(vi.slot, vi.lp, false);
            map_resident(p, vi.lp, vi.frame, false);
            continue;
        }
        start_io(g.requests, *r, vi.frame, device_block(p, vi.lp));
        if (!send_request(*r)) not_sent(*r);
    }
}

// A page-in request with no frame yet: take one (reclaiming if needed); a page
// that was never written out is zero-filled here, without I/O.
void start_page_in(PagingRequest& r) {
    Partition& p = part_of_slot(r.partition_slot);
    auto frame = g.pool.alloc_frame(r.partition_slot, r.lp);
    if (!frame.ok()) {
        if (g.frame_wait_len < kMaxRequests) g.frame_wait[g.frame_wait_len++] = &r;
        reclaim();
        return;
    }
    const PageInfo* info = g.pool.page(r.partition_slot, r.lp);
    if (!info->on_device) {
        std::memset(arch::host_ptr(frame_addr(frame.value)), 0, kPageSize);
        (void)g.pool.mark_resident(r.partition_slot, r.lp, frame.value);
        // Its device block failed: it stays resident, never written there again.
        if (info->bad_block && g.pool.pin(r.partition_slot, r.lp) != Err::Ok)
            log("paging: %s logical page 0x%lx has a failed device block and cannot be kept resident", p.name,
                r.lp.value * kPageSize);
        map_resident(p, r.lp, frame.value, false);
        start_io(g.requests, r, frame.value, 0);
        finish(on_completion(g.requests, r.id, r.tag, 0, arch::timebase()), false);
        return;
    }
    start_io(g.requests, r, frame.value, device_block(p, r.lp));
    if (!send_request(r)) not_sent(r);
}

// The partition learns of a failed page-in through a machine check on the
// vCPU(s) that wanted the page (docs/machine-check.md). The page is never read
// from that device block again: it becomes zero-fill at once.
void page_in_failed(Partition& p, const PagingRequest& r, u16 status) {
    (void)g.pool.fail_page_in(r.partition_slot, r.lp);
    if (r.waiter_count == 0) {
        // Read ahead, wanted by nobody yet: the device copy stays the page's
        // content; the access that wants it reads it again (and takes the
        // machine check if that fails too). Nothing is lost or zeroed.
        log("paging: read-ahead of %s logical page 0x%lx failed (status 0x%x): read again when touched", p.name,
            r.lp.value * kPageSize, status);
        return;
    }
    (void)g.pool.clear_error(r.partition_slot, r.lp);
    g.pool.mark_bad_block(r.partition_slot, r.lp);
    u64 logical = r.lp.value * kPageSize;
    VcpuFaultState* first = r.waiter_count ? r.waiters[0] : nullptr;
    PagingError e{};
    e.partition_slot = r.partition_slot;
    e.lpid = p.lpid;
    e.lp = r.lp;
    e.vcpu = first ? static_cast<u32>(first->vcpu->id.value) : ~u32{0};
    e.device = 0;
    e.status = status;
    e.timebase = arch::timebase();
    e.effective_addr = first ? first->fault_ea : logical;
    hv().paging_errors.record(e);
    log("paging: page-in of %s logical page 0x%lx from block %lu failed (status 0x%x): machine check to %u vCPU(s)",
        p.name, logical, r.device_block, status, r.waiter_count);
    for (u32 i = 0; i < r.waiter_count; ++i) {
        VcpuFaultState& f = *r.waiters[i];
        Vcpu& v = *f.vcpu;
        bool parked;
        {
            Guard pg(p.lock);
            parked = v.state == VcpuState::PageWait;
        }
        if (!parked) {  // woken for an interrupt meanwhile: it gets it when it faults again
            f.machine_check_pending = true;
            f.pending_lp = r.lp.value;
            continue;
        }
        deliver_paging_machine_check(v, f.fault_ea, logical);
    }
}

// Sequential read-ahead: a page-in of lp that follows a resident (or
// arriving) lp-1 also starts page-ins of the next pages that are on the
// device, as long as requests and free frames are plentiful: never a reclaim
// or a vCPU's request for a guess. The PSP merges adjacent reads into one
// device command (docs/paging-service.md); faults on these pages share them.
void read_ahead(Partition& p, LogicalPage lp) {
    constexpr u32 kWindow = 64, kRequestsKept = 4;  // requests kept beyond the page-out reserve
    const PageInfo* prev = lp.value ? g.pool.page(p.slot, LogicalPage{lp.value - 1}) : nullptr;
    if (!prev || prev->state == PageState::NotResident) return;
    // The window ahead of the fault: pages already in (or coming) are passed over.
    for (u32 k = 1; k <= kWindow; ++k) {
        LogicalPage q{lp.value + k};
        const PageInfo* info = g.pool.page(p.slot, q);
        if (!info) return;
        if (info->state != PageState::NotResident) continue;
        if (!info->on_device || info->bad_block || info->error) return;  // not a page to guess at
        if (g.pool.free_frames() <= g.pool.low_watermark()) return;
        PagingRequest* r = nullptr;
        {
            Guard rl(g.requests.lock());
            if (g.requests.waiting() || g.requests.free_count() <= kRequestsKept + g.requests.reserve() ||
                g.requests.find(p.slot, q))
                return;
            r = g.requests.alloc(PagingRequest::Kind::PageIn, p.slot, q, arch::timebase());
        }
        if (!r) return;
        auto f = g.pool.alloc_frame(p.slot, q);
        if (!f.ok()) {
            Guard rl(g.requests.lock());
            g.requests.release(*r);
            return;
        }
        start_io(g.requests, *r, f.value, device_block(p, q));
        if (!send_request(*r)) not_sent(*r);
        ++g.read_ahead;
    }
}

// Only the PSP is left: its channel closes (and it powers off) once no
// request is in flight, so that every frame is back in the pool.
void close_when_drained() {
    if (!__atomic_load_n(&g.close_wanted, __ATOMIC_SEQ_CST)) return;
    {
        Guard rl(g.requests.lock());
        if (g.requests.stats().allocated) return;
    }
    if (__atomic_exchange_n(&g.closed, true, __ATOMIC_SEQ_CST)) return;
    g.channel.close();
    prod_psp();
}

void complete(u32 id, u16 tag, u16 status, bool revoked = false) {
    PagingRequest r;
    if (!lookup_request(g.requests, id, tag, r)) return;  // stale or forged
    if (!revoked) arch::dma_unmap(g.dma_request_index + id);
    Partition& p = part_of_slot(r.partition_slot);
    if (r.kind == PagingRequest::Kind::PageIn) {
        if (status == 0) {
            (void)g.pool.mark_resident(r.partition_slot, r.lp, r.frame);
            if (p.is_running()) map_resident(p, r.lp, r.frame, true);
            else (void)g.pool.free_frame(r.partition_slot, r.lp);  // it ended meanwhile: the frame goes back
        } else {
            page_in_failed(p, r, status);
        }
    } else {
        (void)g.pool.finish_page_out(r.partition_slot, r.lp, status == 0);
        if (status != 0 && !p.is_running()) {
            (void)g.pool.free_frame(r.partition_slot, r.lp);  // it ended: nothing to keep
        } else if (status != 0) {
            map_resident(p, r.lp, r.frame, false);  // still dirty, still its page
            log("paging: page-out of %s logical page 0x%lx failed (status 0x%x)", p.name, r.lp.value * kPageSize, status);
        }
    }
    finish(on_completion(g.requests, id, tag, status, arch::timebase()), true);
    serve_frame_waiters();
    if (g.pool.needs_reclaim()) reclaim();
    close_when_drained();
}

// Completions of one burst (CompletionMsg::more): their TCEs are cleared as
// they come, revoked with one kill when the last arrives, and only then are
// their frames given to the partitions.
void complete_deferred() {
    if (!g.deferred_len) return;
    arch::dma_revoke_all();
    u32 n = g.deferred_len;
    g.deferred_len = 0;
    for (u32 i = 0; i < n; ++i) complete(g.deferred[i].id, g.deferred[i].tag, g.deferred[i].status, true);
}

// A request the PSP cannot get (it is gone, or its table is unusable) ends
// as a failure: a page-in's waiters take a machine check, a page-out's page
// stays resident and dirty. Nothing waits forever.
constexpr u16 kStatusNoService = 0x8000 | static_cast<u16>(paging::FailureReason::DeviceFatal);

void not_sent(PagingRequest& r) {
    if (!g.psp_dead) log("paging: cannot send request %u to the PSP: it fails", r.id);
    complete(r.id, r.tag, kStatusNoService);
}

// The PSP ended while shared partitions run: every request it held fails.
void fail_all_requests() {
    g.frame_wait_len = 0;
    g.unsent_len = 0;
    g.deferred_len = 0;
    for (u32 id = 0; id < g.requests.capacity(); ++id) {
        PagingRequest* r = g.requests.by_id(id);
        bool active;
        u16 tag;
        {
            Guard rl(g.requests.lock());
            active = r->active();
            tag = r->tag;
        }
        if (active) complete(id, tag, kStatusNoService);
    }
}

void handle_completion(const paging::CompletionMsg& m) {
    if (!m.more && !g.deferred_len) return complete(m.req_id, m.tag, m.status);
    PagingRequest r;
    if (!lookup_request(g.requests, m.req_id, m.tag, r)) return;  // stale or forged: its TCE stays
    arch::dma_unmap_deferred(g.dma_request_index + m.req_id);
    g.deferred[g.deferred_len++] = {m.req_id, m.tag, m.status};
    if (!m.more || g.deferred_len == kMaxRequests) complete_deferred();
}

void handle_psp_message(const CrqEntry& e) {
    // Anything but a completion ends a burst.
    if (!(e.bytes[0] == crq::kCmdRsp && static_cast<paging::Opcode>(e.bytes[1]) == paging::Opcode::Completion))
        complete_deferred();
    if (e.bytes[0] == crq::kInit && e.bytes[1] == crq::kInitRequest) {
        deliver(crq_init_complete());
        return;
    }
    if (e.bytes[0] != crq::kCmdRsp) return;
    switch (static_cast<paging::Opcode>(e.bytes[1])) {
    case paging::Opcode::SetDescTable: {
        paging::SetDescTableMsg m{};
        if (!paging::decode(e, m)) return;
        auto status = paging::check_desc_table(psp_memory(), m, g.requests.capacity());
        g.desc_table = m.table_addr;
        g.desc_ready = status == paging::TableStatus::Ok;
        deliver(paging::encode(paging::DescTableRespMsg{m.entries, status}));
        if (g.desc_ready) {
            log("paging: service partition %s ready (%u descriptors, %u requests waiting)", g.psp->name, m.entries,
                g.unsent_len);
            u32 n = g.unsent_len;
            g.unsent_len = 0;
            for (u32 i = 0; i < n; ++i)
                if (!send_request(*g.unsent[i])) not_sent(*g.unsent[i]);
        }
        return;
    }
    case paging::Opcode::Completion: {
        paging::CompletionMsg m{};
        if (paging::decode(e, m)) handle_completion(m);
        return;
    }
    case paging::Opcode::Failure: {
        paging::FailureMsg m{};
        if (paging::decode(e, m)) complete(m.req_id, m.tag, static_cast<u16>(0x8000 | static_cast<u16>(m.reason)));
        return;
    }
    default:
        return;
    }
}

void service_channel() {
    CrqEntry e;
    while (g.channel.receive(e)) handle_psp_message(e);
}

// ---- pinning (docs/pinning.md) ------------------------------------------------------

// Pins every page of [addr, addr+len) if all are resident (g.lock held): Ok;
// NotFound with `missing` = a page that is not; NoMemory over the limit (then
// nothing stays pinned).
Err pin_resident(Partition& p, u64 addr, u64 len, u64& missing) {
    u64 first = addr & ~(kPageSize - 1);
    for (u64 a = first; a < addr + len; a += kPageSize) {
        const PageInfo* info = g.pool.page(p.slot, page_of(LogicalAddr{a}));
        if (!info || info->state != PageState::Resident) {
            missing = a;
            return Err::NotFound;
        }
    }
    for (u64 a = first; a < addr + len; a += kPageSize) {
        Err e = g.pool.pin(p.slot, page_of(LogicalAddr{a}));
        if (e == Err::Ok) continue;
        for (u64 b = first; b < a; b += kPageSize) (void)g.pool.unpin(p.slot, page_of(LogicalAddr{b}));
        return e == Err::NoMemory ? Err::NoMemory : Err::NotFound;
    }
    return Err::Ok;
}

}  // namespace

bool ams_enabled() { return g.enabled; }
bool ams_is_psp(const Partition& p) { return g.enabled && g.psp == &p; }
void ams_mark_psp(Partition& p) { g.psp = &p; }

bool ams_init(const SystemConfig& cfg) {
    if (!cfg.pool.present) return true;
    const SystemConfig::PoolConfig& pc = cfg.pool;
    g.pool_frames = pc.pool_bytes / kPageSize;
    auto frames = hv().frames.alloc(pc.pool_bytes, 64 << 10);
    auto info = hv().frames.alloc(align_up(g.pool_frames * sizeof(FrameInfo), kPageSize), kPageSize);
    if (!frames.ok() || !info.ok()) {
        log("config:%u: pool_mem: no room for a %lu MiB shared memory pool", pc.line, pc.pool_bytes >> 20);
        return false;
    }
    auto* fi = static_cast<FrameInfo*>(arch::host_ptr(info.value));
    for (u64 i = 0; i < g.pool_frames; ++i) new (&fi[i]) FrameInfo{};
    g.pool_first = frame_of(frames.value);
    if (g.pool.init(g.pool_first, std::span<FrameInfo>(fi, g.pool_frames)) != Err::Ok) return false;
    u32 nreq = pc.paging_requests < kMaxRequests ? pc.paging_requests : kMaxRequests;
    // A quarter of the requests are kept for page-outs: page-ins that wait
    // for frames must never hold every request a page-out would need.
    u32 reserve = nreq >= 4 ? nreq / 4 : 1;
    g.requests.init(g.request_store, nreq, g.waiter_store, sizeof g.waiter_store / sizeof g.waiter_store[0], reserve);
    format(g.psp_name, sizeof g.psp_name, "%s", pc.paging_vios);

    // The PSP's TCE window: its own memory 1:1, then one page per request.
    u64 psp_pages = 0;
    for (u32 i = 0; i < cfg.partition_count; ++i)
        if (std::strcmp(cfg.partitions[i].name, pc.paging_vios) == 0) psp_pages = cfg.partitions[i].mem_bytes / kPageSize;
    g.dma_request_index = psp_pages;
    char err[128];
    if (!arch::paging_device_attach(psp_pages + nreq, g.device, err, sizeof err)) {
        log("config:%u: paging_vios: the paging service partition has no paging device: %s", pc.line, err);
        return false;
    }
    if (!check_paging_space(cfg, g.device)) return false;  // each paging region fits on the device
    g.channel.open();
    g.enabled = true;
    log("shared memory pool: %lu MiB (%lu frames) at 0x%lx, %u paging requests, paging device registers at 0x%lx",
        pc.pool_bytes >> 20, g.pool_frames, frames.value.value, nreq, g.device.regs_phys);
    return true;
}

bool ams_create_partition(Partition& p, const PartitionConfig& pc, u32 slot) {
    p.slot = slot;
    u64 pages = pc.mem_bytes / kPageSize;
    auto info = hv().frames.alloc(align_up(pages * sizeof(PageInfo), kPageSize), kPageSize);
    u64 tbytes = radix::kRootBytes + ((pc.mem_bytes >> 21) + (pc.mem_bytes >> 30) + 4) * radix::kDirBytes;
    auto tables = hv().frames.alloc(tbytes, 64 << 10);
    if (!info.ok() || !tables.ok()) {
        log("partition %s: no memory for its page state", p.name);
        return false;
    }
    auto* pi = static_cast<PageInfo*>(arch::host_ptr(info.value));
    for (u64 i = 0; i < pages; ++i) new (&pi[i]) PageInfo{};
    p.table_chunk = {tables.value.value, tables.value.value + tbytes};
    if (p.radix.init(TablePool{bump_table_alloc, &p.table_chunk}) != Err::Ok) return false;
    p.mem_bytes = pc.mem_bytes;
    p.paging_block = pc.paging_offset / paging::kBlockBytes;
    u8 weight = static_cast<u8>(pc.mem_weight);
    if (g.pool.add_partition(slot, std::span<PageInfo>(pi, pages), pc.io_entitled_bytes / kPageSize, weight) != Err::Ok) {
        log("config:%u: io_entitled_mem: the pool cannot guarantee partition %s its entitlement", pc.line, p.name);
        return false;
    }
    for (u32 i = 0; i < p.vcpu_count; ++i) {
        VcpuFaultState& f = p.vcpus[i].fault;
        f.vcpu = &p.vcpus[i];
        f.partition_slot = slot;
        f.threshold = hv().config.pool.fault_threshold;
    }
    return true;
}

// Boot-time contents (image, RTAS stub, device tree) of a shared partition:
// each page gets a frame now, dirty, so it is written out before its frame is reused.
bool ams_populate(Partition& p, u64 addr, const void* data, u64 len) {
    Guard lk(g.lock);
    for (u64 a = addr & ~(kPageSize - 1); a < addr + len; a += kPageSize) {
        LogicalPage lp = page_of(LogicalAddr{a});
        if (p.radix.lookup(lp)) continue;
        auto f = g.pool.alloc_frame(p.slot, lp);
        if (!f.ok()) return false;
        std::memset(arch::host_ptr(frame_addr(f.value)), 0, kPageSize);
        (void)g.pool.mark_resident(p.slot, lp, f.value);
        g.pool.note_changed(p.slot, lp);
        map_resident(p, lp, f.value, false);
    }
    return p.copy_to(addr, data, len);
}

bool ams_attach_psp(Partition& psp, void* fdt, u32 fdt_size) {
    for (u64 off = 0; off < g.device.regs_size; off += kPageSize) {
        if (psp.radix.map(page_of(LogicalAddr{kPspRegsLogical + off}), frame_of(HostReal{g.device.regs_phys + off}),
                          Perm::RW, RadixTable::MapKind::Io) != Err::Ok) {
            log("paging: cannot map the device registers into %s", psp.name);
            return false;
        }
    }
    // The PSP's own memory is reachable by its device at bus address = logical address.
    if (!arch::dma_map(0, psp.mem_base, true, true, psp.mem_bytes / kPageSize)) {
        log("paging: cannot open %s's memory to its device (%lu TCEs)", psp.name, g.device.dma_pages);
        return false;
    }
    int rc = fdt_open_into(fdt, fdt, static_cast<int>(fdt_size));
    int node = rc ? rc : fdt_add_subnode(fdt, 0, "poolvisor-paging");
    if (node < 0) {
        log("paging: cannot add the paging node to %s's device tree: %s", psp.name, fdt_strerror(node));
        return false;
    }
    fdt64_t regs[2] = {cpu_to_fdt64(kPspRegsLogical), cpu_to_fdt64(g.device.regs_size)};
    bool ok = fdt_setprop_string(fdt, node, "compatible", "poolvisor,paging-service-v1") == 0 &&
              fdt_setprop_u32(fdt, node, "crq-unit-address", kPspCrqUnit) == 0 &&
              fdt_setprop(fdt, node, "nvme-regs", regs, sizeof regs) == 0 &&
              fdt_setprop_u64(fdt, node, "dma-request-base", g.dma_request_index * kPageSize) == 0 &&
              fdt_setprop_u32(fdt, node, "paging-requests", g.requests.capacity()) == 0 &&
              fdt_setprop_string(fdt, node, "paging-devices", "nvme0") == 0 && fdt_pack(fdt) == 0;
    if (!ok) log("paging: %s's device tree has no room for the paging node", psp.name);
    return ok;
}

Next ams_storage_fault(Vcpu& v, u64 addr, u64 ea) {
    Partition& p = *v.part;
    LogicalPage lp = page_of(LogicalAddr{addr});
    Guard lk(g.lock);
    if (v.fault.machine_check_pending) {  // its page-in failed while it ran for an interrupt
        v.fault.machine_check_pending = false;
        deliver_paging_machine_check(v, v.fault.fault_ea, v.fault.pending_lp * kPageSize);
        return p.is_running() ? Next::Resume : Next::Stop;
    }
    v.fault.fault_ea = ea;
    const PageInfo* info = g.pool.page(p.slot, lp);
    if (info && info->state == PageState::Resident) {
        // Mapped meanwhile, or the hardware wants R/C set (POWER9 partition scope).
        (void)p.radix.set_rc(lp, true);
        return Next::Resume;
    }
    ++g.pool_faults;
    FaultDecision d = on_page_fault(g.requests, v.fault, lp, arch::timebase());
    if (d.action == FaultAction::Retry) return Next::Resume;
    {
        Guard pg(p.lock);
        v.state = VcpuState::PageWait;
    }
    if (d.action == FaultAction::ShareRequest) read_ahead(p, lp);  // keep the window ahead filled
    if (d.action == FaultAction::NewRequest) {
        u64 sent = g.page_ins_sent;
        start_page_in(*d.request);
        // Measured when this fault's page-in went straight to the PSP (no
        // zero-fill, no wait for a frame).
        if (g.page_ins_sent == sent + 1) {
            g.fault_path.add(pmc_delta(arch::instructions_at_exit(), arch::instructions()));
            read_ahead(p, lp);
        }
    }
    if (g.pool.needs_reclaim()) reclaim();
    return Next::Block;
}

// A hypervisor access on v's behalf (in an hcall) found logical `addr` not
// resident: fault it in and make the sc 1 execute again once it is. The
// caller returns Next::Block; if the fault did not park v (the page came in
// meanwhile), v must not be lost, so it runs again at once.
namespace {
void fault_and_reexecute(Vcpu& v, u64 addr) {
    v.regs.pc -= 4;
    if (ams_storage_fault(v, addr, addr) == Next::Resume) make_runnable(v);
}
}  // namespace

bool ams_ensure_resident(Vcpu& v, u64 addr, u64 len) {
    Partition& p = *v.part;
    if (p.mem_mode != MemMode::Shared) return true;
    for (u64 a = addr & ~(kPageSize - 1); a < addr + len; a += kPageSize) {
        if (p.radix.lookup(page_of(LogicalAddr{a}))) continue;
        fault_and_reexecute(v, a);
        return false;
    }
    return true;
}

Next ams_page_init_hcall(Vcpu& v) {
    using namespace papr;
    Partition& p = *v.part;
    u64 flags = v.regs.gpr[4], dest = v.regs.gpr[5], src = v.regs.gpr[6];
    auto ret = [&v](i64 rc) {
        v.regs.gpr[3] = static_cast<u64>(rc);
        return Next::Resume;
    };
    constexpr u64 kKnown = H_ICACHE_INVALIDATE | H_ICACHE_SYNCHRONIZE | H_ZERO_PAGE | H_COPY_PAGE;
    bool zero = flags & H_ZERO_PAGE, copy = flags & H_COPY_PAGE;
    if (flags & ~kKnown) return ret(H_PARAMETER);
    if ((dest & (kPageSize - 1)) || !p.logical_range_ok(dest, kPageSize)) return ret(H_PARAMETER);
    if (copy && (zero || (src & (kPageSize - 1)) || !p.logical_range_ok(src, kPageSize))) return ret(H_PARAMETER);
    if (!zero && !copy) return ret(H_SUCCESS);  // cache operations: nothing to do (coherent under QEMU)
    LogicalPage lp = page_of(LogicalAddr{dest});
    if (zero && g.enabled && p.mem_mode == MemMode::Shared) {
        Guard lk(g.lock);
        const PageInfo* info = g.pool.page(p.slot, lp);
        if (info->state == PageState::NotResident) {  // becomes zero-fill: no frame, no I/O
            (void)g.pool.free_frame(p.slot, lp);
            return ret(H_SUCCESS);
        }
        if (info->state == PageState::Resident) {
            std::memset(arch::host_ptr(frame_addr(Frame{g.pool_first.value + info->frame})), 0, kPageSize);
            g.pool.note_changed(p.slot, lp);  // the device copy is stale now
            return ret(H_SUCCESS);
        }
        // A page-in or page-out is in flight: wait for it, then do it again.
    }
    static const u8 kZero[kPageSize] = {};
    if (!ams_ensure_resident(v, dest, kPageSize) || (copy && !ams_ensure_resident(v, src, kPageSize)))
        return Next::Block;
    alignas(8) static u8 buf[kPageSize];  // callers of copy hold page_init_lock
    static SpinLock page_init_lock;
    Guard lk(page_init_lock);
    bool ok = copy ? p.copy_from(src, buf, kPageSize) && p.copy_to(dest, buf, kPageSize)
                   : p.copy_to(dest, kZero, kPageSize);
    return ret(ok ? H_SUCCESS : H_PARAMETER);
}

Next ams_crq_hcall(Vcpu& v, u64 number) {
    bool mine = ams_is_psp(*v.part) && v.regs.gpr[4] == kPspCrqUnit;
    CrqChannel* ch = mine ? &g.channel : nullptr;
    i64 rc = papr::H_FUNCTION;
    switch (number) {
    case crq::H_REG_CRQ: rc = h_reg_crq(ch, psp_memory(), v.regs.gpr[5], v.regs.gpr[6]); break;
    case crq::H_FREE_CRQ: rc = h_free_crq(ch); break;
    case crq::H_SEND_CRQ: rc = h_send_crq(ch, v.regs.gpr[5], v.regs.gpr[6]); break;
    case crq::H_ENABLE_CRQ: rc = h_enable_crq(ch); break;
    }
    v.regs.gpr[3] = static_cast<u64>(rc);
    if (mine) {
        Guard lk(g.lock);
        service_channel();
    }
    return Next::Resume;
}

void ams_poll_interrupts(u64 now) {
    if (!g.enabled) return;
    Hypervisor& h = hv();
    for (u32 i = 0; i < h.partition_count; ++i) {
        Partition& p = h.partitions[i];
        for (u32 j = 0; j < p.vcpu_count; ++j) {
            Vcpu& v = p.vcpus[j];
            if (v.state != VcpuState::PageWait || !(v.regs.msr & msr::EE)) continue;
            if (static_cast<i64>(v.sprs.dec) - static_cast<i64>(now - v.sprs.dec_tb) >= 0) continue;
            // Under the partition lock, and only once it is parked: a vCPU
            // between its fault decision and PageWait must not lose its wait.
            bool wake = false;
            {
                Guard pg(p.lock);
                if (v.state == VcpuState::PageWait && on_interrupt_pending(g.requests, v.fault, now))
                    v.state = VcpuState::Runnable, wake = true;
            }
            if (wake) make_runnable(v);
        }
    }
}

void ams_partition_ended(Partition& p) {
    if (!g.enabled) return;
    for (u32 i = 0; i < p.vcpu_count; ++i) detach_vcpu(g.requests, p.vcpus[i].fault);
    if (&p == g.psp || g.closed) return;
    // Only the PSP left running: close its channel; it powers off.
    Hypervisor& h = hv();
    for (u32 i = 0; i < h.partition_count; ++i) {
        Partition& o = h.partitions[i];
        if (&o != g.psp && &o != &p && !o.finished) return;
    }
    __atomic_store_n(&g.close_wanted, true, __ATOMIC_SEQ_CST);
    close_when_drained();
}

PinResult ams_pin_area(Vcpu& v, u64 addr, u64 len) {
    Partition& p = *v.part;
    if (len == 0 || !p.logical_range_ok(addr, len)) return PinResult::Invalid;
    if (!g.enabled || p.mem_mode != MemMode::Shared) return PinResult::Pinned;
    u64 missing;
    {
        Guard lk(g.lock);
        Err e = pin_resident(p, addr, len, missing);
        if (e == Err::Ok) return PinResult::Pinned;
        if (e == Err::NoMemory) return PinResult::OverLimit;
    }
    fault_and_reexecute(v, missing);  // pinned when the hcall runs again
    return PinResult::Blocked;
}

void ams_unpin_area(Partition& p, u64 addr, u64 len) {
    if (!g.enabled || p.mem_mode != MemMode::Shared || len == 0 || !p.logical_range_ok(addr, len)) return;
    Guard lk(g.lock);
    for (u64 a = addr & ~(kPageSize - 1); a < addr + len; a += kPageSize)
        (void)g.pool.unpin(p.slot, page_of(LogicalAddr{a}));
}

void ams_note_written(Partition& p, u64 addr, u64 len) {
    if (!g.enabled || p.mem_mode != MemMode::Shared || len == 0 || !p.logical_range_ok(addr, len)) return;
    Guard lk(g.lock);
    for (u64 a = addr & ~(kPageSize - 1); a < addr + len; a += kPageSize) (void)p.radix.set_changed(page_of(LogicalAddr{a}));
}

bool ams_pin_boot_area(Partition& p, u64 addr, u64 len) {
    if (!g.enabled || p.mem_mode != MemMode::Shared) return true;
    static const u8 zero[kPageSize] = {};
    for (u64 a = addr & ~(kPageSize - 1); a < addr + len; a += kPageSize) {
        if (p.radix.lookup(page_of(LogicalAddr{a}))) continue;
        if (!ams_populate(p, a, zero, kPageSize)) return false;
    }
    Guard lk(g.lock);
    u64 missing;
    return pin_resident(p, addr, len, missing) == Err::Ok;
}

void ams_release_partition(Partition& p) {
    if (g.enabled && &p == g.psp) {
        Guard lk(g.lock);
        if (g.closed) return;  // a normal end: every request was done first
        // It died (or stopped) under the shared partitions: no page can come in
        // from the device any more. Fail what it held, refuse what comes.
        g.psp_dead = true;
        log("paging: the paging service partition %s ended while shared partitions run: their paging I/O fails "
            "from now on",
            p.name);
        fail_all_requests();
        return;
    }
    if (!g.enabled || p.mem_mode != MemMode::Shared) return;
    Guard lk(g.lock);
    // Its LPID never runs again: no TLB flush is needed before reuse. Pages
    // with I/O in flight are freed when it completes (complete()).
    for (u64 i = 0, n = p.mem_bytes / kPageSize; i < n; ++i) {
        LogicalPage lp{i};
        const PageInfo* info = g.pool.page(p.slot, lp);
        if (!info || info->state != PageState::Resident) continue;
        while (info->pins) (void)g.pool.unpin(p.slot, lp);
        (void)p.radix.unmap_rc(lp);
        (void)g.pool.free_frame(p.slot, lp);
    }
    serve_frame_waiters();
}

u32 ams_format_partition_stats(const Partition& p, char* buf, u32 n) {
    u64 faults = 0, wait_tb = 0;
    u32 max_out = 0;
    for (u32 i = 0; i < p.vcpu_count; ++i) {
        const VcpuFaultState& f = p.vcpus[i].fault;
        faults += f.faults, wait_tb += f.wait_tb_total;
        if (f.max_outstanding > max_out) max_out = f.max_outstanding;
    }
    PoolPartitionStats s{};
    if (g.enabled && p.mem_mode == MemMode::Shared) s = g.pool.stats(p.slot);
    return format(buf, n,
                  ",\"page_ins\":%lu,\"page_outs\":%lu,\"hv_faults\":%lu,\"fault_wait_tb\":%lu,"
                  "\"max_outstanding\":%u,\"resident_pages\":%lu,\"pinned_pages\":%lu,\"max_pinned_pages\":%lu,"
                  "\"errors\":%lu",
                  s.page_ins, s.page_outs, faults, wait_tb, max_out, s.resident, s.pinned, s.pinned_max,
                  g.enabled && p.mem_mode == MemMode::Shared ? hv().paging_errors.count_for(p.slot) : 0);
}

void ams_note_resume_entry(PhysCpu& cpu, u64 pmc) {
    u64 n = cpu.resume_completion_instructions + pmc_delta(cpu.resume_pick_pmc, pmc) + arch::entry_tail_instructions();
    cpu.resume_completion_instructions = 0;
    Guard lk(g.lock);
    g.resume_path.add(n);
}

void ams_print_stats() {
    if (!g.enabled) return;
    // Path lengths (PMC5; QEMU 7.2 undercounts, see docs/benchmarks.md).
    struct {
        const char* name;
        const PathMeter& m;
    } paths[] = {{"hv_fault_to_queued", g.fault_path}, {"hv_completion_to_resume", g.resume_path}};
    for (const auto& p : paths) {
        if (!p.m.count) continue;
        log_raw("PV-BENCH {\"name\":\"%s_instructions\",\"value\":%lu,\"unit\":\"instructions\",\"goal\":300}",
                p.name, p.m.min);
        log_raw("PV-BENCH {\"name\":\"%s_instructions_mean\",\"value\":%lu,\"unit\":\"instructions\",\"goal\":null,"
                "\"samples\":%lu}",
                p.name, p.m.mean(), p.m.count);
    }
    const PagingPoolStats& r = g.requests.stats();
    log_raw("PV-STAT {\"type\":\"pool\",\"frames\":%lu,\"free\":%lu,\"pool_faults\":%lu,"
            "\"request_pool_exhausted_waits\":%lu,\"max_requests_in_flight\":%u,\"paging_requests\":%u,"
            "\"read_ahead\":%lu}",
            g.pool.frames(), g.pool.free_frames(), g.pool_faults, r.exhausted_waits, r.max_allocated,
            g.requests.capacity(), g.read_ahead);
}

}  // namespace pv
