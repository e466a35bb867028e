// Basic types of the test partitions' runtime.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "base/endian.h"

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

// Big-endian data in memory (RTAS arguments, the VPA): the hypervisor's own
// scheme (base/endian.h). We run little-endian.
using pv::Be16;
using pv::Be32;
using pv::Be64;

}  // namespace rt
