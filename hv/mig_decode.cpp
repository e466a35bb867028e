#include "hv/mig_decode.h"

#include <cstring>

#include "hv/config_lex.h"
#include "hv/ppc_defs.h"
#include "hv/vpa.h"
#include "hv/xics.h"
#include "mm/radix.h"

namespace pv {

namespace {

constexpr u64 kMiB = u64{1} << 20;
constexpr u64 kMinMem = 16 * kMiB, kMaxMem = u64{4} << 30;  // as the config (hv/config.h)
constexpr u64 kDawrxHyp = u64{1} << 2;                    // DAWRX[HYP], ISA bit 61
constexpr u64 kCiabrPrivHyper = 3;

template <typename P>
P payload_of(const u8* rec) {
    P p;
    std::memcpy(static_cast<void*>(&p), rec + sizeof(MigRecordHeader), sizeof(P));
    return p;
}

template <std::size_t N>
bool zero(const u8 (&b)[N]) {
    for (u8 x : b)
        if (x) return false;
    return true;
}

// A NUL-terminated text of at most cap-1 bytes, NUL-padded to cap.
bool canonical_text(const char* s, u32 cap, u32& len) {
    len = 0;
    while (len < cap && s[len]) ++len;
    if (len == cap) return false;
    for (u32 i = len; i < cap; ++i)
        if (s[i]) return false;
    return true;
}


bool range_ok(u64 mem, u64 addr, u64 len) { return addr < mem && len <= mem - addr; }

// A registered VPA, DTL or SLB shadow as hv/vpa.cpp accepts one: 128-byte
// aligned, long enough, inside one 4 KiB page inside the partition.
MigError area_ok(u64 mem, u64 addr, u32 len, u32 min_len) {
    if (addr == 0) return len == 0 ? MigError::Ok : MigError::Inconsistent;
    if (!is_aligned(addr, vpa::kAlign) || !range_ok(mem, addr, len)) return MigError::BadAddress;
    if (len < min_len || (addr & (kPageSize - 1)) + len > kPageSize) return MigError::BadCount;
    return MigError::Ok;
}

MigError check_start(const MigStart& s, MigStagedStart& out) {
    if (s.reserved0[0] || s.reserved0[1] || s.reserved1.get()) return MigError::BadReserved;
    u32 name_len = 0, args_len = 0;
    if (!canonical_text(s.name, sizeof s.name, name_len) || !config_detail::valid_partition_name(config_detail::sv(s.name, name_len))) return MigError::BadValue;
    if (!canonical_text(s.bootargs, sizeof s.bootargs, args_len)) return MigError::BadValue;
    u32 vcpus = s.vcpu_count.get();
    if (vcpus == 0 || vcpus > kMaxConfigVcpus) return MigError::BadCount;
    if (s.mem_mode > static_cast<u8>(MemMode::Shared)) return MigError::BadEnum;
    MemMode mode = static_cast<MemMode>(s.mem_mode);
    u64 mem = s.mem_bytes.get(), ent = s.io_entitled_bytes.get();
    if (mem < kMinMem || mem > kMaxMem || !is_aligned(mem, kMiB)) return MigError::BadValue;
    if (s.logical_pages.get() != mem / kPageSize) return MigError::Inconsistent;
    if (ent > mem || !is_aligned(ent, kMiB)) return MigError::BadValue;
    if (mode == MemMode::Dedicated && (ent || s.source_paging_block.get())) return MigError::Inconsistent;
    if (s.page_bytes.get() != kPageSize || s.chunk_bytes.get() != kMigChunkBytes) return MigError::BadValue;
    if (s.timebase_hz.get() != kMigTimebaseHz) return MigError::BadValue;
    u32 lpid = s.source_lpid.get();
    if (lpid == 0 || lpid > kMaxLpid) return MigError::BadValue;
    out = MigStagedStart{};
    for (u32 i = 0; i < sizeof out.name; ++i) out.name[i] = s.name[i];
    for (u32 i = 0; i < sizeof out.bootargs; ++i) out.bootargs[i] = s.bootargs[i];
    out.vcpu_count = vcpus;
    out.mem_mode = mode;
    out.mem_weight = s.mem_weight;
    out.mem_bytes = mem;
    out.logical_pages = mem / kPageSize;
    out.io_entitled_bytes = ent;
    out.watchdog_us = s.watchdog_us.get();
    out.source_lpid = lpid;
    out.source_paging_block = s.source_paging_block.get();
    return MigError::Ok;
}

MigError check_core(const MigVcpuCore& c, const MigStagedStart& st) {
    if (c.reserved[0] || c.reserved[1] || c.icp.reserved || c.vpa.reserved.get() || c.reserved2.get())
        return MigError::BadReserved;
    if (c.run_state > kMigRunStateLast) return MigError::BadEnum;
    if (c.flags & ~kMigVcpuFlagsAll) return MigError::BadReserved;
    MigRunState rs = static_cast<MigRunState>(c.run_state);
    // What no partition can make its hypervisor hold for it.
    if (c.regs.msr.get() & msr::HV) return MigError::BadValue;
    if (c.lazy.dawrx0.get() & kDawrxHyp) return MigError::BadValue;
    if ((c.lazy.ciabr.get() & 3) == kCiabrPrivHyper) return MigError::BadValue;
    if (rs != MigRunState::Ceded && c.sprs.wake_remaining.get()) return MigError::Inconsistent;
    // The ICP as hv/xics.cpp update() leaves it: the IPI presented exactly
    // while MFRR is more favoured than CPPR.
    bool ipi = c.icp.mfrr < c.icp.cppr;
    if (c.icp.presented > 1) return MigError::BadValue;
    if (c.icp.xisr.get() != (ipi ? kXicsIpi : 0) || (c.icp.presented == 1) != ipi) return MigError::Inconsistent;
    u64 mem = st.mem_bytes;
    u64 va = c.vpa.vpa_addr.get(), da = c.vpa.dtl_addr.get(), sa = c.vpa.slb_addr.get();
    u32 vl = c.vpa.vpa_len.get(), dl = c.vpa.dtl_len.get(), sl = c.vpa.slb_len.get();
    if (MigError e = area_ok(mem, va, vl, vpa::kMinVpaSize); e != MigError::Ok) return e;
    if (MigError e = area_ok(mem, da, dl, vpa::kDtlEntrySize); e != MigError::Ok) return e;
    if (MigError e = area_ok(mem, sa, sl, vpa::kMinSlbSize); e != MigError::Ok) return e;
    if (dl % vpa::kDtlEntrySize) return MigError::BadCount;
    if ((da || sa) && !va) return MigError::Inconsistent;  // a DTL or SLB shadow needs a VPA
    return MigError::Ok;
}

// c passed check_core.
void stage_core(const MigVcpuCore& c, MigStagedVcpu& v) {
    MigRunState rs = static_cast<MigRunState>(c.run_state);
    bool ipi = c.icp.mfrr < c.icp.cppr;
    u64 va = c.vpa.vpa_addr.get(), da = c.vpa.dtl_addr.get(), sa = c.vpa.slb_addr.get();
    u32 vl = c.vpa.vpa_len.get(), dl = c.vpa.dtl_len.get(), sl = c.vpa.slb_len.get();
    v.run_state = rs;
    v.flags = c.flags;
    for (u32 i = 0; i < 32; ++i) v.regs.gpr[i] = c.regs.gpr[i].get();
    v.regs.cr = c.regs.cr.get(), v.regs.lr = c.regs.lr.get(), v.regs.ctr = c.regs.ctr.get();
    v.regs.xer = c.regs.xer.get(), v.regs.pc = c.regs.pc.get(), v.regs.msr = c.regs.msr.get();
    v.regs.cfar = c.regs.cfar.get();
    v.srr0 = c.sprs.srr0.get(), v.srr1 = c.sprs.srr1.get(), v.dar = c.sprs.dar.get(), v.dsisr = c.sprs.dsisr.get();
    for (u32 i = 0; i < 4; ++i) v.sprg[i] = c.sprs.sprg[i].get();
    v.pid = c.sprs.pid.get();
    v.dec_remaining = static_cast<i64>(c.sprs.dec_remaining.get());
    v.wake_remaining = c.sprs.wake_remaining.get();
    const MigVcpuLazySprs& m = c.lazy;
    VcpuLazySprs& l = v.lazy;
    l = VcpuLazySprs{};
    l.tar = m.tar.get(), l.dscr = m.dscr.get(), l.fscr = m.fscr.get(), l.pspb = m.pspb.get(), l.tidr = m.tidr.get();
    l.ppr = m.ppr.get(), l.ctrl = m.ctrl.get();
    l.amr = m.amr.get(), l.iamr = m.iamr.get(), l.uamor = m.uamor.get();
    l.ebbhr = m.ebbhr.get(), l.ebbrr = m.ebbrr.get(), l.bescr = m.bescr.get();
    l.mmcr0 = m.mmcr0.get(), l.mmcr1 = m.mmcr1.get(), l.mmcr2 = m.mmcr2.get(), l.mmcra = m.mmcra.get();
    for (u32 i = 0; i < 6; ++i) l.pmc[i] = m.pmc[i].get();
    l.siar = m.siar.get(), l.sdar = m.sdar.get(), l.sier = m.sier.get();
    l.dawr0 = m.dawr0.get(), l.dawrx0 = m.dawrx0.get(), l.ciabr = m.ciabr.get();
    v.cppr = c.icp.cppr, v.mfrr = c.icp.mfrr, v.xisr = c.icp.xisr.get(), v.presented = ipi;
    v.vpa = {va, vl}, v.dtl = {da, dl}, v.slb = {sa, sl};
    v.yield_count = c.vpa.yield_count.get(), v.dispersion_count = c.vpa.dispersion_count.get();
    v.cmo_faults = c.vpa.cmo_faults.get(), v.cmo_fault_time = c.vpa.cmo_fault_time.get();
    v.enqueue_dispatch_tb = c.vpa.enqueue_dispatch_tb.get(), v.wait_ready_tb = c.vpa.wait_ready_tb.get();
    v.dtl_index = c.vpa.dtl_index.get();
    v.fault_ea = c.fault_ea.get();
    v.have_core = true;
}

MigError check_partition(const MigPartitionState& s, const MigStagedStart& st, MigStagedPartition& out) {
    if (!zero(s.reserved)) return MigError::BadReserved;
    u64 lpcr_bits = s.lpcr.get();
    if (lpcr_bits & ~(lpcr::ILE | lpcr::AIL_MASK)) return MigError::BadValue;
    u64 ail = lpcr::ail_of(lpcr_bits);
    if (ail != 0 && ail != 3) return MigError::BadValue;  // as H_SET_MODE accepts
    u64 mem = st.mem_bytes;
    u64 prtb = s.process_table.get(), pb = s.prtb_pin_base.get(), pl = s.prtb_pin_len.get();
    // As H_REGISTER_PROC_TBL leaves it: none (0, or a deregistration's bare
    // GR), or dw1 = GR | base | PRTS with the whole 2^(PRTS+12)-byte table,
    // naturally aligned, inside the partition and pinned.
    if (pl == 0) {
        if (pb || (prtb != 0 && prtb != radix::PATE1_GR)) return MigError::Inconsistent;
    } else {
        u64 prts = prtb & radix::PATE1_PRTS;
        if ((prtb & ~(radix::PATE1_PRTB | radix::PATE1_PRTS)) != radix::PATE1_GR || prts > 24) return MigError::BadValue;
        if (pl != u64{1} << (prts + 12) || pb != (prtb & radix::PATE1_PRTB)) return MigError::Inconsistent;
        if (!is_aligned(pb, pl) || !range_ok(mem, pb, pl)) return MigError::BadAddress;
    }
    u64 rb = s.rtas_base.get(), rs = s.rtas_size.get();
    if (rs ? !range_ok(mem, rb, rs) : rb != 0) return MigError::BadAddress;
    if (s.fwnmi_registered > 1) return MigError::BadValue;
    u64 sr = s.fwnmi_sreset_addr.get(), mc = s.fwnmi_mc_addr.get();
    // As ibm,nmi-register accepts them: word-aligned, inside the partition.
    if (s.fwnmi_registered ? (!range_ok(mem, sr, 4) || (sr & 3) || !range_ok(mem, mc, 4) || (mc & 3)) : (sr || mc))
        return MigError::BadAddress;
    u32 cl = s.console_len.get(), pnl = s.panel_len.get();
    if (cl > sizeof s.console || pnl > sizeof s.panel) return MigError::BadCount;
    for (u32 i = cl; i < sizeof s.console; ++i)
        if (s.console[i]) return MigError::BadReserved;
    for (u32 i = pnl; i < sizeof s.panel; ++i)
        if (s.panel[i]) return MigError::BadReserved;
    u32 retained = s.errors_retained.get();
    if (retained > PagingErrorLog::kCapacity || retained > s.paging_errors.get()) return MigError::BadCount;
    if (s.pinned_pages.get() > st.logical_pages) return MigError::BadCount;
    out = MigStagedPartition{};
    out.lpcr = lpcr_bits;
    out.process_table = prtb, out.prtb_pin_base = pb, out.prtb_pin_len = pl;
    out.rtas_base = rb, out.rtas_size = rs;
    out.fwnmi_registered = s.fwnmi_registered;
    out.fwnmi_sreset_addr = sr, out.fwnmi_mc_addr = mc;
    out.guest_tb = s.guest_tb.get();
    out.suspend_wall_ns = s.suspend_wall_ns.get();
    out.paging_errors = s.paging_errors.get();
    out.errors_retained = retained;
    out.restarts = s.restarts.get();
    out.pinned_pages = s.pinned_pages.get();
    for (u32 i = 0; i < cl; ++i) out.console.text[i] = s.console[i];
    for (u32 i = 0; i < pnl; ++i) out.panel.text[i] = s.panel[i];
    out.console.len = cl, out.panel.len = pnl;
    return MigError::Ok;
}

}  // namespace

const char* mig_error_name(MigError e) {
    switch (e) {
    case MigError::Ok: return "ok";
    case MigError::Truncated: return "truncated";
    case MigError::BadMagic: return "bad magic";
    case MigError::BadVersion: return "unsupported version";
    case MigError::BadType: return "unknown record type";
    case MigError::BadLength: return "bad length";
    case MigError::BadReserved: return "reserved field not zero";
    case MigError::BadEnum: return "enumeration out of range";
    case MigError::BadIndex: return "index outside the partition";
    case MigError::BadAddress: return "address outside the partition";
    case MigError::BadCount: return "count out of bounds";
    case MigError::BadValue: return "value not allowed";
    case MigError::OutOfOrder: return "record out of order";
    case MigError::Duplicate: return "duplicate record";
    case MigError::Inconsistent: return "inconsistent with staged state";
    }
    return "?";
}

MigError mig_check_header(const u8* rec, u32 len, MigRecordType& type) {
    if (rec == nullptr || len < sizeof(MigRecordHeader)) return MigError::Truncated;
    auto h = load_layout<MigRecordHeader>(rec);
    if (h.magic.get() != kMigMagic) return MigError::BadMagic;
    if (h.version.get() != kMigVersion) return MigError::BadVersion;
    if (h.type == 0 || h.type > kMigRecordTypeLast) return MigError::BadType;
    if (h.flags || h.reserved.get()) return MigError::BadReserved;
    u32 hl = h.length.get();
    if (hl > kMigMaxRecordBytes || hl < sizeof(MigRecordHeader)) return MigError::BadLength;
    if (len < hl) return MigError::Truncated;
    if (len > hl) return MigError::BadLength;
    type = static_cast<MigRecordType>(h.type);
    return MigError::Ok;
}

// One function per record type, not inlined: each payload's copy lives only
// in its own frame (the hypervisor's stacks are small, cmake/image.cmake).
namespace {

[[gnu::noinline]] MigError apply_start(MigStaging& st, const u8* rec, u32 body) {
    if (body != sizeof(MigStart)) return MigError::BadLength;
    if (st.have_start) return MigError::Duplicate;
    MigStagedStart s;
    if (MigError e = check_start(payload_of<MigStart>(rec), s); e != MigError::Ok) return e;
    st.start = s;
    st.have_start = true;
    return MigError::Ok;
}

[[gnu::noinline]] MigError apply_core(MigStaging& st, const u8* rec, u32 body) {
    if (body != sizeof(MigVcpuCore)) return MigError::BadLength;
    auto c = payload_of<MigVcpuCore>(rec);
    u32 i = c.vcpu.get();
    if (i >= st.start.vcpu_count) return MigError::BadIndex;
    if (st.vcpus[i].have_core) return MigError::Duplicate;
    if (MigError e = check_core(c, st.start); e != MigError::Ok) return e;
    stage_core(c, st.vcpus[i]);
    return MigError::Ok;
}

[[gnu::noinline]] MigError apply_fp(MigStaging& st, const u8* rec, u32 body) {
    if (body != sizeof(MigVcpuFp)) return MigError::BadLength;
    const u8* p = rec + sizeof(MigRecordHeader);
    if (load_be<u32>(p + offsetof(MigVcpuFp, reserved))) return MigError::BadReserved;
    u32 i = load_be<u32>(p + offsetof(MigVcpuFp, vcpu));
    if (i >= st.start.vcpu_count) return MigError::BadIndex;
    if (st.vcpus[i].have_fp) return MigError::Duplicate;
    VcpuFp& fp = st.vcpus[i].fp;
    fp = VcpuFp{};
    for (u32 r = 0; r < 64; ++r)
        for (u32 h = 0; h < 2; ++h) fp.vsr[r][h] = load_be<u64>(p + offsetof(MigVcpuFp, vsr) + 16 * r + 8 * h);
    fp.fpscr = load_be<u64>(p + offsetof(MigVcpuFp, fpscr));
    fp.vscr[0] = load_be<u64>(p + offsetof(MigVcpuFp, vscr));
    fp.vscr[1] = load_be<u64>(p + offsetof(MigVcpuFp, vscr) + 8);
    fp.vrsave = load_be<u64>(p + offsetof(MigVcpuFp, vrsave));
    st.vcpus[i].have_fp = true;
    return MigError::Ok;
}

[[gnu::noinline]] MigError apply_partition(MigStaging& st, const u8* rec, u32 body) {
    if (body != sizeof(MigPartitionState)) return MigError::BadLength;
    if (st.have_partition) return MigError::Duplicate;
    MigStagedPartition s;
    if (MigError e = check_partition(payload_of<MigPartitionState>(rec), st.start, s); e != MigError::Ok) return e;
    if (s.errors_retained < st.error_count) return MigError::Inconsistent;
    st.part = s;
    st.have_partition = true;
    return MigError::Ok;
}

[[gnu::noinline]] MigError apply_error_log(MigStaging& st, const u8* rec, u32 body) {
    constexpr u32 kEntry = sizeof(MigPagingError), kFixed = offsetof(MigErrorLog, entries);
    if (body < kFixed || body > sizeof(MigErrorLog) || (body - kFixed) % kEntry) return MigError::BadLength;
    const u8* p = rec + sizeof(MigRecordHeader);
    u32 n = load_be<u32>(p + offsetof(MigErrorLog, count));
    if (n == 0 || n > kMigErrorsPerRecord) return MigError::BadCount;
    if (body != kFixed + n * kEntry) return MigError::BadLength;
    // Newest first, each batch right after the previous one.
    if (load_be<u32>(p + offsetof(MigErrorLog, first)) != st.error_count) return MigError::OutOfOrder;
    if (st.error_count + n > PagingErrorLog::kCapacity) return MigError::BadCount;
    if (st.have_partition && st.error_count + n > st.part.errors_retained) return MigError::Inconsistent;
    for (u32 k = 0; k < n; ++k) {
        auto m = load_layout<MigPagingError>(p + kFixed + k * kEntry);
        if (!zero(m.reserved)) return MigError::BadReserved;
        if (m.page.get() >= st.start.logical_pages) return MigError::BadIndex;
    }
    for (u32 k = 0; k < n; ++k) {
        auto m = load_layout<MigPagingError>(p + kFixed + k * kEntry);
        PagingError& pe = st.errors[st.error_count + k];
        pe = PagingError{};
        pe.lp = LogicalPage{m.page.get()};
        pe.vcpu = m.vcpu.get();
        pe.device = m.device.get();
        pe.status = m.status.get();
        pe.timebase = m.timebase.get();
        pe.effective_addr = m.effective_addr.get();
    }
    st.error_count += n;
    return MigError::Ok;
}

[[gnu::noinline]] MigError apply_complete(MigStaging& st, const u8* rec, u32 body) {
    if (body != sizeof(MigComplete)) return MigError::BadLength;
    if (st.have_complete) return MigError::Duplicate;
    auto c = payload_of<MigComplete>(rec);
    if (c.vcpu_count.get() != st.start.vcpu_count) return MigError::Inconsistent;
    if (c.rounds.get() == 0) return MigError::BadCount;
    MigTotals t{};
    u64 sum = 0;
    for (u32 k = 0; k <= kMigPageKindLast; ++k) {
        t.pages[k] = c.pages[k].get();
        if (t.pages[k] > st.start.logical_pages) return MigError::BadCount;
        sum += t.pages[k];
    }
    if (sum != st.start.logical_pages) return MigError::Inconsistent;
    t.rounds = c.rounds.get();
    t.vcpu_count = st.start.vcpu_count;
    t.data_pages_sent = c.data_pages_sent.get();
    st.totals = t;
    st.have_complete = true;
    return MigError::Ok;
}

}  // namespace

MigError MigStaging::apply(const u8* rec, u32 len) {
    MigRecordType type{};
    if (MigError e = mig_check_header(rec, len, type); e != MigError::Ok) return e;
    u32 body = len - static_cast<u32>(sizeof(MigRecordHeader));
    if (type != MigRecordType::Start && !have_start) return MigError::OutOfOrder;
    switch (type) {
    case MigRecordType::Start: return apply_start(*this, rec, body);
    case MigRecordType::VcpuCore: return apply_core(*this, rec, body);
    case MigRecordType::VcpuFp: return apply_fp(*this, rec, body);
    case MigRecordType::PartitionState: return apply_partition(*this, rec, body);
    case MigRecordType::ErrorLog: return apply_error_log(*this, rec, body);
    case MigRecordType::Complete: return apply_complete(*this, rec, body);
    case MigRecordType::PageStates:
    case MigRecordType::PageChunk:
        break;
    }
    return MigError::BadType;
}

MigError MigStaging::decode_page_states(const u8* rec, u32 len, MigPageStatesView& out) const {
    MigRecordType type{};
    if (MigError e = mig_check_header(rec, len, type); e != MigError::Ok) return e;
    if (type != MigRecordType::PageStates) return MigError::BadType;
    if (!have_start) return MigError::OutOfOrder;
    constexpr u32 kRun = sizeof(MigPageRun), kFixed = offsetof(MigPageStates, runs);
    u32 body = len - static_cast<u32>(sizeof(MigRecordHeader));
    if (body < kFixed || body > sizeof(MigPageStates) || (body - kFixed) % kRun) return MigError::BadLength;
    const u8* p = rec + sizeof(MigRecordHeader);
    u32 n = load_be<u32>(p + offsetof(MigPageStates, run_count));
    if (n == 0 || n > kMigRunsPerRecord) return MigError::BadCount;
    if (body != kFixed + n * kRun) return MigError::BadLength;
    u64 next = 0;  // runs ascending and disjoint
    for (u32 i = 0; i < n; ++i) {
        auto r = load_layout<MigPageRun>(p + kFixed + i * kRun);
        if (r.reserved[0] || r.reserved[1] || r.reserved[2]) return MigError::BadReserved;
        if (r.kind > kMigPageKindLast) return MigError::BadEnum;
        u64 first = r.first_page.get(), count = r.count.get();
        if (count == 0) return MigError::BadCount;
        if (first >= start.logical_pages || count > start.logical_pages - first) return MigError::BadIndex;
        if (first < next) return MigError::OutOfOrder;
        next = first + count;
    }
    out.round = load_be<u32>(p + offsetof(MigPageStates, round));
    out.run_count = n;
    for (u32 i = 0; i < n; ++i) {
        auto r = load_layout<MigPageRun>(p + kFixed + i * kRun);
        out.runs[i] = {r.first_page.get(), r.count.get(), static_cast<MigPageKind>(r.kind)};
    }
    return MigError::Ok;
}

MigError MigStaging::decode_chunk(const u8* rec, u32 len, MigChunkView& out) const {
    MigRecordType type{};
    if (MigError e = mig_check_header(rec, len, type); e != MigError::Ok) return e;
    if (type != MigRecordType::PageChunk) return MigError::BadType;
    if (!have_start) return MigError::OutOfOrder;
    if (len != kMigRecordBytes<MigPageChunk>) return MigError::BadLength;
    // The fixed fields only: the data stays in the record.
    const u8* p = rec + sizeof(MigRecordHeader);
    u32 page = load_be<u32>(p + offsetof(MigPageChunk, page));
    u8 chunk = p[offsetof(MigPageChunk, chunk)], count = p[offsetof(MigPageChunk, chunk_count)];
    u8 kind = p[offsetof(MigPageChunk, kind)];
    if (p[offsetof(MigPageChunk, reserved)]) return MigError::BadReserved;
    if (count != kMigChunksPerPage || load_be<u32>(p + offsetof(MigPageChunk, data_bytes)) != kMigChunkBytes)
        return MigError::BadValue;
    if (chunk >= kMigChunksPerPage) return MigError::BadIndex;
    if (kind > kMigPageKindLast) return MigError::BadEnum;
    if (!mig_kind_has_data(static_cast<MigPageKind>(kind))) return MigError::Inconsistent;
    if (page >= start.logical_pages) return MigError::BadIndex;
    out.page = LogicalPage{page};
    out.round = load_be<u32>(p + offsetof(MigPageChunk, round));
    out.chunk = chunk;
    out.kind = static_cast<MigPageKind>(kind);
    out.data = p + offsetof(MigPageChunk, data);
    return MigError::Ok;
}

bool MigStaging::complete() const {
    if (!have_start || !have_partition || !have_complete) return false;
    for (u32 i = 0; i < start.vcpu_count; ++i)
        if (!vcpus[i].have_core || !vcpus[i].have_fp) return false;
    return error_count == part.errors_retained;
}

}  // namespace pv
