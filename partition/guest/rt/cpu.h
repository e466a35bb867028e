// vCPUs of a test partition: the per-vCPU block (r13/SPRG0), decrementer,
// H_CEDE, start and stop through RTAS, and the ways a partition ends.
#pragma once
#include <stddef.h>

#include "partition/guest/rt/layout.h"
#include "partition/guest/rt/rtas.h"
#include "partition/guest/rt/types.h"

namespace rt {

// r13 points here; the 0x900 handler and rtas_entry.S use the first fields.
struct alignas(16) CpuLocal {
    u64 dec_count;     // decrementer interrupts taken
    u64 rtas_sp;       // r1 while inside RTAS
    u32 index;         // 0 = boot vCPU
    u32 hwid;          // reg of its cpu node
    void (*entry)(u32 index);  // what a secondary runs
    RtasArgs rtas_args;
    // Free for an image's interrupt entry code, found through SPRG0 before
    // any register is free (mce-guest: its per-vCPU area, spilled registers).
    u64 scratch[RT_CPU_SCRATCH_WORDS];
};
static_assert(offsetof(CpuLocal, dec_count) == RT_CPU_DEC_COUNT);
static_assert(offsetof(CpuLocal, rtas_sp) == RT_CPU_RTAS_SP);
static_assert(offsetof(CpuLocal, scratch) == RT_CPU_SCRATCH);

// One block per vCPU. The guard stays zero: libfdt, built with the stack
// protector, reads its canary at r13 - 0x7010, i.e. guard[0].
struct alignas(16) PerCpu {
    u8 guard[RT_CPU_GUARD];
    CpuLocal local;
    u8 stack[RT_CPU_SIZE - RT_CPU_GUARD - sizeof(CpuLocal)];
};
static_assert(sizeof(PerCpu) == RT_CPU_SIZE);
static_assert(offsetof(PerCpu, local) == RT_CPU_GUARD);

CpuLocal& this_cpu();
CpuLocal& cpu(u32 index);

u64 timebase();
u64 ticks_from_us(u64 us);
void set_dec(u64 ticks);  // clamped to 1..0x7fffffff
void irq_disable();       // MSR[EE] = 0 (H_CEDE returns with EE = 1)

// H_CEDE until H_PROD or until `ticks` of timebase have passed.
void cede(u64 ticks);
// H_CONFER(-1, 0): give our time to the partition's other vCPUs.
i64 confer_all();

// RTAS start-cpu of vCPU `index` (1..cpus-1), running entry(index) and then
// stop-self. Returns the RTAS status.
i32 start_cpu(u32 index, void (*entry)(u32 index));
// query-cpu-stopped-state: true and *stopped on success.
bool cpu_stopped(u32 index, bool* stopped);

// RTAS power-off, again and again if it ever returns.
[[noreturn]] void power_off();
// No RTAS: cede forever.
[[noreturn]] void halt();
[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace rt
