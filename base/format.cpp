#include "base/format.h"

namespace pv {
namespace {

struct Out {
    char* buf;
    u32 cap;
    u32 len = 0;
    void put(char c) {
        if (len + 1 < cap) buf[len] = c;
        ++len;
    }
};

struct Spec {
    bool left = false, zero = false;
    u32 width = 0;
};

void pad(Out& o, u32 used, const Spec& s, char fill) {
    for (u32 i = used; i < s.width; ++i) o.put(fill);
}

void put_string(Out& o, const char* str, const Spec& s) {
    if (!str) str = "(null)";
    u32 n = 0;
    while (str[n]) ++n;
    if (!s.left) pad(o, n, s, ' ');
    for (u32 i = 0; i < n; ++i) o.put(str[i]);
    if (s.left) pad(o, n, s, ' ');
}

void put_number(Out& o, u64 v, unsigned base, bool negative, const Spec& s) {
    char digits[24];
    u32 n = 0;
    do {
        unsigned d = static_cast<unsigned>(v % base);
        digits[n++] = static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    u32 used = n + (negative ? 1 : 0);
    if (!s.left && !s.zero) pad(o, used, s, ' ');
    if (negative) o.put('-');
    if (!s.left && s.zero) pad(o, used, s, '0');
    while (n) o.put(digits[--n]);
    if (s.left) pad(o, used, s, ' ');
}

}  // namespace

u32 vformat(char* buf, u32 cap, const char* fmt, va_list ap) {
    Out o{buf, cap};
    for (const char* p = fmt; *p; ++p) {
        if (*p != '%') {
            o.put(*p);
            continue;
        }
        Spec s;
        ++p;
        for (;; ++p) {
            if (*p == '-') s.left = true;
            else if (*p == '0') s.zero = true;
            else break;
        }
        while (*p >= '0' && *p <= '9') s.width = s.width * 10 + static_cast<u32>(*p++ - '0');
        int longs = 0;
        while (*p == 'l' || *p == 'z') ++longs, ++p;
        auto take_unsigned = [&]() -> u64 { return longs ? va_arg(ap, u64) : va_arg(ap, unsigned); };
        switch (*p) {
        case 's': put_string(o, va_arg(ap, const char*), s); break;
        case 'c': o.put(static_cast<char>(va_arg(ap, int))); break;
        case 'd':
        case 'i': {
            i64 v = longs ? va_arg(ap, i64) : va_arg(ap, int);
            put_number(o, v < 0 ? 0 - static_cast<u64>(v) : static_cast<u64>(v), 10, v < 0, s);
            break;
        }
        case 'u': put_number(o, take_unsigned(), 10, false, s); break;
        case 'x': put_number(o, take_unsigned(), 16, false, s); break;
        case 'p':
            o.put('0'), o.put('x');
            put_number(o, reinterpret_cast<u64>(va_arg(ap, void*)), 16, false, s);
            break;
        case '%': o.put('%'); break;
        case '\0': --p; break;
        default: o.put('%'), o.put(*p); break;
        }
    }
    if (cap) buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len < cap ? o.len : (cap ? cap - 1 : 0);
}

u32 format(char* buf, u32 n, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    u32 r = vformat(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

}  // namespace pv
