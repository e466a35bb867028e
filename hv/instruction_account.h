// Where a partition's instructions go (make bench hv_overhead_fraction,
// docs/benchmarks.md): PMC5 counts every instruction a hardware thread runs,
// the partition's and the hypervisor's alike, on one continuous count
// (arch::instructions). Between a vCPU's entry and its next exit the
// partition ran; between that exit and the thread's next entry the
// hypervisor ran on its behalf (the exit's handling, a slice switch, the
// next vCPU's state), except where the thread had nothing to run and waited.
#pragma once
#include "base/types.h"

namespace pv {

struct Vcpu;

// At an exit of v (PMC5 count exit_i), before its handling: the partition's
// run since its entry. Before, because the handling may give v up, and
// another thread that then enters it records its own entry count.
void account_exit(Vcpu& v, u64 exit_i);
// After the handling of that exit (of `exited`) entered `next` at entry_i;
// idle_i of the instructions between them were the thread waiting for work.
void account_instructions(Vcpu& exited, Vcpu& next, u64 exit_i, u64 entry_i, u64 idle_i);
// A thread's first entry, into v at entry_i.
void account_first_entry(Vcpu& v, u64 entry_i);

}  // namespace pv
