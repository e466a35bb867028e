#include "partition/guest/rt/console.h"

#include <string.h>

#include "partition/guest/rt/hcall.h"
#include "partition/guest/rt/lock.h"

namespace rt {
namespace {

constinit SpinLock g_lock;
constinit u32 g_vtermno = 0x30000000;  // until the device tree is read
constinit const char* g_name = "guest";

constexpr u64 kPanicSpins = u64{1} << 24;
constexpr u32 kBusyRetries = 100000;

// H_PUT_TERM_CHAR takes up to 16 characters in r6 and r7, first character in
// the most significant byte of r6.
void put_chunk(const char* s, size_t n) {
    u64 w[2] = {0, 0};
    for (size_t i = 0; i < n; ++i) w[i / 8] |= u64{static_cast<u8>(s[i])} << (56 - 8 * (i % 8));
    for (u32 tries = 0; tries < kBusyRetries; ++tries) {
        i64 rc = rt_hcall(h::H_PUT_TERM_CHAR, g_vtermno, n, w[0], w[1]);
        if (!h::is_busy(rc)) return;  // done, or an error we cannot report
    }
}

struct Out {
    char* buf;
    size_t cap;
    size_t len = 0;
    void put(char c) {
        if (len + 1 < cap) buf[len] = c;
        ++len;
    }
    void pad(char c, int count) {
        for (; count > 0; --count) put(c);
    }
};

void put_uint(Out& o, u64 v, unsigned base, bool upper, int width, char pad, bool negative) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + (negative ? 1 : 0);
    if (pad == ' ') o.pad(' ', width - len);
    if (negative) o.put('-');
    if (pad == '0') o.pad('0', width - len);
    while (n) o.put(tmp[--n]);
}

}  // namespace

void console_init(u32 vtermno, const char* name) {
    g_vtermno = vtermno;
    g_name = name;
}

const char* image_name() { return g_name; }

size_t vformat(char* buf, size_t cap, const char* fmt, va_list ap) {
    Out o{buf, cap};
    for (; *fmt; ++fmt) {
        if (*fmt != '%') {
            o.put(*fmt);
            continue;
        }
        ++fmt;
        char pad = ' ';
        int width = 0, prec = -1, lng = 0;
        if (*fmt == '0') {
            pad = '0';
            ++fmt;
        }
        for (; *fmt >= '0' && *fmt <= '9'; ++fmt) width = width * 10 + (*fmt - '0');
        if (*fmt == '.') {
            ++fmt;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                ++fmt;
            } else {
                for (prec = 0; *fmt >= '0' && *fmt <= '9'; ++fmt) prec = prec * 10 + (*fmt - '0');
            }
        }
        for (; *fmt == 'l'; ++fmt) ++lng;
        if (*fmt == 'z') {
            lng = 1;
            ++fmt;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            i64 v = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
            u64 mag = v < 0 ? 0 - static_cast<u64>(v) : static_cast<u64>(v);
            put_uint(o, mag, 10, false, width, pad, v < 0);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            u64 v = lng >= 2 ? va_arg(ap, unsigned long long) : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            put_uint(o, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, pad, false);
            break;
        }
        case 'p':
            o.put('0');
            o.put('x');
            put_uint(o, reinterpret_cast<uintptr_t>(va_arg(ap, void*)), 16, false, width, pad, false);
            break;
        case 's': {
            const char* s = va_arg(ap, const char*);
            if (!s) s = "(null)";
            size_t n = prec >= 0 ? strnlen(s, static_cast<size_t>(prec)) : strlen(s);
            o.pad(' ', width - static_cast<int>(n));
            for (size_t i = 0; i < n; ++i) o.put(s[i]);
            break;
        }
        case 'c':
            o.put(static_cast<char>(va_arg(ap, int)));
            break;
        case '%':
            o.put('%');
            break;
        case '\0':
            --fmt;  // the loop ends on the NUL
            break;
        default:
            o.put('%');
            o.put(*fmt);
            break;
        }
    }
    if (cap == 0) return 0;
    size_t end = o.len < cap ? o.len : cap - 1;
    buf[end] = '\0';
    return end;
}

size_t format(char* buf, size_t n, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t len = vformat(buf, n, fmt, ap);
    va_end(ap);
    return len;
}

void console_lock() { g_lock.lock(); }
void console_unlock() { g_lock.unlock(); }

void console_write(const char* s, size_t n) {
    for (size_t k; n; s += k, n -= k) {
        k = n < 16 ? n : 16;
        put_chunk(s, k);
    }
}

namespace {

size_t make_line(char (&line)[256], const char* fmt, va_list ap) {
    size_t n = format(line, sizeof line - 1, "%s: ", g_name);
    n += vformat(line + n, sizeof line - 1 - n, fmt, ap);
    line[n++] = '\n';
    return n;
}

}  // namespace

void log(const char* fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    size_t n = make_line(line, fmt, ap);
    va_end(ap);
    Guard g(g_lock);
    console_write(line, n);
}

void panic_log(const char* fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    size_t n = make_line(line, fmt, ap);
    va_end(ap);
    bool locked = g_lock.lock_for(kPanicSpins);
    console_write(line, n);
    if (locked) g_lock.unlock();
}

}  // namespace rt
