// Active Memory Sharing, as the rest of the hypervisor sees it: boot-time
// set-up of the pool and the paging device, and the entry points that route
// each event to the pager or the PSP link of the hypervisor's Ams.
#include "hv/ams.h"

#include <cstring>

#include "arch/arch.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/paging_space.h"
#include "vio/paging_protocol.h"

namespace pv {
namespace {

Ams& ams() { return hv().ams; }

bool shared(const Partition& p) { return ams().enabled && p.mem_mode == MemMode::Shared; }

// The slot's memory from an earlier partition when it is large enough (the
// radix tables take their pages zeroed from the chunk; the pool resets the
// page state), else new memory from the boot allocator.
bool reuse_or_alloc(BumpChunk& c, u64 bytes, u64 align) {
    if (c.end - c.next >= bytes) return true;
    auto m = hv().frames.alloc(bytes, align);
    if (!m.ok()) return false;
    c = {m.value.value, m.value.value + bytes};
    return true;
}

}  // namespace

bool ams_enabled() { return ams().enabled; }
bool ams_is_psp(const Partition& p) { return ams().enabled && ams().link.is_psp(p); }
// Its partition lock nests inside a shared partition's (stop_partition →
// ams_partition_ended → the channel closes → the PSP is prodded): docs/locks.md.
void ams_mark_psp(Partition& p) {
    p.lock.set_rank(LockRank::PspPartition);
    ams().link.set_psp(p);
}
Pager* ams_pager_of(const Partition& p) { return shared(p) ? &ams().pager : nullptr; }

static_assert(kMaxPoolPagingRequests == Pager::kMaxRequests);

bool ams_init(const SystemConfig& cfg) {
    if (!cfg.pool.present) return true;
    Ams& a = ams();
    const SystemConfig::PoolConfig& pc = cfg.pool;
    u64 pool_frames = pc.pool_bytes / kPageSize;
    auto frames = hv().frames.alloc(pc.pool_bytes, 64 << 10);
    auto info = hv().frames.alloc(align_up(pool_frames * sizeof(FrameInfo), kPageSize), kPageSize);
    // The paging requests, as many as the config asks (the config allows no more than the protocol's ids).
    u32 nreq = pc.paging_requests < Pager::kMaxRequests ? pc.paging_requests : Pager::kMaxRequests;
    auto reqs = hv().frames.alloc(align_up(u64{nreq} * sizeof(PagingRequest), kPageSize), kPageSize);
    if (!frames.ok() || !info.ok() || !reqs.ok()) {
        log("config:%u: pool_mem: no room for a %lu MiB shared memory pool and %u paging requests", pc.line,
            pc.pool_bytes >> 20, nreq);
        return false;
    }
    auto* fi = static_cast<FrameInfo*>(arch::host_ptr(info.value));
    auto* rq = static_cast<PagingRequest*>(arch::host_ptr(reqs.value));
    if (!a.pager.init(frame_of(frames.value), std::span<FrameInfo>(fi, pool_frames), std::span<PagingRequest>(rq, nreq),
                      std::span<Partition>(hv().partitions, kMaxPartitions), a.link.transport()))
        return false;

    // The PSP's TCE window: its own memory 1:1, then one page per request.
    u64 psp_pages = 0;
    for (u32 i = 0; i < cfg.partition_count; ++i)
        if (std::strcmp(cfg.partitions[i].name, pc.paging_vios) == 0) psp_pages = cfg.partitions[i].mem_bytes / kPageSize;
    arch::PagingDevice device;
    char err[128];
    if (!arch::paging_device_attach(psp_pages + nreq, device, err, sizeof err)) {
        log("config:%u: paging_vios: the paging service partition has no paging device: %s", pc.line, err);
        return false;
    }
    if (!check_paging_space(cfg, device)) return false;  // each paging region fits on the device
    a.link.init(a.pager, pc.paging_vios, device, psp_pages);
    a.enabled = true;
    log("shared memory pool: %lu MiB (%lu frames) at 0x%lx, %u paging requests, paging device registers at 0x%lx",
        pc.pool_bytes >> 20, pool_frames, frames.value.value, nreq, device.regs_phys);
    return true;
}

bool ams_create_partition(Partition& p, const PartitionConfig& pc, u32 slot) {
    p.slot = slot;
    u64 pages = pc.mem_bytes / kPageSize;
    u64 ibytes = align_up(pages * sizeof(PageInfo), kPageSize);
    u64 tbytes = kSharedFixedTableBytes + radix::sized_table_bytes(pc.mem_bytes);
    if (!reuse_or_alloc(p.info_mem, ibytes, kPageSize) || !reuse_or_alloc(p.table_mem, tbytes, 64 << 10)) {
        log("partition %s: no memory for its page state", p.name);
        return false;
    }
    p.table_chunk = p.table_mem;
    if (p.radix.init(TablePool{bump_table_alloc, &p.table_chunk}) != Err::Ok) return false;
    p.mem_bytes = pc.mem_bytes;
    p.paging_block = pc.paging_offset / paging::kBlockBytes;
    auto* pi = static_cast<PageInfo*>(arch::host_ptr(HostReal{p.info_mem.next}));
    if (ams().pager.add_partition(p, std::span<PageInfo>(pi, pages), pc.io_entitled_bytes / kPageSize,
                                  static_cast<u8>(pc.mem_weight), hv().config.pool.fault_threshold) != Err::Ok) {
        log("config:%u: io_entitled_mem: the pool cannot guarantee partition %s its entitlement", pc.line, p.name);
        return false;
    }
    return true;
}

bool ams_populate(Partition& p, u64 addr, const void* data, u64 len) { return ams().pager.populate(p, addr, data, len); }

bool ams_attach_psp(Partition& psp, void* fdt, u32 fdt_size) { return ams().link.attach(psp, fdt, fdt_size); }

Next ams_storage_fault(Vcpu& v, u64 addr, u64 ea) { return ams().pager.storage_fault(v, addr, ea); }

bool ams_ensure_resident(Vcpu& v, u64 addr, u64 len) {
    return !shared(*v.part) || ams().pager.ensure_resident(v, addr, len);
}

i32 ams_paging_service_number(const Partition& p) {
    const Partition* psp = shared(p) ? ams().link.psp() : nullptr;
    return psp ? static_cast<i32>(psp->lpid.value) : -1;
}

bool HeldArea::hold(Vcpu& v, u64 addr, u64 len) {
    Partition& p = *v.part;
    if (!p.logical_range_ok(addr, len)) return true;
    PinResult pr = ams_pin_area(v, addr, len);
    if (pr == PinResult::Blocked) return false;
    if (pr == PinResult::Pinned) {
        part_ = &p, addr_ = addr, len_ = len, pinned_ = true;
        return true;
    }
    return ams_ensure_resident(v, addr, len);
}

// Without a pool nobody has a channel: the calls fail as for a wrong unit.
Next ams_crq_hcall(Vcpu& v, u64 number) { return ams().link.crq_hcall(v, number); }

void ams_poll_link(u64 now) {
    if (ams().enabled) ams().link.poll(now);
}

void ams_log_report(u64 now) {
    Ams& a = ams();
    if (!a.enabled) return;
    PagingRequestPool& pool = a.pager.requests();
    u32 queued = 0, in_flight = 0, ended = 0;
    u64 oldest = now;
    for (u32 id = 0; id < pool.capacity(); ++id) {
        const PagingRequest* r = pool.by_id(id);
        switch (__atomic_load_n(&r->state, __ATOMIC_RELAXED)) {
        case PagingRequest::State::Free: break;
        case PagingRequest::State::Queued: ++queued; break;
        case PagingRequest::State::InFlight:
            ++in_flight;
            if (r->sent_tb && r->sent_tb < oldest) oldest = r->sent_tb;
            break;
        case PagingRequest::State::Done:
        case PagingRequest::State::Failed: ++ended; break;
        }
    }
    log("command: paging requests=%u,queued=%u,in_flight=%u,ended=%u,oldest_in_flight_ms=%lu,psp_outbox=%u,psp_link=%s",
        pool.capacity(), queued, in_flight, ended, (now - oldest) / (arch::timebase_hz() / 1000), a.link.outbox_len(),
        a.link.failed() ? "failed" : "up");
}

u64 ams_poll_interrupts(u64 now) { return ams().enabled ? ams().pager.poll_interrupts(now) : ~u64{0}; }

bool ams_interrupt_pending(Vcpu& v, u64 now) {
    if (!shared(*v.part) || !ams().pager.interrupt_pending(v, now)) return false;
    v.state = VcpuState::Runnable;
    return true;
}

void ams_partition_ended(Partition& p) {
    Ams& a = ams();
    if (!a.enabled) return;
    a.pager.partition_ended(p);
    if (a.link.is_psp(p)) return;
    // Only the PSP left running: close its channel; it powers off.
    Hypervisor& h = hv();
    for (u32 i = 0; i < h.partition_count; ++i) {
        Partition& o = h.partitions[i];
        if (!a.link.is_psp(o) && &o != &p && !o.finished) return;
    }
    a.link.want_close();
}

void ams_release_partition(Partition& p) {
    Ams& a = ams();
    if (!a.enabled) return;
    if (a.link.is_psp(p)) a.link.psp_ended();
    else a.pager.release_partition(p);
}

PinResult ams_pin_area(Vcpu& v, u64 addr, u64 len) {
    Partition& p = *v.part;
    if (len == 0 || !p.logical_range_ok(addr, len)) return PinResult::Invalid;
    if (!shared(p)) return PinResult::Pinned;
    switch (ams().pager.pin_area(v, addr, len)) {
    case Pager::PinOutcome::Pinned: return PinResult::Pinned;
    case Pager::PinOutcome::Blocked: return PinResult::Blocked;
    case Pager::PinOutcome::OverLimit: return PinResult::OverLimit;
    }
    return PinResult::Invalid;
}

void ams_unpin_area(Partition& p, u64 addr, u64 len) {
    if (shared(p) && len && p.logical_range_ok(addr, len)) ams().pager.unpin_area(p, addr, len);
}

void ams_note_written(Partition& p, u64 addr, u64 len) {
    if (shared(p) && len && p.logical_range_ok(addr, len)) ams().pager.note_written(p, addr, len);
}

bool ams_pin_boot_area(Partition& p, u64 addr, u64 len) {
    return !shared(p) || ams().pager.pin_boot_area(p, addr, len);
}

u32 ams_format_partition_stats(const Partition& p, char* buf, u32 n) {
    return ams().pager.format_partition_stats(p, buf, n);
}

void ams_note_resume_entry(PhysCpu& cpu, u64 pmc) {
    u64 dispatch = pmc_delta(cpu.resume_pick_pmc, pmc) + arch::entry_tail_instructions();
    ams().pager.note_resume_path(cpu.resume_completion_instructions + dispatch, cpu.resume_latency_instructions + dispatch);
    cpu.resume_completion_instructions = cpu.resume_latency_instructions = 0;
}

void ams_print_stats() {
    if (ams().enabled) ams().pager.print_stats();
}

}  // namespace pv
