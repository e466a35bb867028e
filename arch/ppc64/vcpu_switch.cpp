// The lazily switched vCPU state (arch/ppc64/vcpu_switch.h, docs/vcpu_state.md).
#include "arch/ppc64/vcpu_switch.h"

#include "arch/arch.h"
#include "arch/ppc64/spr.h"

extern "C" void pv_fp_save(pv::VcpuFp* fp);
extern "C" void pv_fp_load(const pv::VcpuFp* fp);

namespace pv::arch {
namespace {

constexpr u64 kCtrlRun = 1;          // CTRL[RUN], the thread's run latch
constexpr u64 kDawrxHyp = 1u << 2;   // DAWRX[HYP]: never the partition's to set
constexpr u64 kPmc32 = 0xffffffffu;  // PMCs are 32 bits

// The hypervisor's own PMU state between vCPUs: MMCR0 0, every counter runs
// (PMC5 counts the instructions of make bench's path lengths).
constexpr u64 kHypervisorMmcr0 = 0;

void write_debug(const VcpuLazySprs& s) {
    spr::write<spr::DAWR0>(s.dawr0);
    spr::write<spr::DAWRX0>(s.dawrx0 & ~kDawrxHyp);
    spr::write<spr::CIABR>(s.ciabr);
}

// Returns whether the registers still equal what was saved.
bool save(Vcpu& v) {
    VcpuLazySprs& s = v.lazy_sprs;
    s.mmcr0 = spr::read<spr::MMCR0>();
    s.pmc[0] = spr::read<spr::PMC1>();
    s.pmc[1] = spr::read<spr::PMC2>();
    s.pmc[2] = spr::read<spr::PMC3>();
    s.pmc[3] = spr::read<spr::PMC4>();
    s.pmc[4] = spr::read<spr::PMC5>();
    s.pmc[5] = spr::read<spr::PMC6>();
    s.mmcr1 = spr::read<spr::MMCR1>();
    s.mmcr2 = spr::read<spr::MMCR2>();
    s.mmcra = spr::read<spr::MMCRA>();
    s.siar = spr::read<spr::SIAR>();
    s.sdar = spr::read<spr::SDAR>();
    s.sier = spr::read<spr::SIER>();
    s.tar = spr::read<spr::TAR>();
    s.dscr = spr::read<spr::DSCR>();
    s.fscr = spr::read<spr::FSCR>();
    s.pspb = spr::read<spr::PSPB>();
    s.tidr = spr::read<spr::TIDR>();
    s.ppr = spr::read<spr::PPR>();
    s.ctrl = spr::read<spr::CTRLF>() & kCtrlRun;
    s.amr = spr::read<spr::AMR>();
    s.iamr = spr::read<spr::IAMR>();
    s.uamor = spr::read<spr::UAMOR>();
    s.ebbhr = spr::read<spr::EBBHR>();
    s.ebbrr = spr::read<spr::EBBRR>();
    s.bescr = spr::read<spr::BESCR>();
    pv_fp_save(&v.fp);
    if (s.mmcr0 == kHypervisorMmcr0) return true;
    // A partition that froze or configured its counters: the hypervisor's
    // run again, and the vCPU's MMCR0 must be loaded at its next entry.
    spr::write<spr::MMCR0>(kHypervisorMmcr0);
    return false;
}

void load(ThreadBlock& tb, const VcpuLazySprs& s, const VcpuFp& fp) {
    pv_fp_load(&fp);
    spr::write<spr::HFSCR>(s.hfscr);
    spr::write<spr::TAR>(s.tar);
    spr::write<spr::DSCR>(s.dscr);
    spr::write<spr::FSCR>(s.fscr);
    spr::write<spr::PSPB>(s.pspb);
    spr::write<spr::TIDR>(s.tidr);
    spr::write<spr::PPR>(s.ppr);
    spr::write<spr::CTRLT>(s.ctrl & kCtrlRun);
    spr::write<spr::AMR>(s.amr);
    spr::write<spr::IAMR>(s.iamr);
    spr::write<spr::UAMOR>(s.uamor);
    spr::write<spr::EBBHR>(s.ebbhr);
    spr::write<spr::EBBRR>(s.ebbrr);
    spr::write<spr::BESCR>(s.bescr);
    write_debug(s);
    // PMU: counters first, MMCR0 (which may start them) last. The jump in
    // PMC5 goes into the bias the hypervisor's own counts carry.
    spr::write<spr::MMCR0>(kHypervisorMmcr0);
    spr::write<spr::MMCR1>(s.mmcr1);
    spr::write<spr::MMCR2>(s.mmcr2);
    spr::write<spr::MMCRA>(s.mmcra);
    spr::write<spr::SIAR>(s.siar);
    spr::write<spr::SDAR>(s.sdar);
    spr::write<spr::SIER>(s.sier);
    spr::write<spr::PMC1>(s.pmc[0] & kPmc32);
    spr::write<spr::PMC2>(s.pmc[1] & kPmc32);
    spr::write<spr::PMC3>(s.pmc[2] & kPmc32);
    spr::write<spr::PMC4>(s.pmc[3] & kPmc32);
    u64 before = spr::read<spr::PMC5>();
    spr::write<spr::PMC5>(s.pmc[4] & kPmc32);
    tb.pmc5_bias += before - (s.pmc[4] & kPmc32);
    spr::write<spr::PMC6>(s.pmc[5] & kPmc32);
    spr::write<spr::MMCR0>(s.mmcr0);
}

}  // namespace

void lazy_switch_in(ThreadBlock& tb, Vcpu& v) {
    u32 self = tb.cpu.index;
    if (lazy_resident(tb.lazy, self, v)) write_debug(v.lazy_sprs);  // after H_SET_MODE
    else load(tb, v.lazy_sprs, v.fp);
    lazy_loaded(tb.lazy, self, v);
}

// Before v's thread releases it (hv/exit.cpp leave_thread): another thread
// may dispatch it next, so its live state goes to memory now.
void vcpu_leaves_thread(Vcpu& v) {
    ThreadBlock& tb = this_thread();
    if (lazy_must_save(tb.lazy, tb.cpu.index, v)) lazy_saved(v.lazy, save(v));
    // Its lwarx reservation goes too: a stdcx. clears it whether it stores
    // or not, so the next vCPU's stwcx. cannot succeed on it.
    u64 scratch = 0;
    asm volatile("stdcx. %1, 0, %0" : : "r"(&scratch), "r"(u64{0}) : "cr0", "memory");
}

}  // namespace pv::arch
