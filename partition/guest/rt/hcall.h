// PAPR hypervisor calls (numbers and return codes as in PAPR and Linux's
// arch/powerpc/include/asm/hvcall.h). The wrappers are in hcall.S.
#pragma once
#include "partition/guest/rt/types.h"

extern "C" {
// sc 1 with r3 = op, r4.. = a1..a7; returns r3.
rt::i64 rt_hcall(rt::u64 op, rt::u64 a1 = 0, rt::u64 a2 = 0, rt::u64 a3 = 0, rt::u64 a4 = 0,
                 rt::u64 a5 = 0, rt::u64 a6 = 0, rt::u64 a7 = 0);
// Same, and out[0..3] = r4..r7 after the call.
rt::i64 rt_hcall_ret(rt::u64 op, rt::u64* out, rt::u64 a1 = 0, rt::u64 a2 = 0, rt::u64 a3 = 0,
                     rt::u64 a4 = 0, rt::u64 a5 = 0, rt::u64 a6 = 0);
}

namespace rt::h {

enum Op : u64 {
    H_GET_TERM_CHAR = 0x54,
    H_PUT_TERM_CHAR = 0x58,
    H_CEDE = 0xE0,
    H_CONFER = 0xE4,
    H_PROD = 0xE8,
    H_RANDOM = 0x300,
    H_SET_MODE = 0x31C,
    H_REGISTER_PROC_TBL = 0x37C,
    H_RTAS = 0xF000,  // KVM/QEMU convention: RTAS call from LE code (rtas=hcall)
};

enum Ret : i64 {
    H_SUCCESS = 0,
    H_BUSY = 1,
    H_FUNCTION = -2,
    H_PARAMETER = -4,
    H_LONG_BUSY_ORDER_1_MSEC = 9900,
    H_LONG_BUSY_ORDER_100_SEC = 9905,
};

inline constexpr u64 H_SET_MODE_RESOURCE_LE = 4;

constexpr bool is_busy(i64 rc) {
    return rc == H_BUSY || (rc >= H_LONG_BUSY_ORDER_1_MSEC && rc <= H_LONG_BUSY_ORDER_100_SEC);
}

}  // namespace rt::h
