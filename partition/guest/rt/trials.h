// Several trials of one benchmark figure: make bench prints their median and
// spread, so one trial disturbed by the host does not make the figure.
#pragma once
#include "partition/guest/rt/console.h"
#include "partition/guest/rt/types.h"

namespace rt {

struct Trials {
    static constexpr u32 kMax = 16;
    u64 value[kMax]{};
    u32 n = 0;

    void add(u64 v) {
        if (n < kMax) value[n++] = v;
    }
    // The middle value (the lower of the two middle ones for an even count); 0 with none.
    u64 median() {
        for (u32 i = 1; i < n; ++i)  // insertion sort: a handful of values
            for (u32 j = i; j > 0 && value[j - 1] > value[j]; --j) {
                u64 t = value[j];
                value[j] = value[j - 1];
                value[j - 1] = t;
            }
        return n ? value[(n - 1) / 2] : 0;
    }
    // (max - min) / median in thousandths; 0 with no trial or a zero median.
    u64 spread_permille() {
        u64 m = median();
        return m ? (value[n - 1] - value[0]) * 1000 / m : 0;
    }
    // The figure's PV-BENCH lines: `name` (the median, in unit), name_spread
    // and name_trials.
    void report(const char* name, const char* unit) {
        u64 m = median(), s = spread_permille();
        log("PV-BENCH {\"name\":\"%s\",\"value\":%lu,\"unit\":\"%s\",\"goal\":null}", name, m, unit);
        log("PV-BENCH {\"name\":\"%s_spread\",\"value\":%lu.%03lu,\"unit\":\"ratio\",\"goal\":null}", name,
            s / 1000, s % 1000);
        log("PV-BENCH {\"name\":\"%s_trials\",\"value\":%u,\"unit\":\"count\",\"goal\":null}", name, n);
    }
};

}  // namespace rt
