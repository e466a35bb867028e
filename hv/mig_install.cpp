#include "hv/mig_install.h"
#include "hv/timed_wake.h"

#include "hv/ppc_defs.h"

namespace pv {

void mig_install_vcpu(const MigStagedVcpu& s, Vcpu& v, u64 now_tb) {
    v.regs = s.regs;
    v.sprs = VcpuSprs{};
    v.sprs.srr0 = s.srr0, v.sprs.srr1 = s.srr1, v.sprs.dar = s.dar, v.sprs.dsisr = s.dsisr;
    for (u32 i = 0; i < 4; ++i) v.sprs.sprg[i] = s.sprg[i];
    v.sprs.pid = s.pid;
    v.sprs.dec = static_cast<u64>(s.dec_remaining);
    v.sprs.dec_tb = now_tb;
    v.fp = s.fp;
    v.lazy_sprs = s.lazy;
    v.lazy_sprs.hfscr = v.part ? v.part->hfscr : kGuestHfscr;  // the target partition's, never the source's
    v.lazy = LazyOwner{};             // no thread holds it: the first entry loads everything
    switch (s.run_state) {
    case MigRunState::Stopped:
        v.state = VcpuState::Stopped;
        break;
    case MigRunState::Ceded:
        v.state = VcpuState::Ceded;
        break;
    case MigRunState::Runnable:
        v.state = VcpuState::Runnable;
        break;
    }
    v.wake_tb = s.run_state == MigRunState::Ceded ? now_tb + s.wake_remaining : 0;
    if (v.state == VcpuState::Ceded) timed_wake_note(v.wake_tb);
    v.prodded = s.flags & kMigVcpuProdded;
    v.mc_in_progress = s.flags & kMigVcpuMcInProgress;
    v.fault.fault_ea = s.fault_ea;
    v.icp.cppr = s.cppr, v.icp.mfrr = s.mfrr, v.icp.xisr = s.xisr, v.icp.presented = s.presented;
    v.icp.pending_pri = s.presented ? s.mfrr : kXicsLeastFavored;  // as hv/xics.cpp update()
    v.icp.lpcr_mer = 0;
    VcpuVpa& a = v.vpa;
    a.vpa = a.dtl = a.slb = VpaArea{};
    a.yield_count = s.yield_count, a.dispersion_count = s.dispersion_count;
    a.cmo_faults = s.cmo_faults, a.cmo_fault_time = s.cmo_fault_time;
    a.cmo_faults_shown = 0;
    a.cmo_fault_time_shown = 0;
    a.enqueue_dispatch_tb = s.enqueue_dispatch_tb, a.wait_ready_tb = s.wait_ready_tb;
    a.dtl_index = s.dtl_index;
    a.last_thread = ~0u;
    a.ever_dispatched = s.flags & kMigVcpuEverDispatched;
}

void mig_install_partition(const MigStagedPartition& s, Partition& p) {
    p.lpcr = (p.lpcr & ~(lpcr::ILE | lpcr::AIL_MASK)) | s.lpcr;
    p.rtas_base = s.rtas_base, p.rtas_size = s.rtas_size;
    p.fwnmi_registered = s.fwnmi_registered;
    p.fwnmi_sreset_addr = s.fwnmi_sreset_addr, p.fwnmi_mc_addr = s.fwnmi_mc_addr;
    p.console = s.console;
    p.panel = s.panel;
    p.restarts = s.restarts;
}

}  // namespace pv
