// smp-guest: every vCPU fills its slice of the partition's free memory with a
// pattern of (address, vCPU, round) and reads it back, for `rounds=N` rounds
// (default 3); vCPU 0 then re-reads every slice, prints one PASS/FAIL line,
// checks a few hypercall return codes and powers the partition off.
// vpa=on: every vCPU first registers a VPA and a DTL for itself (as Linux
// does); at the end vCPU 0 prints what the hypervisor keeps in each VPA.
// echo_input=N: first reads N lines typed on its console (H_GET_TERM_CHAR,
// ceding while none is there) and prints each as "got '...'".
#include <string.h>

#include "base/lppaca.h"
#include "partition/guest/rt/console.h"
#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/hcall.h"
#include "partition/guest/rt/pattern.h"
#include "partition/guest/rt/platform.h"
#include "partition/guest/rt/rtas.h"

using namespace rt;

namespace {

constexpr u32 kDefaultRounds = 3;
constexpr u32 kMaxRounds = 100000;
constexpr u64 kCedeUs = 1000;            // between rounds: a short DEC-bounded H_CEDE
constexpr u64 kPollUs = 5000;            // waiting for the secondaries
constexpr u64 kSecondaryTimeoutUs = 120'000'000;
constexpr u64 kUnknownHcall = 0x3FF0;
constexpr u64 kBadVtermno = 0xBAD00000;

// Written by vCPU 0 before it starts the others.
struct Plan {
    u64 base;   // slice i is [base + i * slice, base + (i + 1) * slice)
    u64 slice;  // bytes, a multiple of 1 MiB
    u32 rounds;
};
constinit Plan g_plan{};

// Written by each vCPU, `done` last (release); vCPU 0 reads them (acquire).
struct Result {
    u64 mismatches;
    u64 first_bad;
    u32 rounds_done;
    u32 done;
};
constinit Result g_result[RT_MAX_CPUS]{};

u64 slice_base(u32 index) { return g_plan.base + index * g_plan.slice; }

// vpa=on: VPA i (1 KiB, as Linux allocates struct lppaca) at g_vpa_base +
// i KiB, DTL i (4 KiB) at g_vpa_base + 64 KiB + i * 4 KiB. 0: vpa=off.
constexpr u64 kVpaSize = 0x400, kDtlSize = 4096, kDtlOffset = 64 * KiB;
static_assert(kVpaSize >= sizeof(pv::Lppaca));
constinit u64 g_vpa_base = 0;
constinit i64 g_vpa_rc[RT_MAX_CPUS]{};  // H_REGISTER_VPA status of each vCPU (VPA, then DTL)

// Big-endian, as the hypervisor writes them (base/lppaca.h).
pv::Lppaca* vpa_of(u32 index) { return reinterpret_cast<pv::Lppaca*>(g_vpa_base + index * kVpaSize); }
pv::RegisteredBufferHeader* dtl_of(u32 index) {
    return reinterpret_cast<pv::RegisteredBufferHeader*>(g_vpa_base + kDtlOffset + index * kDtlSize);
}

i64 register_vpa_area(u64 function, u32 index, const void* area) {
    return rt_hcall(papr::H_REGISTER_VPA, function << (63 - 18), platform().cpu_hwid[index],
                    reinterpret_cast<u64>(area));
}

// Linux's vpa_init / register_dtl_buffer: a zeroed lppaca with its eye-catcher
// and size, then a DTL whose length the hypervisor reads at offset 4.
void vpa_register_self(u32 index) {
    if (!g_vpa_base) return;
    pv::Lppaca* vpa = vpa_of(index);
    memset(vpa, 0, kVpaSize);
    vpa->desc.set(pv::kLppacaEyeCatcher);  // "LpPa"
    vpa->size.set(static_cast<u16>(kVpaSize));
    i64 rc = register_vpa_area(1, index, vpa);
    if (rc == papr::H_SUCCESS) {
        pv::RegisteredBufferHeader* dtl = dtl_of(index);
        memset(dtl, 0, kDtlSize);
        dtl->length.set(static_cast<u32>(kDtlSize));
        rc = register_vpa_area(2, index, dtl);
        if (rc == papr::H_SUCCESS)  // cedes, preemptions, page faults
            __atomic_store_n(&vpa->dtl_enable_mask, pv::kDtlLogCede | pv::kDtlLogPreempt | pv::kDtlLogFault,
                             __ATOMIC_RELAXED);
    }
    g_vpa_rc[index] = rc;
}

void vpa_report(const bool finished[]) {
    if (!g_vpa_base) return;
    bool ok = true;
    for (u32 i = 0; i < platform().cpus; ++i) {
        u32 hwid = platform().cpu_hwid[i];
        if (!finished[i]) {
            ok = false;
        } else if (g_vpa_rc[i] != papr::H_SUCCESS) {
            log("vpa cpu %u: H_REGISTER_VPA returned %ld", hwid, g_vpa_rc[i]);
            ok = false;
        } else {
            const pv::Lppaca* vpa = vpa_of(i);
            u64 yields = vpa->yield_count.load();
            log("vpa cpu %u: yield_count %lu, cmo_faults %lu, cmo_fault_time %lu", hwid, yields,
                vpa->cmo_faults.load(), vpa->cmo_fault_time.load());
            ok &= yields > 0;
        }
    }
    log(ok ? "vpa: ok" : "vpa: FAIL");
}

void fill(u32 index, u32 round) {
    for (u64 a = slice_base(index), end = a + g_plan.slice; a < end; a += 8)
        *reinterpret_cast<volatile u64*>(a) = pattern(a, index, round);
}

// Mismatches in slice `index` against round `round`'s pattern; *first = first address.
u64 verify(u32 index, u32 round, u64* first) {
    u64 bad = 0;
    for (u64 a = slice_base(index), end = a + g_plan.slice; a < end; a += 8) {
        if (*reinterpret_cast<volatile u64*>(a) == pattern(a, index, round)) continue;
        if (bad++ == 0) *first = a;
    }
    return bad;
}

// What every vCPU runs (secondaries from start-cpu, then stop-self).
void run_rounds(u32 index) {
    Result& r = g_result[index];
    u32 hwid = this_cpu().hwid;
    for (u32 round = 0; round < g_plan.rounds; ++round) {
        fill(index, round);
        u64 first = 0, bad = verify(index, round, &first);
        if (bad) {
            log("cpu %u round %u MISMATCH count %lu first at 0x%lx", hwid, round + 1, bad, first);
            if (r.mismatches == 0) r.first_bad = first;
            r.mismatches += bad;
        } else if (g_plan.rounds <= 100 || (round + 1) % 100 == 0 || round + 1 == g_plan.rounds) {
            log("cpu %u round %u ok (%lu MiB)", hwid, round + 1, g_plan.slice >> 20);  // a long run: every 100th
        }
        r.rounds_done = round + 1;
        confer_all();
        cede(ticks_from_us(kCedeUs));
    }
    __atomic_store_n(&r.done, 1, __ATOMIC_RELEASE);
}

void secondary(u32 index) {
    vpa_register_self(index);
    run_rounds(index);
    rt_hcall(papr::H_PROD, platform().cpu_hwid[0]);  // vCPU 0 may be ceded, waiting for us
}

// One line from the console (ended by CR or LF), or what came before the timeout.
constexpr u64 kHoldCedeUs = 2'000;   // hold=1: the time-of-day samples' spacing
constexpr u64 kEchoCedeUs = 50'000;  // input wakes us earlier (hv/console_input.h)
// Input comes after events on other systems (a migration there and back): on
// a loaded 2-core CI host that took more than 100 s. Below the 300 s of the
// pair tests, so that a line that never comes is still reported.
constexpr u64 kEchoTimeoutUs = 240'000'000;
constexpr u32 kEchoLineMax = 120;

// The wall clock as RTAS get-time-of-day gives it (the host's, on any system
// the partition runs on), in ns since midnight; 0 if the call failed.
u64 time_of_day_ns() {
    u32 t[7] = {};
    if (rtas_call(Rtas::GetTimeOfDay, 8, t) != kRtasSuccess) return 0;
    return ((u64{t[3]} * 60 + t[4]) * 60 + t[5]) * 1'000'000'000 + t[6];
}

// hold=1's samples, at every wake-up while it waits (cede_us apart at most):
// the longest step of the time of day between two, which is the time the
// partition did not run as it sees it (a migration's downtime), and the
// timebase's largest step forward and back (it must never go back, on
// whichever system the partition runs, docs/migration.md "Timebase").
struct HoldSamples {
    u64 max_gap_ns = 0;
    u64 max_tb_step = 0, max_tb_back = 0;  // ticks
    u64 last_ns = 0, last_tb = 0;

