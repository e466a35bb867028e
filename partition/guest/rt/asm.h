/* Assembly helpers for the test partitions (little-endian, PAPR guest). */
#pragma once

/* Supervisor SPRs (Power ISA 3.0 Book III). */
#define SPRN_DEC 22
#define SPRN_DSISR 18
#define SPRN_DAR 19
#define SPRN_SRR0 26
#define SPRN_SRR1 27
#define SPRN_SPRG0 272   /* this vCPU's r13 (its block + RT_CPU_GUARD) */
#define SPRN_SPRG1 273   /* scratch for the 0x900 handler */
#define SPRN_SPRG2 274   /* scratch for the 0x900 handler */
#define SPRN_LPCR 318    /* hypervisor-only: bad-guest's "priv" mode */

#define MSR_LE 0x1
#define MSR_RI 0x2
#define MSR_EE 0x8000

/*
 * Run correctly whichever endianness we arrive in, and continue little-endian
 * (Linux's FIXUP_ENDIAN, guest flavour: SRR0/SRR1 and rfid). Read little-endian,
 * "tdi 0,0,0x48" never traps and "b 191f" skips the rest. Read big-endian, the
 * same word 0x48000008 is "b .+8", which lands on the byte-reversed encodings
 * of the following instructions (BE encoding in the comment):
 *   mfmsr  r11           7d6000a6
 *   xori   r11,r11,1     696b0001   flip MSR[LE]
 *   li     r10,0         39400000
 *   mtmsrd r10,1         7d410164   EE=RI=0 while SRR0/1 are live
 *   bcl    20,31,$+4     429f0005   LR = address of the mflr
 *   mflr   r10           7d4802a6
 *   addi   r10,r10,20    394a0014   mflr + 20 = the instruction after rfid
 *   mtsrr0 r10           7d5a03a6
 *   mtsrr1 r11           7d7b03a6
 *   rfid                 4c000024
 * Clobbers r10, r11, LR, SRR0, SRR1; keeps r3.
 */
#define FIXUP_ENDIAN                                            \
	tdi   0, 0, 0x48;                                       \
	b     191f;                                             \
	.long 0xa600607d; /* mfmsr   r11            */          \
	.long 0x01006b69; /* xori    r11,r11,1      */          \
	.long 0x00004039; /* li      r10,0          */          \
	.long 0x6401417d; /* mtmsrd  r10,1          */          \
	.long 0x05009f42; /* bcl     20,31,$+4      */          \
	.long 0xa602487d; /* mflr    r10            */          \
	.long 0x14004a39; /* addi    r10,r10,20     */          \
	.long 0xa6035a7d; /* mtsrr0  r10            */          \
	.long 0xa6037b7d; /* mtsrr1  r11            */          \
	.long 0x2400004c; /* rfid                   */          \
191:

/* Load a 64-bit absolute address (the image is linked at its load address, 0). */
#define LOAD_ADDR(reg, sym)           \
	lis   reg, (sym)@highest;     \
	ori   reg, reg, (sym)@higher; \
	rldicr reg, reg, 32, 31;      \
	oris  reg, reg, (sym)@h;      \
	ori   reg, reg, (sym)@l

/* sc 1: hypervisor call. */
#define HVSC .long 0x44000022
