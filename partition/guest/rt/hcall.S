/*
 * PAPR hypervisor calls: sc 1 with r3 = hcall number, arguments in r4..,
 * status back in r3 and outputs in r4... The hypervisor may change r0, r4-r12,
 * CR, CTR and XER; all volatile in the ELFv2 ABI except CR2-CR4, hence the
 * CR save (in the caller's CR save word, as Linux's plpar_hcall does).
 */
#include "partition/guest/rt/asm.h"

	.machine power9
	.text

/* i64 rt_hcall(u64 op, u64 a1, ..., u64 a7) */
	.globl rt_hcall
rt_hcall:
	mfcr	%r0
	stw	%r0, 8(%r1)
	HVSC
	lwz	%r0, 8(%r1)
	mtcrf	0xff, %r0
	blr

/*
 * i64 name(u64 op, u64 out[nout], u64 a1, ..., u64 a6): out = r4.. (nout = 4
 * or 6). The address of out waits in the ABI's protected zone below r1 (leaf).
 */
	.macro hcall_ret name, nout
	.globl \name
\name:
	mfcr	%r0
	stw	%r0, 8(%r1)
	std	%r4, -16(%r1)
	mr	%r4, %r5
	mr	%r5, %r6
	mr	%r6, %r7
	mr	%r7, %r8
	mr	%r8, %r9
	mr	%r9, %r10
	HVSC
	ld	%r12, -16(%r1)
	std	%r4, 0(%r12)
	std	%r5, 8(%r12)
	std	%r6, 16(%r12)
	std	%r7, 24(%r12)
	.if \nout == 6
	std	%r8, 32(%r12)
	std	%r9, 40(%r12)
	.endif
	lwz	%r0, 8(%r1)
	mtcrf	0xff, %r0
	blr
	.endm

	hcall_ret rt_hcall_ret, 4
	hcall_ret rt_hcall_ret6, 6
