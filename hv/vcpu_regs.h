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
#define REGS_CFAR 304 /* its CFAR: saved by the vector before the first branch */
#define REGS_BYTES 312

/*
 * A vCPU's floating-point, VMX and VSX registers (hv/lazy_state.h says when
 * they are switched): VSR0-63 (FPR n is VSR n's doubleword 0, VR n is VSR
 * 32 + n), then FPSCR, VSCR (as mfvscr leaves it, one quadword), VRSAVE.
 */
#define FP_VSR(n) (16 * (n))
#define FP_FPSCR 1024
#define FP_VSCR 1040
#define FP_VRSAVE 1056
#define FP_BYTES 1072

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
    u64 cfar;
};
static_assert(offsetof(VcpuRegs, gpr) == REGS_GPR(0) && offsetof(VcpuRegs, cr) == REGS_CR &&
              offsetof(VcpuRegs, lr) == REGS_LR && offsetof(VcpuRegs, ctr) == REGS_CTR &&
              offsetof(VcpuRegs, xer) == REGS_XER && offsetof(VcpuRegs, pc) == REGS_PC &&
              offsetof(VcpuRegs, msr) == REGS_MSR && offsetof(VcpuRegs, cfar) == REGS_CFAR &&
              sizeof(VcpuRegs) == REGS_BYTES);

struct alignas(16) VcpuFp {
    u64 vsr[64][2];
    u64 fpscr, pad0;
    u64 vscr[2];
    u64 vrsave, pad1;
};
static_assert(offsetof(VcpuFp, vsr) == FP_VSR(0) && offsetof(VcpuFp, fpscr) == FP_FPSCR &&
              offsetof(VcpuFp, vscr) == FP_VSCR && offsetof(VcpuFp, vrsave) == FP_VRSAVE &&
              sizeof(VcpuFp) == FP_BYTES);

}  // namespace pv
#endif
