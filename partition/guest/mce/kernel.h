// mce-guest: a tiny multi-process kernel whose processes lose their pages to
// machine checks (see partition/README.md, "mce-guest"). Shared between the
// kernel (main.cpp) and the machine-check handler (machine_check.cpp).
#pragma once
#include <stddef.h>

#include "partition/guest/mce/asm_layout.h"
#include "partition/guest/rt/rtas.h"
#include "partition/guest/rt/types.h"

namespace mce {

using namespace rt;

// The fixed logical layout (tests compute device sectors from it).
inline constexpr u64 kKernelBufferBase = 0x600000;  // kernel buffer, up to 2 MiB
inline constexpr u64 kKernelBufferMax = 0x200000;
inline constexpr u64 kProcessBase = 0x800000;       // process k at kProcessBase + k * kProcessStride
inline constexpr u64 kProcessStride = 0x100000;
inline constexpr u64 kPageSize = 4096;
inline constexpr u32 kMaxProcs = 8;
inline constexpr u32 kMaxCpus = 8;                   // vCPUs the kernel uses
inline constexpr u64 kProcessStack = 16 * KiB;       // per process, in the kernel's .bss

// Non-volatile state of a kernel or process context (mce_switch).
struct Context {
    u64 r1, r2, lr, cr;
    u64 gpr[18];  // r14..r31
};
static_assert(offsetof(Context, r1) == CTX_R1 && offsetof(Context, r2) == CTX_R2);
static_assert(offsetof(Context, lr) == CTX_LR && offsetof(Context, cr) == CTX_CR);
static_assert(offsetof(Context, gpr) == CTX_GPR(14) && sizeof(Context) == CTX_SIZE);

enum class ProcState : u32 { Ready, Running, Done, Terminated };

struct Process {
    u32 id;
    u64 base, bytes;        // its pages: [base, base + bytes)
    Context ctx;            // saved while it is not running
    ProcState state;        // under the scheduler lock
    u32 killed;             // set by the machine-check handler (atomic)
    u32 exited;             // finished its rounds
    u32 rounds_done;
    u64 mismatches, first_bad;
    alignas(16) u8 stack[kProcessStack];
};

// The interrupted state of a machine check (entry.S fills it).
struct McFrame {
    u64 gpr[32];
    u64 cr, lr, ctr, xer, srr0, srr1, dar, dsisr;
    u64 log;   // MCF_LOG
    u64 kind;  // MC_KIND_*
};
static_assert(offsetof(McFrame, cr) == MCF_CR && offsetof(McFrame, srr0) == MCF_SRR0);
static_assert(offsetof(McFrame, dsisr) == MCF_DSISR && offsetof(McFrame, log) == MCF_LOG);
static_assert(offsetof(McFrame, kind) == MCF_KIND && sizeof(McFrame) == MCF_SIZE);

inline constexpr u32 kMcLogMax = 1024;  // copied out of the FWNMI buffer before the interlock

// One per vCPU (CpuLocal::scratch[MC_SCR_AREA] points to it). Level d
// (1-based nesting depth) uses frame[d-1], stack[d-1] and the rest [d-1].
struct alignas(16) McArea {
    u32 depth;
    u32 pad[3];
    McFrame frame[MC_MAX_DEPTH];
    alignas(16) u8 stack[MC_MAX_DEPTH][MC_STACK_SIZE];
    u8 log[MC_MAX_DEPTH][kMcLogMax];
    // Its own RTAS arguments (the interrupted code may be inside RTAS) and
    // os-term message, each inside one 4 KiB page: a shared partition's page
    // is paged in one at a time.
    struct alignas(128) Args {
        RtasArgs a;
    } rtas_args[MC_MAX_DEPTH];
    alignas(128) char os_term_msg[MC_MAX_DEPTH][128];
    u64 last_error_tb;  // newest H_PV_GET_ERROR_LOG entry handled (0x200)
};
static_assert(offsetof(McArea, depth) == MCA_DEPTH && offsetof(McArea, frame) == MCA_FRAMES);
static_assert(offsetof(McArea, stack) == MCA_STACKS);
static_assert(sizeof(RtasArgs) <= 128 && 4096 % 128 == 0);

// --- kernel (main.cpp) ---
// The process whose pages hold logical page `page`, or null (a kernel page).
Process* owner_of(u64 page);
// The process running on vCPU `cpu` (null while its kernel context runs).
Process* current(u32 cpu);
// The kernel context of vCPU `cpu`, where an abandoned process's vCPU goes on.
const Context& scheduler_context(u32 cpu);
// The handler's verdict: the process never runs again.
void kill(Process& p);

// --- machine checks (machine_check.cpp) ---
enum class McMode { Vector, Fwnmi };
void mc_init_cpu(u32 cpu);            // before vCPU `cpu` runs
McMode mc_setup(bool want_fwnmi);     // ibm,nmi-register (or the 0x200 vector); prints a line
struct McCounts {
    u32 fwnmi, vector, simulated;
};
McCounts mc_counts();
// Debugging aid: a machine check for `addr` built like FWNMI's (mce_simulate).
void mc_simulate(u64 addr);

}  // namespace mce

extern "C" {
void mce_switch(mce::Context* save, const mce::Context* load);
[[noreturn]] void mce_context_load(const mce::Context* c);
void mce_process_start();
void mce_fwnmi_machine_check();
void mce_fwnmi_system_reset();
void mce_simulate(void* buffer);
mce::u64 mce_touch(const mce::u64* addr);  // hold=1: one load (entry.S)
void mce_touch_hold(mce::u64 addr);        // main.cpp, from entry.S
}
