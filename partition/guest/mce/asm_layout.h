/* mce-guest: structure offsets shared by entry.S and kernel.h (which checks
 * them with static_assert). */
#pragma once

/* struct Context: what mce_switch saves of a kernel or process context (the
 * ELFv2 non-volatile state; r13 stays the vCPU's own, processes migrate). */
#define CTX_R1 0
#define CTX_R2 8
#define CTX_LR 16
#define CTX_CR 24
#define CTX_GPR(n) (32 + 8 * ((n) - 14)) /* r14..r31 */
#define CTX_SIZE 176

/* struct McFrame: everything an interrupted context needs to be resumed. */
#define MCF_GPR(n) (8 * (n))
#define MCF_CR 256
#define MCF_LR 264
#define MCF_CTR 272
#define MCF_XER 280
#define MCF_SRR0 288
#define MCF_SRR1 296
#define MCF_DAR 304
#define MCF_DSISR 312
#define MCF_LOG 320   /* r3 at FWNMI entry: the vCPU's buffer; 0 at 0x200 */
#define MCF_KIND 328  /* MC_KIND_* */
#define MCF_SIZE 336

#define MC_KIND_VECTOR 0     /* architected interrupt at 0x200 */
#define MC_KIND_FWNMI 1      /* ibm,nmi-register handler */
#define MC_KIND_SIMULATED 2  /* mce_simulate: a log built by the guest itself */

/* struct McArea (one per vCPU): depth, a frame and a stack per nesting level. */
#define MC_MAX_DEPTH 2       /* a machine check while handling one: level 2 */
#define MCA_DEPTH 0
#define MCA_FRAMES 16
#define MCA_STACKS (MCA_FRAMES + MC_MAX_DEPTH * MCF_SIZE)
#define MC_STACK_SIZE 16384

/* CpuLocal::scratch words (rt/layout.h RT_CPU_SCRATCH) used by the entry. */
#define MC_SCR_AREA 0        /* this vCPU's McArea, set before it runs */
#define MC_SCR_R9 1          /* spills while no register is free */
#define MC_SCR_R10 2
#define MC_SCR_R11 3
#define MC_SCR_R12 4
#define MC_SCR_R3 5          /* the interrupted r3 */
#define MC_SCR_HOLD 6        /* hold=1: mce_touch's load while armed (rt_decrementer), else 0 */
#define MC_SCR_DEC_R5 7      /* rt_decrementer's spill */
