// The partition's console: the vty through H_PUT_TERM_CHAR. The hypervisor
// prefixes each line with the partition name; we print whole lines.
#pragma once
#include "base/format.h"
#include "partition/guest/rt/types.h"

namespace rt {

void console_init(u32 vtermno, const char* image_name);
const char* image_name();

// printf-style formatting is the hypervisor's (base/format.h): %s %c %d %i %u
// %x %p, length l/ll/z, width, flags 0 and -. Always NUL-terminates (n > 0);
// returns the length written.
using pv::format;
using pv::vformat;

// One line "<image>: <text>\n", written whole (vCPUs do not interleave).
void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// Same, but does not wait for a console lock that may never be released.
void panic_log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// For a line assembled from several writes (other output in between).
void console_lock();
void console_unlock();
void console_write(const char* s, size_t n);  // caller holds the lock

}  // namespace rt
