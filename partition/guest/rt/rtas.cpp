#include "partition/guest/rt/rtas.h"

#include <libfdt.h>

#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/hcall.h"
#include "partition/guest/rt/lock.h"

extern "C" rt::u64 rt_rtas_enter(rt::RtasArgs* args, rt::u64 rtas_base, rt::u64 rtas_entry);

namespace rt {
namespace {

constexpr const char* kNames[] = {
    "get-time-of-day", "power-off", "system-reboot", "start-cpu",
    "stop-self", "query-cpu-stopped-state", "display-character",
    "ibm,nmi-register", "ibm,nmi-interlock", "ibm,os-term",
};
static_assert(sizeof kNames / sizeof kNames[0] == static_cast<u32>(Rtas::Count));

constexpr u32 kMaxCells = RtasArgs::kMaxCells;
constexpr u64 kPowerOffSpins = u64{1} << 24;

constinit u32 g_token[static_cast<u32>(Rtas::Count)] = {};
constinit bool g_have[static_cast<u32>(Rtas::Count)] = {};
constinit u64 g_base = 0, g_entry = 0;
constinit bool g_via_hcall = false;
constinit SpinLock g_lock;

// Fill `a`, enter RTAS, read the results. rets[0] starts as "hardware error"
// so that a call RTAS never looked at does not read as success.
i32 call_with(RtasArgs& a, Rtas call, u32 nargs, const u32* in, u32 nret, u32* out) {
    a.token.set(g_token[static_cast<u32>(call)]);
    a.nargs.set(nargs);
    a.nret.set(nret);
    for (u32 i = 0; i < nargs; ++i) a.args[i].set(in[i]);
    for (u32 r = 0; r < nret; ++r) a.args[nargs + r].set(static_cast<u32>(kRtasHardwareError));
    if (g_via_hcall)
        rt_hcall(papr::H_RTAS, reinterpret_cast<uintptr_t>(&a));
    else
        rt_rtas_enter(&a, g_base, g_entry);
    for (u32 r = 1; r < nret; ++r)
        if (out) out[r - 1] = a.args[nargs + r].get();
    return static_cast<i32>(a.args[nargs].get());
}

bool shape_ok(Rtas call, u32 nargs, u32 nret) {
    return g_have[static_cast<u32>(call)] && nret >= 1 && nargs + nret <= kMaxCells;
}

}  // namespace

void rtas_init(const void* fdt, int node, u64 base, u64 entry) {
    g_base = base;
    g_entry = entry;
    for (u32 i = 0; i < static_cast<u32>(Rtas::Count); ++i) {
        int len = 0;
        const void* p = fdt_getprop(fdt, node, kNames[i], &len);
        g_have[i] = p && len == 4;
        if (g_have[i]) g_token[i] = static_cast<const Be32*>(p)->get();
    }
}

void rtas_use_hcall(bool on) { g_via_hcall = on; }

i32 rtas_call_n(Rtas call, u32 nargs, const u32* in, u32 nret, u32* out) {
    if (!shape_ok(call, nargs, nret)) return kRtasUnavailable;
    Guard g(g_lock);
    return call_with(this_cpu().rtas_args, call, nargs, in, nret, out);
}

bool rtas_available(Rtas call) { return g_have[static_cast<u32>(call)]; }

i32 rtas_call_unlocked(RtasArgs& args, Rtas call, u32 nargs, const u32* in, u32 nret, u32* out) {
    if (!shape_ok(call, nargs, nret)) return kRtasUnavailable;
    return call_with(args, call, nargs, in, nret, out);
}

i32 rtas_power_off() {
    if (!shape_ok(Rtas::PowerOff, 2, 1)) return kRtasUnavailable;
    bool locked = lock_for(g_lock, kPowerOffSpins);
    const u32 in[] = {0, 0};
    i32 status = call_with(this_cpu().rtas_args, Rtas::PowerOff, 2, in, 1, nullptr);
    if (locked) g_lock.unlock();
    return status;
}

void rtas_stop_self() {
    irq_disable();
    if (shape_ok(Rtas::StopSelf, 0, 1)) {
        i32 status = call_with(this_cpu().rtas_args, Rtas::StopSelf, 0, nullptr, 1, nullptr);
        panic("vCPU %u: stop-self returned %d", this_cpu().index, status);
    }
    panic("vCPU %u: no stop-self in /rtas", this_cpu().index);
}

}  // namespace rt