    void sample() {
        u64 now = time_of_day_ns(), tb = timebase();
        if (now > last_ns && last_ns && now - last_ns > max_gap_ns) max_gap_ns = now - last_ns;
        if (last_tb && tb >= last_tb && tb - last_tb > max_tb_step) max_tb_step = tb - last_tb;
        if (last_tb && tb < last_tb && last_tb - tb > max_tb_back) max_tb_back = last_tb - tb;
        last_ns = now, last_tb = tb;
    }
};

u64 us_from_ticks(u64 ticks) {
    u64 per_us = platform().timebase_hz / 1'000'000;
    return ticks / (per_us ? per_us : 1);
}

// Waiting for input, sampling the clocks into hold if given.
void echo_input(u64 lines, HoldSamples* hold = nullptr, u64 cede_us = kEchoCedeUs) {
    if (hold) hold->sample();
    for (u64 l = 0; l < lines; ++l) {
        log("echo: waiting for line %lu of %lu", l + 1, lines);
        char line[kEchoLineMax + 1];
        u32 len = 0;
        bool ended = false;
        u64 deadline = timebase() + ticks_from_us(kEchoTimeoutUs);
        while (!ended && timebase() < deadline) {
            u64 out[4] = {};
            i64 rc = rt_hcall_ret(papr::H_GET_TERM_CHAR, out, platform().vtermno);
            if (rc != papr::H_SUCCESS) {
                log("echo: H_GET_TERM_CHAR returned %ld", rc);
                return;
            }
            u64 n = out[0] > 16 ? 16 : out[0];
            if (hold) hold->sample();
            if (n == 0) {
                cede(ticks_from_us(cede_us));
                continue;
            }
            for (u64 i = 0; i < n && !ended; ++i) {
                char c = static_cast<char>(out[1 + i / 8] >> (56 - 8 * (i % 8)));
                if (c == '\r' || c == '\n') ended = len > 0;
                else if (len < kEchoLineMax) line[len++] = c;
            }
        }
        line[len] = 0;
        if (ended) log("got '%s'", line);
        else log("echo: FAIL no whole line in %lu s (got '%s')", kEchoTimeoutUs / 1'000'000, line);
    }
}

void show_time_of_day() {
    u32 t[7] = {};
    i32 s = rtas_call(Rtas::GetTimeOfDay, 8, t);
    if (s == kRtasSuccess)
        log("time of day %04u-%02u-%02u %02u:%02u:%02u", t[0], t[1], t[2], t[3], t[4], t[5]);
    else
        log("get-time-of-day: status %d", s);
}

// "!" and a newline on the operator panel (the hypervisor logs panel lines).
void show_display_character() {
    const char text[] = {'!', '\n'};
    for (char c : text) {
        i32 s = rtas_call(Rtas::DisplayCharacter, 1, nullptr, c);
        if (s != kRtasSuccess) log("display-character: status %d", s);
    }
}

// After a system-reboot nothing of the last boot may be left: the memory
// the last boot filled with test patterns reads as zero.
void check_cleared(Range free) {
    u64 dirty = 0;
    for (u64 a = free.base; a < free.end; a += sizeof(u64))
        if (*reinterpret_cast<const volatile u64*>(a)) ++dirty;
    if (dirty)
        log("FAIL boot %u: %lu doublewords of free memory not cleared by the restart", platform().boot_count + 1,
            dirty);
    else
        log("boot %u: free memory 0x%lx-0x%lx reads as zero", platform().boot_count + 1, free.base, free.end);
}

// Starts vCPUs 1..n-1 with start-cpu.
void start_secondaries(bool started[]) {
    for (u32 i = 1; i < platform().cpus; ++i) {
        i32 s = start_cpu(i, secondary);
        started[i] = s == kRtasSuccess;
        if (!started[i]) log("start-cpu %u: status %d", platform().cpu_hwid[i], s);
    }
}

// Until vCPU i has published its results and RTAS reports it stopped.
bool wait_for(u32 i, u64 deadline) {
    for (;;) {
        bool stopped = false;
        if (__atomic_load_n(&g_result[i].done, __ATOMIC_ACQUIRE) && cpu_stopped(i, &stopped) && stopped) return true;
        if (timebase() > deadline) return false;
        cede(ticks_from_us(kPollUs));
    }
}

// vCPU 0 reads every finished slice again: the memory other vCPUs wrote must
// look the same from here.
u64 cross_check(const bool finished[]) {
    u64 total = 0;
    for (u32 i = 0; i < platform().cpus; ++i) {
        if (!finished[i]) continue;
        u64 first = 0, bad = verify(i, g_plan.rounds - 1, &first);
        if (bad) log("cpu %u re-read slice of cpu %u: MISMATCH count %lu first at 0x%lx", platform().cpu_hwid[0],
                     platform().cpu_hwid[i], bad, first);
        total += bad;
    }
    return total;
}

void hcall_checks() {
    u32 failed = 0;
    u64 out[4] = {};
    i64 rc = rt_hcall_ret(papr::H_RANDOM, out);
    if (rc == papr::H_SUCCESS) {
        log("H_RANDOM: H_SUCCESS (0x%016lx)", out[0]);
    } else if (rc == papr::H_FUNCTION) {
        log("H_RANDOM: H_FUNCTION (not offered)");
    } else {
        log("H_RANDOM returned %ld, want H_SUCCESS or H_FUNCTION", rc);
        ++failed;
    }
    rc = rt_hcall(kUnknownHcall);
    if (rc != papr::H_FUNCTION) {
        log("hcall 0x%lx returned %ld, want H_FUNCTION (-2)", kUnknownHcall, rc);
        ++failed;
    }
    u64 vterm = platform().vtermno == kBadVtermno ? kBadVtermno + 1 : kBadVtermno;
    rc = rt_hcall(papr::H_PUT_TERM_CHAR, vterm, 1, u64{'x'} << 56, 0);
    if (rc != papr::H_PARAMETER) {
        log("H_PUT_TERM_CHAR to vtermno 0x%lx returned %ld, want H_PARAMETER (-4)", vterm, rc);
        ++failed;
    }
    if (failed)
        log("hcall checks: %u of 3 wrong", failed);
    else
        log("hcall checks ok");
}

}  // namespace

