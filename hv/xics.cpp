// The virtual ICP of each vCPU (hv/xics.h, docs/xics.md).
#include "hv/xics.h"

#include "hv/guest_interrupt.h"

#include "arch/arch.h"
#include "base/papr.h"
#include "hv/ams.h"
#include "hv/hcall.h"
#include "hv/hv.h"
#include "hv/machine_check.h"
#include "hv/ppc_defs.h"

namespace pv {
namespace {

using namespace papr;

u64 arg(const Vcpu& v, unsigned n) { return v.regs.gpr[3 + n]; }
Next ret(Vcpu& v, i64 code) {
    v.regs.gpr[3] = static_cast<u64>(code);
    return Next::Resume;
}

u32 xirr_of(const Icp& i) { return u32{i.cppr} << 24 | i.xisr; }

// The only source is the IPI: it is presented exactly while MFRR is more
// favoured (numerically lower) than CPPR. Accepting it (H_XIRR) raises CPPR
// to MFRR, which ends the presentation until CPPR drops again (H_EOI, H_CPPR).
// Caller holds i.lock. True if an interrupt is presented afterwards.
bool update(Icp& i) {
    bool ipi = i.mfrr < i.cppr;
    i.xisr = ipi ? kXicsIpi : 0;
    i.pending_pri = ipi ? i.mfrr : kXicsLeastFavored;
    __atomic_store_n(&i.presented, ipi, __ATOMIC_RELEASE);
    if (!ipi) i.lpcr_mer = 0;  // nothing waits for MSR[EE] any more
    return ipi;
}

// An interrupt is newly presented to t: get it to t wherever t is. A ceded
// vCPU runs again (as for H_PROD); one parked on paging with MSR[EE]=1 may
// run to take it (as for its decrementer, mm/fault.h); one on another thread
// is kicked (a hypervisor doorbell: its exit path re-checks before entering);
// a runnable one takes it at its next entry.
void notify(Vcpu& t, const Vcpu& sender) {
    // Pairs with the fence in schedule() after the thread publishes current:
    // either we see t on its thread, or it sees the interrupt before entering.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    Partition& p = *t.part;
    bool wake = false;
    {
        Guard g(p.lock);
        if (t.state == VcpuState::Ceded) {
            t.state = VcpuState::Runnable;
            wake = true;
        } else if (t.state == VcpuState::PageWait && (t.regs.msr & msr::EE)) {
            wake = ams_interrupt_pending(t, arch::timebase());
        }
    }
    if (wake) {
        make_runnable(t);
        return;
    }
    if (&t == &sender) return;  // this thread re-checks before it enters
    Hypervisor& h = hv();
    for (u32 i = 0; i < h.thread_count; ++i)
        if (__atomic_load_n(&h.threads[i]->current, __ATOMIC_RELAXED) == &t) arch::kick_thread(h.threads[i]->pir);
}


}  // namespace

Next h_cppr(Vcpu& v) {
    Guard g(v.icp.lock);
    v.icp.cppr = static_cast<u8>(arg(v, 1));
    update(v.icp);  // a more favoured CPPR withdraws the IPI; it comes back when CPPR drops
    return ret(v, H_SUCCESS);
}

Next h_xirr(Vcpu& v) {
    Guard g(v.icp.lock);
    Icp& i = v.icp;
    v.regs.gpr[4] = xirr_of(i);
    if (i.xisr) {
        i.cppr = i.pending_pri;  // accepted
        update(i);
    }
    return ret(v, H_SUCCESS);
}

Next h_xirr_x(Vcpu& v) {
    Next n = h_xirr(v);
    v.regs.gpr[5] = arch::timebase() + v.part->tb_offset;  // the partition's timebase
    return n;
}

Next h_eoi(Vcpu& v) {
    u64 xirr = arg(v, 1);
    u64 source = xirr & 0xffffff;
    {
        Guard g(v.icp.lock);
        v.icp.cppr = static_cast<u8>(xirr >> 24);
        update(v.icp);  // an MFRR still more favoured than the restored CPPR presents again
    }
    return ret(v, source == 0 || source == kXicsIpi ? H_SUCCESS : H_PARAMETER);  // no ICS sources
}

Next h_ipi(Vcpu& v) {
    Vcpu* t = v.part->vcpu_by_id(arg(v, 1));
    if (!t) return ret(v, H_PARAMETER);
    bool was, now;
    {
        Guard g(t->icp.lock);
        was = t->icp.presented;
        t->icp.mfrr = static_cast<u8>(arg(v, 2));
        now = update(t->icp);
    }
    if (now && !was) notify(*t, v);
    return ret(v, H_SUCCESS);
}

Next h_ipoll(Vcpu& v) {
    Vcpu* t = v.part->vcpu_by_id(arg(v, 1));
    if (!t) return ret(v, H_PARAMETER);
    Guard g(t->icp.lock);
    v.regs.gpr[4] = xirr_of(t->icp);
    v.regs.gpr[5] = t->icp.mfrr;
    return ret(v, H_SUCCESS);
}

void xics_prepare_entry_slow(Vcpu& v) {
    Icp& i = v.icp;
    Guard g(i.lock);
    if (!i.presented) {
        i.lpcr_mer = 0;
        return;
    }
    if (!(v.regs.msr & msr::EE)) {
        i.lpcr_mer = lpcr::MER;  // the hardware exits to us when the partition sets MSR[EE]
        return;
    }
    // An external interrupt (0x500): SRR1 = MSR with its interrupt-specific
    // bits cleared. It stays presented until H_XIRR accepts it.
    i.lpcr_mer = 0;
    deliver_guest_interrupt(v, static_cast<u64>(Vector::External), 0);
}

bool xics_mediated_exit(Vcpu& v) {
    if (!v.icp.lpcr_mer) return false;
    v.icp.lpcr_mer = 0;  // entering() asks again if the interrupt still waits
    return true;
}

}  // namespace pv
