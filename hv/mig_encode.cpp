#include "hv/mig_encode.h"

#include <cstring>

#include "hv/config.h"
#include "hv/paging_error_log.h"
#include "hv/partition.h"
#include "hv/ppc_defs.h"

namespace pv {

namespace {

// The header, then the first payload_bytes of the payload (variable-length
// payloads send only their used entries).
Result<u32> put_header(MigRecordType type, u32 payload_bytes, std::span<u8> out) {
    u32 len = static_cast<u32>(sizeof(MigRecordHeader)) + payload_bytes;
    if (out.size() < len) return Result<u32>::failure(Err::NoMemory);
    MigRecordHeader h{};
    h.magic.set(kMigMagic);
    h.version.set(kMigVersion);
    h.type = static_cast<u8>(type);
    h.length.set(len);
    store_layout(out.data(), h);
    return Result<u32>::success(len);
}

template <typename P>
Result<u32> write_record(MigRecordType type, const P& payload, std::span<u8> out) {
    Result<u32> r = put_header(type, sizeof(P), out);
    if (r.ok()) std::memcpy(out.data() + sizeof(MigRecordHeader), &payload, sizeof(P));
    return r;
}

void copy_text(char* dst, u32 cap, const char* src, u32 len) {
    for (u32 i = 0; i < cap; ++i) dst[i] = i < len ? src[i] : '\0';
}

u32 text_len(const char* s, u32 cap) {
    u32 n = 0;
    while (n < cap && s[n]) ++n;
    return n;
}

MigRunState run_state_of(VcpuState s) {
    switch (s) {
    case VcpuState::Stopped:
        return MigRunState::Stopped;
    case VcpuState::Ceded:
        return MigRunState::Ceded;
    case VcpuState::Runnable:
    case VcpuState::Running:
    case VcpuState::PageWait:
        break;
    }
    return MigRunState::Runnable;
}

void put_area(Be64& addr, Be32& len, const VpaArea& a) {
    addr.set(a.addr);
    len.set(a.addr ? a.len : 0);
}

}  // namespace

Result<u32> mig_encode_start(const Partition& p, const PartitionConfig& cfg, std::span<u8> out) {
    MigStart s{};
    copy_text(s.name, sizeof s.name - 1, p.name, text_len(p.name, sizeof s.name - 1));
    s.vcpu_count.set(p.vcpu_count);
    s.mem_mode = static_cast<u8>(p.mem_mode);
    s.mem_weight = static_cast<u8>(cfg.mem_weight);
    s.mem_bytes.set(p.mem_bytes);
    s.logical_pages.set(p.mem_bytes / kPageSize);
    s.io_entitled_bytes.set(p.mem_mode == MemMode::Shared ? cfg.io_entitled_bytes : 0);
    s.watchdog_us.set(cfg.watchdog_us);
    s.source_lpid.set(p.lpid.value);
    s.page_bytes.set(static_cast<u32>(kPageSize));
    s.chunk_bytes.set(kMigChunkBytes);
    s.timebase_hz.set(kMigTimebaseHz);
    s.source_paging_block.set(p.mem_mode == MemMode::Shared ? p.paging_block : 0);
    copy_text(s.bootargs, sizeof s.bootargs, cfg.bootargs, text_len(cfg.bootargs, sizeof s.bootargs - 1));
    return write_record(MigRecordType::Start, s, out);
}

Result<u32> mig_encode_vcpu_core(const Vcpu& v, u64 now_tb, std::span<u8> out) {
    MigVcpuCore c{};
    c.vcpu.set(v.id.value);
    MigRunState rs = run_state_of(v.state);
    c.run_state = static_cast<u8>(rs);
    u8 flags = 0;
    if (v.prodded) flags |= kMigVcpuProdded;
    if (v.mc_in_progress) flags |= kMigVcpuMcInProgress;
    if (v.vpa.ever_dispatched) flags |= kMigVcpuEverDispatched;
    c.flags = flags;

    const VcpuRegs& r = v.regs;
    for (u32 i = 0; i < 32; ++i) c.regs.gpr[i].set(r.gpr[i]);
    c.regs.cr.set(r.cr), c.regs.lr.set(r.lr), c.regs.ctr.set(r.ctr), c.regs.xer.set(r.xer);
    c.regs.pc.set(r.pc), c.regs.msr.set(r.msr), c.regs.cfar.set(r.cfar);

    const VcpuSprs& s = v.sprs;
    c.sprs.srr0.set(s.srr0), c.sprs.srr1.set(s.srr1), c.sprs.dar.set(s.dar), c.sprs.dsisr.set(s.dsisr);
    for (u32 i = 0; i < 4; ++i) c.sprs.sprg[i].set(s.sprg[i]);
    c.sprs.pid.set(s.pid);
    // DEC keeps counting while the vCPU is off its thread (arch/ppc64/cpu.cpp load_sprs).
    i64 dec = static_cast<i64>(s.dec) - static_cast<i64>(now_tb - s.dec_tb);
    c.sprs.dec_remaining.set(static_cast<u64>(dec));
    if (rs == MigRunState::Ceded && v.wake_tb > now_tb) c.sprs.wake_remaining.set(v.wake_tb - now_tb);

    const VcpuLazySprs& l = v.lazy_sprs;
    MigVcpuLazySprs& m = c.lazy;
    m.tar.set(l.tar), m.dscr.set(l.dscr), m.fscr.set(l.fscr), m.pspb.set(l.pspb), m.tidr.set(l.tidr);
    m.ppr.set(l.ppr), m.ctrl.set(l.ctrl);
    m.amr.set(l.amr), m.iamr.set(l.iamr), m.uamor.set(l.uamor);
    m.ebbhr.set(l.ebbhr), m.ebbrr.set(l.ebbrr), m.bescr.set(l.bescr);
    m.mmcr0.set(l.mmcr0), m.mmcr1.set(l.mmcr1), m.mmcr2.set(l.mmcr2), m.mmcra.set(l.mmcra);
    for (u32 i = 0; i < 6; ++i) m.pmc[i].set(l.pmc[i]);
    m.siar.set(l.siar), m.sdar.set(l.sdar), m.sier.set(l.sier);
    m.dawr0.set(l.dawr0), m.dawrx0.set(l.dawrx0), m.ciabr.set(l.ciabr);

    c.icp.cppr = v.icp.cppr;
    c.icp.mfrr = v.icp.mfrr;
    c.icp.presented = v.icp.presented ? 1 : 0;
    c.icp.xisr.set(v.icp.xisr);

    const VcpuVpa& a = v.vpa;
    put_area(c.vpa.vpa_addr, c.vpa.vpa_len, a.vpa);
    put_area(c.vpa.dtl_addr, c.vpa.dtl_len, a.dtl);
    put_area(c.vpa.slb_addr, c.vpa.slb_len, a.slb);
    c.vpa.yield_count.set(a.yield_count);
    c.vpa.dispersion_count.set(a.dispersion_count);
    c.vpa.cmo_faults.set(a.cmo_faults);
    c.vpa.cmo_fault_time.set(a.cmo_fault_time);
    c.vpa.enqueue_dispatch_tb.set(a.enqueue_dispatch_tb);
    c.vpa.wait_ready_tb.set(a.wait_ready_tb);
    c.vpa.dtl_index.set(a.dtl_index);

    c.fault_ea.set(v.fault.fault_ea);
    return write_record(MigRecordType::VcpuCore, c, out);
}

Result<u32> mig_encode_vcpu_fp(const Vcpu& v, std::span<u8> out) {
    MigVcpuFp f{};
    f.vcpu.set(v.id.value);
    for (u32 i = 0; i < 64; ++i) f.vsr[i][0].set(v.fp.vsr[i][0]), f.vsr[i][1].set(v.fp.vsr[i][1]);
    f.fpscr.set(v.fp.fpscr);
    f.vscr[0].set(v.fp.vscr[0]), f.vscr[1].set(v.fp.vscr[1]);
    f.vrsave.set(v.fp.vrsave);
    return write_record(MigRecordType::VcpuFp, f, out);
}

Result<u32> mig_encode_partition_state(const Partition& p, const PagingErrorLog& log, u64 guest_tb,
                                       u32 pinned_pages, std::span<u8> out, u64 suspend_wall_ns) {
    MigPartitionState s{};
    s.lpcr.set(p.lpcr & (lpcr::ILE | lpcr::AIL_MASK));
    s.process_table.set(p.process_table);
    s.prtb_pin_base.set(p.prtb_pin_base), s.prtb_pin_len.set(p.prtb_pin_len);
    s.rtas_base.set(p.rtas_base), s.rtas_size.set(p.rtas_size);
    s.fwnmi_registered = p.fwnmi_registered ? 1 : 0;
    if (p.fwnmi_registered) s.fwnmi_sreset_addr.set(p.fwnmi_sreset_addr), s.fwnmi_mc_addr.set(p.fwnmi_mc_addr);
    s.guest_tb.set(guest_tb);
    s.suspend_wall_ns.set(suspend_wall_ns);
    s.paging_errors.set(log.count_for(p.slot));
    PagingError pe;
    u32 retained = 0;
    while (log.nth_newest_for(p.slot, retained, pe)) ++retained;
    s.errors_retained.set(retained);
    s.restarts.set(p.restarts);
    s.pinned_pages.set(pinned_pages);
    u32 clen = p.console.len < sizeof s.console ? p.console.len : static_cast<u32>(sizeof s.console);
    u32 plen = p.panel.len < sizeof s.panel ? p.panel.len : static_cast<u32>(sizeof s.panel);
    s.console_len.set(clen), s.panel_len.set(plen);
    copy_text(s.console, sizeof s.console, p.console.text, clen);
    copy_text(s.panel, sizeof s.panel, p.panel.text, plen);
    return write_record(MigRecordType::PartitionState, s, out);
}

Result<u32> mig_encode_error_log(const PagingErrorLog& log, u32 slot, u32 first, std::span<u8> out) {
    PagingError pe;
    u32 n = 0;
    while (n < kMigErrorsPerRecord && log.nth_newest_for(slot, first + n, pe)) ++n;
    if (n == 0) return Result<u32>::failure(Err::NotFound);
    Result<u32> r = put_header(MigRecordType::ErrorLog, 8 + n * static_cast<u32>(sizeof(MigPagingError)), out);
    if (!r.ok()) return r;
    u8* p = out.data() + sizeof(MigRecordHeader);
    store_be<u32>(p + offsetof(MigErrorLog, first), first);
    store_be<u32>(p + offsetof(MigErrorLog, count), n);
    for (u32 i = 0; i < n; ++i) {
        (void)log.nth_newest_for(slot, first + i, pe);
        MigPagingError m{};
        m.page.set(pe.lp.value);
        m.vcpu.set(pe.vcpu);
        m.device.set(pe.device);
        m.status.set(pe.status);
        m.timebase.set(pe.timebase);
        m.effective_addr.set(pe.effective_addr);
        store_layout(p + offsetof(MigErrorLog, entries) + i * sizeof(MigPagingError), m);
    }
    return r;
}

Result<u32> mig_encode_page_chunk(LogicalPage lp, u32 round, MigPageKind kind, const u8* page, u32 chunk,
                                  std::span<u8> out) {
    if (chunk >= kMigChunksPerPage || !mig_kind_has_data(kind)) return Result<u32>::failure(Err::Invalid);
    Result<u32> r = put_header(MigRecordType::PageChunk, sizeof(MigPageChunk), out);
    if (!r.ok()) return r;
    u8* p = out.data() + sizeof(MigRecordHeader);
    store_be<u32>(p + offsetof(MigPageChunk, page), static_cast<u32>(lp.value));
    store_be<u32>(p + offsetof(MigPageChunk, round), round);
    p[offsetof(MigPageChunk, chunk)] = static_cast<u8>(chunk);
    p[offsetof(MigPageChunk, chunk_count)] = kMigChunksPerPage;
    p[offsetof(MigPageChunk, kind)] = static_cast<u8>(kind);
    p[offsetof(MigPageChunk, reserved)] = 0;
    store_be<u32>(p + offsetof(MigPageChunk, data_bytes), kMigChunkBytes);
    std::memcpy(p + offsetof(MigPageChunk, data), page + chunk * kMigChunkBytes, kMigChunkBytes);
    return r;
}

Result<u32> mig_encode_complete(const MigTotals& t, std::span<u8> out) {
    MigComplete c{};
    c.rounds.set(t.rounds);
    c.vcpu_count.set(t.vcpu_count);
    for (u32 k = 0; k <= kMigPageKindLast; ++k) c.pages[k].set(t.pages[k]);
    c.data_pages_sent.set(t.data_pages_sent);
    return write_record(MigRecordType::Complete, c, out);
}

void MigRunBuilder::reset(u32 round) {
    round_ = round;
    count_ = 0;
}

MigRunBuilder::Add MigRunBuilder::add(LogicalPage lp, MigPageKind kind) {
    if (lp.value > 0xffffffffu) return Add::OutOfOrder;
    u32 page = static_cast<u32>(lp.value);
    if (count_ > 0) {
        Run& last = runs_[count_ - 1];
        u64 end = u64{last.first} + last.count;  // one past the last page added
        if (page < end) return Add::OutOfOrder;
        if (page == end && kind == last.kind) {
            ++last.count;
            return Add::Added;
        }
    }
    if (count_ == kMigRunsPerRecord) return Add::Full;
    runs_[count_++] = Run{page, 1, kind};
    return Add::Added;
}

Result<u32> MigRunBuilder::encode(std::span<u8> out) const {
    if (count_ == 0) return Result<u32>::failure(Err::NotFound);
    Result<u32> r = put_header(MigRecordType::PageStates, 8 + count_ * static_cast<u32>(sizeof(MigPageRun)), out);
    if (!r.ok()) return r;
    u8* p = out.data() + sizeof(MigRecordHeader);
    store_be<u32>(p + offsetof(MigPageStates, round), round_);
    store_be<u32>(p + offsetof(MigPageStates, run_count), count_);
    for (u32 i = 0; i < count_; ++i) {
        MigPageRun m{};
        m.first_page.set(runs_[i].first);
        m.count.set(runs_[i].count);
        m.kind = static_cast<u8>(runs_[i].kind);
        store_layout(p + offsetof(MigPageStates, runs) + i * sizeof(MigPageRun), m);
    }
    return r;
}

}  // namespace pv
