#include "hv/console.h"

#include <cstdarg>

#include "arch/arch.h"
#include "base/format.h"
#include "hv/partition.h"

namespace pv {
namespace {

SpinLock g_console_lock{LockRank::Console};
// The partition whose unfinished line is on the console without its newline
// (a prompt, typed echo: partition_console_show_partial), and how much of it.
// Guarded by g_console_lock.
const Partition* g_open = nullptr;
u32 g_open_shown = 0;

u32 length(const char* s) {
    u32 n = 0;
    while (s[n]) ++n;
    return n;
}

// Caller holds g_console_lock: whoever writes next starts on a fresh line.
void close_open_line() {
    if (!g_open) return;
    arch::console_write("\n", 1);
    g_open = nullptr;
}

void write_line(const char* prefix, const char* text, u32 n) {
    Guard g(g_console_lock);
    close_open_line();
    arch::console_write(prefix, length(prefix));
    arch::console_write(text, n);
    if (n == 0 || text[n - 1] != '\n') arch::console_write("\n", 1);
}

void partition_prefix(const Partition& p, char (&prefix)[24]) { format(prefix, sizeof prefix, "[%s] ", p.name); }

void vlog(const char* prefix, const char* fmt, va_list ap) {
    char buf[1024];  // a PV-STAT line of a shared partition is over 500 characters
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
    partition_prefix(p, prefix);
    {
        Guard g(g_console_lock);
        if (g_open == &p) {  // its start is on the console already: the rest ends that line
            arch::console_write(line.text + g_open_shown, line.len - g_open_shown);
            arch::console_write("\n", 1);
            g_open = nullptr;
        } else {
            close_open_line();
            arch::console_write(prefix, length(prefix));
            arch::console_write(line.text, line.len);
            arch::console_write("\n", 1);
        }
    }
    line.len = 0;
}

void partition_console_show_partial(Partition& p) {
    ConsoleLine& line = p.console;
    if (line.len == 0) return;
    Guard g(g_console_lock);
    if (g_open == &p) {
        if (line.len > g_open_shown) arch::console_write(line.text + g_open_shown, line.len - g_open_shown);
    } else {
        close_open_line();
        char prefix[24];
        partition_prefix(p, prefix);
        arch::console_write(prefix, length(prefix));
        arch::console_write(line.text, line.len);
        g_open = &p;
    }
    g_open_shown = line.len;
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
