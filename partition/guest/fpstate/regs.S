/*
 * fpstate-guest's register access: every VSR (so every FPR and VR), FPSCR,
 * VSCR, VRSAVE and the SPRs it checks, from and to a RegState (main.cpp).
 * The image is built without FP and vector code: between fp_load_all and
 * fp_store_all nothing but the hypervisor (switching vCPUs) can change them.
 */
#define ST_VSR(n) (16 * (n))
#define ST_FPSCR 1024
#define ST_VSCR 1040
#define ST_VRSAVE 1056
#define ST_TAR 1064
#define ST_DSCR 1072
#define ST_PPR 1080
#define ST_AMR 1088
#define ST_FSCR 1096
#define ST_IAMR 1104
#define ST_UAMOR 1112
#define ST_EBBHR 1120
#define ST_EBBRR 1128
#define ST_PSPB 1136
#define ST_TIDR 1144

	.machine power9
	.text

/* void fp_enable(void): MSR[FP|VEC|VSX] = 1 */
	.globl fp_enable
fp_enable:
	mfmsr	%r4
	ori	%r4, %r4, 0x2000
	oris	%r4, %r4, 0x0280
	mtmsrd	%r4
	isync
	blr

/* void fp_load_all(const RegState* r3) */
	.globl fp_load_all
fp_load_all:
	lfd	0, ST_FPSCR(%r3)
	mtfsf	0xff, 0, 1, 0
	li	%r4, ST_VSCR
	lvx	0, %r3, %r4
	mtvscr	0
	ld	%r4, ST_VRSAVE(%r3)
	mtspr	256, %r4
	ld	%r4, ST_TAR(%r3)
	mtspr	815, %r4
	ld	%r4, ST_DSCR(%r3)
	mtspr	17, %r4
	ld	%r4, ST_PPR(%r3)
	mtspr	896, %r4
	ld	%r4, ST_AMR(%r3)
	mtspr	29, %r4
	ld	%r4, ST_FSCR(%r3)
	mtspr	153, %r4
	ld	%r4, ST_IAMR(%r3)
	mtspr	61, %r4
	ld	%r4, ST_UAMOR(%r3)
	mtspr	157, %r4
	ld	%r4, ST_EBBHR(%r3)
	mtspr	804, %r4
	ld	%r4, ST_EBBRR(%r3)
	mtspr	805, %r4
	ld	%r4, ST_PSPB(%r3)
	mtspr	159, %r4
	ld	%r4, ST_TIDR(%r3)
	mtspr	144, %r4
	isync
	lxv	0, ST_VSR(0)(%r3)
	lxv	1, ST_VSR(1)(%r3)
	lxv	2, ST_VSR(2)(%r3)
	lxv	3, ST_VSR(3)(%r3)
	lxv	4, ST_VSR(4)(%r3)
	lxv	5, ST_VSR(5)(%r3)
	lxv	6, ST_VSR(6)(%r3)
	lxv	7, ST_VSR(7)(%r3)
	lxv	8, ST_VSR(8)(%r3)
	lxv	9, ST_VSR(9)(%r3)
	lxv	10, ST_VSR(10)(%r3)
	lxv	11, ST_VSR(11)(%r3)
	lxv	12, ST_VSR(12)(%r3)
	lxv	13, ST_VSR(13)(%r3)
	lxv	14, ST_VSR(14)(%r3)
	lxv	15, ST_VSR(15)(%r3)
	lxv	16, ST_VSR(16)(%r3)
	lxv	17, ST_VSR(17)(%r3)
	lxv	18, ST_VSR(18)(%r3)
	lxv	19, ST_VSR(19)(%r3)
	lxv	20, ST_VSR(20)(%r3)
	lxv	21, ST_VSR(21)(%r3)
	lxv	22, ST_VSR(22)(%r3)
	lxv	23, ST_VSR(23)(%r3)
	lxv	24, ST_VSR(24)(%r3)
	lxv	25, ST_VSR(25)(%r3)
	lxv	26, ST_VSR(26)(%r3)
	lxv	27, ST_VSR(27)(%r3)
	lxv	28, ST_VSR(28)(%r3)
	lxv	29, ST_VSR(29)(%r3)
	lxv	30, ST_VSR(30)(%r3)
	lxv	31, ST_VSR(31)(%r3)
	lxv	32, ST_VSR(32)(%r3)
	lxv	33, ST_VSR(33)(%r3)
	lxv	34, ST_VSR(34)(%r3)
	lxv	35, ST_VSR(35)(%r3)
	lxv	36, ST_VSR(36)(%r3)
	lxv	37, ST_VSR(37)(%r3)
	lxv	38, ST_VSR(38)(%r3)
	lxv	39, ST_VSR(39)(%r3)
	lxv	40, ST_VSR(40)(%r3)
	lxv	41, ST_VSR(41)(%r3)
	lxv	42, ST_VSR(42)(%r3)
	lxv	43, ST_VSR(43)(%r3)
	lxv	44, ST_VSR(44)(%r3)
	lxv	45, ST_VSR(45)(%r3)
	lxv	46, ST_VSR(46)(%r3)
	lxv	47, ST_VSR(47)(%r3)
	lxv	48, ST_VSR(48)(%r3)
	lxv	49, ST_VSR(49)(%r3)
	lxv	50, ST_VSR(50)(%r3)
	lxv	51, ST_VSR(51)(%r3)
	lxv	52, ST_VSR(52)(%r3)
	lxv	53, ST_VSR(53)(%r3)
	lxv	54, ST_VSR(54)(%r3)
	lxv	55, ST_VSR(55)(%r3)
	lxv	56, ST_VSR(56)(%r3)
	lxv	57, ST_VSR(57)(%r3)
	lxv	58, ST_VSR(58)(%r3)
	lxv	59, ST_VSR(59)(%r3)
	lxv	60, ST_VSR(60)(%r3)
	lxv	61, ST_VSR(61)(%r3)
	lxv	62, ST_VSR(62)(%r3)
	lxv	63, ST_VSR(63)(%r3)
	blr

