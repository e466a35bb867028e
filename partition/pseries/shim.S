/*
 * pseries-shim entry: QEMU's pseries machine without firmware enters -bios
 * code at 0x100, big-endian, r3 = its device tree. run.sh puts a branch to
 * here (loaded at SHIM_BASE) at 0x100; we switch to little-endian, get a
 * stack and r13 (libfdt's canary at r13 - 0x7010), and call shim_main.
 */
#include "partition/guest/rt/asm.h"

	.machine power9
	.section .text.head, "ax"
	.globl _start
_start:
	FIXUP_ENDIAN
	LOAD_ADDR(%r1, shim_stack_top)
	LOAD_ADDR(%r13, shim_guard)
	addi	%r13, %r13, 0x7010
	LOAD_ADDR(%r2, .TOC.)
	bl	shim_main
	nop
	.long 0

/* shim_enter(fdt, entry): start the image as our hypervisor does: big-endian,
 * real mode, r3 = device tree, r4 = r5 = 0. */
	.text
	.globl shim_enter
shim_enter:
	mtspr	SPRN_SRR0, %r4
	mfmsr	%r5
	li	%r6, MSR_LE
	ori	%r6, %r6, MSR_EE
	andc	%r5, %r5, %r6
	mtspr	SPRN_SRR1, %r5
	li	%r4, 0
	li	%r5, 0
	rfid

	.bss
	.balign 16
shim_guard:
	.space 0x7010 + 16
	.space 0x8000
shim_stack_top:
	.space 64
