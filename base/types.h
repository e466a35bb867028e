// Strong types for the quantities the hypervisor juggles, so that a logical
// address can never be passed where a host-real one is expected.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pv {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using i32 = std::int32_t;
using i64 = std::int64_t;

inline constexpr u64 kPageShift = 12;
inline constexpr u64 kPageSize = u64{1} << kPageShift;

// A tagged integer: same representation, no implicit mixing between tags.
template <typename Tag, typename Rep = u64>
struct Strong {
    Rep value{};
    constexpr Strong() = default;
    constexpr explicit Strong(Rep v) : value(v) {}
    friend constexpr bool operator==(Strong a, Strong b) { return a.value == b.value; }
    friend constexpr auto operator<=>(Strong a, Strong b) { return a.value <=> b.value; }
};

// Addresses.
struct HostRealTag {};
struct LogicalTag {};
using HostReal = Strong<HostRealTag>;    // hypervisor real address (what the HW bus sees)
using LogicalAddr = Strong<LogicalTag>;  // partition (guest) real address

// Page numbers.
struct FrameTag {};
struct LogicalPageTag {};
using Frame = Strong<FrameTag>;              // host-real page number
using LogicalPage = Strong<LogicalPageTag>;  // partition logical page number

constexpr Frame frame_of(HostReal a) { return Frame{a.value >> kPageShift}; }
constexpr HostReal base_of(Frame f) { return HostReal{f.value << kPageShift}; }
constexpr LogicalPage page_of(LogicalAddr a) { return LogicalPage{a.value >> kPageShift}; }
constexpr LogicalAddr base_of(LogicalPage p) { return LogicalAddr{p.value << kPageShift}; }

// Identifiers.
struct LpidTag {};
struct VcpuIdTag {};
struct PirTag {};
using Lpid = Strong<LpidTag, u32>;      // LPIDR value of a partition (0 is the hypervisor)
using VcpuId = Strong<VcpuIdTag, u32>;  // index of a vCPU inside its partition
using Pir = Strong<PirTag, u32>;        // physical hardware thread id (SPR 1023)

// Big-endian data (Be16/Be32/Be64): base/endian.h.

constexpr u64 align_up(u64 v, u64 a) { return (v + a - 1) & ~(a - 1); }
constexpr bool is_aligned(u64 v, u64 a) { return (v & (a - 1)) == 0; }

// Bit numbering as the Power ISA writes it: bit 0 is the most significant.
constexpr u64 ppc_bit(unsigned n) { return u64{1} << (63 - n); }

}  // namespace pv
