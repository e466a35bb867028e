// printf-style formatting into a fixed buffer (no heap, no libc).
// Supports %s %c %d %i %u %x %p with l/ll/z length, width, '0' and '-' flags.
#pragma once
#include <cstdarg>

#include "base/types.h"

namespace pv {

// Returns the length written (always NUL-terminated when n > 0).
u32 vformat(char* buf, u32 n, const char* fmt, va_list ap);
u32 format(char* buf, u32 n, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

}  // namespace pv
