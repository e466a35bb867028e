// The CRQ conversation with the paging service partition: requests out
// (descriptor + IoRequest message), completions and failures back, and the
// PSP's death or silence turned into failed requests, never parked vCPUs.
#include "hv/psp_link.h"

#include <cstring>

#include <libfdt.h>

#include "base/format.h"
#include "base/papr.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/mig_control.h"
#include "hv/pager.h"
#include "vio/mover_protocol.h"
#include "vio/paging_protocol.h"

namespace pv {
namespace {

constexpr u64 kPspRegsLogical = u64{1} << 36;  // far above any PSP memory (desired_mem <= 4G)

void* psp_ptr(void* ctx, u64 logical, u64 len) {
    auto* p = static_cast<Partition*>(ctx);
    if (!p->logical_range_ok(logical, len)) return nullptr;
    return p->logical_ptr(logical);  // the PSP has dedicated, contiguous memory
}

}  // namespace

void PspLink::init(Pager& pager, const char* psp_name, const arch::PagingDevice& device, u64 dma_request_index) {
    pager_ = &pager;
    format(psp_name_, sizeof psp_name_, "%s", psp_name);
    device_ = device;
    dma_request_index_ = dma_request_index;
    channel_.open();
}

PagingTransport PspLink::transport() {
    PagingTransport t;
    t.send = [](void* ctx, const PagingRequest& r, const Partition& p) { return static_cast<PspLink*>(ctx)->send(r, p); };
    t.failed = [](const void* ctx) { return static_cast<const PspLink*>(ctx)->failed(); };
    t.ctx = this;
    return t;
}

PartitionMemory PspLink::psp_memory() { return PartitionMemory{psp_ptr, psp_}; }

void PspLink::set_psp(Partition& p) {
    psp_ = &p;
    mover_.init([](void* ctx, const CrqEntry& e) { static_cast<PspLink*>(ctx)->deliver(e); }, this, psp_memory());
}

bool PspLink::attach(Partition& psp, void* fdt, u32 fdt_size) {
    for (u64 off = 0; off < device_.regs_size; off += kPageSize) {
        if (psp.radix.map(page_of(LogicalAddr{kPspRegsLogical + off}), frame_of(HostReal{device_.regs_phys + off}),
                          Perm::RW, RadixTable::MapKind::Io) != Err::Ok) {
            log("paging: cannot map the device registers into %s", psp.name);
            return false;
        }
    }
    // The PSP's own memory is reachable by its device at bus address = logical address.
    if (!arch::dma_map(0, psp.mem_base, true, true, psp.mem_bytes / kPageSize)) {
        log("paging: cannot open %s's memory to its device (%lu TCEs)", psp.name, device_.dma_pages);
        return false;
    }
    int rc = fdt_open_into(fdt, fdt, static_cast<int>(fdt_size));
    int node = rc ? rc : fdt_add_subnode(fdt, 0, "poolvisor-paging");
    if (node < 0) {
        log("paging: cannot add the paging node to %s's device tree: %s", psp.name, fdt_strerror(node));
        return false;
    }
    fdt64_t regs[2] = {cpu_to_fdt64(kPspRegsLogical), cpu_to_fdt64(device_.regs_size)};
    bool ok = fdt_setprop_string(fdt, node, "compatible", "poolvisor,paging-service-v1") == 0 &&
              fdt_setprop_u32(fdt, node, "crq-unit-address", kPspCrqUnit) == 0 &&
              fdt_setprop(fdt, node, "nvme-regs", regs, sizeof regs) == 0 &&
              fdt_setprop_u64(fdt, node, "dma-request-base", dma_request_index_ * kPageSize) == 0 &&
              fdt_setprop_u32(fdt, node, "paging-requests", pager_->requests().capacity()) == 0 &&
              fdt_setprop_string(fdt, node, "paging-devices", "nvme0") == 0 && fdt_pack(fdt) == 0;
    if (!ok) log("paging: %s's device tree has no room for the paging node", psp.name);
    return ok;
}

// ---- requests out -----------------------------------------------------------

// Map the frame for the device in the direction needed, describe it, ring
// the doorbell. False: the request cannot reach the PSP (the pager fails it).
bool PspLink::send(const PagingRequest& r, const Partition& p) {
    if (failed()) return false;
    if (!desc_host_) {  // the PSP is still starting: it gets this once it is ready
        if (unsent_len_ == kMaxRequests) return false;
        unsent_[unsent_len_++] = &r;
        return true;
    }
    bool page_in = r.kind == PagingRequest::Kind::PageIn;
    u64 index = dma_request_index_ + r.id;
    if (!arch::dma_map(index, base_of(r.frame), !page_in, page_in)) return false;
    paging::Descriptor d{};
    d.op = page_in ? paging::Opcode::PageIn : paging::Opcode::PageOut;
    d.tag = r.tag;
    d.lpid = static_cast<u16>(p.lpid.value);
    d.blocks = paging::kBlocksPerPage;
    d.logical_page = r.lp.value;
    d.device_block = r.device_block;
    d.dma_addr = index * kPageSize;
    // Request ids are below the table's entries (checked when it was taken).
    paging::encode(d, desc_host_ + u64{r.id} * paging::kDescriptorBytes);
    deliver(paging::encode(paging::IoRequestMsg{d.op, static_cast<u16>(r.id), r.tag, d.lpid}));
    return true;
}

void PspLink::deliver(const CrqEntry& e) {
    flush_outbox();
    if (outbox_len_ || !channel_.deliver(e)) {
        if (outbox_len_ == kOutbox) {  // only a PSP flooding us with control messages gets here
            log("paging: %s's queue stays full and the outbox is full: message 0x%02x dropped", psp_name_, e.bytes[1]);
        } else {
            outbox_[(outbox_head_ + outbox_len_++) % kOutbox] = e;
        }
    }
    prod_psp();
}

void PspLink::flush_outbox() {
    while (outbox_len_ && channel_.deliver(outbox_[outbox_head_])) {
        outbox_head_ = (outbox_head_ + 1) % kOutbox;
        --outbox_len_;
    }
}

// A PSP that is awake (polling its queue) needs only the flag, set without
// its partition's lock: h_cede publishes Ceded before it reads the flag, so
// one of the two sees the other (hv/hcall.cpp). A ceded one is woken.
void PspLink::prod_psp() {
    Vcpu& v = psp_->vcpus[0];
    __atomic_store_n(&v.prodded, true, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&v.state, __ATOMIC_SEQ_CST) != VcpuState::Ceded) return;
    bool wake = false;
    {
        Guard pg(psp_->lock);
        if (v.state == VcpuState::Ceded) v.state = VcpuState::Runnable, v.prodded = false, wake = true;
    }
    if (wake) make_runnable(v);
}

