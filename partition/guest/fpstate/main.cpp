// fpstate-guest: every vCPU keeps partition- and vCPU-unique values in all 64
// VSRs (so every FPR and VR), FPSCR, VSCR, VRSAVE, TAR, DSCR, PPR, AMR, IAMR,
// UAMOR, FSCR, EBBHR, EBBRR, PSPB and TIDR while it spins through many
// hypervisor time slices beside other partitions,
// then checks them; `rounds=N` times (default 6), `spin_ms=M` each (default
// 40), ceding between rounds. `seed=S` makes the partition's patterns
// differ from another's. vCPU 0 prints one PASS/FAIL line and powers off.
// A vCPU notices it was preempted by a gap in the timebase while it spins.
#include <stddef.h>

#include "partition/guest/rt/console.h"
#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/hcall.h"
#include "partition/guest/rt/platform.h"
#include "partition/guest/rt/rtas.h"

using namespace rt;

namespace {

// What regs.S loads and stores (its ST_* offsets).
struct alignas(16) RegState {
    u64 vsr[64][2];
    u64 fpscr, pad0;
    u64 vscr[2];  // as mfvscr leaves it: VSCR in the low word of vscr[0]
    u64 vrsave, tar, dscr, ppr, amr;
    u64 fscr, iamr, uamor, ebbhr, ebbrr, pspb, tidr;
};
static_assert(offsetof(RegState, fpscr) == 1024 && offsetof(RegState, vscr) == 1040 &&
              offsetof(RegState, vrsave) == 1056 && offsetof(RegState, tar) == 1064 &&
              offsetof(RegState, dscr) == 1072 && offsetof(RegState, ppr) == 1080 &&
              offsetof(RegState, amr) == 1088 && offsetof(RegState, fscr) == 1096 &&
              offsetof(RegState, tidr) == 1144 && sizeof(RegState) == 1152);

}  // namespace

extern "C" void fp_enable();
extern "C" void fp_load_all(const RegState* s);
extern "C" void fp_store_all(RegState* s);

