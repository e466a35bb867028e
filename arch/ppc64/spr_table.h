/*
 * The special-purpose registers the hypervisor touches (Power ISA 3.0 Book
 * III), one table for both languages: C++ gets spr::Num and spr::read/write
 * (arch/ppc64/spr.h), assembly gets SPRN_<name> as an absolute symbol.
 * X(name, number, access): RW, or RO for registers only ever read.
 */
#pragma once

#define PV_SPR_TABLE(X)                                                        \
	X(DSISR, 18, RW)                                                       \
	X(DAR, 19, RW)                                                         \
	X(DEC, 22, RW)                                                         \
	X(SRR0, 26, RW)                                                        \
	X(SRR1, 27, RW)                                                        \
	X(CFAR, 28, RW)                                                        \
	X(AMR, 13, RW)                                                         \
	X(PID, 48, RW)                                                         \
	X(TBRL, 268, RO)                                                       \
	X(SPRG0, 272, RW)                                                      \
	X(SPRG1, 273, RW)                                                      \
	X(SPRG2, 274, RW)                                                      \
	X(SPRG3, 275, RW)                                                      \
	X(HSPRG0, 304, RW)     /* this thread's ThreadBlock */                 \
	X(HSPRG1, 305, RW)     /* the exit path's scratch for r13 */           \
	X(HDSISR, 306, RW)                                                     \
	X(HDAR, 307, RW)                                                       \
	X(HDEC, 310, RW)                                                       \
	X(HSRR0, 314, RW)                                                      \
	X(HSRR1, 315, RW)                                                      \
	X(LPCR, 318, RW)                                                       \
	X(LPIDR, 319, RW)                                                      \
	X(HMER, 336, RW)       /* mtspr ANDs: writing ~bits clears them */     \
	X(HEIR, 339, RW)                                                       \
	X(HFSCR, 190, RW)                                                      \
	X(PTCR, 464, RW)                                                       \
	X(PMC5, 791, RW)       /* privileged alias (775 is problem state) */   \
	X(MMCR0, 795, RW)      /* privileged alias: 779 does not start PMCs */ \
	X(ASDR, 816, RW)                                                       \
	X(PSSCR, 855, RW)                                                      \
	X(PIR, 1023, RO)

#ifdef __ASSEMBLER__
#define PV_SPR_SET(name, number, access) .set SPRN_##name, number;
PV_SPR_TABLE(PV_SPR_SET)
#undef PV_SPR_SET
#endif
