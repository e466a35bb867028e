/*
 * i64 pv_opal_call(u64 token, u64 a0, ..., u64 a6): call OPAL from our
 * little-endian real-mode hypervisor. OPAL runs big-endian with r2 = its base;
 * it returns with blr to our LR, still big-endian, hence the fix-up there.
 *
 * PPR and DSCR are kept across the call: they may hold the running vCPU's
 * values (switched lazily, docs/vcpu_state.md), and skiboot sets the thread
 * priority itself (HMT_MEDIUM and friends).
 */
#include "arch/ppc64/asm.h"

	.machine power9
	.text
	.globl pv_opal_call
pv_opal_call:
	mflr	%r0
	std	%r0, 16(%r1)
	stdu	%r1, -64(%r1)
	std	%r2, 32(%r1)
	std	%r13, 40(%r1)
	mfspr	%r11, SPRN_PPR
	std	%r11, 48(%r1)
	mfspr	%r11, SPRN_DSCR
	std	%r11, 56(%r1)
	mr	%r0, %r3
	mr	%r3, %r4
	mr	%r4, %r5
	mr	%r5, %r6
	mr	%r6, %r7
	mr	%r7, %r8
	mr	%r8, %r9
	mr	%r9, %r10
	LOAD_ADDR(%r11, pv_boot_args)
	ld	%r12, 16(%r11)		/* OPAL entry */
	mtspr	SPRN_HSRR0, %r12
	mfmsr	%r12
	li	%r11, MSR_LE
	ori	%r11, %r11, MSR_EE
	andc	%r12, %r12, %r11
	mtspr	SPRN_HSRR1, %r12
	LOAD_ADDR(%r11, pv_boot_args)
	ld	%r2, 8(%r11)		/* OPAL base */
	LOAD_ADDR(%r12, pv_opal_return)
	mtlr	%r12
	hrfid

pv_opal_return:
	FIXUP_ENDIAN_HV
	ld	%r2, 32(%r1)
	ld	%r13, 40(%r1)
	ld	%r11, 48(%r1)
	mtspr	SPRN_PPR, %r11
	ld	%r11, 56(%r1)
	mtspr	SPRN_DSCR, %r11
	addi	%r1, %r1, 64
	ld	%r0, 16(%r1)
	mtlr	%r0
	blr
