/*
 * Hypervisor interrupt vectors and the partition exit/entry path.
 *
 * The .vectors section is position independent and copied to real address 0
 * at boot. Each vector saves r12/r13 and jumps to pv_vector_common with the
 * vector number in r12 (| 1 when the interrupt left its resume point in
 * HSRR0/1 rather than SRR0/1), which jumps (absolute, via CTR) to
 * pv_exit_common in the image. There the interrupted partition's registers
 * are saved into its VcpuRegs and C++ decides what runs next; pv_enter_guest
 * loads a VcpuRegs and hrfid's into the partition.
 *
 * An interrupt while the hypervisor itself ran (no VcpuRegs in the thread
 * block) saves the hypervisor's registers into the thread block instead; a
 * system reset it can survive (docs/scheduler.md, "Host events") returns
 * there by rfid, anything else is reported and stops the machine.
 *
 * The exit path runs with MSR[RI] = 0 (every interrupt clears it) until
 * HSPRG1, the scratch slots and SRR0/SRR1 are saved; the hypervisor runs with
 * RI = 1 from there until hrfid (docs/scheduler.md, "Host events").
 */
#include "arch/ppc64/asm.h"
#include "arch/ppc64/thread.h"
#include "arch/ppc64/vectors.h"
#include "hv/vcpu_regs.h"

#define HSRR_FLAG 1

	.machine power9
	.section .vectors, "ax"
	.globl pv_vectors
pv_vectors:

.macro VECTOR vec, hsrr
	. = pv_vectors + \vec
	mtspr	SPRN_HSPRG1, %r13
	mfspr	%r13, SPRN_HSPRG0
	std	%r12, TB_SCR12(%r13)
	mfspr	%r12, SPRN_CFAR		/* before the first branch changes it */
	std	%r12, TB_SCRCFAR(%r13)
	li	%r12, \vec + \hsrr * HSRR_FLAG
	b	pv_vector_common
.endm

#define PV_VECTOR_EMIT(vec, hsrr) VECTOR vec, hsrr;
	PV_VECTOR_TABLE(PV_VECTOR_EMIT)

	. = pv_vectors + 0x1800
pv_vector_common:
	std	%r11, TB_SCR11(%r13)
	mfctr	%r11
	std	%r11, TB_SCRCTR(%r13)
	ld	%r11, TB_EXIT(%r13)
	mtctr	%r11
	bctr

/*
 * Relocated vectors (LPCR[AIL] = 3): with a radix host, POWER9 takes the
 * hypervisor interrupts of a partition that runs with MSR[IR|DR] = 1 at
 * 0xc000000000004000 + vector, translation on (mm/host_translation.h maps
 * that to real 0x4000 + vector). Turn translation off (IR and DR are both
 * set here) and go on at the real vector, past its HSPRG1 save: in real mode
 * the top bits of the address are ignored, so the next fetch is this same
 * code at its real address. HSRR0/1 and SRR0/1 are untouched; CFAR is not
 * kept (the branch here sets it), as for Linux's out-of-line vectors.
 */
.macro AIL_VECTOR vec, hsrr
	. = pv_vectors + 0x4000 + \vec
	mtspr	SPRN_HSPRG1, %r13
	mfmsr	%r13
	xori	%r13, %r13, MSR_IR | MSR_DR
	mtmsrd	%r13
	isync
	b	pv_vectors + \vec + 4
.endm

#define PV_AIL_VECTOR_EMIT(vec, hsrr) AIL_VECTOR vec, hsrr;
	PV_VECTOR_TABLE(PV_AIL_VECTOR_EMIT)
	.globl pv_vectors_end
pv_vectors_end:

/*
 * Save r1..r31, CR, LR, XER, CTR, CFAR and the resume point into the VcpuRegs at
 * r11 (r0 is saved already; guest r11/r12/CTR/CR in the thread block, r13 in
 * HSPRG1). Leaves r12 = the vector without HSRR_FLAG; clobbers r0, r1, CR0.
 */
