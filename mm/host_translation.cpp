#include "mm/host_translation.h"

#include "arch/arch.h"

namespace pv {
namespace {

constexpr u64 kProcessTableBytes = 4096;  // PRTS 0: 256 entries, only PID 0 used
constexpr u64 kLeafBytes = u64{2} << 20;  // a level-3 leaf

u64 pde(HostReal next, u32 index_bits) {
    using namespace radix;
    return V | (next.value & NLB) | index_bits;
}

}  // namespace

Err build_host_translation(TablePool pool, PartitionTableEntry& e) {
    using namespace radix;
    HostReal root = pool.alloc(pool.ctx, kRootBytes);
    HostReal l2 = pool.alloc(pool.ctx, kDirBytes);
    HostReal l3 = pool.alloc(pool.ctx, kDirBytes);
    HostReal prtb = pool.alloc(pool.ctx, kProcessTableBytes);
    if (!root.value || !l2.value || !l3.value || !prtb.value) return Err::NoMemory;
    static_assert(kLeafBytes == u64{1} << (kPageShift + kIndexBits[3]), "a level-3 leaf maps 2 MiB");
    auto* root_e = static_cast<Be64*>(arch::host_ptr(root));
    auto* l2_e = static_cast<Be64*>(arch::host_ptr(l2));
    auto* l3_e = static_cast<Be64*>(arch::host_ptr(l3));
    // EA bits 12..63 index the tree (the quadrant bits are not part of it):
    // index 0 at every level for the first 2 MiB.
    l3_e[0].set(V | L | (0 & RPN) | R | C | EAA_PRIV | EAA_RW | EAA_EXEC);
    l2_e[0].set(pde(l3, kIndexBits[2]));
    root_e[0].set(pde(l2, kIndexBits[1]));
    auto* prte = static_cast<PartitionTableEntry*>(arch::host_ptr(prtb));
    prte[0].dw0.set(make_prte_dw0_host_radix(root) & ~PATE0_HR);  // a process-table entry has no HR bit
    prte[0].dw1.set(0);
    e.dw1.set(prtb.value & PATE1_PRTB);  // PRTS 0; GR = 0: LPID 0 is the host
    e.dw0.set(make_prte_dw0_host_radix(root));
    return Err::Ok;
}

}  // namespace pv
