// bench-guest: measures hypervisor paths from inside a partition and prints
// each figure as one `PV-BENCH {json}` line (tools/pv-bench collects them).
// Instruction counts come from PMC5, which the hypervisor leaves counting
// (MMCR0 = 0); QEMU counts guest and hypervisor instructions alike, which is
// what a path length through the hypervisor needs. QEMU 7.2 adds a translation
// block's instructions only at some block exits (not after blr/bctr or sc), so
// the figure is deterministic but below the true path length (about 2/3 of it
// on the hcall path): compare it only with itself. Times are timebase ticks.
#include "partition/guest/rt/console.h"
#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/hcall.h"
#include "partition/guest/rt/platform.h"

using namespace rt;

namespace {

inline u64 pmc5() {
    u64 v;
    asm volatile("mfspr %0, 775" : "=r"(v));
    return v;
}

struct Sample {
    u64 instructions, ticks;
};

// Per-iteration cost of fn, minus an empty loop's, over n iterations.
template <typename Fn>
Sample measure(u32 n, Fn fn) {
    u64 i0 = pmc5(), t0 = timebase();
    for (u32 i = 0; i < n; ++i) asm volatile("" ::: "memory");
    u64 i1 = pmc5(), t1 = timebase();
    for (u32 i = 0; i < n; ++i) fn();
    u64 i2 = pmc5(), t2 = timebase();
    u64 base_i = (i1 - i0) & 0xffffffff, base_t = t1 - t0;
    u64 work_i = (i2 - i1) & 0xffffffff, work_t = t2 - t1;
    return {(work_i - base_i) / n, (work_t - base_t) / n};
}

void report(const char* name, u64 value, const char* unit, const char* goal) {
    log("PV-BENCH {\"name\":\"%s\",\"value\":%lu,\"unit\":\"%s\",\"goal\":%s}", name, value, unit, goal);
}

}  // namespace

extern "C" [[noreturn]] void pv_main(const void* fdt) {
    if (!init(fdt, "bench-guest")) halt();
    constexpr u32 kRounds = 2000;
    // An hcall number Poolvisor does not implement: entry, dispatch, H_FUNCTION, exit.
    u64 probe = pmc5();
    for (u32 i = 0; i < 100; ++i) asm volatile("" ::: "memory");
    bool counting = pmc5() != probe;
    Sample null_hcall = measure(kRounds, [] { rt_hcall(0x3FF0); });
    if (counting) report("null_hcall_instructions", null_hcall.instructions, "instructions", "null");
    else log("PMC5 is not counting on this machine: no instruction figures");
    report("null_hcall_ticks", null_hcall.ticks, "timebase_ticks", "null");
    log("done");
    power_off();
}