.macro SAVE_REGS
	std	%r1, REGS_GPR(1)(%r11)
	std	%r2, REGS_GPR(2)(%r11)
	std	%r3, REGS_GPR(3)(%r11)
	std	%r4, REGS_GPR(4)(%r11)
	std	%r5, REGS_GPR(5)(%r11)
	std	%r6, REGS_GPR(6)(%r11)
	std	%r7, REGS_GPR(7)(%r11)
	std	%r8, REGS_GPR(8)(%r11)
	std	%r9, REGS_GPR(9)(%r11)
	std	%r10, REGS_GPR(10)(%r11)
	ld	%r0, TB_SCR11(%r13)
	std	%r0, REGS_GPR(11)(%r11)
	ld	%r0, TB_SCR12(%r13)
	std	%r0, REGS_GPR(12)(%r11)
	mfspr	%r0, SPRN_HSPRG1
	std	%r0, REGS_GPR(13)(%r11)
	std	%r14, REGS_GPR(14)(%r11)
	std	%r15, REGS_GPR(15)(%r11)
	std	%r16, REGS_GPR(16)(%r11)
	std	%r17, REGS_GPR(17)(%r11)
	std	%r18, REGS_GPR(18)(%r11)
	std	%r19, REGS_GPR(19)(%r11)
	std	%r20, REGS_GPR(20)(%r11)
	std	%r21, REGS_GPR(21)(%r11)
	std	%r22, REGS_GPR(22)(%r11)
	std	%r23, REGS_GPR(23)(%r11)
	std	%r24, REGS_GPR(24)(%r11)
	std	%r25, REGS_GPR(25)(%r11)
	std	%r26, REGS_GPR(26)(%r11)
	std	%r27, REGS_GPR(27)(%r11)
	std	%r28, REGS_GPR(28)(%r11)
	std	%r29, REGS_GPR(29)(%r11)
	std	%r30, REGS_GPR(30)(%r11)
	std	%r31, REGS_GPR(31)(%r11)
	ld	%r0, TB_SCRCR(%r13)
	std	%r0, REGS_CR(%r11)
	mflr	%r0
	std	%r0, REGS_LR(%r11)
	mfxer	%r0
	std	%r0, REGS_XER(%r11)
	ld	%r0, TB_SCRCTR(%r13)
	std	%r0, REGS_CTR(%r11)
	ld	%r0, TB_SCRCFAR(%r13)
	std	%r0, REGS_CFAR(%r11)
	andi.	%r0, %r12, HSRR_FLAG
	bne	1f
	mfspr	%r0, SPRN_SRR0
	mfspr	%r1, SPRN_SRR1
	b	2f
1:	mfspr	%r0, SPRN_HSRR0
	mfspr	%r1, SPRN_HSRR1
2:	std	%r0, REGS_PC(%r11)
	std	%r1, REGS_MSR(%r11)
	clrrdi	%r12, %r12, 1
.endm

/* Load every register but r3 from the VcpuRegs at r3, then r3 itself. */
.macro LOAD_REGS
	ld	%r0, REGS_CR(%r3)
	mtcr	%r0
	ld	%r0, REGS_LR(%r3)
	mtlr	%r0
	ld	%r0, REGS_CTR(%r3)
	mtctr	%r0
	ld	%r0, REGS_XER(%r3)
	mtxer	%r0
	ld	%r0, REGS_GPR(0)(%r3)
	ld	%r1, REGS_GPR(1)(%r3)
	ld	%r2, REGS_GPR(2)(%r3)
	ld	%r4, REGS_GPR(4)(%r3)
	ld	%r5, REGS_GPR(5)(%r3)
	ld	%r6, REGS_GPR(6)(%r3)
	ld	%r7, REGS_GPR(7)(%r3)
	ld	%r8, REGS_GPR(8)(%r3)
	ld	%r9, REGS_GPR(9)(%r3)
	ld	%r10, REGS_GPR(10)(%r3)
	ld	%r11, REGS_GPR(11)(%r3)
	ld	%r12, REGS_GPR(12)(%r3)
	ld	%r14, REGS_GPR(14)(%r3)
	ld	%r15, REGS_GPR(15)(%r3)
	ld	%r16, REGS_GPR(16)(%r3)
	ld	%r17, REGS_GPR(17)(%r3)
	ld	%r18, REGS_GPR(18)(%r3)
	ld	%r19, REGS_GPR(19)(%r3)
	ld	%r20, REGS_GPR(20)(%r3)
	ld	%r21, REGS_GPR(21)(%r3)
	ld	%r22, REGS_GPR(22)(%r3)
	ld	%r23, REGS_GPR(23)(%r3)
	ld	%r24, REGS_GPR(24)(%r3)
	ld	%r25, REGS_GPR(25)(%r3)
	ld	%r26, REGS_GPR(26)(%r3)
	ld	%r27, REGS_GPR(27)(%r3)
	ld	%r28, REGS_GPR(28)(%r3)
	ld	%r29, REGS_GPR(29)(%r3)
	ld	%r30, REGS_GPR(30)(%r3)
	ld	%r31, REGS_GPR(31)(%r3)
	ld	%r13, REGS_GPR(13)(%r3)
	ld	%r3, REGS_GPR(3)(%r3)
