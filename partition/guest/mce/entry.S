/*
 * mce-guest assembly: machine-check entries (0x200 and FWNMI), the resume
 * path and the context switch between the kernel and its processes.
 *
 * Machine-check entry: SPRG0 holds this vCPU's r13 (rt/crt0.S), so r13 is
 * parked in SPRG3 and four registers are spilled into CpuLocal::scratch; then
 * the whole interrupted state goes into frame[depth] of this vCPU's McArea
 * and mce_handle (machine_check.cpp) runs on stack[depth] with ME and RI set.
 * It either returns the frame (resume it: rfid) or never returns (the
 * interrupted process is abandoned, or the partition terminated). A third
 * nested machine check on one vCPU executes an illegal instruction, which
 * the hypervisor catches: the partition stops instead of wedging.
 */
#include "partition/guest/rt/asm.h"
#include "partition/guest/rt/layout.h"
#include "partition/guest/mce/asm_layout.h"

#define SPRN_SPRG3 275
#define MSR_ME 0x1000
#define SCR(i) (RT_CPU_SCRATCH + 8 * (i))

	.machine power9
	.text

/* Both entries: park r13, point r13 at CpuLocal, spill r9-r12. */
	.macro mc_prologue
	mtspr	SPRN_SPRG3, %r13
	mfspr	%r13, SPRN_SPRG0
	std	%r9, SCR(MC_SCR_R9)(%r13)
	std	%r10, SCR(MC_SCR_R10)(%r13)
	std	%r11, SCR(MC_SCR_R11)(%r13)
	std	%r12, SCR(MC_SCR_R12)(%r13)
	.endm

/* 0x200 (rt/crt0.S branches here): every register as interrupted. */
	.globl rt_machine_check
rt_machine_check:
	mc_prologue
	std	%r3, SCR(MC_SCR_R3)(%r13)
	li	%r3, 0				/* no log: H_PV_GET_ERROR_LOG */
	li	%r11, MC_KIND_VECTOR
	b	mc_common

/* FWNMI (ibm,nmi-register): r3 = buffer, its first doubleword the
 * interrupted r3 (big-endian), the RTAS error log after it. */
	.globl mce_fwnmi_machine_check
mce_fwnmi_machine_check:
	mc_prologue
	li	%r11, MC_KIND_FWNMI
mc_fwnmi_common:
	ldbrx	%r9, 0, %r3			/* big-endian saved r3 */
	std	%r9, SCR(MC_SCR_R3)(%r13)
	b	mc_common

/* FWNMI system reset: report it (crt0.S) and power off. */
	.globl mce_fwnmi_system_reset
mce_fwnmi_system_reset:
	li	%r3, 0x100
	b	rt_unexpected_entry

/*
 * void mce_simulate(void* buffer): a machine check raised by software, with a
 * buffer laid out as FWNMI's (debugging aid, bootarg mce_simulate=). SRR0 =
 * our return address and SRR1 = our MSR, so a resumed "interrupt" returns.
 */
	.globl mce_simulate
mce_simulate:
	mflr	%r0
	mtspr	SPRN_SRR0, %r0
	mfmsr	%r0
	mtspr	SPRN_SRR1, %r0
	mc_prologue
	li	%r11, MC_KIND_SIMULATED
	b	mc_fwnmi_common

/* r3 = log or 0, r11 = kind, r9-r12 and r3 spilled, r13 in SPRG3. */
mc_common:
	ld	%r12, SCR(MC_SCR_AREA)(%r13)	/* McArea of this vCPU */
	lwz	%r10, MCA_DEPTH(%r12)
	cmplwi	%r10, MC_MAX_DEPTH
	bge	mc_too_deep
	addi	%r9, %r10, 1
	stw	%r9, MCA_DEPTH(%r12)
	mulli	%r9, %r10, MCF_SIZE
	add	%r9, %r9, %r12
	addi	%r9, %r9, MCA_FRAMES		/* r9 = frame[depth] */
	std	%r0, MCF_GPR(0)(%r9)
	std	%r1, MCF_GPR(1)(%r9)
	std	%r2, MCF_GPR(2)(%r9)
	.irp n, 4,5,6,7,8,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	std	%r\n, MCF_GPR(\n)(%r9)
	.endr
	ld	%r0, SCR(MC_SCR_R3)(%r13)
	std	%r0, MCF_GPR(3)(%r9)
	ld	%r0, SCR(MC_SCR_R9)(%r13)
	std	%r0, MCF_GPR(9)(%r9)
	ld	%r0, SCR(MC_SCR_R10)(%r13)
	std	%r0, MCF_GPR(10)(%r9)
	ld	%r0, SCR(MC_SCR_R11)(%r13)
	std	%r0, MCF_GPR(11)(%r9)
	ld	%r0, SCR(MC_SCR_R12)(%r13)
	std	%r0, MCF_GPR(12)(%r9)
	mfspr	%r0, SPRN_SPRG3
	std	%r0, MCF_GPR(13)(%r9)
	mfcr	%r0
	std	%r0, MCF_CR(%r9)
	mflr	%r0
	std	%r0, MCF_LR(%r9)
	mfctr	%r0
	std	%r0, MCF_CTR(%r9)
	mfxer	%r0
	std	%r0, MCF_XER(%r9)
	mfspr	%r0, SPRN_SRR0
	std	%r0, MCF_SRR0(%r9)
	mfspr	%r0, SPRN_SRR1
	std	%r0, MCF_SRR1(%r9)
	mfspr	%r0, SPRN_DAR
	std	%r0, MCF_DAR(%r9)
	mfspr	%r0, SPRN_DSISR
	std	%r0, MCF_DSISR(%r9)
	std	%r3, MCF_LOG(%r9)
	std	%r11, MCF_KIND(%r9)
	/* r1 = top of stack[depth] */
	addi	%r10, %r10, 1
	mulli	%r10, %r10, MC_STACK_SIZE
	add	%r1, %r12, %r10
	addi	%r1, %r1, MCA_STACKS - RT_CPU_STACK_PAD
	li	%r0, 0
	std	%r0, 0(%r1)
	LOAD_ADDR(%r2, .TOC.)
	/* State saved: SRR0/1 may be overwritten (RI), and a machine check
	 * inside the handler is taken rather than a checkstop (ME). */
	mfmsr	%r0
	ori	%r0, %r0, MSR_ME | MSR_RI
	mtmsrd	%r0, 0
	mr	%r3, %r9
	bl	mce_handle			/* returns the frame to resume */
	nop
	/* fall through */

