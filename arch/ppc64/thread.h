// Per-hardware-thread block, reached through HSPRG0 (and r13 while in the
// hypervisor). Offsets used by assembly are defined here and checked.
#pragma once

#define TB_GUARD_BYTES 0x7010   /* libfdt's stack-protector canary is at r13 - 0x7010 */
#define TB_SCR11 0
#define TB_SCR12 8
#define TB_SCRCTR 16
#define TB_REGS 24          /* VcpuRegs* of the running partition, 0 in the hypervisor */
#define TB_STACK 32         /* top of this thread's hypervisor stack */
#define TB_TOC 40
#define TB_EXIT 48          /* address of pv_exit_common */
#define TB_FAULT_STACK 56
#define TB_PMC_EXIT 64      /* PMC5 early in the exit path (make bench path lengths) */
#define TB_SCRCR 72         /* the partition's CR, saved before the exit path compares anything */
#define TB_HV_REGS 80       /* the hypervisor's own registers when a system reset interrupted it */
#define TB_SRR0 392         /* the partition's SRR0/SRR1 between the exit/entry path and C++ */
#define TB_SRR1 400
#define TB_SCRCFAR 408      /* CFAR as the vector found it, before its branch */

#ifndef __ASSEMBLER__
#include <cstddef>

#include "hv/cpu.h"
#include "hv/lazy_state.h"
#include "hv/vcpu_regs.h"

namespace pv {
struct Vcpu;
}

namespace pv::arch {

struct ThreadBlock {
    u64 scr11, scr12, scrctr;
    void* regs;
    u64 stack_top, toc, exit_entry, fault_stack;
    u64 pmc_exit;
    u64 scrcr;
    VcpuRegs hv_regs;
    u64 srr0, srr1;
    u64 scrcfar;
    PhysCpu cpu;
    // What this thread's LPIDR/LPCR/PID hold: writing them is costly (a TLB
    // flush under QEMU), so entry writes only what changes.
    u64 loaded_lpid = ~u64{0}, loaded_lpcr = ~u64{0}, loaded_pid = ~u64{0};
    // Whose FP/VMX/VSX and lazy SPRs the registers hold (hv/lazy_state.h).
    LazyHolder<Vcpu> lazy{};
    // Added to PMC5 for the hypervisor's own counts: loading a vCPU's PMC5
    // must not break a path length measured across it (arch::instructions).
    u64 pmc5_bias = 0;
    // The partition timebase offset TBU40 added at this entry (0: the TB is
    // the host's); the exit path takes it off before anything reads the TB.
    u64 tb_offset_applied = 0;
};
static_assert(offsetof(ThreadBlock, scr11) == TB_SCR11 && offsetof(ThreadBlock, scr12) == TB_SCR12 &&
              offsetof(ThreadBlock, scrctr) == TB_SCRCTR && offsetof(ThreadBlock, regs) == TB_REGS &&
              offsetof(ThreadBlock, stack_top) == TB_STACK && offsetof(ThreadBlock, toc) == TB_TOC &&
              offsetof(ThreadBlock, exit_entry) == TB_EXIT &&
              offsetof(ThreadBlock, fault_stack) == TB_FAULT_STACK &&
              offsetof(ThreadBlock, pmc_exit) == TB_PMC_EXIT && offsetof(ThreadBlock, scrcr) == TB_SCRCR &&
              offsetof(ThreadBlock, hv_regs) == TB_HV_REGS && offsetof(ThreadBlock, srr0) == TB_SRR0 &&
              offsetof(ThreadBlock, srr1) == TB_SRR1 && offsetof(ThreadBlock, scrcfar) == TB_SCRCFAR);

// The guard keeps the canary constant: nothing ever writes it.
struct alignas(128) ThreadSlot {
    unsigned char guard[TB_GUARD_BYTES];
    ThreadBlock block;
};

ThreadBlock& this_thread();
ThreadBlock& thread_block(u32 index);

}  // namespace pv::arch
#endif
