// Internal to the configuration parser (hv/config*.cpp): composing an error
// message into ConfigError's fixed buffer from parts (text, numbers, sizes,
// quoted user values). No libc, no formatter.
#pragma once
#include "hv/config.h"
#include "hv/config_lex.h"

namespace pv::config_detail {

inline constexpr size_t kMaxQuoted = 40;  // offending values are shortened to keep messages readable

// Appends to a fixed buffer, silently truncating; always NUL-terminated.
class Text {
public:
    Text(char* buf, size_t n) : buf_(buf), cap_(n) {
        if (cap_) buf_[0] = '\0';
    }
    void add(sv s) {
        for (char c : s) put(c);
    }
    void add(u64 v) {
        char digits[20];
        u32 n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
        } while ((v /= 10) != 0);
        while (n) put(digits[--n]);
    }

private:
    void put(char c) {
        if (len_ + 1 >= cap_) return;
        buf_[len_++] = c;
        buf_[len_] = '\0';
    }
    char* buf_;
    size_t cap_;
    size_t len_ = 0;
};

// A user-supplied value, shown in quotes and shortened.
struct Quoted {
    sv s;
};

// A byte count, shown with the largest binary suffix that divides it: 64M, 1G, 4K, 100.
struct Size {
    u64 bytes;
};

inline void put(Text& t, sv s) { t.add(s); }
inline void put(Text& t, const char* s) { t.add(sv(s)); }
inline void put(Text& t, u64 v) { t.add(v); }
inline void put(Text& t, u32 v) { t.add(u64{v}); }
inline void put(Text& t, Size z) {
    constexpr struct {
        u64 unit;
        sv suffix;
    } kUnits[] = {{kGiB, "G"}, {kMiB, "M"}, {kKiB, "K"}};
    for (const auto& u : kUnits) {
        if (z.bytes != 0 && z.bytes % u.unit == 0) {
            t.add(z.bytes / u.unit);
            t.add(u.suffix);
            return;
        }
    }
    t.add(z.bytes);
}
inline void put(Text& t, Quoted q) {
    t.add("'");
    if (q.s.size() > kMaxQuoted) {
        t.add(head(q.s, kMaxQuoted));
        t.add("...");
    } else {
        t.add(q.s);
    }
    t.add("'");
}

// err = {line, field, the parts one after the other}; returns false (the
// parser's failure value) so callers can `return fail(...)`.
template <typename... Parts>
bool fail(ConfigError& err, u32 line, sv field, const Parts&... parts) {
    err.line = line;
    copy_to(err.field, sizeof err.field, field);
    Text t(err.message, sizeof err.message);
    (put(t, parts), ...);
    return false;
}

}  // namespace pv::config_detail
