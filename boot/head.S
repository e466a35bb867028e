/*
 * Where skiboot hands over: the boot thread at _start (big-endian, HV real
 * mode, r3 = FDT, r8 = OPAL base, r9 = OPAL entry) and each secondary thread
 * at pv_secondary_start (big-endian, r3 = PIR) after OPAL_START_CPU.
 */
#include "arch/ppc64/asm.h"
#include "arch/ppc64/thread.h"

	.machine power9
	.section .text.head, "ax"
	.globl _start
_start:
	FIXUP_ENDIAN_HV
	LOAD_ADDR(%r2, .TOC.)
	/* Boot arguments live in .data: zeroing .bss must not wipe them. */
	LOAD_ADDR(%r10, pv_boot_args)
	std	%r3, 0(%r10)
	std	%r8, 8(%r10)
	std	%r9, 16(%r10)
	/* Zero .bss (8-byte aligned by the linker script) before any C++. */
	LOAD_ADDR(%r10, __bss_start)
	LOAD_ADDR(%r11, __bss_end)
	li	%r0, 0
1:	cmpld	%r10, %r11
	bge	2f
	std	%r0, 0(%r10)
	addi	%r10, %r10, 8
	b	1b
2:	LOAD_ADDR(%r1, pv_boot_stack_top)
	stdu	%r0, -64(%r1)
	/* Thread slot 0 belongs to the boot thread. */
	LOAD_ADDR(%r13, pv_thread_slots)
	addi	%r13, %r13, TB_GUARD_BYTES
	bl	pv_boot_main
	b	.

	.globl pv_secondary_start
pv_secondary_start:
	FIXUP_ENDIAN_HV
	LOAD_ADDR(%r2, .TOC.)
	/* The boot thread starts secondaries one at a time and leaves the
	 * stack and thread block for the next one here. */
	LOAD_ADDR(%r10, pv_secondary_handoff)
	ld	%r1, 0(%r10)
	ld	%r13, 8(%r10)
	li	%r0, 0
	stdu	%r0, -64(%r1)
	bl	pv_secondary_main
	b	.

	.section .data
	.balign 8
	.globl pv_boot_args
pv_boot_args:
	.quad 0, 0, 0
	.globl pv_secondary_handoff
pv_secondary_handoff:
	.quad 0, 0

	.section .bss
	.balign 16
	.space 65536
	.globl pv_boot_stack_top
pv_boot_stack_top:
