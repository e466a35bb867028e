/*
 * A vCPU's FP/VMX/VSX registers to and from its VcpuFp (hv/vcpu_regs.h). The
 * hypervisor is built without FP and vector code and runs with MSR[FP], [VEC]
 * and [VSX] off: these two turn them on for the copy and restore the MSR.
 * Called only when a thread changes vCPU (arch/ppc64/vcpu_switch.cpp).
 */
#include "arch/ppc64/asm.h"
#include "hv/vcpu_regs.h"

#define MSR_FP 0x2000
#define MSR_VEC_VSX_HI 0x0280	/* (MSR[VEC] | MSR[VSX]) >> 16 */

	.machine power9
	.text

/* r5 = the MSR on entry; the facilities on. Clobbers r6. */
.macro FP_ON
	mfmsr	%r5
	ori	%r6, %r5, MSR_FP
	oris	%r6, %r6, MSR_VEC_VSX_HI
	mtmsrd	%r6
	isync
.endm

.macro FP_OFF
	mtmsrd	%r5
	isync
.endm

/* void pv_fp_save(VcpuFp* r3) */
	.globl pv_fp_save
pv_fp_save:
	FP_ON
	stxv	0, FP_VSR(0)(%r3)
	stxv	1, FP_VSR(1)(%r3)
	stxv	2, FP_VSR(2)(%r3)
	stxv	3, FP_VSR(3)(%r3)
	stxv	4, FP_VSR(4)(%r3)
	stxv	5, FP_VSR(5)(%r3)
	stxv	6, FP_VSR(6)(%r3)
	stxv	7, FP_VSR(7)(%r3)
	stxv	8, FP_VSR(8)(%r3)
	stxv	9, FP_VSR(9)(%r3)
	stxv	10, FP_VSR(10)(%r3)
	stxv	11, FP_VSR(11)(%r3)
	stxv	12, FP_VSR(12)(%r3)
	stxv	13, FP_VSR(13)(%r3)
	stxv	14, FP_VSR(14)(%r3)
	stxv	15, FP_VSR(15)(%r3)
	stxv	16, FP_VSR(16)(%r3)
	stxv	17, FP_VSR(17)(%r3)
	stxv	18, FP_VSR(18)(%r3)
	stxv	19, FP_VSR(19)(%r3)
	stxv	20, FP_VSR(20)(%r3)
	stxv	21, FP_VSR(21)(%r3)
	stxv	22, FP_VSR(22)(%r3)
	stxv	23, FP_VSR(23)(%r3)
	stxv	24, FP_VSR(24)(%r3)
	stxv	25, FP_VSR(25)(%r3)
	stxv	26, FP_VSR(26)(%r3)
	stxv	27, FP_VSR(27)(%r3)
	stxv	28, FP_VSR(28)(%r3)
	stxv	29, FP_VSR(29)(%r3)
	stxv	30, FP_VSR(30)(%r3)
	stxv	31, FP_VSR(31)(%r3)
	stxv	32, FP_VSR(32)(%r3)
	stxv	33, FP_VSR(33)(%r3)
	stxv	34, FP_VSR(34)(%r3)
	stxv	35, FP_VSR(35)(%r3)
	stxv	36, FP_VSR(36)(%r3)
	stxv	37, FP_VSR(37)(%r3)
	stxv	38, FP_VSR(38)(%r3)
	stxv	39, FP_VSR(39)(%r3)
	stxv	40, FP_VSR(40)(%r3)
	stxv	41, FP_VSR(41)(%r3)
	stxv	42, FP_VSR(42)(%r3)
	stxv	43, FP_VSR(43)(%r3)
	stxv	44, FP_VSR(44)(%r3)
	stxv	45, FP_VSR(45)(%r3)
	stxv	46, FP_VSR(46)(%r3)
	stxv	47, FP_VSR(47)(%r3)
	stxv	48, FP_VSR(48)(%r3)
	stxv	49, FP_VSR(49)(%r3)
	stxv	50, FP_VSR(50)(%r3)
	stxv	51, FP_VSR(51)(%r3)
	stxv	52, FP_VSR(52)(%r3)
	stxv	53, FP_VSR(53)(%r3)
	stxv	54, FP_VSR(54)(%r3)
	stxv	55, FP_VSR(55)(%r3)
	stxv	56, FP_VSR(56)(%r3)
	stxv	57, FP_VSR(57)(%r3)
	stxv	58, FP_VSR(58)(%r3)
	stxv	59, FP_VSR(59)(%r3)
	stxv	60, FP_VSR(60)(%r3)
	stxv	61, FP_VSR(61)(%r3)
	stxv	62, FP_VSR(62)(%r3)
	stxv	63, FP_VSR(63)(%r3)
	mffs	0			/* FPR0 is saved: free */
	stfd	0, FP_FPSCR(%r3)
	mfvscr	0			/* VR0 (VSR32) is saved: free */
	li	%r6, FP_VSCR
	stvx	0, %r3, %r6
	mfspr	%r6, SPRN_VRSAVE
	std	%r6, FP_VRSAVE(%r3)
	/* The registers stay the vCPU's: it may re-enter this thread without a load. */
	lxv	0, FP_VSR(0)(%r3)
	lxv	32, FP_VSR(32)(%r3)
	FP_OFF
	blr

/* void pv_fp_load(const VcpuFp* r3) */
	.globl pv_fp_load
pv_fp_load:
	FP_ON
	lfd	0, FP_FPSCR(%r3)
	mtfsf	0xff, 0, 1, 0		/* L=1: all 64 bits */
	li	%r6, FP_VSCR
	lvx	0, %r3, %r6
	mtvscr	0
	ld	%r6, FP_VRSAVE(%r3)
	mtspr	SPRN_VRSAVE, %r6
	lxv	0, FP_VSR(0)(%r3)
	lxv	1, FP_VSR(1)(%r3)
	lxv	2, FP_VSR(2)(%r3)
	lxv	3, FP_VSR(3)(%r3)
	lxv	4, FP_VSR(4)(%r3)
	lxv	5, FP_VSR(5)(%r3)
	lxv	6, FP_VSR(6)(%r3)
	lxv	7, FP_VSR(7)(%r3)
	lxv	8, FP_VSR(8)(%r3)
	lxv	9, FP_VSR(9)(%r3)
	lxv	10, FP_VSR(10)(%r3)
	lxv	11, FP_VSR(11)(%r3)
	lxv	12, FP_VSR(12)(%r3)
	lxv	13, FP_VSR(13)(%r3)
	lxv	14, FP_VSR(14)(%r3)
	lxv	15, FP_VSR(15)(%r3)
	lxv	16, FP_VSR(16)(%r3)
	lxv	17, FP_VSR(17)(%r3)
	lxv	18, FP_VSR(18)(%r3)
	lxv	19, FP_VSR(19)(%r3)
	lxv	20, FP_VSR(20)(%r3)
	lxv	21, FP_VSR(21)(%r3)
	lxv	22, FP_VSR(22)(%r3)
	lxv	23, FP_VSR(23)(%r3)
	lxv	24, FP_VSR(24)(%r3)
	lxv	25, FP_VSR(25)(%r3)
	lxv	26, FP_VSR(26)(%r3)
	lxv	27, FP_VSR(27)(%r3)
	lxv	28, FP_VSR(28)(%r3)
	lxv	29, FP_VSR(29)(%r3)
	lxv	30, FP_VSR(30)(%r3)
	lxv	31, FP_VSR(31)(%r3)
	lxv	32, FP_VSR(32)(%r3)
	lxv	33, FP_VSR(33)(%r3)
	lxv	34, FP_VSR(34)(%r3)
	lxv	35, FP_VSR(35)(%r3)
	lxv	36, FP_VSR(36)(%r3)
	lxv	37, FP_VSR(37)(%r3)
	lxv	38, FP_VSR(38)(%r3)
	lxv	39, FP_VSR(39)(%r3)
	lxv	40, FP_VSR(40)(%r3)
	lxv	41, FP_VSR(41)(%r3)
	lxv	42, FP_VSR(42)(%r3)
	lxv	43, FP_VSR(43)(%r3)
	lxv	44, FP_VSR(44)(%r3)
	lxv	45, FP_VSR(45)(%r3)
	lxv	46, FP_VSR(46)(%r3)
	lxv	47, FP_VSR(47)(%r3)
	lxv	48, FP_VSR(48)(%r3)
	lxv	49, FP_VSR(49)(%r3)
	lxv	50, FP_VSR(50)(%r3)
	lxv	51, FP_VSR(51)(%r3)
	lxv	52, FP_VSR(52)(%r3)
	lxv	53, FP_VSR(53)(%r3)
	lxv	54, FP_VSR(54)(%r3)
	lxv	55, FP_VSR(55)(%r3)
	lxv	56, FP_VSR(56)(%r3)
	lxv	57, FP_VSR(57)(%r3)
	lxv	58, FP_VSR(58)(%r3)
	lxv	59, FP_VSR(59)(%r3)
	lxv	60, FP_VSR(60)(%r3)
	lxv	61, FP_VSR(61)(%r3)
	lxv	62, FP_VSR(62)(%r3)
	lxv	63, FP_VSR(63)(%r3)
	FP_OFF
	blr
