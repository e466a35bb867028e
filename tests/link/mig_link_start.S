/* Entry of mig-link-check.elf when run as a Linux user process (under
 * qemu-ppc64le on the host): TOC, r13 for BearSSL's stack-protector canary
 * (it reads r13 - 0x7010, as libfdt does: partition/guest/rt/layout.h), the
 * check, then exit(status) by system call. */
	.abiversion 2
	.section .text
	.globl _start
	.type _start, @function
_start:
	bcl	20, 31, 1f
1:	mflr	%r12
	addis	%r2, %r12, (.TOC. - 1b)@ha
	addi	%r2, %r2, (.TOC. - 1b)@l
	addis	%r13, %r2, canary_area@toc@ha
	addi	%r13, %r13, canary_area@toc@l
	addi	%r13, %r13, 0x7010
	li	%r0, 0
	stdu	%r0, -64(%r1)
	bl	mig_link_check_main
	nop
	li	%r0, 1			/* __NR_exit */
	sc
2:	b	2b
	.size _start, . - _start

	.section .bss
	.balign 16
canary_area:
	.space	0x7010 + 16
	.section .note.GNU-stack, "", @progbits
