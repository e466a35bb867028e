#include "partition/guest/psp/service.h"

#include "base/papr.h"
#include "partition/guest/rt/console.h"
#include "vio/nvme.h"

namespace psp {

using namespace pv::paging;
namespace crq = pv::crq;
namespace nvme = pv::nvme;

namespace {

constexpr u64 kMaxResets = 8;  // controller resets before the device is given up

const char* op_name(Opcode op) { return op == Opcode::PageIn ? "page-in" : "page-out"; }

// A driver status (not an NVMe one) as the reason of a Failure.
FailureReason reason_of(u32 s) {
    return s == nvme::kTimeout ? FailureReason::DeviceTimeout
           : s == nvme::kFatal ? FailureReason::DeviceFatal
           : s == nvme::kInvalid ? FailureReason::BadDescriptor
                                 : FailureReason::Unspecified;
}
u16 failure_status(FailureReason r) { return static_cast<u16>(kFailureStatusBit | static_cast<u16>(r)); }

}  // namespace

// --- the queue ------------------------------------------------------------

bool CrqQueue::poll(CrqEntry& out) {
    u8* slot = base_ + cursor_;
    u8 valid = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (valid == crq::kFree) return false;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);  // lwsync: the payload (and a descriptor) after the valid byte
    out.bytes[0] = valid;
    // The hypervisor writes the slot again only once we free it below.
    __builtin_memcpy(out.bytes + 1, slot + 1, crq::kEntryBytes - 1);
    __atomic_store_n(slot, crq::kFree, __ATOMIC_RELEASE);  // lwsync; stb: our reads first, then the slot is free
    cursor_ = static_cast<u32>((cursor_ + crq::kEntryBytes) % bytes_);
    return true;
}

