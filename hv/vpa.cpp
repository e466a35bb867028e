// H_REGISTER_VPA, the process table's pin, and the VPA/DTL fields the
// hypervisor keeps current. See hv/vpa.h and docs/pinning.md.
#include "hv/vpa.h"

#include "hv/ams.h"
#include "arch/arch.h"
#include "hv/hcall.h"
#include "hv/hv.h"
#include "base/papr.h"

namespace pv {
namespace {

using namespace papr;

const VpaPinOps kAmsPinOps{ams_pin_area, ams_unpin_area};
const VpaPinOps* g_pin_ops = &kAmsPinOps;

Next ret(Vcpu& v, i64 code) {
    v.regs.gpr[3] = static_cast<u64>(code);
    return Next::Resume;
}

// The VPA and DTL are partition memory the partition may read at any time:
// each field is one aligned store (BigEndian::store).

// Host address of logical addr, through the partition-scoped table (the
// page is pinned by then, so the frame stays).
u8* host_of(const Partition& p, u64 addr) {
    auto frame = p.radix.lookup(page_of(LogicalAddr{addr}));
    if (!frame) return nullptr;
    return static_cast<u8*>(arch::host_ptr(HostReal{base_of(*frame).value + (addr & (kPageSize - 1))}));
}

enum class Kind : u8 { Vpa, Dtl, Slb };

VpaArea& area_of(VcpuVpa& s, Kind k) { return k == Kind::Vpa ? s.vpa : k == Kind::Dtl ? s.dtl : s.slb; }

// Every hypervisor-owned VPA field (s.lock held).
void publish(VcpuVpa& s) {
    Lppaca* l = s.vpa.lppaca();
    if (!l) return;
    l->yield_count.store(s.yield_count);
    l->dispersion_count.store(s.dispersion_count);
    l->cmo_faults.store(s.cmo_faults);
    l->cmo_fault_time.store(s.cmo_fault_time);
    s.cmo_faults_shown = s.cmo_faults;
    s.cmo_fault_time_shown = s.cmo_fault_time;
    l->enqueue_dispatch_tb.store(s.enqueue_dispatch_tb);
    l->wait_ready_tb.store(s.wait_ready_tb);
    if (s.dtl.addr) l->dtl_idx.store(s.dtl_index);
}

void unpin(Partition& p, const VpaArea& a) {
    if (a.addr) g_pin_ops->unpin(p, a.addr, a.len);
}

// Registration of the VPA, DTL or SLB shadow of t at logical addr, by v.
// Checks as PAPR/KVM: cache-line aligned and not 0; the length at offset 4
// (16-bit for the VPA, 32-bit otherwise) is at least 8 and the area stays in
// its 4 KiB page; a VPA is at least 640 bytes; a DTL at least one 48-byte
// entry (rounded down to whole entries); DTL and SLB shadow need a VPA.
Next register_area(Vcpu& v, Vcpu& t, Kind k, u64 addr) {
    Partition& p = *v.part;
    u8 head[sizeof(RegisteredBufferHeader)];
    if (addr == 0 || !is_aligned(addr, vpa::kAlign) || !p.logical_range_ok(addr, sizeof head))
        return ret(v, H_PARAMETER);
    if (!p.copy_from(addr, head, sizeof head)) {
        // A shared partition's page that is not resident: page it in, re-execute.
        if (!ams_ensure_resident(v, addr, sizeof head)) return Next::Block;
        if (!p.copy_from(addr, head, sizeof head)) return ret(v, H_PARAMETER);
    }
    u64 len = k == Kind::Vpa ? load_be<u16>(head + offsetof(Lppaca, size))
                             : load_be<u32>(head + offsetof(RegisteredBufferHeader, length));
    if (len < 8 || len > kPageSize - (addr & (kPageSize - 1))) return ret(v, H_PARAMETER);
    switch (k) {
    case Kind::Vpa:
        if (len < vpa::kMinVpaSize) return ret(v, H_PARAMETER);
        break;
    case Kind::Dtl:
        if (len < vpa::kDtlEntrySize) return ret(v, H_PARAMETER);
        len -= len % vpa::kDtlEntrySize;
        break;
    case Kind::Slb:
        break;
    }
    if (k != Kind::Vpa) {
        Guard g(t.vpa.lock);
        if (!t.vpa.vpa.addr) return ret(v, H_RESOURCE);
    }

    switch (g_pin_ops->pin(v, addr, len)) {
    case PinResult::Pinned: break;
    case PinResult::Blocked: return Next::Block;  // parked on the page-in; nothing changed
    case PinResult::OverLimit: return ret(v, H_RESOURCE);
    default: return ret(v, H_PARAMETER);
    }
    u8* host = host_of(p, addr);
    if (!host) {  // pinned yet not mapped: should not happen; fault it in and retry
        g_pin_ops->unpin(p, addr, len);
        if (!ams_ensure_resident(v, addr, len)) return Next::Block;
        return ret(v, H_HARDWARE);
    }

    VpaArea old{};
    bool have_vpa = true;
    {
        VcpuVpa& s = t.vpa;
        Guard g(s.lock);
        have_vpa = k == Kind::Vpa || s.vpa.addr;  // a concurrent deregistration may have won
        if (have_vpa) {
            VpaArea& a = area_of(s, k);
            old = a;
            a = VpaArea{addr, static_cast<u32>(len), host};
            if (k == Kind::Vpa) {
                __atomic_fetch_or(&s.vpa.lppaca()->old_status, kLppacaOldSharedProc, __ATOMIC_RELAXED);
                publish(s);
            } else if (k == Kind::Dtl) {
                s.dtl_index = 0;
                s.vpa.lppaca()->dtl_idx.store(0);
            }
        }
    }
    if (!have_vpa) {
        g_pin_ops->unpin(p, addr, len);
        return ret(v, H_RESOURCE);
    }
    unpin(p, old);  // re-registration: the previous area is no longer used
    return ret(v, H_SUCCESS);
}

// Deregistration is always allowed, except the VPA's while a DTL or SLB
// shadow is still registered (H_RESOURCE). Nothing registered: H_SUCCESS.
Next deregister_area(Vcpu& v, Vcpu& t, Kind k) {
    VpaArea old{};
    {
        VcpuVpa& s = t.vpa;
        Guard g(s.lock);
        if (k == Kind::Vpa && (s.dtl.addr || s.slb.addr)) return ret(v, H_RESOURCE);
        VpaArea& a = area_of(s, k);
        old = a;
        a = VpaArea{};
    }
    unpin(*v.part, old);
    return ret(v, H_SUCCESS);
}

u32 clamp32(u64 x) { return x > 0xffffffffu ? 0xffffffffu : static_cast<u32>(x); }

// One DTL entry for this dispatch (s.lock held; a VPA and a DTL registered).
void write_dtl_entry(VcpuVpa& s, const Vcpu& v, u8 dispatch_reason, bool was_runnable, u64 waited, u64 now,
                     u32 thread) {
    u32 entries = s.dtl.len / sizeof(DtlEntry);
    DtlEntry& e = s.dtl.dtl_entries()[s.dtl_index % entries];
    __atomic_store_n(&e.dispatch_reason, dispatch_reason, __ATOMIC_RELAXED);
    __atomic_store_n(&e.preempt_reason, s.preempt_reason, __ATOMIC_RELAXED);
    e.processor_id.store(static_cast<u16>(thread));
    e.enqueue_to_dispatch_time.store(was_runnable ? clamp32(waited) : 0);
    e.ready_to_enqueue_time.store(0);
    e.waiting_to_ready_time.store(was_runnable ? 0 : clamp32(waited));
    e.timebase.store(now + v.part->tb_offset);  // the partition's timebase
    e.fault_addr.store(s.preempt_reason == vpa::kPreemptPageFault ? s.fault_addr : 0);
    e.srr0.store(v.regs.pc);
    e.srr1.store(v.regs.msr);
    __atomic_thread_fence(__ATOMIC_RELEASE);  // the entry before the index that publishes it
    s.vpa.lppaca()->dtl_idx.store(++s.dtl_index);
}

}  // namespace

Next vpa_hcall(Vcpu& v) {
    u64 flags = v.regs.gpr[4], id = v.regs.gpr[5], addr = v.regs.gpr[6];
    Vcpu* t = v.part->vcpu_by_id(id);
    if (!t) return ret(v, H_PARAMETER);
    switch ((flags >> vpa::kFuncShift) & vpa::kFuncMask) {
    case vpa::kRegVpa: return register_area(v, *t, Kind::Vpa, addr);
    case vpa::kRegDtl: return register_area(v, *t, Kind::Dtl, addr);
    case vpa::kRegSlb: return register_area(v, *t, Kind::Slb, addr);
    case vpa::kDeregVpa: return deregister_area(v, *t, Kind::Vpa);
    case vpa::kDeregDtl: return deregister_area(v, *t, Kind::Dtl);
    case vpa::kDeregSlb: return deregister_area(v, *t, Kind::Slb);
    default: return ret(v, H_PARAMETER);
    }
}

Next vpa_register_process_table(Vcpu& v, u64 dw1, u64 base, u64 len) {
    Partition& p = *v.part;
    if (len) {
        switch (g_pin_ops->pin(v, base, len)) {
        case PinResult::Pinned: break;
        case PinResult::Blocked: return Next::Block;
        case PinResult::OverLimit: return ret(v, H_RESOURCE);
        default: return ret(v, H_PARAMETER);
        }
    }
    u64 old_base = 0, old_len = 0;
    {
        // Entry and record change together, so that concurrent registrations
        // unpin exactly the tables the MMU no longer uses.
        Guard g(p.lock);
        p.process_table = dw1;
        hv().partition_table[p.lpid.value].dw1.set(dw1);
        old_base = p.prtb_pin_base, old_len = p.prtb_pin_len;
        p.prtb_pin_base = len ? base : 0;
        p.prtb_pin_len = len;
    }
    arch::tlb_flush_partition(p.lpid);
    if (old_len) g_pin_ops->unpin(p, old_base, old_len);  // no longer reachable by the MMU
    return ret(v, H_SUCCESS);
}

void vpa_dispatched(Vcpu& v, u32 thread) {
    u64 now = arch::timebase();
    VcpuVpa& s = v.vpa;
    Guard g(s.lock);
    ++s.yield_count;
    if (s.ever_dispatched && s.last_thread != thread) ++s.dispersion_count;
    s.last_thread = thread;
    u64 waited = s.ever_dispatched ? now - s.undispatch_tb : 0;
    s.ever_dispatched = true;
    u8 reason = 0, log_class = 0;
    bool was_runnable = false;
    switch (s.preempt_reason) {
    case vpa::kPreemptTimeSlice:
    case vpa::kPreemptConfer:
        s.enqueue_dispatch_tb += waited;
        was_runnable = true;
        reason = vpa::kDispatchTimeSlice;
        log_class = s.preempt_reason == vpa::kPreemptConfer ? vpa::kDtlLogCede : vpa::kDtlLogPreempt;
        break;
    case vpa::kPreemptCede:
        s.wait_ready_tb += waited;
        // Woken at its decrementer deadline, or earlier by H_PROD.
        reason = now >= v.wake_tb ? vpa::kDispatchDecrementer : vpa::kDispatchProd;
        log_class = vpa::kDtlLogCede;
        break;
    case vpa::kPreemptPageFault:
        s.wait_ready_tb += waited;
        reason = vpa::kDispatchPageFault;
        log_class = vpa::kDtlLogFault;
        break;
    default:  // first dispatch, or after a stop: nothing to account
        break;
    }
    if (Lppaca* l = s.vpa.lppaca()) {
        l->yield_count.store(s.yield_count);
        l->dispersion_count.store(s.dispersion_count);
        if (was_runnable) l->enqueue_dispatch_tb.store(s.enqueue_dispatch_tb);
        else if (reason) l->wait_ready_tb.store(s.wait_ready_tb);
        if (s.dtl.host && (__atomic_load_n(&l->dtl_enable_mask, __ATOMIC_RELAXED) & log_class))
            write_dtl_entry(s, v, reason, was_runnable, waited, now, thread);
    }
    s.preempt_reason = 0;
}

void vpa_undispatched(Vcpu& v, Next next, Vector vec) {
    u8 reason = 0;
    u64 fault = 0;
    switch (next) {
    case Next::Resume:  // its time slice ended with others waiting
        reason = vpa::kPreemptTimeSlice;
        break;
    case Next::Yield:
        reason = vec == Vector::Hcall ? vpa::kPreemptConfer : vpa::kPreemptTimeSlice;
        break;
    case Next::Block:
        if (vec == Vector::HDSI || vec == Vector::HISI) {
            reason = vpa::kPreemptPageFault;
            fault = v.sprs.asdr;
        } else {
            // An hcall parked it: H_CEDE, or a page-in for the hypervisor's own access.
            bool paging = __atomic_load_n(&v.state, __ATOMIC_RELAXED) == VcpuState::PageWait;
            reason = paging ? vpa::kPreemptPageFault : vpa::kPreemptCede;
        }
        break;
    case Next::Stop:
        break;
    }
    u64 now = arch::timebase();
    VcpuVpa& s = v.vpa;
    Guard g(s.lock);
    ++s.yield_count;
    s.undispatch_tb = now;
    s.preempt_reason = reason;
    s.fault_addr = fault;
    if (Lppaca* l = s.vpa.lppaca()) l->yield_count.store(s.yield_count);
}

void vpa_note_hv_fault(Vcpu& v, u64 wait_tb) {
    VcpuVpa& s = v.vpa;
    Guard g(s.lock);
    ++s.cmo_faults;
    s.cmo_fault_time += wait_tb;
    if (Lppaca* l = s.vpa.lppaca()) {
        l->cmo_faults.store(s.cmo_faults);
        l->cmo_fault_time.store(s.cmo_fault_time);
        s.cmo_faults_shown = s.cmo_faults;
        s.cmo_fault_time_shown = s.cmo_fault_time;
    }
}

void vpa_partition_stopped(Partition& p) {
    for (u32 i = 0; i < p.vcpu_count; ++i) {
        VcpuVpa& s = p.vcpus[i].vpa;
        VpaArea areas[3];
        {
            Guard g(s.lock);
            areas[0] = s.slb, areas[1] = s.dtl, areas[2] = s.vpa;
            s.slb = s.dtl = s.vpa = VpaArea{};
        }
        for (const VpaArea& a : areas) unpin(p, a);
    }
    u64 base = 0, len = 0;
    {
        Guard g(p.lock);
        base = p.prtb_pin_base, len = p.prtb_pin_len;
        p.prtb_pin_base = p.prtb_pin_len = 0;
    }
    if (len) g_pin_ops->unpin(p, base, len);
}

namespace {
// Partitions that have ended, counted, and the count the last complete pass
// below saw: every scheduler pass runs it, and once the ended partitions are
// released it costs one comparison however many there are.
u64 g_ended = 0, g_released_upto = 0;
}  // namespace

void vpa_note_partition_finished() { __atomic_add_fetch(&g_ended, 1, __ATOMIC_SEQ_CST); }

void vpa_release_ended_partitions() {
    Hypervisor& h = hv();
    u64 ended = __atomic_load_n(&g_ended, __ATOMIC_SEQ_CST);
    if (ended == __atomic_load_n(&g_released_upto, __ATOMIC_ACQUIRE)) return;
    for (u32 i = 0; i < h.partition_count; ++i) {
        Partition& p = h.partitions[i];
        if (!__atomic_load_n(&p.finished, __ATOMIC_ACQUIRE)) continue;
        u8 expected = 0;
        if (__atomic_compare_exchange_n(&p.pins_released, &expected, u8{1}, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            vpa_partition_stopped(p);
            ams_release_partition(p);
            __atomic_store_n(&p.pins_released, u8{2}, __ATOMIC_RELEASE);
        } else {
            // Another thread is unpinning it (holding no lock): when this
            // returns, every ended partition is released (PV-STAT follows).
            while (__atomic_load_n(&p.pins_released, __ATOMIC_ACQUIRE) != 2) {
            }
        }
    }
    // Every partition that had ended by `ended` is released now.
    u64 seen = __atomic_load_n(&g_released_upto, __ATOMIC_ACQUIRE);
    while (seen < ended &&
           !__atomic_compare_exchange_n(&g_released_upto, &seen, ended, true, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    }
}

void vpa_set_pin_ops(const VpaPinOps* ops) { g_pin_ops = ops ? ops : &kAmsPinOps; }

}  // namespace pv