extern "C" [[noreturn]] void pv_main(const void* fdt) {
    if (!init(fdt, "smp-guest")) halt();
    const Platform& p = platform();
    u64 rounds = bootarg_u64("rounds", kDefaultRounds);
    if (rounds < 1 || rounds > kMaxRounds) rounds = kDefaultRounds;
    log("%u vCPUs, %lu MiB, bootargs '%s'", p.cpus_in_tree, p.mem_size >> 20, p.bootargs);
    if (p.cpus < p.cpus_in_tree) log("using the first %u vCPUs only", p.cpus);
    show_time_of_day();
    show_display_character();
    echo_input(bootarg_u64("echo_input", 0));

    Range free = free_memory();
    if (bootarg_is("vpa", "on") && free.end - free.base > MiB) {
        g_vpa_base = free.base;  // the first MiB: VPAs and DTLs
        free.base += MiB;
    }
    // slice_mib=N bounds each vCPU's slice (a shared partition pages every byte it tests).
    u64 slice = align_down((free.end - free.base) / p.cpus, MiB);
    u64 limit = bootarg_u64("slice_mib", 0) * MiB;
    if (limit && limit < slice) slice = limit;
    g_plan = {free.base, slice, static_cast<u32>(rounds)};
    if (g_plan.slice == 0) {
        log("FAIL no free memory to test (0x%lx-0x%lx)", free.base, free.end);
        power_off();
    }
    log("testing 0x%lx-0x%lx: %lu MiB per vCPU", g_plan.base, g_plan.base + p.cpus * g_plan.slice,
        g_plan.slice >> 20);
    if (p.boot_count > 0) check_cleared(free);

    bool started[RT_MAX_CPUS] = {true};
    vpa_register_self(0);
    start_secondaries(started);
    run_rounds(0);

    bool finished[RT_MAX_CPUS] = {true};
    u32 finished_count = 1;
    u64 deadline = timebase() + ticks_from_us(kSecondaryTimeoutUs);
    for (u32 i = 1; i < p.cpus; ++i) {
        finished[i] = started[i] && wait_for(i, deadline);
        if (finished[i])
            ++finished_count;
        else if (started[i])
            log("cpu %u did not finish", p.cpu_hwid[i]);
    }

    u64 mismatches = cross_check(finished);
    // hold=1: after the rounds, wait for a line on the console, then check
    // every slice again against its last round's pattern: whatever happened
    // to the partition meanwhile (a live migration, docs/migration.md) must
    // have kept every byte.
    if (bootarg_u64("hold", 0)) {
        log("hold: every slice written; checked again after a line");
        HoldSamples hold;
        echo_input(1, &hold, kHoldCedeUs);
        log("hold: longest time-of-day gap while waiting: %lu ms", hold.max_gap_ns / 1'000'000);
        if (hold.max_tb_back)
            log("hold: FAIL timebase went back by %lu us", us_from_ticks(hold.max_tb_back));
        else
            log("hold: timebase never went back (largest step %lu us)", us_from_ticks(hold.max_tb_step));
        u64 again = 0;
        for (u32 i = 0; i < p.cpus; ++i) {
            if (!finished[i]) continue;
            u64 first = 0, bad = verify(i, g_plan.rounds - 1, &first);
            if (bad) log("hold: slice %u MISMATCH count %lu first at 0x%lx", i, bad, first);
            again += bad;
        }
        log("hold: checked %lu MiB again: %lu mismatches", (g_plan.slice >> 20) * p.cpus, again);
        mismatches += again;
    }
    u64 dec = 0;
    for (u32 i = 0; i < p.cpus; ++i) {
        if (finished[i]) mismatches += g_result[i].mismatches;
        dec += cpu(i).dec_count;
    }
    log("decrementer interrupts taken: %lu", dec);

    if (mismatches == 0 && finished_count == p.cpus && p.boot_count == 0)
        log("PASS verified %lu MiB on %u vCPUs, %u rounds, 0 mismatches", (g_plan.slice >> 20) * p.cpus, p.cpus,
            g_plan.rounds);
    else if (mismatches == 0 && finished_count == p.cpus)  // after a system-reboot: which boot passed
        log("PASS verified %lu MiB on %u vCPUs, %u rounds, 0 mismatches (boot %u)", (g_plan.slice >> 20) * p.cpus,
            p.cpus, g_plan.rounds, p.boot_count + 1);
    else if (finished_count == p.cpus)
        log("FAIL %lu mismatches", mismatches);
    else
        log("FAIL %lu mismatches, %u of %u vCPUs did not finish", mismatches, p.cpus - finished_count, p.cpus);

    hcall_checks();
    vpa_report(finished);
    if (bootarg_is("reboot", "once") && p.boot_count == 0) {
        log("system-reboot (boot %u)", p.boot_count + 1);
        i32 s = rtas_call(Rtas::SystemReboot, 1, nullptr);
        log("FAIL system-reboot returned (status %d)", s);
    }
    power_off();
}
