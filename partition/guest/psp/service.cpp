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
    for (u32 i = 1; i < crq::kEntryBytes; ++i) out.bytes[i] = __atomic_load_n(slot + i, __ATOMIC_RELAXED);
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
    send(encode(SetDescTableMsg{s_.entries, s_.table_addr}), "SetDescTable");
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
        rt::log("serving: descriptor table of %u entries at 0x%lx accepted", s_.entries, s_.table_addr);
        return Action::Continue;
    }
    ignore(e, "unknown paging opcode");
    return Action::Continue;
}

void PagingService::complete(const IoRequestMsg& m, u16 status, bool more) {
    send(encode(CompletionMsg{m.req_id, m.tag, m.lpid, status, more}), "Completion");
}

void PagingService::fail(const IoRequestMsg& m, FailureReason r, u32 detail, u32 retries) {
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
    for (u32 i = 0; i < n;) {
        u32 k = 0;
        if (s_.dev.io_pages) {
            while (i + k < n && k < kMaxMerge && es[i + k].valid() == crq::kCmdRsp && decode(es[i + k], run[k]) &&
                   mergeable(run[k], ds[k]) &&
                   (k == 0 || (run[k].op == run[0].op && ds[k].device_block == ds[k - 1].device_block + kBlocksPerPage)))
                ++k;
        }
        if (k >= 2 && serve_merged(run, ds, k)) {
            i += k;
            continue;
        }
        if (k >= 2) {  // the merged read failed: each on its own, with its own retries and answer
            for (u32 j = 0; j < k; ++j) serve(run[j]);
            i += k;
            continue;
        }
        Action a = handle(es[i++]);
        if (a != Action::Continue) return a;
    }
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

}  // namespace psp
