// The lexical forms of configuration values: see hv/config_lex.h.
#include "hv/config_lex.h"

#include "hv/config.h"

namespace pv::config_detail {
namespace {

// Leading decimal digits of `s` into `v`; the rest is left in `s`.
Num take_u64(sv& s, u64& v) {
    if (s.empty() || !is_digit(s.front())) return Num::Bad;
    v = 0;
    while (!s.empty() && is_digit(s.front())) {
        u64 d = static_cast<u64>(s.front() - '0');
        if (v > (~u64{0} - d) / 10) return Num::Overflow;
        v = v * 10 + d;
        s.remove_prefix(1);
    }
    return Num::Ok;
}

Num scale(u64& v, u64 unit) {
    if (v > ~u64{0} / unit) return Num::Overflow;
    v *= unit;
    return Num::Ok;
}

}  // namespace

sv trim(sv s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

void copy_to(char* dst, size_t n, sv s) {
    size_t i = 0;
    for (; i < s.size() && i + 1 < n; ++i) dst[i] = s[i];
    dst[i] = '\0';
}

Num parse_int(sv s, u64& v) {
    Num r = take_u64(s, v);
    return r == Num::Ok && !s.empty() ? Num::Bad : r;
}

Num parse_size(sv s, u64& bytes) {
    Num r = take_u64(s, bytes);
    if (r != Num::Ok) return r;
    if (s.empty()) return Num::Ok;
    if (s.size() != 1) return Num::Bad;
    switch (s.front()) {
    case 'K': case 'k': return scale(bytes, kKiB);
    case 'M': case 'm': return scale(bytes, kMiB);
    case 'G': case 'g': return scale(bytes, kGiB);
    default: return Num::Bad;
    }
}

Num parse_time(sv s, u64& us) {
    Num r = take_u64(s, us);
    if (r != Num::Ok) return r;
    if (s == "ms") return scale(us, kMsUs);
    if (s == "s") return scale(us, kSUs);
    return s.empty() && us == 0 ? Num::Ok : Num::Bad;
}

bool parse_mac(sv s, u8 (&mac)[6]) {
    constexpr size_t kLen = 6 * 3 - 1;
    if (s.size() != kLen) return false;
    for (size_t i = 0; i < 6; ++i) {
        int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':')) return false;
        mac[i] = static_cast<u8>(hi << 4 | lo);
    }
    return true;
}

bool valid_partition_name(sv s) {
    if (s.empty() || s.size() >= sizeof(PartitionConfig::name)) return false;
    for (char c : s)
        if (!is_lower_alnum(c) && c != '_' && c != '-') return false;
    return true;
}

bool valid_image_name(sv s) {
    if (s.empty() || s.size() >= sizeof(PartitionConfig::image)) return false;
    for (char c : s)
        if (!is_alnum(c) && c != '.' && c != '_' && c != '-') return false;
    return true;
}

bool valid_device_name(sv s) {
    if (s.empty() || s.size() >= sizeof(PartitionConfig::paging_device)) return false;
    for (char c : s)
        if (!is_lower_alnum(c)) return false;
    return true;
}

}  // namespace pv::config_detail
