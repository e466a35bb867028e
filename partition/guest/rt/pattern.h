// The memory test pattern of smp-guest and mce-guest: xorshift64* of
// (address, owner, round), so every word of every round is distinct.
#pragma once
#include "partition/guest/rt/types.h"

namespace rt {

// The word at `addr` written by `id` (a vCPU or a process) in `round`.
constexpr u64 pattern(u64 addr, u32 id, u32 round) {
    u64 x = addr ^ (u64{id} << 56) ^ (u64{round + 1} * 0x9E3779B97F4A7C15ULL);
    x ^= x << 13;  // xorshift64*
    x ^= x >> 7;
    x ^= x << 17;
    return x * 0x2545F4914F6CDD1DULL;
}

}  // namespace rt
