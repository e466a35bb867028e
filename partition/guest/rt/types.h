// Basic types of the test partitions' runtime.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace rt {

using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;
using i32 = int32_t;
using i64 = int64_t;

inline constexpr u64 KiB = 1024;
inline constexpr u64 MiB = 1024 * KiB;

constexpr u64 align_up(u64 v, u64 a) { return (v + a - 1) & ~(a - 1); }
constexpr u64 align_down(u64 v, u64 a) { return v & ~(a - 1); }

// A big-endian 32-bit value in memory (RTAS arguments). We run little-endian.
struct Be32 {
    u32 raw;
    constexpr u32 get() const { return __builtin_bswap32(raw); }
    constexpr void set(u32 v) { raw = __builtin_bswap32(v); }
};

}  // namespace rt
