// Hypervisor path lengths for make bench (docs/benchmarks.md): instruction
// counts (PMC5) of one path, kept as minimum, median and mean. The minimum is
// the path itself; the median what a typical pass costs; the mean adds the
// rare passes that spun on a lock whose holder was not running (on a host
// that overcommits its cores, QEMU's thread was descheduled).
#pragma once
#include "base/types.h"

namespace pv {

struct PathMeter {
    // A fixed sample store (no heap): past it, reservoir sampling keeps a
    // uniform sample of every pass, so the median stays that of all passes.
    static constexpr u32 kSamples = 1024;

    u64 count = 0, sum = 0, min = ~u64{0};
    u32 samples[kSamples]{};
    u64 rng = 0x9e3779b97f4a7c15ull;

    void add(u64 instructions) {
        ++count;
        sum += instructions;
        if (instructions < min) min = instructions;
        u32 value = instructions > 0xffffffffu ? 0xffffffffu : static_cast<u32>(instructions);
        if (count <= kSamples) {
            samples[count - 1] = value;
            return;
        }
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;  // xorshift64: deterministic
        u64 slot = rng % count;
        if (slot < kSamples) samples[slot] = value;
    }
    u64 mean() const { return count ? sum / count : 0; }
    u64 median() const;  // the lower median of the samples kept; 0 with none
};

// PMC5 is 32 bits wide: differences are taken modulo 2^32.
inline u64 pmc_delta(u64 from, u64 to) { return (to - from) & 0xffffffffu; }

}  // namespace pv
