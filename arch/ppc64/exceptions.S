/*
 * Hypervisor interrupt vectors and the partition exit/entry path.
 *
 * The .vectors section is position independent and copied to real address 0
 * at boot. Each vector saves r12/r13 and jumps to pv_vector_common with the
 * vector number in r12, which jumps (absolute, via CTR) to pv_exit_common in
 * the image. There the interrupted partition's registers are saved into its
 * VcpuRegs and C++ decides what runs next; pv_enter_guest loads a VcpuRegs and
 * hrfid's into the partition.
 */
#include "arch/ppc64/asm.h"
#include "arch/ppc64/thread.h"

#define GPR(n) (8 * (n))
#define R_CR 256
#define R_LR 264
#define R_CTR 272
#define R_XER 280
#define R_PC 288
#define R_MSR 296

	.machine power9
	.section .vectors, "ax"
	.globl pv_vectors
pv_vectors:

.macro VECTOR vec
	. = pv_vectors + \vec
	mtspr	SPRN_HSPRG1, %r13
	mfspr	%r13, SPRN_HSPRG0
	std	%r12, TB_SCR12(%r13)
	li	%r12, \vec
	b	pv_vector_common
.endm

	VECTOR 0x100
	VECTOR 0x200
	VECTOR 0x300
	VECTOR 0x380
	VECTOR 0x400
	VECTOR 0x480
	VECTOR 0x500
	VECTOR 0x600
	VECTOR 0x700
	VECTOR 0x800
	VECTOR 0x900
	VECTOR 0x980
	VECTOR 0xa00
	VECTOR 0xb00
	VECTOR 0xc00
	VECTOR 0xd00
	VECTOR 0xe00
	VECTOR 0xe20
	VECTOR 0xe40
	VECTOR 0xe60
	VECTOR 0xe80
	VECTOR 0xea0
	VECTOR 0xf00
	VECTOR 0xf20
	VECTOR 0xf40
	VECTOR 0xf60
	VECTOR 0xf80
	VECTOR 0x1000

	. = pv_vectors + 0x1800
pv_vector_common:
	std	%r11, TB_SCR11(%r13)
	mfctr	%r11
	std	%r11, TB_SCRCTR(%r13)
	ld	%r11, TB_EXIT(%r13)
	mtctr	%r11
	bctr
	.globl pv_vectors_end
pv_vectors_end:

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
	std	%r0, GPR(0)(%r11)
	mfspr	%r0, SPRN_PMC5		/* instruction count at exit: kExitHeadInstructions before this */
	std	%r0, TB_PMC_EXIT(%r13)
	std	%r1, GPR(1)(%r11)
	std	%r2, GPR(2)(%r11)
	std	%r3, GPR(3)(%r11)
	std	%r4, GPR(4)(%r11)
	std	%r5, GPR(5)(%r11)
	std	%r6, GPR(6)(%r11)
	std	%r7, GPR(7)(%r11)
	std	%r8, GPR(8)(%r11)
	std	%r9, GPR(9)(%r11)
	std	%r10, GPR(10)(%r11)
	ld	%r0, TB_SCR11(%r13)
	std	%r0, GPR(11)(%r11)
	ld	%r0, TB_SCR12(%r13)
	std	%r0, GPR(12)(%r11)
	mfspr	%r0, SPRN_HSPRG1
	std	%r0, GPR(13)(%r11)
	std	%r14, GPR(14)(%r11)
	std	%r15, GPR(15)(%r11)
	std	%r16, GPR(16)(%r11)
	std	%r17, GPR(17)(%r11)
	std	%r18, GPR(18)(%r11)
	std	%r19, GPR(19)(%r11)
	std	%r20, GPR(20)(%r11)
	std	%r21, GPR(21)(%r11)
	std	%r22, GPR(22)(%r11)
	std	%r23, GPR(23)(%r11)
	std	%r24, GPR(24)(%r11)
	std	%r25, GPR(25)(%r11)
	std	%r26, GPR(26)(%r11)
	std	%r27, GPR(27)(%r11)
	std	%r28, GPR(28)(%r11)
	std	%r29, GPR(29)(%r11)
	std	%r30, GPR(30)(%r11)
	std	%r31, GPR(31)(%r11)
	ld	%r0, TB_SCRCR(%r13)
	std	%r0, R_CR(%r11)
	mflr	%r0
	std	%r0, R_LR(%r11)
	mfxer	%r0
	std	%r0, R_XER(%r11)
	ld	%r0, TB_SCRCTR(%r13)
	std	%r0, R_CTR(%r11)
	/* sc 1 leaves the resume point in SRR0/1, everything else in HSRR0/1. */
	cmpdi	%r12, 0xc00
	bne	1f
	mfspr	%r0, SPRN_SRR0
	mfspr	%r1, SPRN_SRR1
	b	2f
