// The median of a path meter's samples (hv/path_meter.h): selection on a copy,
// run once at shutdown.
#include "hv/path_meter.h"

namespace pv {

u64 PathMeter::median() const {
    u32 n = count < kSamples ? static_cast<u32>(count) : kSamples;
    if (n == 0) return 0;
    u32 a[kSamples];
    for (u32 i = 0; i < n; ++i) a[i] = samples[i];
    // Quickselect (Hoare partition) for the element of rank (n - 1) / 2.
    i64 k = (n - 1) / 2, lo = 0, hi = n - 1;
    while (lo < hi) {
        u32 pivot = a[lo + (hi - lo) / 2];
        i64 i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) ++i;
            while (a[j] > pivot) --j;
            if (i <= j) {
                u32 t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else break;  // between the two parts: equal to the pivot
    }
    return a[k];
}

}  // namespace pv
