// Interrupts the hypervisor delivers to a partition as the hardware would
// have (Power ISA 3.0 Book III 7.5): SRR0 = where it was, SRR1 = its MSR with
// the interrupt-specific bits cleared and `srr1_cause` set, the new MSR 64-bit
// with ME kept and LE from LPCR[ILE], and, with LPCR[AIL] 2 or 3 and
// translation on, the relocated vector with translation on.
#pragma once
#include "hv/vcpu.h"

namespace pv {

// Cause bits in SRR1 of a Program interrupt (0x700).
inline constexpr u64 kSrr1ProgramIllegal = u64{1} << (63 - 44);

void deliver_guest_interrupt(Vcpu& v, u64 vector, u64 srr1_cause);

}  // namespace pv
