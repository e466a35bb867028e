// What bring-up (boot/boot.cpp) needs done to this POWER9 thread: the
// instructions and SPR writes live here, the flow stays in boot/.
#pragma once
#include "arch/ppc64/thread.h"

namespace pv::arch {

// This thread's PIR and the image's TOC pointer (r2).
Pir this_pir();
u64 toc_pointer();

// Before the thread may take a hypervisor interrupt: HSPRG0 = tb, the
// hypervisor's LPCR (no HDEC while idle), LPID 0, PMC5 counting (make bench),
// the partition table (ptcr, when there is one), MSR[RI] = 1.
void init_thread(ThreadBlock& tb, u64 ptcr);

// Copy the interrupt vectors (arch/ppc64/exceptions.S) to real address 0
// and make them visible to instruction fetch.
void install_vectors();

}  // namespace pv::arch
