// bench-guest: measures hypervisor paths from inside a partition and prints
// each figure as one `PV-BENCH {json}` line (tools/pv-bench collects them).
// Instruction counts come from PMC5, which the hypervisor leaves counting
// (MMCR0 = 0); QEMU counts guest and hypervisor instructions alike, which is
// what a path length through the hypervisor needs. QEMU 7.2 adds a translation
// block's instructions only at some block exits (not after blr/bctr or sc), so
// the figure is deterministic but below the true path length (about 2/3 of it
// on the hcall path): compare it only with itself. Times are timebase ticks.
//
// Bootargs: mode=dedicated (default: null hcall, compute in even slices),
// mode=shared (compute in odd slices with every page resident, then page-in
// streaming; stream_mib=N, stream_trials=N read passes) or mode=overhead
// (after the slices, compute 2 s without a pause: the hypervisor's share of
// its instructions).
// tools/pv-bench turns figures of partitions of one run into ratios.
#include "partition/guest/rt/console.h"
#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/hcall.h"
#include "partition/guest/rt/platform.h"
#include "partition/guest/rt/trials.h"

using namespace rt;

namespace {

inline u64 pmc5() {
    u64 v;
    asm volatile("mfspr %0, 775" : "=r"(v));
    return v;
}

struct Sample {
    u64 instructions, ticks;
};

// Per-iteration cost of fn, minus an empty loop's, over n iterations: the
// best of several short windows. PMC5 belongs to the hardware thread, and the
// vCPU may move to another thread between windows (other partitions run too):
// a window that spans a move is nonsense, and the minimum never is.
template <typename Fn>
Sample measure(u32 n, Fn fn) {
    constexpr u32 kWindows = 20;
    Sample best{~u64{0}, ~u64{0}};
    for (u32 w = 0; w < kWindows; ++w) {
        u64 i0 = pmc5(), t0 = timebase();
        for (u32 i = 0; i < n; ++i) asm volatile("" ::: "memory");
        u64 i1 = pmc5(), t1 = timebase();
        for (u32 i = 0; i < n; ++i) fn();
        u64 i2 = pmc5(), t2 = timebase();
        i64 di = static_cast<i64>((i2 - i1) & 0xffffffff) - static_cast<i64>((i1 - i0) & 0xffffffff);
        i64 dt = static_cast<i64>(t2 - t1) - static_cast<i64>(t1 - t0);
        if (di > 0 && static_cast<u64>(di) / n < best.instructions) best.instructions = static_cast<u64>(di) / n;
        if (dt > 0 && static_cast<u64>(dt) / n < best.ticks) best.ticks = static_cast<u64>(dt) / n;
    }
    return best;
}

void report(const char* name, u64 value, const char* unit, const char* goal) {
    log("PV-BENCH {\"name\":\"%s\",\"value\":%lu,\"unit\":\"%s\",\"goal\":%s}", name, value, unit, goal);
}

// Compute throughput in alternating slices. Running both partitions' loops
// at the same time measures how the host shares its cores among QEMU's
// threads as much as anything (two runs disagreed by 2x). So the timebase is
// cut into windows of 2^24 ticks (33 ms at 512 MHz): the dedicated partition
// computes in even windows, the shared one in odd ones, each ceding through
// the other's, and each counts the 4 KiB checksums it completes inside its
// own windows. A trial is kSliceWindows windows of each: host noise lands on
// both alike, and tools/pv-bench takes the median ratio of the trials.
constexpr u64 kComputeBytes = 256 << 10;
constexpr u32 kSliceWindowLog2 = 24, kSliceWindows = 8, kSliceTrials = 7;

u64 checksum(const volatile u64* p, u64 words) {
    u64 x = 0;
    for (u64 i = 0; i < words; ++i) x = (x ^ p[i]) * 0x100000001B3ULL;
    return x;
}

// Waits for the window that starts at `start`: ceding until shortly before,
// then spinning, so that the count starts on time.
void wait_until(u64 start) {
    u64 margin = ticks_from_us(500);
    for (u64 now = timebase(); now + margin < start; now = timebase()) cede(start - now - margin);
    while (timebase() < start) {
    }
}

constexpr u64 kWindow = u64{1} << kSliceWindowLog2;
constexpr u64 kStartAlign = u64{1} << 31;

// Both compute partitions start at the same window pair: the next multiple
// of 2^31 ticks (4 s) at least 0.5 s away (they reach here within
// milliseconds); the slices end kSliceTrials * kSliceWindows pairs later.
u64 slices_start() { return (timebase() + ticks_from_us(500000) + kStartAlign - 1) & ~(kStartAlign - 1); }
constexpr u64 kSlicesTicks = u64{kSliceTrials} * kSliceWindows * 2 * kWindow;

void fill_compute_buffer(volatile u64* buf) {
    for (u64 i = 0; i < kComputeBytes / 8; ++i) buf[i] = i * 0x9E3779B97F4A7C15ULL;  // every page resident (and hot)
}

// Returns when the slices end (for both partitions).
u64 compute_slices(u64 base, bool odd, const char* name) {
    auto* buf = reinterpret_cast<volatile u64*>(base);
    constexpr u64 kWords = kComputeBytes / 8, kChunk = 512;
    fill_compute_buffer(buf);
    u64 first = slices_start();
    u64 sink = 0, chunk = 0;
    for (u32 t = 0; t < kSliceTrials; ++t) {
        u64 units = 0;
        for (u32 w = 0; w < kSliceWindows; ++w) {
            u64 start = first + (u64{t} * kSliceWindows + w) * 2 * kWindow + (odd ? kWindow : 0), end = start + kWindow;
            wait_until(start);
            while (timebase() < end) {
                sink += checksum(buf + chunk * kChunk, kChunk);
                chunk = (chunk + 1) % (kWords / kChunk);
                ++units;
            }
        }
        char trial[48];
        format(trial, sizeof trial, "%s_%u", name, t + 1);
        report(trial, units, "checksums_4k", "null");
    }
    asm volatile("" : : "r"(sink));
    return first + kSlicesTicks;
}

// The hypervisor's share while an all-resident shared partition computes
// (hv_overhead_fraction): once the slices are over, 2^30 ticks (2 s) of the
// checksum loop without a pause; the hypervisor counts the instructions of
// this partition's vCPU and its own for it (PV-STAT guest_instructions,
// hv_instructions), and tools/pv-bench divides. Nothing else runs then: the
// streaming partition waits for the window to end (the paging work it
// causes lands on every thread, this one's exits included).
constexpr u64 kOverheadTicks = u64{1} << 30;

void compute_for_overhead(u64 base) {
    auto* buf = reinterpret_cast<volatile u64*>(base);
    fill_compute_buffer(buf);
    u64 start = slices_start() + kSlicesTicks, end = start + kOverheadTicks;
    wait_until(start);
    u64 sink = 0;
    while (timebase() < end) sink += checksum(buf, kComputeBytes / 8);
    asm volatile("" : : "r"(sink));
    log("computed for the overhead figure");
}

// Page-in streaming: write `bytes` (more than the pool holds, so the first
// pages are on the paging device when we get back to them), then read it all
// back in order, `trials` times: every page of a read pass is a page-in (a
// cyclic pass over more than the pool finds nothing left from the last one),
// the first one's evictions write, the later ones' are clean. KiB/s of each.
rt::Trials stream_kib_per_s(u64 base, u64 bytes, u32 trials) {
    for (u64 a = base; a < base + bytes; a += 4096) *reinterpret_cast<volatile u64*>(a) = a;
    rt::Trials t;
    for (u32 i = 0; i < trials && i < rt::Trials::kMax; ++i) {
        u64 sink = 0, t0 = timebase();
        for (u64 a = base; a < base + bytes; a += 4096) sink += checksum(reinterpret_cast<volatile u64*>(a), 512);
        u64 dt = timebase() - t0;
        asm volatile("" : : "r"(sink));
        t.add(dt ? (bytes >> 10) * platform().timebase_hz / dt : 0);
    }
    return t;
}

}  // namespace

