// Live migration, target side: staged state (hv/mig_decode.h) into a
// partition that has not run yet (the target's new partition, before its
// first dispatch). Only plain fields: what needs pinning and mapping — the
// VPA, DTL and SLB shadow of each vCPU, the process table — stays in the
// staging copy for the hypervisor to register (pin, map, write the
// partition-table entry) before the first dispatch. docs/migration-state.md.
#pragma once
#include "hv/mig_decode.h"

namespace pv {

// now_tb: the target's host timebase at install; the decrementer and a
// ceded vCPU's wake-up continue from there (they do not run in the downtime).
// The vCPU's areas are left unregistered; its counters are installed.
void mig_install_vcpu(const MigStagedVcpu& s, Vcpu& v, u64 now_tb);
// LPCR's ILE/AIL, the RTAS area, FWNMI, console and panel lines, restarts.
// Not the process table (registration pins it).
void mig_install_partition(const MigStagedPartition& s, Partition& p);

}  // namespace pv
