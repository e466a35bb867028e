// Translations a partition's own tlbiel missed. A radix partition invalidates
// its TLB entries itself (LPCR[GTSE]), and Linux uses the local form, tlbiel,
// for an address space only one of its CPUs has used. But that vCPU may have
// run on other hardware threads before, whose TLBs still hold the old
// entries: were it (or a sibling vCPU that Linux later moves that address
// space to) to run there, it would use a stale translation, another page's
// contents (Linux: init killed by SIGSEGV with code bytes on its stack).
//
// So a vCPU dispatched on a thread other than the one it ran on last flushes
// its partition's translations, with a broadcast tlbie, before it runs. The
// flush is at the move, not deferred to the next dispatch on the thread it
// left: a sibling vCPU may already be running there (dispatched while this
// one waited in the run queue) and would keep the stale entries for a whole
// slice. KVM on POWER9 does the same with an IPI to that thread; a broadcast
// tlbie reaches every thread without one.
#pragma once
#include "hv/vcpu.h"

namespace pv {

// At v's dispatch on hardware thread `thread`: true when the partition's
// translations must be flushed first (arch::tlb_flush_partition, broadcast).
bool tlb_dispatch_needs_flush(Vcpu& v, u32 thread);

}  // namespace pv
