// mce-guest: a tiny multi-process kernel for machine-check tests. Each
// process owns a fixed range of pages (so a test knows which device sectors
// back them) and its own register state and stack; the kernel runs the
// processes round-robin on the partition's vCPUs and keeps a buffer of its
// own. A process fills its pages with a pattern of (process, round, address),
// yields, re-reads and checksums them, yields, for `rounds` rounds. When a
// page cannot be paged in, the hypervisor raises a machine check
// (machine_check.cpp): the owning process is terminated and the others go on;
// a kernel page ends the partition with ibm,os-term. partition/README.md has
// the bootargs and the layout. hold=1 (a live migration's failed page,
// docs/migration.md): every process writes its first round, process 1 leaves
// one page-in of its page at +256 KiB failing but untouched, and all wait for
// a console line before they check what they wrote.
#include "partition/guest/mce/kernel.h"
#include "partition/guest/rt/console.h"
#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/hcall.h"
#include "partition/guest/rt/lock.h"
#include "partition/guest/rt/pattern.h"
#include "partition/guest/rt/platform.h"

extern "C" char __image_end[];

namespace mce {
namespace {

constexpr u32 kDefaultProcs = 3;
constexpr u64 kDefaultProcKib = 512;
constexpr u32 kDefaultRounds = 3;
constexpr u32 kMaxRounds = 1000;
constexpr u64 kDefaultKernelKib = 256;
constexpr u32 kKernelId = 0xff;            // the kernel buffer's "process" in the pattern
constexpr u64 kIdleUs = 200;               // nothing to run here: a short H_CEDE
constexpr u64 kStuckUs = 120'000'000;      // no process ran anywhere for this long: give up
constexpr u64 kSecondaryWaitUs = 10'000'000;

struct Config {
    u32 procs, rounds, cpus;
    u64 proc_bytes, kernel_bytes;
    bool fwnmi;
    i32 simulate;  // mce_simulate=: process index, -2 = kernel, -1 = off
    bool hold;
};
constinit Config g_cfg{};

alignas(16) constinit Process g_procs[kMaxProcs]{};
constinit Context g_sched[kMaxCpus]{};            // each vCPU's kernel context
constinit Process* volatile g_current[kMaxCpus]{};
constinit SpinLock g_sched_lock;
constinit u32 g_next = 0;                         // round-robin cursor
constinit u32 g_stuck = 0;                        // a vCPU gave up waiting
constinit u32 g_cpu_done[kMaxCpus]{};

// The kernel buffer's rounds (vCPU 0 only): step 2r fills, 2r+1 verifies.
constinit u32 g_kernel_step = 0;
constinit u64 g_kernel_mismatches = 0;
constinit u64 g_kernel_sum = 0;  // what the last fill wrote

// hold=1: process kHoldProc's page at kHoldOffset is the one whose page-in
// the test fails (tests/boot/migration_mce.cmake).
constexpr u32 kHoldProc = 1;
constexpr u64 kHoldOffset = 0x40000;
constexpr u64 kHoldArmUs = 20'000;  // the decrementer that ends its page-in wait
constexpr u64 kHoldCedeUs = 2'000;
constexpr u32 kHoldTries = 16;
constexpr u32 kHoldLineMax = 64;
constinit u32 g_filled = 0;    // processes that wrote their first round
constinit u32 g_released = 0;  // the console line came
constinit u32 g_held = 0;      // the page's access waits (mce_touch_hold)
constinit SpinLock g_line_lock;
constinit u32 g_line_len = 0;
constinit char g_line[kHoldLineMax + 1]{};

// Fills [base, base + bytes); returns the checksum of what it wrote.
u64 fill(u64 base, u64 bytes, u32 id, u32 round) {
    u64 sum = 0;
    for (u64 a = base; a < base + bytes; a += 8) {
        u64 v = pattern(a, id, round);
        *reinterpret_cast<volatile u64*>(a) = v;
        sum = (sum ^ v) * 0x100000001B3ULL;
    }
    return sum;
}

// Re-reads [base, base + bytes): the checksum of what is there, the number of
// words that differ from the pattern and the first of them.
struct Check {
    u64 sum, bad, first;
};
Check verify(u64 base, u64 bytes, u32 id, u32 round) {
    Check c{0, 0, 0};
    for (u64 a = base; a < base + bytes; a += 8) {
        u64 v = *reinterpret_cast<volatile u64*>(a);
        c.sum = (c.sum ^ v) * 0x100000001B3ULL;
        if (v != pattern(a, id, round) && c.bad++ == 0) c.first = a;
    }
    return c;
}

// Processes may move between vCPUs: read r13 afresh (not rt::this_cpu(),
// which the compiler may keep from before a switch).
u32 cpu_index() {
    CpuLocal* c;
    asm volatile("mr %0, 13" : "=r"(c));
    return c->index;
}

// From a process: back to the kernel context of the vCPU we run on.
void yield(Process& p) { mce_switch(&p.ctx, &g_sched[cpu_index()]); }

void new_process(u32 k) {
    Process& p = g_procs[k];
    p.id = k;
    p.base = kProcessBase + k * kProcessStride;
    p.bytes = g_cfg.proc_bytes;
    p.state = ProcState::Ready;
    u64 top = align_down(reinterpret_cast<uintptr_t>(p.stack + sizeof p.stack), 16) - RT_CPU_STACK_PAD;
    *reinterpret_cast<u64*>(top) = 0;  // end of the back chain
    u64 toc;
    asm("mr %0, 2" : "=r"(toc));
    p.ctx.r1 = top;
    p.ctx.r2 = toc;
    p.ctx.lr = reinterpret_cast<uintptr_t>(&mce_process_start);
    p.ctx.gpr[0] = reinterpret_cast<uintptr_t>(&p);  // r14: mce_process_start's argument
}

bool ended(const Process& p) { return p.state == ProcState::Done || p.state == ProcState::Terminated; }

// The next Ready process (round-robin), now Running; null if none.
Process* pick() {
    Guard g(g_sched_lock);
    for (u32 n = 0; n < g_cfg.procs; ++n) {
        u32 k = (g_next + n) % g_cfg.procs;
        Process& p = g_procs[k];
        if (p.state != ProcState::Ready) continue;
        if (__atomic_load_n(&p.killed, __ATOMIC_ACQUIRE)) {
            p.state = ProcState::Terminated;
            continue;
        }
        p.state = ProcState::Running;
        g_next = (k + 1) % g_cfg.procs;
        return &p;
    }
    return nullptr;
}

void put_back(Process& p) {
    Guard g(g_sched_lock);
    if (__atomic_load_n(&p.killed, __ATOMIC_ACQUIRE))
        p.state = ProcState::Terminated;
    else
        p.state = p.exited ? ProcState::Done : ProcState::Ready;
}

bool all_ended() {
    Guard g(g_sched_lock);
    for (u32 k = 0; k < g_cfg.procs; ++k) {
        Process& p = g_procs[k];
        if (p.state == ProcState::Ready && __atomic_load_n(&p.killed, __ATOMIC_ACQUIRE))
            p.state = ProcState::Terminated;
        if (!ended(p)) return false;
    }
    return true;
}

// One step of the kernel's own work on its buffer; false when all are done.
bool kernel_step() {
    if (g_kernel_step >= 2 * g_cfg.rounds) return false;
    u32 round = g_kernel_step / 2;
    if (g_cfg.simulate == -2 && g_kernel_step == (g_cfg.rounds > 1 ? 3u : 1u))
        mc_simulate(kKernelBufferBase + 2 * kPageSize + 0x10);
    if (g_kernel_step % 2 == 0) {
        g_kernel_sum = fill(kKernelBufferBase, g_cfg.kernel_bytes, kKernelId, round);
    } else {
        Check c = verify(kKernelBufferBase, g_cfg.kernel_bytes, kKernelId, round);
        if (c.bad || c.sum != g_kernel_sum) {
            log("kernel buffer round %u: MISMATCH %lu words, first at 0x%lx (checksum 0x%016lx, want 0x%016lx)",
                round + 1, c.bad, c.first, c.sum, g_kernel_sum);
            g_kernel_mismatches += c.bad ? c.bad : 1;
        } else {
            log("kernel buffer round %u: checksum 0x%016lx ok", round + 1, c.sum);
        }
    }
    ++g_kernel_step;
    return true;
}

// Each vCPU's kernel context: run processes until all have ended.
void schedule(u32 cpu) {
    u64 last_run = timebase();
    for (;;) {
        bool worked = cpu == 0 && kernel_step();
        if (Process* p = pick()) {
            g_current[cpu] = p;
            mce_switch(&g_sched[cpu], &p->ctx);  // until it yields, ends or is terminated
            g_current[cpu] = nullptr;
            put_back(*p);
            last_run = timebase();
            continue;
        }
        if (worked) continue;
        if (all_ended()) return;
        // The others run elsewhere. A vCPU that never comes back (stuck in
        // the hypervisor) must not keep us here forever.
        if (__atomic_load_n(&g_stuck, __ATOMIC_ACQUIRE)) return;
        if (timebase() - last_run > ticks_from_us(kStuckUs)) {
            log("vCPU %u: no process ran for %lu s", platform().cpu_hwid[cpu], kStuckUs / 1'000'000);
            __atomic_store_n(&g_stuck, 1, __ATOMIC_RELEASE);
            return;
        }
        confer_all();
        cede(ticks_from_us(kIdleUs));
    }
}

void secondary(u32 cpu) {
    schedule(cpu);
    __atomic_store_n(&g_cpu_done[cpu], 1, __ATOMIC_RELEASE);
    rt_hcall(papr::H_PROD, platform().cpu_hwid[0]);  // vCPU 0 may be ceded, waiting for us
}

void wait_for_secondaries(u32 started) {
    u64 deadline = timebase() + ticks_from_us(kSecondaryWaitUs);
    for (u32 i = 1; i < started; ++i) {
        for (;;) {
            bool stopped = false;
            if (__atomic_load_n(&g_cpu_done[i], __ATOMIC_ACQUIRE) && cpu_stopped(i, &stopped) && stopped) break;
            if (timebase() > deadline) {
                log("vCPU %u did not stop", platform().cpu_hwid[i]);
                break;
            }
            cede(ticks_from_us(5000));
        }
    }
}

bool parse_config() {
    const Platform& p = platform();
    Config& c = g_cfg;
    c.procs = static_cast<u32>(bootarg_u64("procs", kDefaultProcs));
    if (c.procs < 1 || c.procs > kMaxProcs) c.procs = kDefaultProcs;
    u64 kib = bootarg_u64("proc_kib", kDefaultProcKib);
    if (kib < 4 || kib > kProcessStride / KiB || kib % 4) kib = kDefaultProcKib;
    c.proc_bytes = kib * KiB;
    c.rounds = static_cast<u32>(bootarg_u64("rounds", kDefaultRounds));
    if (c.rounds < 1 || c.rounds > kMaxRounds) c.rounds = kDefaultRounds;
    kib = bootarg_u64("kernel_kib", kDefaultKernelKib);
    if (kib < 4 || kib > kKernelBufferMax / KiB || kib % 4) kib = kDefaultKernelKib;
    c.kernel_bytes = kib * KiB;
    c.fwnmi = !bootarg_is("fwnmi", "off");
    c.hold = bootarg_u64("hold", 0) != 0;
    if (c.hold && (c.procs <= kHoldProc || c.proc_bytes <= kHoldOffset)) {
        log("hold=1 needs process %u with more than %lu KiB: off", kHoldProc, kHoldOffset / KiB);
        c.hold = false;
    }
    c.simulate = bootarg_is("mce_simulate", "kernel") ? -2 : static_cast<i32>(bootarg_u64("mce_simulate", ~u64{0}));
    if (c.simulate >= static_cast<i32>(c.procs)) c.simulate = -1;
    c.cpus = p.cpus < kMaxCpus ? p.cpus : kMaxCpus;
    if (c.cpus > c.procs) c.cpus = c.procs;  // one process each at most
    if (c.cpus == 0) c.cpus = 1;

    log("bootargs '%s'", p.bootargs);
    log("%u processes x %lu KiB, %u rounds, kernel buffer %lu KiB, fwnmi %s, %u of %u vCPUs, %lu MiB", c.procs,
        c.proc_bytes / KiB, c.rounds, c.kernel_bytes / KiB, c.fwnmi ? "on" : "off", c.cpus, p.cpus_in_tree,
        p.mem_size >> 20);
    log("kernel buffer 0x%lx-0x%lx", kKernelBufferBase, kKernelBufferBase + c.kernel_bytes);
    for (u32 k = 0; k < c.procs; ++k) {
        u64 b = kProcessBase + k * kProcessStride;
        log("process %u: pages 0x%lx-0x%lx", k, b, b + c.proc_bytes);
    }
    // The layout is fixed: the image, the FDT and RTAS must stay clear of it.
    Range free = free_memory();
    u64 end = kProcessBase + c.procs * kProcessStride;
    if (reinterpret_cast<uintptr_t>(__image_end) > kKernelBufferBase || free.base > kKernelBufferBase ||
        free.end < end) {
        log("FAIL layout 0x%lx-0x%lx does not fit: free memory 0x%lx-0x%lx (need %lu MiB of memory)",
            kKernelBufferBase, end, free.base, free.end, (end >> 20) + 2);
        return false;
    }
    return true;
}

void report() {
    u32 ok = 0, bad = 0, terminated = 0, unfinished = 0;
    for (u32 k = 0; k < g_cfg.procs; ++k) {
        const Process& p = g_procs[k];
        if (p.state == ProcState::Terminated) {
            ++terminated;
            log("process %u: terminated by machine check after %u of %u rounds", k, p.rounds_done, g_cfg.rounds);
        } else if (p.state != ProcState::Done) {
            ++unfinished;
            log("process %u: did not finish (%u of %u rounds)", k, p.rounds_done, g_cfg.rounds);
        } else if (p.mismatches) {
            ++bad;
            log("process %u: MISMATCH %lu words over %u rounds, first at 0x%lx", k, p.mismatches, g_cfg.rounds,
                p.first_bad);
        } else {
            ++ok;
            log("process %u: finished, %u rounds, checksums ok", k, g_cfg.rounds);
        }
    }
    McCounts mc = mc_counts();
    log("machine checks handled: %u FWNMI, %u at 0x200, %u simulated", mc.fwnmi, mc.vector, mc.simulated);
    bool pass = bad == 0 && unfinished == 0 && g_kernel_mismatches == 0 && g_kernel_step == 2 * g_cfg.rounds;
    if (pass) {
        log("PASS %u processes finished with correct checksums, %u terminated by machine check", ok, terminated);
        return;
    }
    if (bad) log("FAIL %u processes with checksum mismatches", bad);
    if (unfinished) log("FAIL %u processes did not finish", unfinished);
    if (g_kernel_mismatches) log("FAIL kernel buffer: %lu mismatched words", g_kernel_mismatches);
    if (g_kernel_step != 2 * g_cfg.rounds) log("FAIL kernel buffer: %u of %u rounds", g_kernel_step / 2, g_cfg.rounds);
}

// hold=1: any waiter may read the console; the first whole line releases all.
bool released() { return __atomic_load_n(&g_released, __ATOMIC_ACQUIRE) != 0; }

void poll_console() {
    Guard g(g_line_lock);
    if (released()) return;
    u64 out[4] = {};
    if (rt_hcall_ret(papr::H_GET_TERM_CHAR, out, platform().vtermno) != papr::H_SUCCESS) return;
    u64 n = out[0] > 16 ? 16 : out[0];
    for (u64 i = 0; i < n; ++i) {
        char c = static_cast<char>(out[1 + i / 8] >> (56 - 8 * (i % 8)));
        if ((c == '\r' || c == '\n') && g_line_len) {
            g_line[g_line_len] = 0;
            log("hold: got '%s'", g_line);
            __atomic_store_n(&g_released, 1, __ATOMIC_RELEASE);
            return;
        }
        if (c != '\r' && c != '\n' && g_line_len < kHoldLineMax) g_line[g_line_len++] = c;
    }
}

// A process waits (its vCPU cedes, the others run) until pred() holds.
template <typename F>
void wait_until(Process& p, F pred) {
    while (!pred()) {
        poll_console();
        cede(ticks_from_us(kHoldCedeUs));
        yield(p);
    }
}

void irq_enable() {
    u64 msr;
    asm volatile("mfmsr %0" : "=r"(msr));
    asm volatile("mtmsrd %0, 1" ::"r"(msr | 0x8000) : "memory");  // MSR[EE]
}

// hold=1, process kHoldProc after its first fill: its page at kHoldOffset
// must fail a page-in that no vCPU is parked on when it fails (the pager's
// "lost" page: the next access takes the machine check). Read the others'
// pages until it is paged out, then touch it with a decrementer armed that
// wakes the vCPU from the page-in wait: rt_decrementer sends the access to
// mce_touch_hold. The PSP answers the failed read late (fail_delay_ms), so
// the failure comes while nobody waits. Returns if the access completed.
void hold_touch(Process& p) {
    wait_until(p, [] { return __atomic_load_n(&g_filled, __ATOMIC_ACQUIRE) >= g_cfg.procs; });
    const u64 page = p.base + kHoldOffset;
    for (u32 t = 0; t < kHoldTries; ++t) {
        u64 sum = 0;
        for (u32 k = 0; k < g_cfg.procs; ++k) {
            if (k == p.id) continue;
            for (u64 a = g_procs[k].base; a < g_procs[k].base + g_cfg.proc_bytes; a += kPageSize)
                sum += *reinterpret_cast<volatile u64*>(a);
        }
        (void)sum;
        __atomic_store_n(&cpu(cpu_index()).scratch[MC_SCR_HOLD], reinterpret_cast<uintptr_t>(&mce_touch),
                         __ATOMIC_RELEASE);
        set_dec(ticks_from_us(kHoldArmUs));
        irq_enable();
        u64 v = mce_touch(reinterpret_cast<const u64*>(page + 0x18));
        irq_disable();
        set_dec(0x7fffffff);
        __atomic_store_n(&cpu(cpu_index()).scratch[MC_SCR_HOLD], 0, __ATOMIC_RELEASE);
        if (__atomic_load_n(&g_held, __ATOMIC_ACQUIRE)) {
            log("process %u: hold: FAIL page 0x%lx read back (0x%016lx) without a machine check", p.id, page, v);
            return;
        }
        yield(p);  // it was still resident: more of the others' pages, and again
    }
    log("process %u: hold: FAIL page 0x%lx never left memory in %u tries", p.id, page, kHoldTries);
}

}  // namespace

Process* owner_of(u64 page) {
    for (u32 k = 0; k < g_cfg.procs; ++k) {
        const Process& p = g_procs[k];
        if (page >= p.base && page < p.base + p.bytes) return &g_procs[k];
    }
    return nullptr;
}

Process* current(u32 cpu) { return g_current[cpu]; }
const Context& scheduler_context(u32 cpu) { return g_sched[cpu]; }
void kill(Process& p) { __atomic_store_n(&p.killed, 1, __ATOMIC_RELEASE); }

}  // namespace mce

