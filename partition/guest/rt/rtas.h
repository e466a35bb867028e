// RTAS calls as Linux makes them: a big-endian rtas_args in our memory and a
// big-endian real-mode entry at /rtas linux,rtas-entry (rtas_entry.S).
#pragma once
#include "base/rtas_args.h"
#include "partition/guest/rt/types.h"

namespace rt {

enum class Rtas : u32 {
    GetTimeOfDay,
    PowerOff,
    SystemReboot,
    StartCpu,
    StopSelf,
    QueryCpuStoppedState,
    DisplayCharacter,
    IbmNmiRegister,   // FWNMI (mce-guest)
    IbmNmiInterlock,
    IbmOsTerm,
    Count,
};

// struct rtas_args: the rets follow the nargs inputs in args[].
using pv::RtasArgs;

// RTAS status values (PAPR), and ours for "no such call in /rtas".
inline constexpr i32 kRtasSuccess = 0;
inline constexpr i32 kRtasHardwareError = -1;
inline constexpr i32 kRtasUnavailable = -1000;

// Where to enter RTAS (linux,rtas-base and -entry) and its tokens from /rtas.
void rtas_init(const void* fdt, int rtas_node, u64 base, u64 entry);
void rtas_use_hcall(bool on);  // bootarg rtas=hcall: H_RTAS instead of the BE entry

// One call at a time (a lock), as Linux's rtas_call(token, nargs, nret,
// outputs, ...): `in` are the nargs inputs; out[0..nret-2] receive
// rets[1..nret-1] (out may be null). Returns rets[0], the RTAS status.
i32 rtas_call_n(Rtas call, u32 nargs, const u32* in, u32 nret, u32* out);
template <typename... In>
i32 rtas_call(Rtas call, u32 nret, u32* out, In... in) {
    const u32 args[] = {static_cast<u32>(in)..., 0};
    return rtas_call_n(call, sizeof...(In), args, nret, out);
}
// Whether /rtas names this call.
bool rtas_available(Rtas call);
// As rtas_call_n, without the lock and with the caller's own `args` (Linux's
// rtas_call_unlocked): for interrupt handlers that may have interrupted a
// call of their own vCPU, which holds the lock and uses its rtas_args.
i32 rtas_call_unlocked(RtasArgs& args, Rtas call, u32 nargs, const u32* in, u32 nret, u32* out);
// power-off(0, 0), not waiting for the lock forever (panic paths).
i32 rtas_power_off();
// stop-self without the lock, as Linux does: it never returns.
[[noreturn]] void rtas_stop_self();

}  // namespace rt
