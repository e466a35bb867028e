// The hypervisor's own translation (partition-table entry 0), needed only for
// one thing: with a radix host (LPCR[HR] = 1), POWER9 applies the partition's
// LPCR[AIL] = 3 to hypervisor interrupts taken from it with MSR[IR|DR] = 1
// too (Power ISA 3.0 Book III 7.5; ISA 3.1 added LPCR[HAIL] to separate the
// two). Such an hcall or HDSI arrives at 0xc000000000004000 + vector with
// the MMU on, and the hypervisor must translate that address: quadrant 3 in
// hypervisor state uses LPID 0's process table, PID 0. The map is one 2 MiB
// privileged leaf, 0xc000000000000000 -> real 0, holding the relocated
// vectors (arch/ppc64/exceptions.S), which turn translation off at once.
#pragma once
#include "mm/radix.h"

namespace pv {

// Builds the tree and the 4 KiB process table from pool and fills e (LPID 0:
// the root in dw0 as Linux's powernv does, the process table in dw1).
[[nodiscard]] Err build_host_translation(TablePool pool, PartitionTableEntry& e);

}  // namespace pv
