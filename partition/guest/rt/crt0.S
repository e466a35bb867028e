/*
 * Start of a test partition image, linked and loaded at logical address 0.
 *
 * 0x000        entry of vCPU 0 (big-endian, real mode, r3 = device tree):
 *              endian fix-up, then a branch to rt_boot above 0x2000.
 * 0x100-0xfff  the partition's own interrupt vectors. 0x900 (decrementer)
 *              is always handled. Built with RT_CATCH_ALL_VECTORS (smp-guest),
 *              every other vector 0x100, 0x120, ... reports the interrupt and
 *              powers off; without it (bad-guest) they stay 0x00000000, an
 *              illegal instruction the hypervisor catches. Built with
 *              RT_MACHINE_CHECK_VECTOR (mce-guest), 0x200 branches to the
 *              image's own rt_machine_check with every register intact;
 *              with RT_DEC_HOOK (mce-guest), a little-endian 0x900 branches
 *              to the image's own rt_decrementer.
 * .text        rt_boot (vCPU 0), rt_secondary_entry (RTAS start-cpu), and
 *              rt_unexpected_entry.
 */
#include "partition/guest/rt/asm.h"
#include "partition/guest/rt/layout.h"

	.machine power9
	.section .text.head, "ax"
	.globl _start
_start:
	FIXUP_ENDIAN
	b	rt_boot

#ifdef RT_CATCH_ALL_VECTORS
	/* r3 = the vector; the interrupted r3 is lost, the path never returns. */
	.macro unexpected_vectors from, to
	.set vec, \from
	.rept (\to - \from) / 0x20
	.org vec
	li	%r3, vec
	b	rt_unexpected_entry
	.set vec, vec + 0x20
	.endr
	.endm

#ifdef RT_MACHINE_CHECK_VECTOR
	unexpected_vectors 0x100, 0x200
#else
	unexpected_vectors 0x100, 0x900
#endif
#endif

#ifdef RT_MACHINE_CHECK_VECTOR
	/* 0x200 machine check: a plain branch clobbers nothing (SRR0/1 intact). */
	.org 0x200
	b	rt_machine_check
#ifdef RT_CATCH_ALL_VECTORS
	unexpected_vectors 0x220, 0x900
#endif
#endif

/*
 * 0x900 decrementer: count the interrupt, push DEC far away, return. Used to
 * wake from H_CEDE (PAPR returns from H_CEDE with MSR[EE]=1). Written for
 * both interrupt endiannesses, so it also works if H_SET_MODE(LE) failed: the
 * big-endian copy is the little-endian one byte-reversed (BE encoding in the
 * comment). rfid restores the interrupted MSR, LE included.
 */
	.org 0x900
rt_dec_vector:
	tdi	0, 0, 0x48		/* LE: no-op. BE: "b .+8" to the BE copy */
	b	1f
	.long 0xa643717c		/* 7c7143a6  mtsprg  1,r3     */
	.long 0xa643927c		/* 7c9243a6  mtsprg  2,r4     */
	.long 0xa642707c		/* 7c7042a6  mfsprg  r3,0     */
	.long 0x000083e8		/* e8830000  ld      r4,0(r3) */
	.long 0x01008438		/* 38840001  addi    r4,r4,1  */
	.long 0x000083f8		/* f8830000  std     r4,0(r3) */
	.long 0xff7f603c		/* 3c607fff  lis     r3,0x7fff */
	.long 0xffff6360		/* 6063ffff  ori     r3,r3,0xffff */
	.long 0xa603767c		/* 7c7603a6  mtdec   r3       */
	.long 0xa642927c		/* 7c9242a6  mfsprg  r4,2     */
	.long 0xa642717c		/* 7c7142a6  mfsprg  r3,1     */
	.long 0x2400004c		/* 4c000024  rfid             */
1:
#ifdef RT_DEC_HOOK
	/* The image's own (little-endian only), every register intact. */
	b	rt_decrementer
