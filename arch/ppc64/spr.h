// Special-purpose registers by their Power ISA names. The SPR number is a
// template argument so mtspr/mfspr get it as an immediate.
#pragma once
#include "hv/ppc_defs.h"

namespace pv::spr {

enum Num : unsigned {
    DSISR = 18, DAR = 19, DEC = 22, SRR0 = 26, SRR1 = 27, PID = 48,
    AMR = 13, CFAR = 28, SPRG0 = 272, SPRG1 = 273, SPRG2 = 274, SPRG3 = 275,
    TBRL = 268, HSPRG0 = 304, HSPRG1 = 305, HDSISR = 306, HDAR = 307, HDEC = 310,
    LPCR = 318, LPIDR = 319, HSRR0 = 314, HSRR1 = 315, HEIR = 339, ASDR = 816,
    PTCR = 464, PSSCR = 855, PIR = 1023, HMER = 336,
    // The privileged PMU registers (779 and 775 are the problem-state aliases:
    // writing 779 stores MMCR0 without starting the counters under QEMU).
    MMCR0 = 795, PMC5 = 791,
};

template <unsigned N>
inline u64 read() {
    u64 v;
    asm volatile("mfspr %0, %1" : "=r"(v) : "i"(N));
    return v;
}

template <unsigned N>
inline void write(u64 v) {
    asm volatile("mtspr %0, %1" : : "i"(N), "r"(v) : "memory");
}

inline u64 msr() {
    u64 v;
    asm volatile("mfmsr %0" : "=r"(v));
    return v;
}

}  // namespace pv::spr