// ---- messages in ----------------------------------------------------------------

Next PspLink::crq_hcall(Vcpu& v, u64 number) {
    bool mine = is_psp(*v.part) && v.regs.gpr[4] == kPspCrqUnit;
    CrqChannel* ch = mine ? &channel_ : nullptr;
    i64 rc = papr::H_FUNCTION;
    switch (number) {
    case crq::H_REG_CRQ: rc = h_reg_crq(ch, psp_memory(), v.regs.gpr[5], v.regs.gpr[6]); break;
    case crq::H_FREE_CRQ: rc = h_free_crq(ch); break;
    case crq::H_SEND_CRQ: rc = h_send_crq(ch, v.regs.gpr[5], v.regs.gpr[6]); break;
    case crq::H_ENABLE_CRQ: rc = h_enable_crq(ch); break;
    }
    v.regs.gpr[3] = static_cast<u64>(rc);
    bool mover_news = false;
    if (mine && number == crq::H_SEND_CRQ && rc == papr::H_SUCCESS && burst_continues(v.regs.gpr[5], v.regs.gpr[6]))
        return Next::Resume;
    if (mine) {
        Guard lk(pager_->lock());
        pager_->begin_service_pass();
        flush_outbox();  // the PSP runs: it may have made room
        service_channel();
        pager_->end_service_pass();
        mover_news = mover_.take_activity();
    }
    // The mover answered (a slot back, a message, an I/O done): the
    // migration moves on from here, on the PSP's thread, not a timer's.
    if (mover_news) mig_poll(arch::timebase());
    return Next::Resume;
}

// A Completion with more = 1 waits in the channel's inbound ring for the
// rest of its burst: the burst is served under one take of the pager lock
// (the shared partitions' faults take it too), not one per page. A full
// ring is served at once; poll() serves what a burst left behind (within
// 100 ms), and the PSP's next message of any other kind serves it too.
bool PspLink::burst_continues(u64 hi, u64 lo) {
    paging::CompletionMsg m{};
    return paging::decode(CrqEntry::from_words(hi, lo), m) && m.more &&
           channel_.inbound_count() < crq::kInboundEntries;
}

