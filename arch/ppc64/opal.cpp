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

// Power-down completes only while we keep polling OPAL events.
void power_down() {
    while (pv_opal_call(CEC_POWER_DOWN, 0) == kBusy) pv_opal_call(POLL_EVENTS, 0);
    for (;;) pv_opal_call(POLL_EVENTS, 0);
}

}  // namespace pv::opal
