/* Assembly helpers shared by the boot stub and the exception code. */
#pragma once

#include "arch/ppc64/spr_table.h"  /* SPRN_<name> */

/* MSR bits assembly needs; arch/ppc64/cpu.cpp checks them against msr:: (hv/ppc_defs.h). */
#define MSR_EE 0x8000
#define MSR_IR 0x20
#define MSR_DR 0x10
#define MSR_RI 0x2
#define MSR_LE 0x1

/*
 * Run correctly whichever endianness we are entered in, and continue in
 * little-endian. In LE, "tdi 0,0,0x48" never traps and "b 1f" skips the rest.
 * Read big-endian the same word is "b .+8", landing on byte-reversed
 * encodings of: mfmsr r11; xori r11,r11,MSR_LE; bcl 20,31,$+4; mflr r10;
 * addi r10,r10,20; mthsrr0 r10; mthsrr1 r11; hrfid — i.e. flip MSR[LE] and
 * continue at 1:. Clobbers r10, r11, LR. Used where skiboot hands us control
 * big-endian (boot, secondary start) and where OPAL returns to us.
 */
#define FIXUP_ENDIAN_HV                                         \
	tdi   0, 0, 0x48;                                       \
	b     191f;                                             \
	.long 0xa600607d; /* mfmsr   r11            */          \
	.long 0x01006b69; /* xori    r11,r11,1      */          \
	.long 0x05009f42; /* bcl     20,31,$+4      */          \
	.long 0xa602487d; /* mflr    r10            */          \
	.long 0x14004a39; /* addi    r10,r10,20     */          \
	.long 0xa64b5a7d; /* mthsrr0 r10            */          \
	.long 0xa64b7b7d; /* mthsrr1 r11            */          \
	.long 0x2402004c; /* hrfid                  */          \
191:

/* Load a 64-bit absolute address (the image is linked at a fixed address). */
#define LOAD_ADDR(reg, sym)           \
	lis   reg, sym@highest;       \
	ori   reg, reg, sym@higher;   \
	rldicr reg, reg, 32, 31;      \
	oris  reg, reg, sym@h;        \
	ori   reg, reg, sym@l