void CrqQueue::reset() {
    for (u32 i = 0; i < bytes_; ++i) __atomic_store_n(base_ + i, u8{0}, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    cursor_ = 0;
}

// --- the service ----------------------------------------------------------

const char* PagingService::state_name() const {
    switch (state_) {
    case State::WaitInit: return "waiting for the CRQ initialization";
    case State::WaitTable: return "waiting for DescTableResp";
    case State::Serving: return "serving";
    case State::Closed: return "closed";
    }
    return "?";
}

void PagingService::log_stats(const char* why) const {
    u64 in_us = c_.page_ins ? c_.page_in_ticks / c_.page_ins / s_.ticks_per_us : 0;
    u64 out_us = c_.page_outs ? c_.page_out_ticks / c_.page_outs / s_.ticks_per_us : 0;
    // Fields are only ever appended: boot tests match the line's beginning.
    rt::log("%s: %lu requests, %lu page-ins (%lu us each), %lu page-outs (%lu us each), %lu errors, %lu resets, "
            "%lu retries, %lu retried ok, %lu merged reads, %lu merged writes",
            why, c_.requests, c_.page_ins, in_us, c_.page_outs, out_us, c_.errors, c_.resets, c_.retries,
            c_.retried_ok, c_.merged_reads, c_.merged_writes);
    // (a console line holds 255 characters: the rest on a line of its own)
    rt::log("%s: %lu page-ins in merged reads, %lu us queued per page-in, %lu transfers in the device at most", why,
            c_.merged_read_pages, c_.page_ins ? c_.page_in_queue_ticks / c_.page_ins / s_.ticks_per_us : 0,
            c_.max_in_device);
}

void PagingService::send(const CrqEntry& e, const char* what) {
    i64 rc = s_.send(s_.send_ctx, e);
    if (rc == pv::papr::H_SUCCESS) return;
    ++c_.send_errors;
    // H_CLOSED: the hypervisor closed its end; its FF 02 follows in the queue.
    if (c_.send_errors <= s_.logged_errors) rt::log("H_SEND_CRQ (%s) returned %ld", what, rc);
}

void PagingService::send_table() {
    state_ = State::WaitTable;
    ring_.reset(nullptr, 0);  // until the hypervisor takes it
    u8 flags = s_.completion_ring ? pv::paging::kTableCompletionRing : u8{0};
    send(encode(SetDescTableMsg{s_.entries, s_.table_addr, flags}), "SetDescTable");
}

void PagingService::start(bool partner_open) {
    state_ = State::WaitInit;
    if (partner_open) send(pv::crq_init_request(), "init request");
}

bool PagingService::log_error() {
    ++c_.errors;
    if (c_.errors == s_.logged_errors + 1) rt::log("more errors: counted, no longer logged one by one");
    return c_.errors <= s_.logged_errors;
}

void PagingService::ignore(const CrqEntry& e, const char* why) {
    if (++c_.ignored <= s_.logged_errors)
        rt::log("ignored CRQ entry %016lx %016lx (%s, %s)", e.hi(), e.lo(), why, state_name());
}

PagingService::Action PagingService::handle(const CrqEntry& e) {
    if (state_ == State::Closed) return Action::Closed;
    switch (e.valid()) {
    case crq::kInit:
        if (e.format() == crq::kInitRequest) {
            // The hypervisor (re)opened its end: answer, then (again) the table.
            if (state_ != State::WaitInit) rt::log("the hypervisor re-initialized the CRQ");
            send(pv::crq_init_complete(), "init complete");
            send_table();
        } else if (e.format() == crq::kInitComplete && state_ == State::WaitInit) {
            send_table();
        } else {
            ignore(e, "unexpected initialization message");
        }
        return Action::Continue;
    case crq::kTransport:
        switch (e.format()) {
        case crq::kPartnerDeregistered:
            state_ = State::Closed;
            return Action::Closed;
        case crq::kPartnerFailed:
            rt::log("transport event: partner failed; waiting for a new initialization");
            state_ = State::WaitInit;
            return Action::Continue;
        case crq::kPartitionMigrated: rt::log("transport event: partition migrated (ignored)"); return Action::Continue;
        default: ignore(e, "unknown transport event"); return Action::Continue;
        }
    case crq::kCmdRsp: break;
    default: ignore(e, "unknown valid byte"); return Action::Continue;
    }

    IoRequestMsg req;
    if (decode(e, req)) {
        serve(req);
        return Action::Continue;
    }
    DescTableRespMsg resp;
    if (decode(e, resp)) {
        if (state_ != State::WaitTable) {
            ignore(e, "DescTableResp not asked for");
            return Action::Continue;
        }
        if (resp.status != TableStatus::Ok || resp.entries != s_.entries) {
            rt::log("the hypervisor refused the descriptor table (%u entries at 0x%lx): status %u, entries %u",
                    s_.entries, s_.table_addr, static_cast<u32>(resp.status), resp.entries);
            return Action::Fatal;
        }
        state_ = State::Serving;
        bool ring = s_.completion_ring && (resp.flags & pv::paging::kTableCompletionRing);
        if (ring) {
            // Every slot free, also after a re-initialization (the hypervisor
            // starts again at the first).
            u8* base = s_.table + completion_ring_offset(SetDescTableMsg{s_.entries, 0, 0});
            for (u64 i = 0; i < u64{s_.entries} * kCompletionRecordBytes; ++i) base[i] = 0;
            __atomic_thread_fence(__ATOMIC_RELEASE);
            ring_.reset(base, s_.entries);
        }
        rt::log("serving: descriptor table of %u entries at 0x%lx accepted%s", s_.entries, s_.table_addr,
                ring ? ", completion ring" : "");
        return Action::Continue;
    }
    ignore(e, "unknown paging opcode");
    return Action::Continue;
}

void PagingService::complete(const IoRequestMsg& m, u16 status, bool more) {
    send(encode(CompletionMsg{m.req_id, m.tag, m.lpid, status, more}), "Completion");
}

void PagingService::fail(const IoRequestMsg& m, FailureReason r, u32 detail, u32 retries) {
    flush_answers();  // a Failure ends the hypervisor's burst: the Completions gathered before it go first
    ++c_.failures;
    if (log_error()) {
        if (retries)
            rt::log("%s req %u tag 0x%x lpid %u: Failure reason %u detail 0x%x after %u retries", op_name(m.op),
                    m.req_id, m.tag, m.lpid, static_cast<u32>(r), detail, retries);
        else
            rt::log("%s req %u tag 0x%x lpid %u: Failure reason %u detail 0x%x", op_name(m.op), m.req_id, m.tag,
                    m.lpid, static_cast<u32>(r), detail);
    }
    send(encode(FailureMsg{m.req_id, m.tag, m.lpid, r, detail}), "Failure");
}

// After a timeout or a fatal status: reset the controller before the
// request is answered, so that it no longer works on a frame the hypervisor
// unmaps when it gets the answer.
void PagingService::recover(u32 status) {
    if (s_.dev_status) return;
    if (c_.resets == kMaxResets) {
        s_.dev_status = status;
        rt::log("device: %s after %lu resets: giving it up, every request fails from now on",
                nvme::status_name(status), c_.resets);
        return;
    }
    ++c_.resets;
    u32 s = s_.dev.reset ? s_.dev.reset(s_.dev.ctx) : status;
    if (s) {
        s_.dev_status = s;
        rt::log("device: %s; controller reset failed: %s (0x%x): every request fails from now on",
                nvme::status_name(status), nvme::status_name(s), s);
    } else {
        rt::log("device: %s; controller reset and up again (%lu resets)", nvme::status_name(status), c_.resets);
    }
}

// Worth another attempt: an NVMe status without DNR (a media error may
// read fine the second time), or a timeout / controller fatal status once
// recover() has the controller up again. Never the driver's other statuses
// (kInvalid: a request it refuses) nor a device given up.
bool PagingService::retryable(u32 status) const {
    if (status == nvme::kOk) return false;
    if (status < 0x10000) return (status & kStatusDnr) == 0 && (status & kNvmeStatusMask) != 0;
    return (status == nvme::kTimeout || status == nvme::kFatal) && s_.dev_status == 0;
}

PagingService::Action PagingService::handle_batch(const CrqEntry* es, u32 n) {
    IoRequestMsg run[kMaxMerge];
    Descriptor ds[kMaxMerge];
    const bool async = s_.dev.submit && s_.dev.poll && s_.dev.max_in_flight && s_.dev.max_in_flight(s_.dev.ctx) > 0;
    // Asynchronously a run is one transfer, so it stops at what one command moves.
    const u64 run_max = async ? s_.dev.max_blocks(s_.dev.ctx) / kBlocksPerPage : kMaxMerge;
    for (u32 i = 0; i < n;) {
        u32 k = 0;
        if (s_.dev.io_pages || async) {
            while (i + k < n && k < kMaxMerge && k < run_max && es[i + k].valid() == crq::kCmdRsp &&
                   decode(es[i + k], run[k]) && mergeable(run[k], ds[k]) &&
                   (k == 0 || (run[k].op == run[0].op && ds[k].device_block == ds[k - 1].device_block + kBlocksPerPage)))
                ++k;
        }
        if (k >= 2 && async) {
            bool all = true;
            for (u32 j = 0; j < k; ++j) all = all && async_ok(run[j]);
            if (all) {
                accept_run(run, ds, k);
                i += k;
                continue;
            }
        }
        if (k >= 2 && s_.dev.io_pages && serve_merged(run, ds, k)) {
            i += k;
            continue;
        }
        if (k >= 2) {  // the merged read failed: each on its own, with its own retries and answer
            for (u32 j = 0; j < k; ++j) serve(run[j]);
            i += k;
            continue;
        }
        Action a = handle(es[i++]);
        if (a != Action::Continue) {
            flush_answers();
            return a;
        }
    }
    flush_answers();
    return Action::Continue;
}

bool PagingService::mergeable(const IoRequestMsg& m, Descriptor& d) const {
    FailureReason r;
    u32 detail;
    return check(m, d, r, detail) && d.blocks == kBlocksPerPage &&
           d.dma_addr == s_.dma_request_base + u64{m.req_id} * pv::kPageSize;
}

bool PagingService::check(const IoRequestMsg& m, Descriptor& d, FailureReason& r, u32& detail) const {
    auto refuse = [&](FailureReason why, u32 code) {
        r = why, detail = code;
        return false;
    };
    if (state_ != State::Serving) return refuse(FailureReason::BadDescriptor, kDetailNoTable);
    if (m.req_id >= s_.entries) return refuse(FailureReason::BadDescriptor, kDetailReqId);
    // The acquire in CrqQueue::poll orders this after the doorbell: the
    // hypervisor wrote the descriptor before it.
    d = decode_descriptor(s_.table + u64{m.req_id} * kDescriptorBytes);
    if (d.op != m.op || d.tag != m.tag || d.lpid != m.lpid) return refuse(FailureReason::BadDescriptor, kDetailMismatch);
    if (s_.dev_status) return refuse(FailureReason::DeviceFatal, kDetailDeviceDown);
    u64 dev_blocks = s_.dev.blocks(s_.dev.ctx);
    if (d.blocks == 0 || d.blocks > s_.dev.max_blocks(s_.dev.ctx)) return refuse(FailureReason::BadDescriptor, kDetailBlocks);
    if (d.device_block >= dev_blocks || d.blocks > dev_blocks - d.device_block)
        return refuse(FailureReason::BadDescriptor, kDetailRange);
    // The frame is mapped at request id's own page of the request window:
    // never let the device reach another request's frame.
    u64 bytes = u64{d.blocks} * kBlockBytes;
    u64 page = s_.dma_request_base + u64{m.req_id} * pv::kPageSize;
    u64 off = d.dma_addr - page;
    if (d.dma_addr < page || off >= pv::kPageSize || bytes > pv::kPageSize - off)
        return refuse(FailureReason::DmaRefused, kDetailDmaWindow);
    if (d.dma_addr & 3) return refuse(FailureReason::BadDescriptor, kDetailDmaAlign);
    return true;
}

bool PagingService::serve_merged(const IoRequestMsg* ms, const Descriptor* ds, u32 n) {
    if (u64{n} * kBlocksPerPage > s_.dev.max_blocks(s_.dev.ctx)) return false;
    u64 pages[kMaxMerge];
    for (u32 i = 0; i < n; ++i) pages[i] = ds[i].dma_addr;
    bool out = ms[0].op == Opcode::PageOut;
    u64 t0 = now();
    if (u32 s = s_.dev.io_pages(s_.dev.ctx, out, ds[0].device_block, pages, n); s != nvme::kOk) {
        if (log_error())
            rt::log("merged %s of %u pages at block %lu failed: %s (0x%x); serving them one by one",
                    out ? "write" : "read", n, ds[0].device_block, nvme::status_name(s & kNvmeStatusMask), s);
        return false;
    }
    u64 ticks = now() - t0;
    ++(out ? c_.merged_writes : c_.merged_reads);
    for (u32 i = 0; i < n; ++i) {
        ++c_.requests;
        ++(out ? c_.page_outs : c_.page_ins);
        (out ? c_.page_out_ticks : c_.page_in_ticks) += ticks / n;
        complete(ms[i], 0, i + 1 < n);
        if (s_.log_every && c_.requests % s_.log_every == 0) log_stats("statistics");
    }
    return true;
}

void PagingService::serve(const IoRequestMsg& m) {
    if (async_ok(m)) return accept(m);
    ++c_.requests;
    Descriptor d;
    FailureReason why;
    u32 detail;
    if (!check(m, d, why, detail)) return fail(m, why, detail);

    bool out = m.op == Opcode::PageOut;
    u32 first = nvme::kOk, tries = 0;
    u64 ticks = 0;
    u32 s = io_with_retries(out, d.device_block, d.blocks, d.dma_addr, tries, first, ticks);
    u32 status = s & kNvmeStatusMask;  // for an NVMe status: SCT/SC without DNR
    if (s == nvme::kOk) {
        if (out) {
            ++c_.page_outs;
            c_.page_out_ticks += ticks;
        } else {
            ++c_.page_ins;
            c_.page_in_ticks += ticks;
        }
        if (tries) {
            // Recovered: one line per request, a bounded number of them.
            ++c_.retried_ok;
            u32 f = first < 0x10000 ? first & kNvmeStatusMask : first;
            if (c_.retried_ok <= s_.logged_errors)
                rt::log("%s req %u tag 0x%x lpid %u page 0x%lx block %lu: %s (status 0x%x): ok after %u retries",
                        op_name(m.op), m.req_id, m.tag, m.lpid, d.logical_page, d.device_block,
                        nvme::status_name(f), f, tries);
            else if (c_.retried_ok == u64{s_.logged_errors} + 1)
                rt::log("more requests ok after a retry: counted, no longer logged one by one");
        }
        complete(m, 0);
    } else if (s < 0x10000) {
        if (log_error())
            rt::log("%s req %u tag 0x%x lpid %u page 0x%lx block %lu: %s (status 0x%x%s) after %u retries",
                    op_name(m.op), m.req_id, m.tag, m.lpid, d.logical_page, d.device_block,
                    nvme::status_name(status), status, s & kStatusDnr ? ", do not retry" : "", tries);
        if (!out && s_.fail_delay_us && s_.pause) s_.pause(s_.fail_delay_us);
        complete(m, static_cast<u16>(status));
    } else {
        fail(m, reason_of(s), s, tries);
    }
    if (s_.log_every && c_.requests % s_.log_every == 0) log_stats("statistics");
}

u32 PagingService::io_with_retries(bool out, u64 block, u32 blocks, u64 dma, u32& tries, u32& first, u64& ticks) {
    u32 limit = s_.retries < kMaxRetries ? s_.retries : kMaxRetries;
    u32 s = nvme::kOk;
    tries = 0;
    first = nvme::kOk;
    for (;;) {
        u64 t0 = now();
        s = s_.dev.io(s_.dev.ctx, out, block, blocks, dma);
        ticks = now() - t0;  // of the last attempt: device time, not the retries'
        if (s == nvme::kOk) break;
        if (first == nvme::kOk) first = s;
        if (s == nvme::kTimeout || s == nvme::kFatal) recover(s);
        if (tries == limit || !retryable(s)) break;
        ++tries;
        ++c_.retries;
    }
    return s;
}

u16 PagingService::transfer(bool write, u64 block, u32 blocks, u64 dma) {
    if (s_.dev_status) return failure_status(FailureReason::DeviceFatal);
    u64 dev_blocks = s_.dev.blocks(s_.dev.ctx);
    if (blocks == 0 || blocks > s_.dev.max_blocks(s_.dev.ctx) || block >= dev_blocks || blocks > dev_blocks - block)
        return failure_status(FailureReason::BadDescriptor);
    u32 tries = 0, first = nvme::kOk;
    u64 ticks = 0;
    u32 s = io_with_retries(write, block, blocks, dma, tries, first, ticks);
    if (s == nvme::kOk) return 0;
    if (log_error())
        rt::log("mover %s of %u blocks at block %lu: %s (0x%x) after %u retries", write ? "write" : "read", blocks,
                block, nvme::status_name(s < 0x10000 ? s & kNvmeStatusMask : s), s, tries);
    if (s < 0x10000) return static_cast<u16>(s & kNvmeStatusMask);
    return failure_status(reason_of(s));
}

// --- asynchronous serving ----------------------------------------------------
// Every request taken is in exactly one place until it is answered: waiting
// (in wait_, as part of its unit), in the device, or being answered. The
// device reaches only frames of requests taken and not yet answered: a
// request is answered after its transfer finished, or after the controller
// reset that follows a timeout (recover()).

bool PagingService::async_ok(const IoRequestMsg& m) const {
    return s_.dev.submit && s_.dev.poll && s_.dev.max_in_flight && m.req_id < kMaxTracked &&
           s_.dev.max_in_flight(s_.dev.ctx) > 0;
}

void PagingService::note_request() {
    if (s_.log_every && c_.requests % s_.log_every == 0) log_stats("statistics");
}

void PagingService::wait_idle(u16 id) {
    // The hypervisor reuses a request id only after our answer: a second
    // doorbell for one in flight is its mistake, served after the first.
    while (ops_[id].state != OpState::Idle) (void)progress();
}

void PagingService::accept(const IoRequestMsg& m) {
    wait_idle(m.req_id);
    ++c_.requests;
    Descriptor d;
    FailureReason why;
    u32 detail;
    if (!check(m, d, why, detail)) {
        fail(m, why, detail);
        note_request();
        return;
    }
    Op& o = ops_[m.req_id];
    o = Op{m, d, 0, 0, nvme::kOk, m.req_id, 1, OpState::Waiting, true, now()};
    ++in_flight_;
    enqueue(m.req_id, false);
    note_request();
    pump();
}

void PagingService::accept_run(const IoRequestMsg* ms, const Descriptor* ds, u32 n) {
    for (u32 i = 0; i < n; ++i) wait_idle(ms[i].req_id);
    for (u32 i = 0; i < n; ++i) {
        ++c_.requests;
        ops_[ms[i].req_id] = Op{ms[i], ds[i], 0, 0, nvme::kOk, i + 1 < n ? ms[i + 1].req_id : ms[i].req_id,
                                static_cast<u16>(i == 0 ? n : 1), OpState::Waiting, i == 0, now()};
        ++in_flight_;
        note_request();
    }
    enqueue(ms[0].req_id, false);
    pump();
}

void PagingService::enqueue(u16 head, bool front) {
    // Each request is in at most one unit, and units ≤ kMaxTracked: never full.
    if (front) {
        wait_head_ = (wait_head_ + kMaxTracked - 1) % kMaxTracked;
        wait_[wait_head_] = head;
    } else {
        wait_[(wait_head_ + wait_len_) % kMaxTracked] = head;
    }
    ++wait_len_;
}

// Start waiting units while the device takes them.
void PagingService::pump() {
    while (wait_len_) {
        u16 head = wait_[wait_head_];
        Op& o = ops_[head];
        if (s_.dev_status) {  // given up: what check() says of every request now
            wait_head_ = (wait_head_ + 1) % kMaxTracked;
            --wait_len_;
            for (u16 id = head, k = 0, n = o.run; k < n; ++k) {
                u16 next = ops_[id].next;
                ops_[id].state = OpState::Idle;
                --in_flight_;
                fail(ops_[id].m, FailureReason::DeviceFatal, kDetailDeviceDown, ops_[id].tries);
                id = next;
            }
            continue;
        }
        bool out = o.m.op == Opcode::PageOut;
        u32 s;
        u64 cookie = head;
        if (o.run == 1) {
            s = s_.dev.submit(s_.dev.ctx, out, o.d.device_block, o.d.blocks, o.d.dma_addr, nullptr, 0, cookie);
        } else {
            u64 pages[kMaxMerge];
            u16 id = head;
            for (u32 k = 0; k < o.run; ++k, id = ops_[id].next) pages[k] = ops_[id].d.dma_addr;
            s = s_.dev.submit(s_.dev.ctx, out, o.d.device_block, 0, 0, pages, o.run, cookie);
        }
        if (s == nvme::kBusy) return;  // the device is full: the next completion makes room
        wait_head_ = (wait_head_ + 1) % kMaxTracked;
        --wait_len_;
        if (s != nvme::kOk) {  // refused at once (kInvalid): as a transfer that failed so
            finished(head, s);
            continue;
        }
        u64 t = now();
        for (u16 id = head, k = 0; k < o.run; ++k, id = ops_[id].next) {
            ops_[id].state = OpState::InDevice;
            ops_[id].t0 = t;
            // The first submission only: a retry or a requeue after a reset is not queueing.
            if (!out && ops_[id].taken) c_.page_in_queue_ticks += t - ops_[id].taken;
            ops_[id].taken = 0;
        }
        if (++in_device_ > c_.max_in_device) c_.max_in_device = in_device_;
    }
}

bool PagingService::progress() {
    if (!s_.dev.poll) return false;
    bool any = false;
    if (in_device_) {
        DeviceCompletion done[32];
        u32 n = s_.dev.poll(s_.dev.ctx, done, 32);
        for (u32 i = 0; i < n; ++i) {
            u16 head = static_cast<u16>(done[i].cookie);
            // Not in the device any more: a reset earlier in this batch
            // requeued it (it runs again) or it was answered.
            if (head >= kMaxTracked || ops_[head].state != OpState::InDevice) continue;
            --in_device_;
            finished(head, done[i].status);
            any = true;
        }
    }
    pump();
    flush_answers();
    return any;
}

void PagingService::requeue_in_device() {
    for (u32 id = 0; id < kMaxTracked; ++id) {
        Op& o = ops_[id];
        if (o.state != OpState::InDevice || !o.head) continue;
        for (u16 m = static_cast<u16>(id), k = 0; k < o.run; ++k, m = ops_[m].next) ops_[m].state = OpState::Waiting;
        enqueue(static_cast<u16>(id), true);
    }
    in_device_ = 0;
}

void PagingService::finished(u16 head, u32 s) {
    Op& o = ops_[head];
    if (o.run == 1) return finished_one(o, s);
    bool out = o.m.op == Opcode::PageOut;
    u32 n = o.run;
    u16 ids[kMaxMerge];
    for (u16 id = head, k = 0; k < n; ++k, id = ops_[id].next) ids[k] = id;
    if (s == nvme::kOk) {
        u64 ticks = now() - o.t0;
        ++(out ? c_.merged_writes : c_.merged_reads);
        if (!out) c_.merged_read_pages += n;
        for (u32 k = 0; k < n; ++k) {
            Op& r = ops_[ids[k]];
            ++(out ? c_.page_outs : c_.page_ins);
            (out ? c_.page_out_ticks : c_.page_in_ticks) += ticks / n;
            r.state = OpState::Idle;
            --in_flight_;
            answer(r.m, 0);
        }
        return;
    }
    if (log_error())
        rt::log("merged %s of %u pages at block %lu failed: %s (0x%x); serving them one by one", out ? "write" : "read",
                n, o.d.device_block, nvme::status_name(s < 0x10000 ? s & kNvmeStatusMask : s), s);
    // Each on its own, with its own retries and answer, so that an error names the very page.
    for (u32 k = 0; k < n; ++k) {
        Op& r = ops_[ids[k]];
        r.next = ids[k], r.run = 1, r.head = true, r.tries = 0, r.first = nvme::kOk, r.state = OpState::Waiting;
    }
    if (s == nvme::kTimeout || s == nvme::kFatal) {
        recover(s);
        requeue_in_device();
    }
    for (u32 k = 0; k < n; ++k) enqueue(ids[k], false);
}

void PagingService::finished_one(Op& o, u32 s) {
    const IoRequestMsg& m = o.m;
    bool out = m.op == Opcode::PageOut;
    o.state = OpState::Waiting;
    if (s == nvme::kOk) {
        u64 ticks = now() - o.t0;  // of the last attempt: device time, not the retries'
        ++(out ? c_.page_outs : c_.page_ins);
        (out ? c_.page_out_ticks : c_.page_in_ticks) += ticks;
        if (o.tries) {
            ++c_.retried_ok;
            u32 f = o.first < 0x10000 ? o.first & kNvmeStatusMask : o.first;
            if (c_.retried_ok <= s_.logged_errors)
                rt::log("%s req %u tag 0x%x lpid %u page 0x%lx block %lu: %s (status 0x%x): ok after %u retries",
                        op_name(m.op), m.req_id, m.tag, m.lpid, o.d.logical_page, o.d.device_block,
                        nvme::status_name(f), f, o.tries);
            else if (c_.retried_ok == u64{s_.logged_errors} + 1)
                rt::log("more requests ok after a retry: counted, no longer logged one by one");
        }
        o.state = OpState::Idle;
        --in_flight_;
        answer(m, 0);
        return;
    }
    if (o.first == nvme::kOk) o.first = s;
    if (s == nvme::kTimeout || s == nvme::kFatal) {
        recover(s);  // the reset ends every transfer in flight: they run again
        requeue_in_device();
    }
    u32 limit = s_.retries < kMaxRetries ? s_.retries : kMaxRetries;
    if (o.tries < limit && retryable(s)) {
        ++o.tries;
        ++c_.retries;
        enqueue(m.req_id, true);
        return;
    }
    o.state = OpState::Idle;
    --in_flight_;
    u32 status = s & kNvmeStatusMask;
    if (s < 0x10000) {
        if (log_error())
            rt::log("%s req %u tag 0x%x lpid %u page 0x%lx block %lu: %s (status 0x%x%s) after %u retries",
                    op_name(m.op), m.req_id, m.tag, m.lpid, o.d.logical_page, o.d.device_block,
                    nvme::status_name(status), status, s & kStatusDnr ? ", do not retry" : "", o.tries);
        if (!out && s_.fail_delay_us && s_.pause) {
            flush_answers();  // only this answer is late
            s_.pause(s_.fail_delay_us);
        }
        answer(m, static_cast<u16>(status));
    } else {
        fail(m, reason_of(s), s, o.tries);
    }
}

void PagingService::answer(const IoRequestMsg& m, u16 status) {
    if (answers_len_ == kMaxTracked) flush_answers();
    answers_[answers_len_++] = CompletionMsg{m.req_id, m.tag, m.lpid, status, false};
}

// The answers gathered in one pass, as one burst: records in the completion
// ring and one CompletionsPosted, or Completion messages with more = 1 but the
// last. Either way the hypervisor revokes their TCEs with one kill.
void PagingService::flush_answers() {
    u32 n = answers_len_, i = 0;
    answers_len_ = 0;
    while (i < n && ring_.post({answers_[i].req_id, answers_[i].tag, answers_[i].status})) ++i;
    if (i) send(encode(pv::paging::CompletionsPostedMsg{}), "CompletionsPosted");
    for (; i < n; ++i) {
        answers_[i].more = i + 1 < n;
        send(encode(answers_[i]), "Completion");
    }
}

}  // namespace psp
