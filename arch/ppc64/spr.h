// Special-purpose registers by their Power ISA names, from the one table in
// arch/ppc64/spr_table.h. The SPR number is a template argument so
// mtspr/mfspr get it as an immediate; writing a read-only one does not compile.
#pragma once
#include "arch/ppc64/spr_table.h"
#include "hv/ppc_defs.h"

namespace pv::spr {

enum Num : unsigned {
#define PV_SPR_ENUM(name, number, access) name = number,
    PV_SPR_TABLE(PV_SPR_ENUM)
#undef PV_SPR_ENUM
};

enum class Access : u8 { None, RO, RW };

constexpr Access access(unsigned n) {
    switch (n) {
#define PV_SPR_ACCESS(name, number, acc) \
    case number: return Access::acc;
        PV_SPR_TABLE(PV_SPR_ACCESS)
#undef PV_SPR_ACCESS
    }
    return Access::None;
}

template <unsigned N>
inline u64 read() {
    static_assert(access(N) != Access::None, "SPR not in arch/ppc64/spr_table.h");
    u64 v;
    asm volatile("mfspr %0, %1" : "=r"(v) : "i"(N));
    return v;
}

template <unsigned N>
inline void write(u64 v) {
    static_assert(access(N) == Access::RW, "SPR not writable (arch/ppc64/spr_table.h)");
    asm volatile("mtspr %0, %1" : : "i"(N), "r"(v) : "memory");
}

inline u64 msr() {
    u64 v;
    asm volatile("mfmsr %0" : "=r"(v));
    return v;
}

// MSR[RI]: whether a system reset or machine check taken now could resume
// this thread. mtmsrd with L=1 writes only EE and RI; EE stays 0 in the
// hypervisor. The hypervisor runs with RI = 1 but on the exit path, until
// that has saved what an interrupt would destroy (arch/ppc64/exceptions.S).
inline void set_recoverable(bool on) {
    asm volatile("mtmsrd %0, 1" : : "r"(on ? msr::RI : u64{0}) : "memory");
}

}  // namespace pv::spr
