/*
 * The hypervisor's interrupt vectors (arch/ppc64/exceptions.S), one table for
 * assembly and C++: X(vector, hsrr), hsrr = 1 for the interrupts that leave
 * their resume point in HSRR0/HSRR1 (hypervisor interrupts, and the external
 * interrupt with LPCR[LPES] = 0), 0 for those that use SRR0/SRR1.
 */
#pragma once

#define PV_VECTOR_TABLE(X)                                                     \
	X(0x100, 0) X(0x200, 0) X(0x300, 0) X(0x380, 0) X(0x400, 0)            \
	X(0x480, 0) X(0x500, 1) X(0x600, 0) X(0x700, 0) X(0x800, 0)            \
	X(0x900, 0) X(0x980, 1) X(0xa00, 0) X(0xb00, 0) X(0xc00, 0)            \
	X(0xd00, 0) X(0xe00, 1) X(0xe20, 1) X(0xe40, 1) X(0xe60, 1)            \
	X(0xe80, 1) X(0xea0, 1) X(0xf00, 0) X(0xf20, 0) X(0xf40, 0)            \
	X(0xf60, 0) X(0xf80, 1) X(0x1000, 0)

#ifndef __ASSEMBLER__
#include "base/types.h"

namespace pv::arch {

// Whether a is the first instruction of one of our vectors that keeps its
// resume point in HSRR0/HSRR1.
constexpr bool is_hsrr_vector(u64 a) {
    switch (a) {
#define PV_VECTOR_CASE(vec, hsrr) \
    case vec: return hsrr;
        PV_VECTOR_TABLE(PV_VECTOR_CASE)
#undef PV_VECTOR_CASE
    }
    return false;
}

}  // namespace pv::arch
#endif
