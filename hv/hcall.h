// One dispatch table for `sc 1`: r3 = PAPR hcall number, arguments r4..r12,
// return code in r3, outputs from r4.
#pragma once
#include "hv/vcpu.h"

namespace pv {

// What the vCPU does after its hcall.
enum class Next : u8 {
    Resume,  // return to the partition now
    Yield,   // return later; let others run first (H_CONFER)
    Block,   // not runnable until woken (H_CEDE)
    Stop,    // never returns (stop-self, power-off, killed)
};

Next dispatch_hcall(Vcpu& v);

}  // namespace pv
