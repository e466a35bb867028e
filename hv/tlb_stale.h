// Translations a partition's own tlbiel missed. A radix partition invalidates
// its TLB entries itself (LPCR[GTSE]), and Linux uses the local form, tlbiel,
// for an address space only one of its CPUs has used. But that vCPU may have
// run on other hardware threads before, whose TLBs still hold the old
// entries: were it (or a sibling vCPU with that address space) dispatched
// there again, it would use a stale translation, another page's contents
// (Linux: init killed by SIGSEGV with code bytes on its stack). So when a
// vCPU moves to another thread, the thread it left is marked stale for its
// partition, and a marked thread flushes the partition's translations before
// any of its vCPUs runs there again, as KVM does on POWER9.
#pragma once
#include "hv/partition.h"

namespace pv {

// At v's dispatch on hardware thread `thread`: true when the partition's
// translations must be flushed first. The flush (arch::tlb_flush_partition)
// is a broadcast tlbie, so every mark is cleared, and cleared before the
// flush: a mark set meanwhile is either kept or covered by it.
bool tlb_dispatch_needs_flush(Partition& p, Vcpu& v, u32 thread);

}  // namespace pv
