#include "hv/instruction_account.h"

#include "hv/partition.h"
#include "hv/path_meter.h"

namespace pv {
namespace {

// No vCPU runs 2^31 instructions between an entry and an exit (its slice
// ends it long before), nor the hypervisor between an exit and an entry: a
// larger difference means one of the two counts was not taken where it
// should be (once: a guest interval taken after the exit's handling, when
// another thread had entered the vCPU and recorded its own count). It is
// counted as discarded, never added.
constexpr u64 kMaxInterval = u64{1} << 31;

// The PMU is the partition's while it runs (POWER9 has no counter of the
// hypervisor's own), and Linux freezes it (MMCR0[FC]) when no perf event
// uses it. A run with PMC5 frozen ends a few instructions *before* it began:
// the entry's tail is counted after the partition's MMCR0 is loaded, the
// exit's head before the hypervisor's is. Its length is unknown, so it is
// counted as such, neither added nor taken for a bad count.
// QEMU's PMC5 is exact only to a few instructions around an interrupt: a
// run of (almost) nothing, an exit taken right at the entry's hrfid, may end
// a few instructions before it began too. The frozen run's signature is
// larger, the entry's tail plus the exit's head (73 today): anything closer
// to 0 than kCountJitter is such an empty run, counted as 0 instructions.
constexpr u64 kFrozenSlack = 4096;
constexpr u64 kCountJitter = 16;
bool empty_run(u64 d) { return d > 0xffffffffu - kCountJitter; }
bool frozen_run(u64 d) { return d > 0xffffffffu - kFrozenSlack; }  // once empty_run(d) is ruled out

void add(u64& to, u64 n, PartitionStats& s) {
    if (n < kMaxInterval) __atomic_add_fetch(&to, n, __ATOMIC_RELAXED);
    else __atomic_add_fetch(&s.instructions_discarded, 1, __ATOMIC_RELAXED);
}

}  // namespace

void account_exit(Vcpu& v, u64 exit_i) {
    PartitionStats& s = v.part->stats;
    if (v.entry_instructions_valid) {
        u64 d = pmc_delta(v.entry_instructions, exit_i);
        if (empty_run(d)) {
            // 0 instructions: nothing to add
        } else if (frozen_run(d)) {
            __atomic_add_fetch(&s.instructions_uncounted, 1, __ATOMIC_RELAXED);
        } else {
            add(s.guest_instructions, d, s);
        }
    }
    v.entry_instructions_valid = false;
}

void account_instructions(Vcpu& exited, Vcpu& next, u64 exit_i, u64 entry_i, u64 idle_i) {
    PartitionStats& s = exited.part->stats;
    u64 hv = pmc_delta(exit_i, entry_i);
    add(s.hv_instructions, hv > idle_i ? hv - idle_i : 0, s);
    account_first_entry(next, entry_i);
}

void account_first_entry(Vcpu& v, u64 entry_i) {
    v.entry_instructions = entry_i;
    v.entry_instructions_valid = true;
}

}  // namespace pv
