// Hypervisor path lengths for make bench (docs/benchmarks.md): instruction
// counts (PMC5) of one path, kept as minimum and mean. The minimum is the
// path itself; the mean adds what contention (spinning on a lock) cost.
#pragma once
#include "base/types.h"

namespace pv {

struct PathMeter {
    u64 count = 0, sum = 0, min = ~u64{0};

    void add(u64 instructions) {
        ++count;
        sum += instructions;
        if (instructions < min) min = instructions;
    }
    u64 mean() const { return count ? sum / count : 0; }
};

// PMC5 is 32 bits wide: differences are taken modulo 2^32.
inline u64 pmc_delta(u64 from, u64 to) { return (to - from) & 0xffffffffu; }

}  // namespace pv