/* void fp_store_all(RegState* r3) */
	.globl fp_store_all
fp_store_all:
	stxv	0, ST_VSR(0)(%r3)
	stxv	1, ST_VSR(1)(%r3)
	stxv	2, ST_VSR(2)(%r3)
	stxv	3, ST_VSR(3)(%r3)
	stxv	4, ST_VSR(4)(%r3)
	stxv	5, ST_VSR(5)(%r3)
	stxv	6, ST_VSR(6)(%r3)
	stxv	7, ST_VSR(7)(%r3)
	stxv	8, ST_VSR(8)(%r3)
	stxv	9, ST_VSR(9)(%r3)
	stxv	10, ST_VSR(10)(%r3)
	stxv	11, ST_VSR(11)(%r3)
	stxv	12, ST_VSR(12)(%r3)
	stxv	13, ST_VSR(13)(%r3)
	stxv	14, ST_VSR(14)(%r3)
	stxv	15, ST_VSR(15)(%r3)
	stxv	16, ST_VSR(16)(%r3)
	stxv	17, ST_VSR(17)(%r3)
	stxv	18, ST_VSR(18)(%r3)
	stxv	19, ST_VSR(19)(%r3)
	stxv	20, ST_VSR(20)(%r3)
	stxv	21, ST_VSR(21)(%r3)
	stxv	22, ST_VSR(22)(%r3)
	stxv	23, ST_VSR(23)(%r3)
	stxv	24, ST_VSR(24)(%r3)
	stxv	25, ST_VSR(25)(%r3)
	stxv	26, ST_VSR(26)(%r3)
	stxv	27, ST_VSR(27)(%r3)
	stxv	28, ST_VSR(28)(%r3)
	stxv	29, ST_VSR(29)(%r3)
	stxv	30, ST_VSR(30)(%r3)
	stxv	31, ST_VSR(31)(%r3)
	stxv	32, ST_VSR(32)(%r3)
	stxv	33, ST_VSR(33)(%r3)
	stxv	34, ST_VSR(34)(%r3)
	stxv	35, ST_VSR(35)(%r3)
	stxv	36, ST_VSR(36)(%r3)
	stxv	37, ST_VSR(37)(%r3)
	stxv	38, ST_VSR(38)(%r3)
	stxv	39, ST_VSR(39)(%r3)
	stxv	40, ST_VSR(40)(%r3)
	stxv	41, ST_VSR(41)(%r3)
	stxv	42, ST_VSR(42)(%r3)
	stxv	43, ST_VSR(43)(%r3)
	stxv	44, ST_VSR(44)(%r3)
	stxv	45, ST_VSR(45)(%r3)
	stxv	46, ST_VSR(46)(%r3)
	stxv	47, ST_VSR(47)(%r3)
	stxv	48, ST_VSR(48)(%r3)
	stxv	49, ST_VSR(49)(%r3)
	stxv	50, ST_VSR(50)(%r3)
	stxv	51, ST_VSR(51)(%r3)
	stxv	52, ST_VSR(52)(%r3)
	stxv	53, ST_VSR(53)(%r3)
	stxv	54, ST_VSR(54)(%r3)
	stxv	55, ST_VSR(55)(%r3)
	stxv	56, ST_VSR(56)(%r3)
	stxv	57, ST_VSR(57)(%r3)
	stxv	58, ST_VSR(58)(%r3)
	stxv	59, ST_VSR(59)(%r3)
	stxv	60, ST_VSR(60)(%r3)
	stxv	61, ST_VSR(61)(%r3)
	stxv	62, ST_VSR(62)(%r3)
	stxv	63, ST_VSR(63)(%r3)
	mffs	0
	stfd	0, ST_FPSCR(%r3)
	mfvscr	0
	li	%r4, ST_VSCR
	stvx	0, %r3, %r4
	mfspr	%r4, 256
	std	%r4, ST_VRSAVE(%r3)
	mfspr	%r4, 815
	std	%r4, ST_TAR(%r3)
	mfspr	%r4, 17
	std	%r4, ST_DSCR(%r3)
	mfspr	%r4, 896
	std	%r4, ST_PPR(%r3)
	mfspr	%r4, 29
	std	%r4, ST_AMR(%r3)
	mfspr	%r4, 153
	std	%r4, ST_FSCR(%r3)
	mfspr	%r4, 61
	std	%r4, ST_IAMR(%r3)
	mfspr	%r4, 157
	std	%r4, ST_UAMOR(%r3)
	mfspr	%r4, 804
	std	%r4, ST_EBBHR(%r3)
	mfspr	%r4, 805
	std	%r4, ST_EBBRR(%r3)
	mfspr	%r4, 159
	std	%r4, ST_PSPB(%r3)
	mfspr	%r4, 144
	std	%r4, ST_TIDR(%r3)
	blr