namespace {

constexpr u32 kDefaultRounds = 6, kMaxRounds = 1000;
constexpr u64 kDefaultSpinMs = 40;
constexpr u64 kGapUs = 300;       // a timebase jump this long while spinning: we were off the thread
constexpr u64 kCedeUs = 1000;
constexpr u64 kPollUs = 5000;
constexpr u64 kSecondaryTimeoutUs = 300'000'000;
constexpr u32 kMaxReported = 4;   // mismatch lines per vCPU and round

// Bits compared: FPSCR RN (62:63) and DRN (29:31); VSCR NJ and SAT.
constexpr u64 kFpscrMask = (u64{7} << 32) | 3;
constexpr u64 kVscrMask = 0x10001;

struct Plan {
    u64 seed;
    u64 spin_ticks;
    u32 rounds;
};
constinit Plan g_plan{};

struct Result {
    u64 mismatches;
    u64 gaps;
    u32 rounds_done;
    u32 done;
};
constinit Result g_result[RT_MAX_CPUS]{};
RegState g_want[RT_MAX_CPUS], g_got[RT_MAX_CPUS];

u64 mix(u64 x) {  // splitmix64
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

// The values of (partition seed, vCPU, round), each register a different one.
void make_state(RegState& s, u32 index, u32 round) {
    u64 key = mix(g_plan.seed * 0x100000001B3ULL + (u64{index} << 32) + round);
    for (u32 i = 0; i < 64; ++i) {
        s.vsr[i][0] = mix(key + 2 * i);
        s.vsr[i][1] = mix(key + 2 * i + 1);
    }
    u64 k = mix(key + 200);
    s.fpscr = (((k >> 2) & 7) << 32) | (k & 3);
    s.pad0 = 0;
    s.vscr[0] = ((k >> 8) & 1 ? 0x10000 : 0) | ((k >> 9) & 1);
    s.vscr[1] = 0;
    s.vrsave = mix(key + 201) & 0xffffffff;
    s.tar = mix(key + 202) & ~u64{3};
    s.dscr = mix(key + 203) & 0x3f;           // DPFD and URG
    s.ppr = (2 + mix(key + 204) % 3) << 50;   // PRI low, medium-low or medium
    s.amr = mix(key + 205);
    s.fscr = mix(key + 206) & 0x184;  // FSCR[TAR], [EBB], [DSCR]: problem-state enables
    s.iamr = mix(key + 207);          // real mode: no fetch is checked against it
    s.uamor = mix(key + 208);
    s.ebbhr = mix(key + 209) & ~u64{3};
    s.ebbrr = mix(key + 210) & ~u64{3};
    s.pspb = mix(key + 211) & 0xffffffff;
    s.tidr = mix(key + 212);
}

// PID (SPR 48) as a radix kernel uses it: rewritten often, with values every
// vCPU of the partition uses (a process runs on any CPU). Real mode here, so
// it translates nothing. After any preemption it must still hold what this
// vCPU wrote last: the hypervisor must not confuse two vCPUs' PIDs.
inline void write_pid(u64 v) { asm volatile("mtspr 48, %0; isync" : : "r"(v)); }
inline u64 read_pid() {
    u64 v;
    asm volatile("mfspr %0, 48" : "=r"(v));
    return v;
}
constexpr u32 kPidValues = 3, kPidEvery = 256;  // iterations between PID changes

// Spins for the plan's time; returns the gaps (preemptions) seen and counts
// in pid_bad the iterations that found PID changed under it.
u64 spin(u64& pid_bad) {
    u64 gap = ticks_from_us(kGapUs), gaps = 0;
    u64 start = timebase(), last = start;
    u64 pid = 0;
    for (u64 i = 1;; ++i) {
        if (i % kPidEvery == 0) write_pid(pid = 1 + (i / kPidEvery) % kPidValues);
        if (pid && read_pid() != pid) ++pid_bad, write_pid(pid);
        u64 now = timebase();
        if (now - last > gap) ++gaps;
        last = now;
        if (now - start >= g_plan.spin_ticks) return gaps;
    }
}

void report(u32 round, const char* what, u64 got_hi, u64 got_lo, u64 want_hi, u64 want_lo, u32& n) {
    if (n++ >= kMaxReported) return;
    log("cpu %u round %u MISMATCH %s got 0x%016lx:%016lx want 0x%016lx:%016lx", this_cpu().hwid, round + 1,
        what, got_hi, got_lo, want_hi, want_lo);
}

u64 compare(u32 round, const RegState& got, const RegState& want) {
    u32 n = 0;
    u64 bad = 0;
    char name[8];
    for (u32 i = 0; i < 64; ++i) {
        if (got.vsr[i][0] == want.vsr[i][0] && got.vsr[i][1] == want.vsr[i][1]) continue;
        ++bad;
        name[0] = 'v', name[1] = 's', name[2] = 'r', name[3] = static_cast<char>('0' + i / 10),
        name[4] = static_cast<char>('0' + i % 10), name[5] = 0;
        report(round, name, got.vsr[i][1], got.vsr[i][0], want.vsr[i][1], want.vsr[i][0], n);
    }
    auto check = [&](const char* what, u64 g, u64 w) {
        if (g == w) return;
        ++bad;
        report(round, what, 0, g, 0, w, n);
    };
    check("fpscr", got.fpscr & kFpscrMask, want.fpscr);
    check("vscr", got.vscr[0] & kVscrMask, want.vscr[0]);
    check("vrsave", got.vrsave & 0xffffffff, want.vrsave);
    check("tar", got.tar, want.tar);
    check("dscr", got.dscr, want.dscr);
    check("ppr", got.ppr, want.ppr);
    check("amr", got.amr, want.amr);
    check("fscr", got.fscr & 0x184, want.fscr);
    check("iamr", got.iamr, want.iamr);
    check("uamor", got.uamor, want.uamor);
    check("ebbhr", got.ebbhr, want.ebbhr);
    check("ebbrr", got.ebbrr, want.ebbrr);
    check("pspb", got.pspb & 0xffffffff, want.pspb);
    check("tidr", got.tidr, want.tidr);
    return bad;
}

void run_rounds(u32 index) {
    Result& r = g_result[index];
    fp_enable();
    for (u32 round = 0; round < g_plan.rounds; ++round) {
        make_state(g_want[index], index, round);
        fp_load_all(&g_want[index]);
        u64 pid_bad = 0;
        u64 gaps = spin(pid_bad);
        fp_store_all(&g_got[index]);
        u64 bad = compare(round, g_got[index], g_want[index]);
        if (pid_bad) log("cpu %u round %u MISMATCH pid: changed under the vCPU %lu times", this_cpu().hwid, round + 1,
                         pid_bad);
        bad += pid_bad ? 1 : 0;
        r.mismatches += bad;
        r.gaps += gaps;
        if (bad) log("cpu %u round %u: %lu registers wrong", this_cpu().hwid, round + 1, bad);
        r.rounds_done = round + 1;
        cede(ticks_from_us(kCedeUs));  // off the thread: the state is saved, maybe loaded elsewhere
    }
    __atomic_store_n(&r.done, 1, __ATOMIC_RELEASE);
}

void secondary(u32 index) {
    run_rounds(index);
    rt_hcall(papr::H_PROD, platform().cpu_hwid[0]);
}

bool wait_for(u32 i, u64 deadline) {
    for (;;) {
        bool stopped = false;
        if (__atomic_load_n(&g_result[i].done, __ATOMIC_ACQUIRE) && cpu_stopped(i, &stopped) && stopped) return true;
        if (timebase() > deadline) return false;
        cede(ticks_from_us(kPollUs));
    }
}

// H_SET_MODE's breakpoint resources (the hypervisor keeps them per vCPU):
// set, disabled (DAWRX 0, CIABR 0), and a hypervisor-state CIABR refused.
bool set_mode_checks() {
    constexpr u64 kCiabr = 1, kDawr0 = 2;
    i64 dawr = rt_hcall(papr::H_SET_MODE, 0, kDawr0, 0x1000, 0);
    i64 ciabr = rt_hcall(papr::H_SET_MODE, 0, kCiabr, 0, 0);
    i64 hyp = rt_hcall(papr::H_SET_MODE, 0, kCiabr, 0x2000 | 3, 0);
    if (dawr == papr::H_SUCCESS && ciabr == papr::H_SUCCESS && hyp == papr::H_P3) return true;
    log("H_SET_MODE: DAWR0 %ld, CIABR %ld, hypervisor CIABR %ld (want 0, 0, -56)", dawr, ciabr, hyp);
    return false;
}

}  // namespace

extern "C" [[noreturn]] void pv_main(const void* fdt) {
    if (!init(fdt, "fpstate-guest")) halt();
    const Platform& p = platform();
    u64 rounds = bootarg_u64("rounds", kDefaultRounds);
    if (rounds < 1 || rounds > kMaxRounds) rounds = kDefaultRounds;
    g_plan = {bootarg_u64("seed", 1), ticks_from_us(bootarg_u64("spin_ms", kDefaultSpinMs) * 1000),
              static_cast<u32>(rounds)};
    log("%u vCPUs, seed %lu, %u rounds of %lu ms", p.cpus, g_plan.seed, g_plan.rounds,
        bootarg_u64("spin_ms", kDefaultSpinMs));
    bool modes_ok = set_mode_checks();

    bool started[RT_MAX_CPUS] = {true};
    for (u32 i = 1; i < p.cpus; ++i) {
        i32 s = start_cpu(i, secondary);
        started[i] = s == kRtasSuccess;
        if (!started[i]) log("start-cpu %u: status %d", p.cpu_hwid[i], s);
    }
    run_rounds(0);

    u32 finished = 1;
    u64 deadline = timebase() + ticks_from_us(kSecondaryTimeoutUs);
    for (u32 i = 1; i < p.cpus; ++i) {
        if (started[i] && wait_for(i, deadline)) ++finished;
        else log("cpu %u did not finish", p.cpu_hwid[i]);
    }
    u64 mismatches = 0, gaps = 0;
    for (u32 i = 0; i < p.cpus; ++i) mismatches += g_result[i].mismatches, gaps += g_result[i].gaps;

    if (mismatches == 0 && finished == p.cpus && modes_ok)
        log("PASS FP/VMX/VSX and SPR state kept on %u vCPUs, %u rounds, %lu preemptions seen", p.cpus, g_plan.rounds,
            gaps);
    else
        log("FAIL %lu registers wrong, %u of %u vCPUs finished, H_SET_MODE %s, %lu preemptions seen", mismatches,
            finished, p.cpus, modes_ok ? "ok" : "wrong", gaps);
    power_off();
}