#endif
	mtspr	SPRN_SPRG1, %r3
	mtspr	SPRN_SPRG2, %r4
	mfspr	%r3, SPRN_SPRG0		/* this vCPU's r13 */
	ld	%r4, RT_CPU_DEC_COUNT(%r3)
	addi	%r4, %r4, 1
	std	%r4, RT_CPU_DEC_COUNT(%r3)
	lis	%r3, 0x7fff
	ori	%r3, %r3, 0xffff
	mtspr	SPRN_DEC, %r3
	mfspr	%r4, SPRN_SPRG2
	mfspr	%r3, SPRN_SPRG1
	rfid
	/* The byte-reversed copy hard-codes the offset 0. */
	.if RT_CPU_DEC_COUNT != 0
	.error "RT_CPU_DEC_COUNT is baked into the big-endian copy above"
	.endif
	.if . - rt_dec_vector > 0x80
	.error "decrementer handler overflows into 0x980"
	.endif

#ifdef RT_CATCH_ALL_VECTORS
	unexpected_vectors 0x980, 0x1000
#endif
	.org 0x1000

/* ------------------------------------------------------------------------ */
	.text

/* Point r13/SPRG0 and r1 at the vCPU block in r3; set r2. Clobbers r0. */
	.macro enter_cpu_block
	addi	%r13, %r3, RT_CPU_GUARD
	mtspr	SPRN_SPRG0, %r13
	addis	%r1, %r3, RT_CPU_SIZE >> 16
	addi	%r1, %r1, -RT_CPU_STACK_PAD
	li	%r0, 0
	std	%r0, 0(%r1)		/* end of the back chain */
	LOAD_ADDR(%r2, .TOC.)
	.endm

	.if RT_CPU_SIZE & 0xffff
	.error "RT_CPU_SIZE must be a multiple of 64 KiB (addis above)"
	.endif

/* vCPU 0, little-endian now; r3 = device tree. */
rt_boot:
	mr	%r31, %r3
	LOAD_ADDR(%r10, __bss_start)
	LOAD_ADDR(%r11, __bss_end)
	li	%r0, 0
1:	cmpld	%r10, %r11
	bge	2f
	std	%r0, 0(%r10)
	addi	%r10, %r10, 8
	b	1b
2:	LOAD_ADDR(%r3, rt_cpus)
	enter_cpu_block
	mr	%r3, %r31
	bl	pv_main			/* never returns */
	nop
	.long 0

/* Secondary vCPU from RTAS start-cpu: big-endian, r3 = its vCPU block. */
	.globl rt_secondary_entry
rt_secondary_entry:
	FIXUP_ENDIAN
	mr	%r31, %r3
	enter_cpu_block
	mr	%r3, %r31
	bl	rt_secondary_main	/* never returns */
	nop
	.long 0

/*
 * From a vector stub: r3 = vector. Report it from a private stack and power
 * off. A second unexpected interrupt (also while reporting) executes an
 * illegal instruction instead, which the hypervisor catches.
 */
	.globl rt_unexpected_entry
rt_unexpected_entry:
	LOAD_ADDR(%r10, rt_unexpected_busy)
	lwz	%r11, 0(%r10)
	cmpwi	%r11, 0
	bne	9f
	li	%r11, 1
	stw	%r11, 0(%r10)
	mfspr	%r4, SPRN_SRR0
	mfspr	%r5, SPRN_SRR1
	mfspr	%r6, SPRN_DAR
	mfspr	%r7, SPRN_DSISR
	mfspr	%r13, SPRN_SPRG0
	LOAD_ADDR(%r1, rt_emergency_stack + RT_EMERGENCY_STACK - RT_CPU_STACK_PAD)
	li	%r0, 0
	std	%r0, 0(%r1)
	LOAD_ADDR(%r2, .TOC.)
	bl	rt_unexpected_exception	/* never returns */
	nop
9:	.long 0

	.bss
	.balign 16
rt_emergency_stack:
	.space RT_EMERGENCY_STACK
rt_unexpected_busy:
	.long 0
