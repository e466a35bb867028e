#include "arch/ppc64/opal.h"

#include "base/endian.h"

namespace pv::opal {

// OPAL_CONSOLE_WRITE takes a pointer to a big-endian length and may accept
// fewer bytes than offered (its buffer is full): retry until all is out.
void console_write(const char* s, std::size_t n) {
    while (n) {
        Be64 len;
        len.set(n);
        i64 rc = pv_opal_call(CONSOLE_WRITE, 0, reinterpret_cast<u64>(&len), reinterpret_cast<u64>(s));
        if (rc != kSuccess && rc != kBusy && rc != kBusyEvent) return;  // console gone
        u64 done = len.get();
        if (done > n) done = n;
        s += done;
        n -= done;
        if (n) pv_opal_call(POLL_EVENTS, 0);
    }
}

// OPAL_CONSOLE_READ: the length is big-endian, in (room) and out (bytes read).
std::size_t console_read(char* buf, std::size_t max) {
    Be64 len;
    len.set(max);
    i64 rc = pv_opal_call(CONSOLE_READ, 0, reinterpret_cast<u64>(&len), reinterpret_cast<u64>(buf));
    if (rc != kSuccess) return 0;  // no OPAL console, or it is closed
    u64 got = len.get();
    return got > max ? max : got;
}

// Power-down completes only while we keep polling OPAL events.
void power_down() {
    while (pv_opal_call(CEC_POWER_DOWN, 0) == kBusy) pv_opal_call(POLL_EVENTS, 0);
    for (;;) pv_opal_call(POLL_EVENTS, 0);
}

}  // namespace pv::opal
