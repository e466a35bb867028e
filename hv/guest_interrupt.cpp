#include "hv/guest_interrupt.h"

#include "hv/machine_check.h"
#include "hv/partition.h"
#include "hv/ppc_defs.h"

namespace pv {

void deliver_guest_interrupt(Vcpu& v, u64 vector, u64 srr1_cause) {
    const Partition& p = *v.part;
    u64 ail = lpcr::ail_of(p.lpcr);
    bool relocated = ail >= 2 && (v.regs.msr & msr::IR) && (v.regs.msr & msr::DR);
    v.sprs.srr0 = v.regs.pc;
    v.sprs.srr1 = (v.regs.msr & ~kSrr1InterruptBits) | srr1_cause;
    if (relocated) vector += ail == 3 ? 0xc000000000004000 : 0x18000;
    u64 m = msr::SF | (v.regs.msr & msr::ME) | ((p.lpcr & lpcr::ILE) ? msr::LE : 0);
    v.regs.pc = vector;
    v.regs.msr = relocated ? m | msr::IR | msr::DR : m;
}

}  // namespace pv
