// Measurement probes the arch layer fires on the partition entry path (make
// bench), so that arch/ never calls into a subsystem such as the AMS. An
// unarmed probe costs the arch one load and branch.
#pragma once
#include "hv/cpu.h"

namespace pv {

// Armed when the scheduler picked a vCPU resumed after a page-in
// (PhysCpu::resume_completion_instructions).
inline bool probe_entry_armed(const PhysCpu& cpu) { return cpu.resume_completion_instructions != 0; }
// The thread is about to enter the vCPU it picked; pmc = PMC5 now.
void probe_entry(PhysCpu& cpu, u64 pmc);

}  // namespace pv