void PspLink::service_channel() {
    CrqEntry e;
    while (channel_.receive(e)) handle_message(e);
}

void PspLink::handle_message(const CrqEntry& e) {
    // Anything but a completion ends a burst.
    if (!paging::is(e, paging::Opcode::Completion)) complete_deferred();
    if (e.bytes[0] == crq::kInit && e.bytes[1] == crq::kInitRequest) {
        deliver(crq_init_complete());
        return;
    }
    if (mover::is_mover_message(e)) {
        mover_.handle(e);
        return;
    }
    if (!paging::is_paging_message(e)) return;
    switch (paging::opcode_of(e)) {
    case paging::Opcode::SetDescTable:
        handle_desc_table(e);
        return;
    case paging::Opcode::Completion: {
        pager_->note_pass_completions(1);
        paging::CompletionMsg m{};
        if (paging::decode(e, m)) handle_completion(m.req_id, m.tag, m.status, m.more);
        return;
    }
    case paging::Opcode::CompletionsPosted:
        take_completion_ring();
        return;
    case paging::Opcode::Failure: {
        pager_->note_pass_completions(1);
        paging::FailureMsg m{};
        if (paging::decode(e, m)) complete(m.req_id, m.tag, static_cast<u16>(0x8000 | static_cast<u16>(m.reason)), false);
        return;
    }
    default:
        return;
    }
}

// The table (and its completion ring) lie in the PSP's dedicated, contiguous
// memory, which never moves: the host pointer is taken once, here.
void PspLink::handle_desc_table(const CrqEntry& e) {
    paging::SetDescTableMsg m{};
    if (!paging::decode(e, m)) return;
    m.flags &= paging::kTableCompletionRing;  // the flags we know
    auto status = paging::check_desc_table(psp_memory(), m, pager_->requests().capacity());
    desc_host_ = status == paging::TableStatus::Ok
                     ? static_cast<u8*>(psp_ptr(psp_, m.table_addr, paging::desc_table_bytes(m)))
                     : nullptr;
    if (desc_host_ && (m.flags & paging::kTableCompletionRing))
        ring_.reset(desc_host_ + paging::completion_ring_offset(m), m.entries);
    else
        ring_.reset(nullptr, 0);
    deliver(paging::encode(paging::DescTableRespMsg{m.entries, status, desc_host_ ? m.flags : u8{0}}));
    if (!desc_host_) return;
    log("paging: service partition %s ready (%u descriptors%s, %u requests waiting)", psp_->name, m.entries,
        ring_.active() ? ", completion ring" : "", unsent_len_);
    u32 n = unsent_len_;
    unsent_len_ = 0;
    for (u32 i = 0; i < n; ++i) {
        const PagingRequest& r = *unsent_[i];
        if (!send(r, hv().partitions[r.partition_slot])) pager_->complete_locked(r.id, r.tag, kStatusNoService);
    }
}

// A request ended at the PSP: its TCE is revoked before the pager gives the
// frame to the partition (the device must not write a page the partition uses).
// A revoked one was checked when its burst deferred it; complete_locked checks
// again (the same id twice in one burst is stale there).
void PspLink::complete(u32 id, u16 tag, u16 status, bool revoked) {
    if (!revoked && !request_active(pager_->requests(), id, tag)) return;  // stale or forged: its TCE stays
    complete_checked(id, tag, status, revoked);
}

void PspLink::complete_checked(u32 id, u16 tag, u16 status, bool revoked) {
    if (!revoked) arch::dma_unmap(dma_request_index_ + id);
    pager_->complete_locked(id, tag, status);
    close_when_drained();
}

// Completions of one burst (CompletionMsg::more): their TCEs are cleared as
// they come, revoked with one kill when the last arrives, and only then are
// their frames given to the partitions.
void PspLink::handle_completion(u32 id, u16 tag, u16 status, bool more) {
    if (!more && !deferred_len_) return complete(id, tag, status, false);
    if (!request_active(pager_->requests(), id, tag)) return;  // stale or forged: its TCE stays
    arch::dma_unmap_deferred(dma_request_index_ + id);
    deferred_[deferred_len_++] = {id, tag, status};
    if (!more || deferred_len_ == kMaxRequests) complete_deferred();
}

