// hv/instruction_account: the partition's and the hypervisor's instructions
// from PMC5 counts at entry and exit (32-bit counter, idle time excluded).
#include <gtest/gtest.h>

#include "hv/instruction_account.h"
#include "hv/partition.h"

namespace pv {
namespace {

struct InstructionAccountTest : ::testing::Test {
    Partition p;
    void SetUp() override {
        p.vcpu_count = 2;
        for (u32 i = 0; i < 2; ++i) p.vcpus[i].part = &p;
    }
};

TEST_F(InstructionAccountTest, GuestRunsBetweenEntryAndExitTheHypervisorBetweenExitAndEntry) {
    Vcpu& v = p.vcpus[0];
    account_first_entry(v, 1000);
    account_exit(v, 5000);
    account_instructions(v, v, 5000, 5300, 0);  // ran 4000, the exit took 300
    account_exit(v, 9300);
    account_instructions(v, v, 9300, 9450, 0);  // ran 4000 again, 150 more in the hypervisor
    EXPECT_EQ(p.stats.guest_instructions, 8000u);
    EXPECT_EQ(p.stats.hv_instructions, 450u);
    EXPECT_EQ(p.stats.instructions_discarded, 0u);
}

TEST_F(InstructionAccountTest, WaitingForWorkIsNobodysAndTheCounterWraps) {
    Vcpu& v = p.vcpus[0];
    account_first_entry(v, 0xffffff00u);
    // PMC5 wrapped during the run; the thread then idled 10000 of the 10200 before the next entry.
    account_exit(v, 0x100);
    account_instructions(v, v, 0x100, 0x100 + 10200, 10000);
    EXPECT_EQ(p.stats.guest_instructions, 0x200u);
    EXPECT_EQ(p.stats.hv_instructions, 200u);
}

TEST_F(InstructionAccountTest, TheNextVcpuStartsCountingAtItsEntryAndNonsenseIsDiscarded) {
    Vcpu &a = p.vcpus[0], &b = p.vcpus[1];
    account_exit(a, 100);
    account_instructions(a, b, 100, 200, 0);  // a had no entry yet: only the hypervisor part counts
    EXPECT_EQ(p.stats.guest_instructions, 0u);
    EXPECT_EQ(p.stats.hv_instructions, 100u);
    account_exit(b, 200 + (u64{3} << 30));  // b "ran" 3 G: not real
    account_instructions(b, a, 200 + (u64{3} << 30), 200 + (u64{3} << 30) + 50, 0);
    EXPECT_EQ(p.stats.guest_instructions, 0u);
    EXPECT_EQ(p.stats.instructions_discarded, 1u);
    EXPECT_EQ(p.stats.hv_instructions, 150u);
}

// The exit's handling made v runnable and another thread entered it (its
// own count, far from this thread's) before this thread entered `next`:
// v's run was taken at the exit, and the other thread's entry stands.
TEST_F(InstructionAccountTest, AVcpuTakenByAnotherThreadDuringItsExitIsCountedOnce) {
    Vcpu &v = p.vcpus[0], &next = p.vcpus[1];
    account_first_entry(v, 1000);
    account_exit(v, 3000);                     // thread A: v ran 2000
    account_first_entry(v, 0x70000000);        // thread B enters v meanwhile
    account_instructions(v, next, 3000, 3100, 0);  // thread A enters next
    EXPECT_EQ(p.stats.guest_instructions, 2000u);
    EXPECT_EQ(p.stats.hv_instructions, 100u);
    account_exit(v, 0x70000000 + 500);  // thread B: v ran 500 there
    EXPECT_EQ(p.stats.guest_instructions, 2500u);
    EXPECT_EQ(p.stats.instructions_discarded, 0u);
}

}  // namespace
// A partition that froze its PMU (MMCR0[FC], as Linux does): PMC5 stood
// still while it ran, so its run ends a few instructions before it began
// (the entry's tail, the exit's head). Unknown, not nonsense: counted as
// uncounted, nothing added; the hypervisor's part still counts.
TEST_F(InstructionAccountTest, ARunWithTheCounterFrozenIsUncountedNotDiscarded) {
    Vcpu& v = p.vcpus[0];
    account_first_entry(v, 10000 + 40);  // PMC5 10000, frozen from here; 40 entry-tail instructions
    account_exit(v, 10000 - 19);          // the same count, less the exit's head
    account_instructions(v, v, 10000 - 19, 10300, 0);
    EXPECT_EQ(p.stats.guest_instructions, 0u);
    EXPECT_EQ(p.stats.instructions_uncounted, 1u);
    EXPECT_EQ(p.stats.instructions_discarded, 0u);
    EXPECT_EQ(p.stats.hv_instructions, 319u);
    account_exit(v, 10300 + 2500);  // counting again (the partition unfroze it): a real run
    EXPECT_EQ(p.stats.guest_instructions, 2500u);
    EXPECT_EQ(p.stats.instructions_uncounted, 1u);
}

// A run of nothing (an exit at the entry's hrfid) that the counter's jitter
// shows a few instructions short is neither frozen nor nonsense: 0 instructions.
TEST_F(InstructionAccountTest, AnEmptyRunAFewInstructionsShortCountsAsNothing) {
    Vcpu& v = p.vcpus[0];
    account_first_entry(v, 20000);
    account_exit(v, 20000 - 3);
    EXPECT_EQ(p.stats.guest_instructions, 0u);
    EXPECT_EQ(p.stats.instructions_uncounted, 0u);
    EXPECT_EQ(p.stats.instructions_discarded, 0u);
    account_first_entry(v, 20000);
    account_exit(v, 20000 - 73);  // the frozen signature: the entry's tail and the exit's head
    EXPECT_EQ(p.stats.instructions_uncounted, 1u);
}

}  // namespace pv