extern "C" [[noreturn]] void pv_main(const void* fdt) {
    if (!init(fdt, "bench-guest")) halt();
    constexpr u32 kRounds = 100;     // per measurement window
    constexpr u64 kStreamTrials = 5;  // stream_trials: read passes of the streaming figure
    // An hcall number Poolvisor does not implement: entry, dispatch, H_FUNCTION, exit.
    u64 probe = pmc5();
    for (u32 i = 0; i < 100; ++i) asm volatile("" ::: "memory");
    bool counting = pmc5() != probe;
    bool shared = bootarg_is("mode", "shared");
    Range free = free_memory();
    if (bootarg_is("mode", "overhead")) {
        compute_for_overhead(free.base);
        power_off();
    }
    if (!shared) {
        Sample null_hcall = measure(kRounds, [] { rt_hcall(0x3FF0); });
        if (counting) report("null_hcall_instructions", null_hcall.instructions, "instructions", "null");
        else log("PMC5 is not counting on this machine: no instruction figures");
        report("null_hcall_ticks", null_hcall.ticks, "timebase_ticks", "null");
    }
    u64 slices_end = compute_slices(free.base, shared, shared ? "compute_slices_shared" : "compute_slices_dedicated");
    u64 stream = bootarg_u64("stream_mib", 0) << 20;
    u64 room = free.end - free.base - kComputeBytes;
    if (stream > room) stream = room & ~u64{(1 << 20) - 1};
    if (shared && stream) {
        wait_until(slices_end + kOverheadTicks);  // after the overhead figure's window
        log("streaming %lu MiB through the pool", stream >> 20);
        rt::Trials t = stream_kib_per_s(free.base + kComputeBytes, stream,
                                        static_cast<u32>(bootarg_u64("stream_trials", kStreamTrials)));
        u64 median = t.median();  // sorts: before the extremes are read
        log("streamed %u times: median %lu KiB/s (%lu..%lu)", t.n, median, t.value[0], t.n ? t.value[t.n - 1] : 0);
        t.report("page_in_stream", "KiB/s");
    }
    log("done");
    power_off();
}
