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
	X(AMR, 29, RW)                                                         \
	X(PID, 48, RW)                                                         \
	X(TBRL, 268, RO)                                                       \
	X(TBU40, 286, RW)      /* written only: the upper 40 bits of TB */     \
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
	X(PIR, 1023, RO)                                                       \
	/* The partition's lazily switched SPRs (arch/ppc64/vcpu_switch.cpp) */\
	X(DSCR, 17, RW)                                                        \
	X(IAMR, 61, RW)                                                        \
	X(AMOR, 349, RW)                                                       \
	X(CTRLF, 136, RO)                                                      \
	X(TIDR, 144, RW)                                                       \
	X(CTRLT, 152, RW)      /* written only: read CTRLF */                  \
	X(FSCR, 153, RW)                                                       \
	X(UAMOR, 157, RW)                                                      \
	X(PSPB, 159, RW)                                                       \
	X(DAWR0, 180, RW)                                                      \
	X(CIABR, 187, RW)                                                      \
	X(DAWRX0, 188, RW)                                                     \
	X(VRSAVE, 256, RW)                                                     \
	X(SIER, 784, RW)                                                       \
	X(MMCR2, 785, RW)                                                      \
	X(MMCRA, 786, RW)                                                      \
	X(PMC1, 787, RW)                                                       \
	X(PMC2, 788, RW)                                                       \
	X(PMC3, 789, RW)                                                       \
	X(PMC4, 790, RW)                                                       \
	X(PMC6, 792, RW)                                                       \
	X(SIAR, 796, RW)                                                       \
	X(SDAR, 797, RW)                                                       \
	X(MMCR1, 798, RW)                                                      \
	X(EBBHR, 804, RW)                                                      \
	X(EBBRR, 805, RW)                                                      \
	X(BESCR, 806, RW)                                                      \
	X(TAR, 815, RW)                                                        \
	X(PPR, 896, RW)

#ifdef __ASSEMBLER__
#define PV_SPR_SET(name, number, access) .set SPRN_##name, number;
PV_SPR_TABLE(PV_SPR_SET)
#undef PV_SPR_SET
#endif