using namespace mce;

// A process: its rounds, then it ends (the kernel never switches back).
extern "C" [[noreturn]] void mce_process_main(Process* p) {
    const u32 rounds = g_cfg.rounds;
    for (u32 round = 0; round < rounds; ++round) {
        u64 want = fill(p->base, p->bytes, p->id, round);
        if (g_cfg.hold && round == 0) {
            __atomic_fetch_add(&g_filled, 1, __ATOMIC_ACQ_REL);
            if (p->id == kHoldProc) hold_touch(*p);
            if (p->id == 0) {
                wait_until(*p, [] { return __atomic_load_n(&g_filled, __ATOMIC_ACQUIRE) >= g_cfg.procs; });
                log("hold: every process wrote round 1; checked after a line");
            }
            wait_until(*p, released);
        }
        yield(*p);
        if (g_cfg.simulate == static_cast<i32>(p->id) && round == (rounds > 1 ? 1u : 0u))
            mc_simulate(p->base + kPageSize + 0x18);
        Check c = verify(p->base, p->bytes, p->id, round);
        if (c.bad || c.sum != want) {
            log("process %u round %u: MISMATCH %lu words, first at 0x%lx (checksum 0x%016lx, want 0x%016lx)", p->id,
                round + 1, c.bad, c.first, c.sum, want);
            if (p->mismatches == 0) p->first_bad = c.first;
            p->mismatches += c.bad ? c.bad : 1;
        } else {
            log("process %u round %u: checksum 0x%016lx ok (vCPU %u)", p->id, round + 1, c.sum,
                platform().cpu_hwid[cpu_index()]);
        }
        p->rounds_done = round + 1;
        yield(*p);
    }
    p->exited = 1;
    yield(*p);
    panic("process %u resumed after it ended", p->id);
}

