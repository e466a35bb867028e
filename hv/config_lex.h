// Internal to the configuration parser (hv/config*.cpp): the lexical forms of
// values (docs/config.md "Value forms"). No libc, no exceptions: host tools
// and the freestanding hypervisor link the same code.
#pragma once
#include <cstddef>
#include <string_view>

#include "base/types.h"

namespace pv::config_detail {

using sv = std::string_view;

inline constexpr u64 kKiB = u64{1} << 10;
inline constexpr u64 kMiB = u64{1} << 20;
inline constexpr u64 kGiB = u64{1} << 30;
inline constexpr u64 kMsUs = 1'000;
inline constexpr u64 kSUs = 1'000'000;

inline bool is_space(char c) { return c == ' ' || c == '\t'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_lower_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z'); }
inline bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
// 0..15, or -1 for anything but 0-9, a-f, A-F.
inline int hex_digit(char c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

sv trim(sv s);

// Bounds-unchecked substrings: string_view::substr may throw, which a
// freestanding build cannot link. Callers keep pos/n within the view.
inline sv head(sv s, size_t n) { return sv(s.data(), n); }
inline sv tail(sv s, size_t pos) {
    s.remove_prefix(pos);
    return s;
}

// Copies with NUL termination; callers have checked the length.
void copy_to(char* dst, size_t n, sv s);

enum class Num : u8 { Ok, Bad, Overflow };

Num parse_int(sv s, u64& v);        // decimal digits only
Num parse_size(sv s, u64& bytes);   // "64M": binary K/M/G suffix, none means bytes
Num parse_time(sv s, u64& us);      // "10ms" or "3s"; a bare 0 needs no unit
bool parse_mac(sv s, u8 (&mac)[6]); // "52:54:00:12:34:57": two hex digits (either case) a byte

bool valid_partition_name(sv s);  // 1..15 characters of [a-z0-9_-]
bool valid_image_name(sv s);      // 1..31 characters of [A-Za-z0-9._-]
bool valid_device_name(sv s);     // 1..15 characters of [a-z0-9] (nvme0, sda)

}  // namespace pv::config_detail
