// The image's console for the PSP's host tests (service_test.cpp,
// mover_test.cpp): lines to stdout, and kept for the tests that look at them.
// Include it in one file per test executable (it defines rt::log).
#pragma once
#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

namespace psp_test {
inline std::vector<std::string> g_log;
}  // namespace psp_test

namespace rt {
void log(const char* fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    std::printf("psp: %s\n", line);
    psp_test::g_log.emplace_back(line);
}
}  // namespace rt