1:	mfspr	%r0, SPRN_HSRR0
	mfspr	%r1, SPRN_HSRR1
2:	std	%r0, R_PC(%r11)
	std	%r1, R_MSR(%r11)
	li	%r0, 0
	std	%r0, TB_REGS(%r13)
	ld	%r1, TB_STACK(%r13)
	ld	%r2, TB_TOC(%r13)
	stdu	%r0, -112(%r1)
	mr	%r3, %r13
	mr	%r4, %r12
	mr	%r5, %r11
	bl	pv_exit_c
	/* fall through: r3 = VcpuRegs to enter */

/* r3 = VcpuRegs*, r13 = thread block. SPRs other than these were set in C++. */
	.globl pv_enter_guest
pv_enter_guest:
	std	%r3, TB_REGS(%r13)
	ld	%r0, R_PC(%r3)
	mtspr	SPRN_HSRR0, %r0
	ld	%r0, R_MSR(%r3)
	mtspr	SPRN_HSRR1, %r0
	ld	%r0, R_CR(%r3)
	mtcr	%r0
	ld	%r0, R_LR(%r3)
	mtlr	%r0
	ld	%r0, R_CTR(%r3)
	mtctr	%r0
	ld	%r0, R_XER(%r3)
	mtxer	%r0
	ld	%r0, GPR(0)(%r3)
	ld	%r1, GPR(1)(%r3)
	ld	%r2, GPR(2)(%r3)
	ld	%r4, GPR(4)(%r3)
	ld	%r5, GPR(5)(%r3)
	ld	%r6, GPR(6)(%r3)
	ld	%r7, GPR(7)(%r3)
	ld	%r8, GPR(8)(%r3)
	ld	%r9, GPR(9)(%r3)
	ld	%r10, GPR(10)(%r3)
	ld	%r11, GPR(11)(%r3)
	ld	%r12, GPR(12)(%r3)
	ld	%r14, GPR(14)(%r3)
	ld	%r15, GPR(15)(%r3)
	ld	%r16, GPR(16)(%r3)
	ld	%r17, GPR(17)(%r3)
	ld	%r18, GPR(18)(%r3)
	ld	%r19, GPR(19)(%r3)
	ld	%r20, GPR(20)(%r3)
	ld	%r21, GPR(21)(%r3)
	ld	%r22, GPR(22)(%r3)
	ld	%r23, GPR(23)(%r3)
	ld	%r24, GPR(24)(%r3)
	ld	%r25, GPR(25)(%r3)
	ld	%r26, GPR(26)(%r3)
	ld	%r27, GPR(27)(%r3)
	ld	%r28, GPR(28)(%r3)
	ld	%r29, GPR(29)(%r3)
	ld	%r30, GPR(30)(%r3)
	ld	%r31, GPR(31)(%r3)
	ld	%r13, GPR(13)(%r3)
	ld	%r3, GPR(3)(%r3)
	hrfid
	.globl pv_enter_guest_end
pv_enter_guest_end:

/* An interrupt while the hypervisor itself ran: report and stop the thread. */
pv_hv_interrupted:
	ld	%r1, TB_FAULT_STACK(%r13)
	ld	%r2, TB_TOC(%r13)
	li	%r0, 0
	stdu	%r0, -112(%r1)
	mr	%r3, %r13
	mr	%r4, %r12
	bl	pv_hv_fault
	b	.