// From mce_touch_held (entry.S): the decrementer woke this vCPU from the
// page-in wait of `addr`. Its failure is answered while nobody waits for it,
// so the page owes its machine check to the next access: the one made after
// the line (on whichever system the partition runs by then).
extern "C" void mce_touch_hold(u64 addr) {
    irq_disable();
    set_dec(0x7fffffff);
    Process* p = current(cpu_index());
    log("process %u: hold: page 0x%lx: woken from its page-in wait; touched again after a line",
        p ? p->id : 0xff, align_down(addr, kPageSize));
    __atomic_store_n(&g_held, 1, __ATOMIC_RELEASE);
    while (!released()) {
        poll_console();
        cede(ticks_from_us(kHoldCedeUs));
        if (p) yield(*p);
    }
}

extern "C" [[noreturn]] void pv_main(const void* fdt) {
    if (!init(fdt, "mce-guest")) halt();
    if (!parse_config()) power_off();
    for (u32 i = 0; i < g_cfg.cpus; ++i) mc_init_cpu(i);
    mc_setup(g_cfg.fwnmi);
    if (g_cfg.simulate != -1) log("mce_simulate: a software machine check (debugging aid)");
    for (u32 k = 0; k < g_cfg.procs; ++k) new_process(k);

    u32 started = 1;
    for (u32 i = 1; i < g_cfg.cpus; ++i, ++started) {
        i32 s = start_cpu(i, secondary);
        if (s != kRtasSuccess) {
            log("start-cpu %u: status %d: running on %u vCPUs", platform().cpu_hwid[i], s, i);
            break;
        }
    }
    schedule(0);
    wait_for_secondaries(started);
    report();
    power_off();
}
