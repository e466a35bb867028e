/*
 * A vCPU's registers as the exit path saves them (arch/ppc64/exceptions.S)
 * and C++ reads them: the offsets below are that contract, defined once for
 * both languages and checked against the struct.
 */
#pragma once

#define REGS_GPR(n) (8 * (n))
#define REGS_CR 256
#define REGS_LR 264
#define REGS_CTR 272
#define REGS_XER 280
#define REGS_PC 288   /* where the partition resumes (HSRR0, or SRR0 after sc 1) */
#define REGS_MSR 296  /* its MSR (HSRR1, or SRR1 after sc 1), interrupt bits cleared */
#define REGS_BYTES 304

#ifndef __ASSEMBLER__
#include <cstddef>

#include "base/types.h"

namespace pv {

struct VcpuRegs {
    u64 gpr[32];
    u64 cr;
    u64 lr;
    u64 ctr;
    u64 xer;
    u64 pc;
    u64 msr;
};
static_assert(offsetof(VcpuRegs, gpr) == REGS_GPR(0) && offsetof(VcpuRegs, cr) == REGS_CR &&
              offsetof(VcpuRegs, lr) == REGS_LR && offsetof(VcpuRegs, ctr) == REGS_CTR &&
              offsetof(VcpuRegs, xer) == REGS_XER && offsetof(VcpuRegs, pc) == REGS_PC &&
              offsetof(VcpuRegs, msr) == REGS_MSR && sizeof(VcpuRegs) == REGS_BYTES);

}  // namespace pv
#endif
