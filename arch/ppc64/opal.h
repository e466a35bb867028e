// OPAL (skiboot) services the hypervisor uses. Token numbers from skiboot's
// include/opal-api.h.
#pragma once
#include "base/types.h"

extern "C" pv::i64 pv_opal_call(pv::u64 token, pv::u64 a0 = 0, pv::u64 a1 = 0, pv::u64 a2 = 0,
                                pv::u64 a3 = 0, pv::u64 a4 = 0, pv::u64 a5 = 0, pv::u64 a6 = 0);

namespace pv::opal {

enum Token : u64 {
    CONSOLE_WRITE = 1,
    CONSOLE_READ = 2,
    CEC_POWER_DOWN = 5,
    POLL_EVENTS = 10,
    START_CPU = 41,
    REINIT_CPUS = 70,
};
inline constexpr u64 kReinitHileLe = 2;
inline constexpr u64 kReinitMmuRadix = 8;
inline constexpr i64 kSuccess = 0;
inline constexpr i64 kBusy = -2;
inline constexpr i64 kBusyEvent = -12;

void console_write(const char* s, std::size_t n);
std::size_t console_read(char* buf, std::size_t max);
[[noreturn]] void power_down();

}  // namespace pv::opal
