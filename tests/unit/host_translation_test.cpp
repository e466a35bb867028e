// The hypervisor's LPID 0 map for relocated (AIL 3) vectors, walked the way
// the MMU walks it for 0xc000000000004c00 in hypervisor state.
#include <gtest/gtest.h>

#include "mm/host_translation.h"
#include "tests/unit/host_tables.h"

using namespace pv;

namespace {

const Be64* table(u64 real) { return static_cast<const Be64*>(arch::host_ptr(HostReal{real})); }

TEST(HostTranslation, MapsTheRelocatedVectorsToRealZeroPrivileged) {
    using namespace radix;
    test::HostTables tables;
    PartitionTableEntry e{};
    ASSERT_EQ(build_host_translation(tables.pool(), e), Err::Ok);
    EXPECT_TRUE(e.dw0.get() & PATE0_HR);
    EXPECT_FALSE(e.dw1.get() & PATE1_GR);
    EXPECT_EQ(e.dw1.get() & PATE1_PRTS, 0u);
    // Process-table entry 0 (PID 0, used for quadrant 3) holds the same root as dw0.
    const auto* prte = static_cast<const PartitionTableEntry*>(arch::host_ptr(HostReal{e.dw1.get() & PATE1_PRTB}));
    EXPECT_EQ(prte[0].dw0.get(), e.dw0.get() & ~PATE0_HR);
    u64 root = prte[0].dw0.get() & PATE0_RPDB;
    EXPECT_EQ(prte[0].dw0.get() & PATE0_RPDS, kIndexBits[0]);
    // 0xc000000000004c00: the quadrant bits are not translated; index 0 at each level.
    u64 l2 = table(root)[0].get();
    ASSERT_TRUE(l2 & V);
    ASSERT_FALSE(l2 & L);
    EXPECT_EQ(l2 & NLS, kIndexBits[1]);
    u64 l3 = table(l2 & NLB)[0].get();
    ASSERT_TRUE(l3 & V);
    EXPECT_EQ(l3 & NLS, kIndexBits[2]);
    u64 leaf = table(l3 & NLB)[0].get();
    ASSERT_TRUE((leaf & V) && (leaf & L));
    EXPECT_EQ(leaf & RPN, 0u);
    EXPECT_EQ(leaf & (EAA_PRIV | EAA_RW | EAA_EXEC | R | C), EAA_PRIV | EAA_RW | EAA_EXEC | R | C);
    EXPECT_EQ(leaf & ATT, 0u);
    EXPECT_EQ(table(root)[1].get(), 0u) << "nothing else is mapped";
    EXPECT_EQ(table(l3 & NLB)[1].get(), 0u);
}

TEST(HostTranslation, ReportsAnExhaustedPool) {
    PartitionTableEntry e{};
    TablePool empty{[](void*, u64) { return HostReal{0}; }, nullptr};
    EXPECT_EQ(build_host_translation(empty, e), Err::NoMemory);
    EXPECT_EQ(e.dw0.get(), 0u);
}

}  // namespace