/* [[noreturn]] void mce_resume(const McFrame* f): back into f by rfid. */
	.globl mce_resume
mce_resume:
	li	%r0, 0
	mtmsrd	%r0, 1				/* EE = RI = 0 while SRR0/1 are live */
	ld	%r0, MCF_SRR0(%r3)
	mtspr	SPRN_SRR0, %r0
	ld	%r0, MCF_SRR1(%r3)
	mtspr	SPRN_SRR1, %r0
	ld	%r0, MCF_DAR(%r3)
	mtspr	SPRN_DAR, %r0
	ld	%r0, MCF_DSISR(%r3)
	mtspr	SPRN_DSISR, %r0
	ld	%r0, MCF_CR(%r3)
	mtcrf	0xff, %r0
	ld	%r0, MCF_LR(%r3)
	mtlr	%r0
	ld	%r0, MCF_CTR(%r3)
	mtctr	%r0
	ld	%r0, MCF_XER(%r3)
	mtxer	%r0
	.irp n, 0,1,2,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ld	%r\n, MCF_GPR(\n)(%r3)
	.endr
	ld	%r3, MCF_GPR(3)(%r3)
	rfid

mc_too_deep:
	.long 0					/* illegal: the hypervisor stops us */

/* ------------------------------------------------------------------------ */

/* void mce_switch(Context* save, const Context* load) */
	.globl mce_switch
mce_switch:
	mflr	%r0
	std	%r0, CTX_LR(%r3)
	mfcr	%r0
	std	%r0, CTX_CR(%r3)
	std	%r1, CTX_R1(%r3)
	std	%r2, CTX_R2(%r3)
	.irp n, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	std	%r\n, CTX_GPR(\n)(%r3)
	.endr
	mr	%r3, %r4
	/* fall through */

/* [[noreturn]] void mce_context_load(const Context* c): continue c. */
	.globl mce_context_load
mce_context_load:
	ld	%r0, CTX_LR(%r3)
	mtlr	%r0
	ld	%r0, CTX_CR(%r3)
	mtcrf	0xff, %r0
	ld	%r1, CTX_R1(%r3)
	ld	%r2, CTX_R2(%r3)
	.irp n, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ld	%r\n, CTX_GPR(\n)(%r3)
	.endr
	blr

/* ------------------------------------------------------------------------ */

/*
 * hold=1 (main.cpp): u64 mce_touch(const u64* addr), one load. While a
 * process has it armed (CpuLocal::scratch[MC_SCR_HOLD] = mce_touch), the
 * decrementer interrupt that finds the vCPU at that load (the hypervisor woke
 * it from its page-in wait to take it) does not return there but to
 * mce_touch_held: the process waits (mce_touch_hold) away from the page, and
 * only then makes the access again.
 */
	.globl mce_touch
mce_touch:
	ld	%r3, 0(%r3)
	blr

/* As if mce_touch had been called: r3 = addr, LR = its caller. */
mce_touch_held:
	mflr	%r0
	std	%r0, 16(%r1)
	stdu	%r1, -48(%r1)
	std	%r3, 32(%r1)
	bl	mce_touch_hold
	nop
	ld	%r3, 32(%r1)
	addi	%r1, %r1, 48
	ld	%r0, 16(%r1)
	mtlr	%r0
	b	mce_touch

/* 0x900 (rt/crt0.S, RT_DEC_HOOK): as rt's own handler, plus the redirect. */
	.globl rt_decrementer
rt_decrementer:
	mtspr	SPRN_SPRG1, %r3
	mtspr	SPRN_SPRG2, %r4
	mfspr	%r3, SPRN_SPRG0
	ld	%r4, RT_CPU_DEC_COUNT(%r3)
	addi	%r4, %r4, 1
	std	%r4, RT_CPU_DEC_COUNT(%r3)
	std	%r5, SCR(MC_SCR_DEC_R5)(%r3)
	mfcr	%r5
	ld	%r4, SCR(MC_SCR_HOLD)(%r3)
	mfspr	%r3, SPRN_SRR0
	cmpd	%r3, %r4
	bne	1f
	LOAD_ADDR(%r4, mce_touch_held)
	mtspr	SPRN_SRR0, %r4
	mfspr	%r3, SPRN_SPRG0
	li	%r4, 0
	std	%r4, SCR(MC_SCR_HOLD)(%r3)	/* once */
1:	mtcrf	0xff, %r5
	mfspr	%r3, SPRN_SPRG0
	ld	%r5, SCR(MC_SCR_DEC_R5)(%r3)
	lis	%r3, 0x7fff
	ori	%r3, %r3, 0xffff
	mtspr	SPRN_DEC, %r3
	mfspr	%r4, SPRN_SPRG2
	mfspr	%r3, SPRN_SPRG1
	rfid

/* A new process context starts here (LR): r14 = its Process. */
	.globl mce_process_start
mce_process_start:
	mr	%r3, %r14
	bl	mce_process_main		/* never returns */
	nop
	.long 0
