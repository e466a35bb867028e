#include "hv/hcall.h"
#include "hv/timed_wake.h"

#include "hv/ams.h"
#include "arch/arch.h"
#include "hv/console.h"
#include "hv/console_input.h"
#include "hv/hv.h"
#include "base/papr.h"
#include "hv/rtas.h"
#include "hv/vpa.h"
#include "hv/xics.h"
#include "vio/crq.h"

namespace pv {
namespace {

using namespace papr;

u64 arg(const Vcpu& v, unsigned n) { return v.regs.gpr[3 + n]; }  // arg(1) is r4
Next ret(Vcpu& v, i64 code) {
    v.regs.gpr[3] = static_cast<u64>(code);
    return Next::Resume;
}

Next h_put_term_char(Vcpu& v) {
    u64 len = arg(v, 2);
    if (arg(v, 1) != kVtermno || len > 16) return ret(v, H_PARAMETER);
    // Characters are packed big-endian in r6, r7: first character most significant.
    char buf[16];
    for (u64 i = 0; i < len; ++i) buf[i] = static_cast<char>(arg(v, 3 + i / 8) >> (56 - 8 * (i % 8)));
    Partition& p = *v.part;
    {
        Guard g(p.lock);
        partition_console_write(p, buf, static_cast<u32>(len));
    }
    return ret(v, H_SUCCESS);
}

// What was typed for this partition (hv/console_input.h): r4 = count, up to
// 16 bytes in r5, r6, first byte most significant.
Next h_get_term_char(Vcpu& v) {
    if (arg(v, 1) != kVtermno) return ret(v, H_PARAMETER);
    char buf[kTermCharsMax];
    u32 n = console_input().take(*v.part, buf, kTermCharsMax, arch::timebase());
    v.regs.gpr[4] = n;
    pack_term_chars(buf, n, v.regs.gpr[5], v.regs.gpr[6]);
    return ret(v, H_SUCCESS);
}

// PAPR: H_CEDE returns with MSR[EE]=1, after an interrupt is pending (the
// decrementer here) or another vCPU prodded this one.
//
// Ceded is published before prodded is read (both seq_cst): a prod that
// sets the flag without the lock (PspLink::prod_psp) and then finds the
// vCPU not ceded is then seen here, and never lost.
Next h_cede(Vcpu& v) {
    v.regs.msr |= msr::EE;
    ret(v, H_SUCCESS);
    Partition& p = *v.part;
    Guard g(p.lock);
    if (icp_presented(v.icp)) return Next::Resume;  // an IPI came first (hv/xics.cpp notify)
    i64 dec = static_cast<i64>(v.sprs.dec);
    if (dec <= 0) return Next::Resume;
    VcpuState was = v.state;
    __atomic_store_n(&v.state, VcpuState::Ceded, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&v.prodded, __ATOMIC_SEQ_CST)) {
        v.prodded = false;
        v.state = was;
        return Next::Resume;
    }
    v.wake_tb = v.sprs.dec_tb + static_cast<u64>(dec);
    timed_wake_note(v.wake_tb);
    return Next::Block;
}

Next h_confer(Vcpu& v) {
    i64 target = static_cast<i64>(arg(v, 1));
    if (target != -1 && !v.part->vcpu_by_id(static_cast<u64>(target))) return ret(v, H_PARAMETER);
    ret(v, H_SUCCESS);
    return Next::Yield;
}

Next h_prod(Vcpu& v) {
    Vcpu* t = v.part->vcpu_by_id(arg(v, 1));
    if (!t) return ret(v, H_PARAMETER);
    bool wake = false;
    {
        Guard g(v.part->lock);
        if (t->state == VcpuState::Ceded) {
            t->state = VcpuState::Runnable;
            wake = true;
        } else {
            t->prodded = true;
        }
    }
    if (wake) make_runnable(*t);
    return ret(v, H_SUCCESS);
}

// What the hypervisor knows of the processor's speculation mitigations. It
// has no firmware statement of which assists this POWER9 implements, so it
// names none (r4 = 0) and asks for every mitigation the partition can do
// itself (r5): what Linux assumes when the call fails, said explicitly.
Next h_get_cpu_characteristics(Vcpu& v) {
    v.regs.gpr[4] = 0;
    v.regs.gpr[5] = H_CPU_BEHAV_FAVOUR_SECURITY | H_CPU_BEHAV_L1D_FLUSH_PR | H_CPU_BEHAV_BNDS_CHK_SPEC_BAR |
                    H_CPU_BEHAV_FLUSH_COUNT_CACHE | H_CPU_BEHAV_FLUSH_LINK_STACK;
    return ret(v, H_SUCCESS);
}

Next h_random(Vcpu& v) {
    u64 value = 0;
    if (!arch::random64(value)) return ret(v, H_HARDWARE);
    v.regs.gpr[4] = value;
    return ret(v, H_SUCCESS);
}

Next h_set_mode(Vcpu& v) {
    u64 mflags = arg(v, 1), resource = arg(v, 2);
    Partition& p = *v.part;
    switch (resource) {
    case H_SET_MODE_RESOURCE_LE:
        if (arg(v, 3) || arg(v, 4)) return ret(v, H_P3);
        if (mflags > 1) return ret(v, H_UNSUPPORTED_FLAG);
        p.lpcr = mflags ? (p.lpcr | lpcr::ILE) : (p.lpcr & ~lpcr::ILE);
        return ret(v, H_SUCCESS);
    case H_SET_MODE_RESOURCE_ADDR_TRANS_MODE:
        // LPCR[AIL] for the whole partition: 0 (real-mode vectors) or 3
        // (0xc000000000004000 with the MMU on, which Linux needs for scv).
        // AIL 1 is reserved and 2 is not offered, as by KVM.
        if (arg(v, 3) || arg(v, 4)) return ret(v, H_P3);
        if (mflags != 0 && mflags != 3) return ret(v, H_UNSUPPORTED_FLAG);
        p.lpcr = (p.lpcr & ~lpcr::AIL_MASK) | lpcr::ail(mflags);
        return ret(v, H_SUCCESS);
    case H_SET_MODE_RESOURCE_SET_CIABR:
        // The vCPU's instruction breakpoint, never on hypervisor state
        // (CIABR[PRIV] = 3); loaded at its next entry (docs/vcpu_state.md).
        if (mflags) return ret(v, H_UNSUPPORTED_FLAG);
        if (arg(v, 4)) return ret(v, H_P4);
        if ((arg(v, 3) & 3) == 3) return ret(v, H_P3);
        v.lazy_sprs.ciabr = arg(v, 3);
        lazy_recheck(v.lazy);
        return ret(v, H_SUCCESS);
    case H_SET_MODE_RESOURCE_SET_DAWR0:
        // Data breakpoint: DAWR0 and DAWRX0, without DAWRX[HYP] (bit 61).
        if (mflags) return ret(v, H_UNSUPPORTED_FLAG);
        if (arg(v, 4) & (u64{1} << 2)) return ret(v, H_P4);
        v.lazy_sprs.dawr0 = arg(v, 3);
        v.lazy_sprs.dawrx0 = arg(v, 4);
        lazy_recheck(v.lazy);
        return ret(v, H_SUCCESS);
    default:
        return ret(v, H_P2);
    }
}

// A radix guest tells us where its process table is; it goes into the
// partition-table entry (dw1) as a logical address.
Next h_register_proc_tbl(Vcpu& v) {
    u64 flags = arg(v, 1), base = arg(v, 2), page_size = arg(v, 3), table_size = arg(v, 4);
    Partition& p = *v.part;
    u64 op = flags & PROC_TABLE_OP_MASK;
    // The MMU reads the table while the partition runs: it is pinned, and the
    // previous one unpinned, by vpa_register_process_table (docs/pinning.md).
    if (op == PROC_TABLE_DEREG) {
        return vpa_register_process_table(v, make_prte_dw1_guest_radix(HostReal{0}, 0), 0, 0);
    } else if (op == PROC_TABLE_NEW) {
        if (!(flags & PROC_TABLE_RADIX)) return ret(v, H_PARAMETER);  // no HPT support
        if (page_size != 0 || table_size > 24) return ret(v, H_PARAMETER);
        u64 bytes = u64{1} << (table_size + 12);
        if (!is_aligned(base, bytes) || !p.logical_range_ok(base, bytes)) return ret(v, H_PARAMETER);
        return vpa_register_process_table(v, make_prte_dw1_guest_radix(HostReal{base}, static_cast<u32>(table_size)),
                                          base, bytes);
    } else {
        return ret(v, H_PARAMETER);
    }
}

Next h_rtas(Vcpu& v) { return rtas_call(v, arg(v, 1)); }

// r4 = index (0 = newest) among this partition's retained paging errors.
Next h_pv_get_error_log(Vcpu& v) {
    u64 index = arg(v, 1);
    if (index >= PagingErrorLog::kCapacity) return ret(v, H_PARAMETER);
    PagingError e;
    if (!hv().paging_errors.nth_newest_for(v.part->slot, static_cast<u32>(index), e)) return ret(v, H_NOT_FOUND);
    v.regs.gpr[4] = base_of(e.lp).value;
    v.regs.gpr[5] = e.vcpu;
    v.regs.gpr[6] = e.device;
    v.regs.gpr[7] = e.status;
    v.regs.gpr[8] = e.timebase;
    return ret(v, H_SUCCESS);
}

// The paging service partition's channel (vio/crq.h); others have no unit.
Next h_reg_crq(Vcpu& v) { return ams_crq_hcall(v, crq::H_REG_CRQ); }
Next h_free_crq(Vcpu& v) { return ams_crq_hcall(v, crq::H_FREE_CRQ); }
Next h_send_crq(Vcpu& v) { return ams_crq_hcall(v, crq::H_SEND_CRQ); }
Next h_enable_crq(Vcpu& v) { return ams_crq_hcall(v, crq::H_ENABLE_CRQ); }

struct HcallEntry {
    u64 number;
    Next (*handler)(Vcpu&);
};

constexpr HcallEntry kHcalls[] = {
    {H_PAGE_INIT, ams_page_init_hcall},
    {H_GET_TERM_CHAR, h_get_term_char},
    {H_PUT_TERM_CHAR, h_put_term_char},
    {H_EOI, h_eoi},
    {H_CPPR, h_cppr},
    {H_IPI, h_ipi},
    {H_IPOLL, h_ipoll},
    {H_XIRR, h_xirr},
    {H_XIRR_X, h_xirr_x},
    {H_CEDE, h_cede},
    {H_CONFER, h_confer},
    {H_PROD, h_prod},
    {H_GET_CPU_CHARACTERISTICS, h_get_cpu_characteristics},
    {H_RANDOM, h_random},
    {H_SET_MODE, h_set_mode},
    {H_REGISTER_VPA, vpa_hcall},
    {H_REGISTER_PROC_TBL, h_register_proc_tbl},
    {crq::H_REG_CRQ, h_reg_crq},
    {crq::H_FREE_CRQ, h_free_crq},
    {crq::H_SEND_CRQ, h_send_crq},
    {crq::H_ENABLE_CRQ, h_enable_crq},
};

// PAPR numbers are multiples of 4: index a table by number / 4.
struct HcallTable {
    Next (*handler[kMaxHcall / 4 + 1])(Vcpu&);
};

constexpr HcallTable make_table() {
    HcallTable t{};
    for (const HcallEntry& e : kHcalls) t.handler[e.number / 4] = e.handler;
    return t;
}
constexpr HcallTable kTable = make_table();
static_assert(H_REGISTER_PROC_TBL <= kMaxHcall);

}  // namespace

Next dispatch_hcall(Vcpu& v) {
    u64 number = v.regs.gpr[3];
    v.stats.hcalls++;
    __atomic_add_fetch(&v.part->stats.hcalls, 1, __ATOMIC_RELAXED);
    if (number == H_RTAS) return h_rtas(v);
    if (number == H_PV_GET_ERROR_LOG) return h_pv_get_error_log(v);
    if (number % 4 == 0 && number <= kMaxHcall)
        if (auto* handler = kTable.handler[number / 4]) return handler(v);
    return ret(v, H_FUNCTION);
}

}  // namespace pv
