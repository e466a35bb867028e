// XICS presented through hcalls (PAPR "interrupt support"): each vCPU has one
// virtual ICP (interrupt presentation controller) with CPPR, MFRR and XISR.
// The only source is the IPI (XISR 2, driven by MFRR); there is no ICS yet.
// docs/xics.md: the state machine, delivery to a vCPU in each state, the
// injection at entry, and why XICS and not XIVE exploitation.
//
// Portable: it changes vCPU state only; the hardware side is LPCR[MER]
// (arch/ppc64/cpu.cpp load_sprs) and kick_thread.
#pragma once
#include "base/spinlock.h"
#include "base/types.h"

namespace pv {

struct Vcpu;

inline constexpr u32 kXicsIpi = 2;         // XISR of an IPI (Linux XICS_IPI)
inline constexpr u8 kXicsLeastFavored = 0xff;  // CPPR/MFRR: nothing accepted / no IPI

struct Icp {
    SpinLock lock{LockRank::Icp};
    u8 cppr = 0;                    // current processor priority: 0 (most favoured) masks all
    u8 mfrr = kXicsLeastFavored;    // most favoured request: H_IPI writes it
    u8 pending_pri = kXicsLeastFavored;  // priority of the presented source
    u32 xisr = 0;                   // presented source (0 none, kXicsIpi)
    // xisr != 0: an interrupt is presented (more favoured than CPPR). Written
    // under lock, read without it by the entry path and the wake-up checks.
    bool presented = false;
    // LPCR[MER] requested for the next entry (presented while MSR[EE]=0).
    // Set by the vCPU's own entry path; cleared there, at the MER exit, or
    // when nothing is presented any more (a benign race with load_sprs: a
    // stale MER costs one exit).
    u64 lpcr_mer = 0;
};

// The hcalls (r3 = return code, outputs from r4). hv/hcall.cpp's table.
enum class Next : u8;
Next h_cppr(Vcpu& v);
Next h_xirr(Vcpu& v);
Next h_xirr_x(Vcpu& v);
Next h_eoi(Vcpu& v);
Next h_ipi(Vcpu& v);
Next h_ipoll(Vcpu& v);

// Relaxed: the entry path's one check; the wake-up paths order it themselves.
inline bool icp_presented(const Icp& i) { return __atomic_load_n(&i.presented, __ATOMIC_RELAXED); }

// Before v enters: if an interrupt is presented and MSR[EE]=1, v takes an
// external interrupt (0x500) now; with EE=0, LPCR[MER] makes the hardware
// exit to us when the partition sets EE (ExitKind::External, then again here).
void xics_prepare_entry_slow(Vcpu& v);

// An external exit of v: true if it was the mediated request (LPCR[MER]), not
// a host interrupt; the request is withdrawn and the entry path re-decides.
bool xics_mediated_exit(Vcpu& v);

}  // namespace pv
