/*
 * u64 rt_rtas_enter(rtas_args *args, u64 rtas_base, u64 rtas_entry)
 *
 * Call RTAS as Linux's enter_rtas does: r3 = args (big-endian rtas_args),
 * r4 = rtas-base, entered with rfid at rtas-entry in big-endian real mode with
 * EE off (our MSR with LE and EE cleared; SF, ME, RI kept). LR points at
 * rt_rtas_return, which RTAS reaches with blr, still big-endian: it switches
 * back to little-endian and restores everything from this frame. RTAS may
 * change any register, r1 and r13 included: r1 is recovered from the vCPU
 * block, which SPRG0 points to. Returns RTAS's r3.
 */
#include "partition/guest/rt/asm.h"
#include "partition/guest/rt/layout.h"

	.machine power9
	.text

#define FRAME 208		/* 32 header + r2 + MSR + r13..r31, 16-aligned */
#define F_R2 32
#define F_MSR 40
#define F_GPR(n) (48 + 8 * ((n) - 13))

	.globl rt_rtas_enter
rt_rtas_enter:
	mflr	%r0
	std	%r0, 16(%r1)
	mfcr	%r0
	stw	%r0, 8(%r1)
	stdu	%r1, -FRAME(%r1)
	std	%r2, F_R2(%r1)
	.irp n, 13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	std	%r\n, F_GPR(\n)(%r1)
	.endr
	mfmsr	%r12
	std	%r12, F_MSR(%r1)
	std	%r1, RT_CPU_RTAS_SP(%r13)
	li	%r0, 0
	mtmsrd	%r0, 1			/* EE = RI = 0 while SRR0/1 are live */
	li	%r11, MSR_LE
	ori	%r11, %r11, MSR_EE
	andc	%r11, %r12, %r11	/* RTAS MSR: ours without LE and EE */
	mtspr	SPRN_SRR0, %r5
	mtspr	SPRN_SRR1, %r11
	LOAD_ADDR(%r11, rt_rtas_return)
	mtlr	%r11
	rfid				/* r3 = args, r4 = rtas-base */
	b	.

rt_rtas_return:
	FIXUP_ENDIAN			/* RTAS returns big-endian; keeps r3 */
	mfspr	%r13, SPRN_SPRG0
	ld	%r1, RT_CPU_RTAS_SP(%r13)
	ld	%r12, F_MSR(%r1)
	mtmsrd	%r12, 1			/* our EE and RI again */
	ld	%r2, F_R2(%r1)
	.irp n, 13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ld	%r\n, F_GPR(\n)(%r1)
	.endr
	addi	%r1, %r1, FRAME
	ld	%r0, 16(%r1)
	mtlr	%r0
	lwz	%r0, 8(%r1)
	mtcrf	0xff, %r0
	blr
