/* Per-vCPU block layout of the test partitions, shared by the assembly
 * (crt0.S, rtas_entry.S) and cpu.h, which checks it with static_assert. */
#pragma once

#define RT_MAX_CPUS 16
#define RT_CPU_SIZE 0x10000       /* one block per vCPU: guard, fields, stack */
#define RT_CPU_GUARD 0x7010       /* r13 = block + RT_CPU_GUARD: libfdt reads its
                                     stack-protector canary at r13 - 0x7010 */
#define RT_CPU_STACK_PAD 64       /* r1 starts this far below the block's end */

/* Offsets from r13 (= SPRG0). */
#define RT_CPU_DEC_COUNT 0        /* bumped by the 0x900 handler */
#define RT_CPU_RTAS_SP 8          /* r1 while this vCPU is inside RTAS */
#define RT_CPU_SCRATCH 112        /* CpuLocal::scratch: an image's own interrupt
                                     entry code (mce-guest's machine checks) */
#define RT_CPU_SCRATCH_WORDS 8

#define RT_EMERGENCY_STACK 8192   /* for the unexpected-exception path */
