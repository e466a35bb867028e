#include "partition/guest/rt/console.h"

#include "partition/guest/rt/hcall.h"
#include "partition/guest/rt/lock.h"

namespace rt {
namespace {

constinit SpinLock g_lock;
constinit u32 g_vtermno = papr::kVtermno;  // until the device tree is read
constinit const char* g_name = "guest";

constexpr u64 kPanicSpins = u64{1} << 24;
constexpr u32 kBusyRetries = 100000;

// H_PUT_TERM_CHAR takes up to 16 characters in r6 and r7, first character in
// the most significant byte of r6.
void put_chunk(const char* s, size_t n) {
    u64 w[2] = {0, 0};
    for (size_t i = 0; i < n; ++i) w[i / 8] |= u64{static_cast<u8>(s[i])} << (56 - 8 * (i % 8));
    for (u32 tries = 0; tries < kBusyRetries; ++tries) {
        i64 rc = rt_hcall(papr::H_PUT_TERM_CHAR, g_vtermno, n, w[0], w[1]);
        if (!hcall_busy(rc)) return;  // done, or an error we cannot report
    }
}

}  // namespace

void console_init(u32 vtermno, const char* name) {
    g_vtermno = vtermno;
    g_name = name;
}

const char* image_name() { return g_name; }

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
    bool locked = lock_for(g_lock, kPanicSpins);
    console_write(line, n);
    if (locked) g_lock.unlock();
}

}  // namespace rt
