#include "partition/guest/rt/cpu.h"

#include <stdarg.h>

#include "partition/guest/rt/console.h"
#include "partition/guest/rt/hcall.h"
#include "partition/guest/rt/platform.h"

extern "C" {
// Zeroed by crt0 with the rest of .bss; crt0.S points r13 and r1 into it.
alignas(16) rt::PerCpu rt_cpus[RT_MAX_CPUS];
void rt_secondary_entry();  // crt0.S
}

namespace rt {
namespace {

constexpr u64 kDecMax = 0x7fffffff;
constexpr u64 kMsrRi = 0x2;

}  // namespace

CpuLocal& this_cpu() {
    CpuLocal* p;
    asm("mr %0, 13" : "=r"(p));
    return *p;
}

CpuLocal& cpu(u32 index) { return rt_cpus[index].local; }

u64 timebase() { return __builtin_ppc_get_timebase(); }

u64 ticks_from_us(u64 us) { return us * (platform().timebase_hz / 1000000); }

void set_dec(u64 ticks) {
    if (ticks < 1) ticks = 1;
    if (ticks > kDecMax) ticks = kDecMax;
    asm volatile("mtdec %0" ::"r"(ticks));
}

void irq_disable() { asm volatile("mtmsrd %0, 1" ::"r"(kMsrRi) : "memory"); }

void cede(u64 ticks) {
    set_dec(ticks);
    rt_hcall(papr::H_CEDE);
    // PAPR returns from H_CEDE with EE = 1: a due decrementer is taken at
    // 0x900 right here. Then back to EE = 0 and a far-away decrementer.
    irq_disable();
    set_dec(kDecMax);
}

i64 confer_all() { return rt_hcall(papr::H_CONFER, static_cast<u64>(-1), 0); }

i32 start_cpu(u32 index, void (*entry)(u32)) {
    CpuLocal& c = cpu(index);
    c.index = index;
    c.hwid = platform().cpu_hwid[index];
    c.entry = entry;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);  // all of it visible before the vCPU runs
    auto start = static_cast<u32>(reinterpret_cast<uintptr_t>(&rt_secondary_entry));
    auto block = static_cast<u32>(reinterpret_cast<uintptr_t>(&rt_cpus[index]));
    return rtas_call(Rtas::StartCpu, 1, nullptr, c.hwid, start, block);
}

bool cpu_stopped(u32 index, bool* stopped) {
    u32 state = 0;
    if (rtas_call(Rtas::QueryCpuStoppedState, 2, &state, cpu(index).hwid) != kRtasSuccess) return false;
    *stopped = state == 0;
    return true;
}

void power_off() {
    irq_disable();
    for (;;) {
        i32 status = rtas_power_off();
        if (status == kRtasUnavailable) halt();
        cede(ticks_from_us(100000));
    }
}

void halt() {
    for (;;) cede(kDecMax);
}

void panic(const char* fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    panic_log("%s", msg);
    power_off();
}

}  // namespace rt

// A secondary vCPU from crt0.S, with its r13, r1 and r2 set.
extern "C" [[noreturn]] void rt_secondary_main(rt::PerCpu* self) {
    rt::set_dec(0x7fffffff);
    self->local.entry(self->local.index);
    rt::rtas_stop_self();
}

// From a vector stub in crt0.S (smp-guest only).
extern "C" [[noreturn]] void rt_unexpected_exception(rt::u64 vector, rt::u64 srr0, rt::u64 srr1, rt::u64 dar,
                                                     rt::u64 dsisr) {
    rt::panic("unexpected exception 0x%lx at 0x%lx (msr 0x%lx, dar 0x%lx, dsisr 0x%lx)", vector, srr0, srr1, dar,
              dsisr);
}

// __stack_chk_fail (arch/ppc64/klibc.c) lands here when libfdt finds its canary changed.
extern "C" [[noreturn]] void pv_stack_check_failed() { rt::panic("stack protector: canary changed"); }