.endm

	.text
/* r13 = thread block, r12 = vector; guest r11/r12/CTR in the block, r13 in HSPRG1. */
	.globl pv_exit_common
pv_exit_common:
	/* The partition's CR first: the compare below would clobber its CR0. */
	mfcr	%r11
	std	%r11, TB_SCRCR(%r13)
	ld	%r11, TB_REGS(%r13)
	cmpdi	%r11, 0
	beq	pv_hv_interrupted
	std	%r0, REGS_GPR(0)(%r11)
	mfspr	%r0, SPRN_PMC5		/* instruction count at exit: kExitHeadInstructions before this */
	std	%r0, TB_PMC_EXIT(%r13)
	SAVE_REGS
	li	%r0, 0
	std	%r0, TB_REGS(%r13)
	/* SRR0/SRR1 saved too, nothing live is left: a system reset from here on
	 * can be survived (MSR[RI] = 1, docs/scheduler.md "Host events"). */
	mfspr	%r0, SPRN_SRR0
	std	%r0, TB_SRR0(%r13)
	mfspr	%r0, SPRN_SRR1
	std	%r0, TB_SRR1(%r13)
	li	%r0, MSR_RI
	mtmsrd	%r0, 1
	li	%r0, 0
	ld	%r1, TB_STACK(%r13)
	ld	%r2, TB_TOC(%r13)
	stdu	%r0, -112(%r1)
	mr	%r3, %r13
	mr	%r4, %r12
	mr	%r5, %r11
	bl	pv_exit_c
	/* fall through: r3 = VcpuRegs to enter */

/*
 * r3 = VcpuRegs*, r13 = thread block, the partition's SRR0/SRR1 in it. SPRs
 * other than these were set in C++. Straight on to hrfid once SRR0/SRR1 hold
 * the partition's values: a system reset in between destroys them (with the
 * vCPU published in the thread block, the exit path sees MSR[HV] and stops).
 */
	.globl pv_enter_guest
pv_enter_guest:
	std	%r3, TB_REGS(%r13)
	ld	%r0, TB_SRR0(%r13)
	mtspr	SPRN_SRR0, %r0
	ld	%r0, TB_SRR1(%r13)
	mtspr	SPRN_SRR1, %r0
	ld	%r0, REGS_PC(%r3)
	mtspr	SPRN_HSRR0, %r0
	ld	%r0, REGS_MSR(%r3)
	mtspr	SPRN_HSRR1, %r0
	ld	%r0, REGS_CFAR(%r3)	/* no branch from here: hrfid leaves CFAR alone */
	mtspr	SPRN_CFAR, %r0
	LOAD_REGS
	hrfid
	.globl pv_enter_guest_end
pv_enter_guest_end:

/*
 * An interrupt while the hypervisor itself ran: its registers go to the
 * thread block's hv_regs and pv_hv_interrupt_c (on the fault stack) decides.
 * It returns only to resume the hypervisor: r3 = those registers, and the
 * interrupt was one that left the resume point in SRR0/SRR1.
 */
pv_hv_interrupted:
	addi	%r11, %r13, TB_HV_REGS
	std	%r0, REGS_GPR(0)(%r11)
	SAVE_REGS
	ld	%r1, TB_FAULT_STACK(%r13)
	ld	%r2, TB_TOC(%r13)
	li	%r0, 0
	stdu	%r0, -112(%r1)
	mr	%r3, %r13
	mr	%r4, %r12
	mr	%r5, %r11
	bl	pv_hv_interrupt_c
	ld	%r0, REGS_PC(%r3)
	mtspr	SPRN_SRR0, %r0
	ld	%r0, REGS_MSR(%r3)
	mtspr	SPRN_SRR1, %r0
	LOAD_REGS
	rfid
