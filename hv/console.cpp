#include "hv/console.h"

#include <cstdarg>

#include "arch/arch.h"
#include "base/format.h"
#include "hv/partition.h"

namespace pv {
namespace {

SpinLock g_console_lock{LockRank::Console};

void write_line(const char* prefix, const char* text, u32 n) {
    Guard g(g_console_lock);
    u32 plen = 0;
    while (prefix[plen]) ++plen;
    arch::console_write(prefix, plen);
    arch::console_write(text, n);
    if (n == 0 || text[n - 1] != '\n') arch::console_write("\n", 1);
}

void vlog(const char* prefix, const char* fmt, va_list ap) {
    char buf[512];
    u32 n = vformat(buf, sizeof buf, fmt, ap);
    write_line(prefix, buf, n);
}

}  // namespace

void log(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog("poolvisor: ", fmt, ap);
    va_end(ap);
}

void log_raw(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog("", fmt, ap);
    va_end(ap);
}

void partition_console_flush(Partition& p) {
    ConsoleLine& line = p.console;
    if (line.len == 0) return;
    char prefix[24];
    format(prefix, sizeof prefix, "[%s] ", p.name);
    write_line(prefix, line.text, line.len);
    line.len = 0;
}

// Caller holds p.lock. Carriage returns are dropped; a full line is flushed.
void partition_console_write(Partition& p, const char* s, u32 n) {
    ConsoleLine& line = p.console;
    for (u32 i = 0; i < n; ++i) {
        char c = s[i];
        if (c == '\r') continue;
        if (c == '\n') {
            partition_console_flush(p);
            continue;
        }
        bool printable = (c >= 0x20 && c < 0x7f) || c == '\t';
        line.text[line.len++] = printable ? c : '.';
        if (line.len == sizeof line.text) partition_console_flush(p);
    }
}

}  // namespace pv