// What the ring holds, in order. A page a vCPU waits for is revoked and
// completed at once, with its own TCE kill, so that the vCPU does not wait
// for the rest of the burst; the rest (read-ahead, page-outs) are one burst
// with one kill. At most a request pool's worth: a PSP that keeps writing
// does not keep us here.
void PspLink::take_completion_ring() {
    const u32 ids = pager_->requests().capacity();
    paging::CompletionRecord c;
    bool well_formed = true;
    for (u32 k = 0; k < kMaxRequests && ring_.take(c, well_formed); ++k) {
        if (!well_formed) continue;
        pager_->note_pass_completions(1);
        // Waiters first (a plain read under the pager lock), the pool's lock only then.
        if (c.req_id < ids && pager_->has_waiters(c.req_id) && request_active(pager_->requests(), c.req_id, c.tag))
            complete_checked(c.req_id, c.tag, c.status, false);
        else
            handle_completion(c.req_id, c.tag, c.status, true);
    }
    complete_deferred();
}

void PspLink::complete_deferred() {
    if (!deferred_len_) return;
    arch::dma_revoke_all();
    u32 n = deferred_len_;
    deferred_len_ = 0;
    for (u32 i = 0; i < n; ++i) complete(deferred_[i].id, deferred_[i].tag, deferred_[i].status, true);
}

// ---- the end of the conversation --------------------------------------------

void PspLink::want_close() {
    __atomic_store_n(&close_wanted_, true, __ATOMIC_SEQ_CST);
    close_when_drained();
}

// Only the PSP is left: its channel closes (and it powers off) once no
// request is in flight, so that every frame is back in the pool.
void PspLink::close_when_drained() {
    if (!__atomic_load_n(&close_wanted_, __ATOMIC_SEQ_CST)) return;
    if (pager_->requests_allocated()) return;
    if (__atomic_exchange_n(&closed_, true, __ATOMIC_SEQ_CST)) return;
    channel_.close();
    prod_psp();
}

// No answer can come any more: the device loses its access to every request
// page first, then each request fails (page-ins: machine checks to their
// waiters; page-outs: the page stays resident).
void PspLink::fail_everything(u16 status) {
    __atomic_store_n(&dead_, true, __ATOMIC_RELEASE);
    mover_.reset();
    unsent_len_ = 0;
    deferred_len_ = 0;
    outbox_len_ = 0;
    arch::dma_unmap(dma_request_index_, pager_->requests().capacity());
    pager_->fail_all_locked(status);
}

void PspLink::psp_ended() {
    Guard lk(pager_->lock());
    if (closed_ || failed()) return;  // a normal end (every request was done first), or already failed
    log("paging: the paging service partition %s ended while shared partitions run: their paging I/O fails "
        "from now on",
        psp_->name);
    fail_everything(kStatusNoService);
}

void PspLink::declare_failed(u32 overdue_id) {
    {
        Guard lk(pager_->lock());
        if (closed_ || failed()) return;
        log("paging: the paging service partition %s did not answer request %u within %lu ms: declared failed; "
            "its paging I/O fails from now on",
            psp_->name, overdue_id, Pager::kRequestTimeoutMs);
        fail_everything(kStatusTimedOut);
    }
    stop_partition(*psp_, PartitionState::Killed, "paging service: request %u unanswered for %lu ms", overdue_id,
                   Pager::kRequestTimeoutMs);
}

void PspLink::poll(u64 now_tb) {
    if (!psp_ || failed() || __atomic_load_n(&closed_, __ATOMIC_ACQUIRE)) return;
    if (__atomic_load_n(&outbox_len_, __ATOMIC_RELAXED)) {
        Guard lk(pager_->lock());
        u32 before = outbox_len_;
        flush_outbox();
        if (outbox_len_ != before) prod_psp();
    }
    if (now_tb < __atomic_load_n(&next_deadline_check_tb_, __ATOMIC_RELAXED)) return;
    __atomic_store_n(&next_deadline_check_tb_, now_tb + arch::timebase_hz() / 10, __ATOMIC_RELAXED);
    // A burst the PSP left unfinished (more = 1 and nothing after it, or
    // records without their CompletionsPosted) is served here, within the
    // deadline check's period.
    {
        Guard lk(pager_->lock());
        service_channel();
        take_completion_ring();
    }
    u32 id = pager_->overdue_request(now_tb);
    if (id != ~0u) declare_failed(id);
}

}  // namespace pv
