// PAPR hypervisor calls: the wrappers in hcall.S; the numbers and return
// codes are pv::papr's (base/papr.h).
#pragma once
#include "base/papr.h"
#include "partition/guest/rt/types.h"

extern "C" {
// sc 1 with r3 = op, r4.. = a1..a7; returns r3.
rt::i64 rt_hcall(rt::u64 op, rt::u64 a1 = 0, rt::u64 a2 = 0, rt::u64 a3 = 0, rt::u64 a4 = 0,
                 rt::u64 a5 = 0, rt::u64 a6 = 0, rt::u64 a7 = 0);
// Same, and out[0..3] = r4..r7 after the call.
rt::i64 rt_hcall_ret(rt::u64 op, rt::u64* out, rt::u64 a1 = 0, rt::u64 a2 = 0, rt::u64 a3 = 0,
                     rt::u64 a4 = 0, rt::u64 a5 = 0, rt::u64 a6 = 0);
// Same, and out[0..5] = r4..r9 after the call.
rt::i64 rt_hcall_ret6(rt::u64 op, rt::u64* out, rt::u64 a1 = 0, rt::u64 a2 = 0, rt::u64 a3 = 0,
                      rt::u64 a4 = 0, rt::u64 a5 = 0, rt::u64 a6 = 0);
}

namespace rt {

// Hypervisor-call numbers and return codes: the hypervisor's own (base/papr.h).
namespace papr = pv::papr;

// Not in base/papr.h (Poolvisor never returns them, but PAPR allows them from
// H_PUT_TERM_CHAR, and the images also run under QEMU's pseries machine).
inline constexpr i64 H_BUSY = 1;
inline constexpr i64 H_LONG_BUSY_ORDER_1_MSEC = 9900;
inline constexpr i64 H_LONG_BUSY_ORDER_100_SEC = 9905;

constexpr bool hcall_busy(i64 rc) {
    return rc == H_BUSY || (rc >= H_LONG_BUSY_ORDER_1_MSEC && rc <= H_LONG_BUSY_ORDER_100_SEC);
}

}  // namespace rt
