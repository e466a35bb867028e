// psp: the paging service partition (docs/paging-service.md). It owns the
// paging device, an NVMe controller whose registers the hypervisor mapped at
// `nvme-regs`, and moves pages between it and the shared memory pool's frames
// for the hypervisor, over a CRQ (docs/crq.md):
//   1. /poolvisor-paging from the device tree;
//   2. NVMe bring-up (vio/nvme, polling), identify, I/O queues;
//   3. raw sequential read throughput from block 0: PV-BENCH psp_raw_read;
//   4. H_REG_CRQ, init handshake, SetDescTable;
//   5. serve doorbells (service.cpp), many transfers in the device at once
//      (the driver's asynchronous I/O, polled: no interrupts), until the
//      hypervisor closes the channel (FF 02), then shut the controller down
//      and power off.
// With /poolvisor-mover and /poolvisor-network in the tree it is also the
// mover of live migration (mover_run.cpp, docs/mover.md): the NIC (shared with
// net-guest: partition/guest/net/nic.h), the UdpLink, a mover area, and the
// connection to the peer system's PSP, polled between paging batches.
// One vCPU; real mode. DMA: bus address = our logical address for our own
// memory (the hypervisor's identity TCE window), so the driver's queues, the
// benchmark buffer and the descriptor table need no translation.
#include <libfdt.h>
#include <string.h>

#include "partition/guest/psp/mover_run.h"
#include "partition/guest/psp/service.h"
#include "partition/guest/rt/console.h"
#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/hcall.h"
#include "partition/guest/rt/platform.h"
#include "partition/guest/rt/trials.h"
#include "vio/nvme.h"

using namespace rt;
namespace nvme = pv::nvme;
namespace crq = pv::crq;
using psp::PagingService;

namespace {

constexpr const char* kNodePath = "/poolvisor-paging";
constexpr const char* kCompatible = "poolvisor,paging-service-v1";
constexpr u64 kQueueBytes = 64 * 1024;         // 4096 entries: one for each request the hypervisor can have out
constexpr u64 kBenchBufferBytes = 256 * KiB;   // one read command's worth
constexpr u64 kDefaultBenchMiB = 8, kMaxBenchMiB = 64;
constexpr u64 kDefaultBenchTrials = 5;  // bench_trials: raw reads at the end (bench_end=on)
constexpr u64 kLingerUs = 5;         // after an entry, wait this long for the rest of a burst
constexpr u64 kDefaultSpinUs = 20;     // keep polling this long after an entry before ceding
constexpr u64 kMaxSpinUs = 10000;
constexpr u64 kDefaultCedeUs = 5000;   // the decrementer bounds each H_CEDE (H_PROD is the real wake-up)
constexpr u64 kMinCedeUs = 100, kMaxCedeUs = 1000000;
constexpr u64 kDefaultIoCedeUs = 30;   // io_cede_us: with transfers in the device and none done, cede this long
constexpr u64 kMaxIoCedeUs = 1000;
constexpr u64 kWaitLogUs = 10000000;   // "still waiting" while the channel is not serving
constexpr u32 kSendSpins = 8;          // H_SEND_CRQ retries on H_DROPPED before ceding between them
constexpr u64 kSendBackoffUs = 20;
constexpr u64 kSendWarnUs = 1000000;
constexpr u64 kMaxFailDelayMs = 10000;   // fail_delay_ms: well inside the hypervisor's request deadline

// The driver's queues and identify/PRP pages, and our CRQ queue: in .bss,
// zeroed by crt0, page aligned.
alignas(4096) constinit u8 g_dma_area[nvme::kDmaAreaBytes]{};
alignas(4096) constinit u8 g_queue[kQueueBytes]{};

u64 addr_of(const void* p) { return reinterpret_cast<uintptr_t>(p); }
template <typename T>
T* ptr_at(u64 a) {
    return reinterpret_cast<T*>(static_cast<uintptr_t>(a));
}

// --- the device-tree node --------------------------------------------------

struct PagingNode {
    u32 unit = 0;
    u64 regs = 0, regs_size = 0;
    u64 dma_request_base = 0;
    u32 requests = 0;
    char devices[96] = {};
};

enum class NodeResult { Ok, Missing, Bad };

const fdt32_t* prop_cells(const void* fdt, int node, const char* name, int cells) {
    int len = 0;
    auto* p = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, name, &len));
    return p && len == cells * 4 ? p : nullptr;
}

u64 read_cells(const fdt32_t* p, int cells) {
    u64 v = 0;
    for (int i = 0; i < cells; ++i) v = (v << 32) | fdt32_to_cpu(p[i]);
    return v;
}

NodeResult bad_prop(const char* name, const char* want) {
    log("%s: property %s missing or not %s", kNodePath, name, want);
    return NodeResult::Bad;
}

NodeResult read_node(const void* fdt, PagingNode& n) {
    int node = fdt_path_offset(fdt, kNodePath);
    if (node < 0) node = fdt_node_offset_by_compatible(fdt, -1, kCompatible);
    if (node < 0) return NodeResult::Missing;
    if (fdt_node_check_compatible(fdt, node, kCompatible) != 0) {
        log("%s: not compatible with \"%s\"", kNodePath, kCompatible);
        return NodeResult::Bad;
    }
    const fdt32_t* p;
    if (!(p = prop_cells(fdt, node, "crq-unit-address", 1))) return bad_prop("crq-unit-address", "a u32");
    n.unit = fdt32_to_cpu(p[0]);
    if (!(p = prop_cells(fdt, node, "nvme-regs", 4))) return bad_prop("nvme-regs", "a u64 address and a u64 size");
    n.regs = read_cells(p, 2);
    n.regs_size = read_cells(p + 2, 2);
    if (!(p = prop_cells(fdt, node, "dma-request-base", 2))) return bad_prop("dma-request-base", "a u64");
    n.dma_request_base = read_cells(p, 2);
    if (!(p = prop_cells(fdt, node, "paging-requests", 1))) return bad_prop("paging-requests", "a u32");
    n.requests = fdt32_to_cpu(p[0]);
    if (n.requests == 0 || n.requests > 0xffff) {
        log("%s: paging-requests %u: want 1..65535 (SetDescTable carries 16 bits)", kNodePath, n.requests);
        return NodeResult::Bad;
    }
    if (n.regs == 0 || n.regs_size < 0x2000) {
        log("%s: nvme-regs 0x%lx size 0x%lx: want a mapped NVMe BAR0 of at least 8 KiB", kNodePath, n.regs,
            n.regs_size);
        return NodeResult::Bad;
    }
    if (n.dma_request_base & (pv::kPageSize - 1)) {
        log("%s: dma-request-base 0x%lx is not 4 KiB aligned", kNodePath, n.dma_request_base);
        return NodeResult::Bad;
    }
    // Device names, for the log only (device 0 is the NVMe controller).
    size_t used = 0;
    int count = fdt_stringlist_count(fdt, node, "paging-devices");
    for (int i = 0; i < count; ++i) {
        int len = 0;
        const char* s = fdt_stringlist_get(fdt, node, "paging-devices", i, &len);
        if (!s) break;
        used += format(n.devices + used, static_cast<u32>(sizeof n.devices - used), "%s%s", i ? " " : "", s);
    }
    if (used == 0) format(n.devices, sizeof n.devices, "(none named)");
    return NodeResult::Ok;
}

// --- the NVMe controller ---------------------------------------------------
// BAR0 as the hypervisor mapped it: cache-inhibited partition-scoped PTEs, so
// ordinary loads and stores in real mode (the *cix forms are hypervisor-only).
// As Linux's in_le32/out_le32 on POWER (we run little-endian, as the
// registers are): sync before every access, so that our stores to the queues
// reach memory before a doorbell write and a register read is not satisfied
// ahead of earlier accesses; after a load, twi + isync so that nothing runs
// ahead of the value. Offsets beyond the mapping read as all ones (what a dead
// device reads as) and writes there are dropped.

struct Bar {
    u64 base, size;
};
constinit Bar g_bar{};

bool in_bar(u32 off, u32 len) { return u64{off} + len <= g_bar.size; }

u32 bar_read32(void*, u32 off) {
    if (!in_bar(off, 4)) return ~u32{0};
    u32 v;
    asm volatile("sync; lwzx %0, 0, %1; twi 0, %0, 0; isync" : "=r"(v) : "r"(g_bar.base + off) : "memory");
    return v;
}

u64 bar_read64(void*, u32 off) {
    if (!in_bar(off, 8)) return ~u64{0};
    u64 v;
    asm volatile("sync; ldx %0, 0, %1; twi 0, %0, 0; isync" : "=r"(v) : "r"(g_bar.base + off) : "memory");
    return v;
}

void bar_write32(void*, u32 off, u32 v) {
    if (!in_bar(off, 4)) return;
    asm volatile("sync; stwx %0, 0, %1" : : "r"(v), "r"(g_bar.base + off) : "memory");
}

void bar_write64(void*, u32 off, u64 v) {
    if (!in_bar(off, 8)) return;
    asm volatile("sync; stdx %0, 0, %1" : : "r"(v), "r"(g_bar.base + off) : "memory");
}

u64 dma_identity(void*, const void* p) { return addr_of(p); }
u64 clock_now(void*) { return timebase(); }
// fail_delay_ms: ceding, so the thread serves the others meanwhile.
void pause_us(u64 us) {
    for (u64 end = timebase() + ticks_from_us(us), now = timebase(); now < end; now = timebase()) cede(end - now);
}

// Controller enable, identify, I/O queues; *step names what failed.
u32 bring_up(nvme::NvmeDriver& d, const char** step) {
    u32 s;
    *step = "controller enable";
    if ((s = d.init())) return s;
    *step = "identify";
    if ((s = d.identify())) return s;
    *step = "I/O queue creation";
    return d.create_io_queues();
}

// The driver returns SCT and SC; DNR (the controller saying another attempt
// cannot help: the service does not retry it) comes as psp::kStatusDnr.
u32 with_dnr(u32 s, bool dnr) { return s != nvme::kOk && s <= 0x7ff && dnr ? s | psp::kStatusDnr : s; }

u32 dev_io(void* c, bool write, u64 block, u32 count, u64 dma) {
    auto* d = static_cast<nvme::NvmeDriver*>(c);
    u32 s = write ? d->write(block, count, dma) : d->read(block, count, dma);
    return with_dnr(s, d->last_dnr());
}

// Asynchronous: up to the driver's command slots in flight at once.
u32 dev_submit(void* c, bool write, u64 block, u32 count, u64 dma, const u64* pages, u32 n, u64 cookie) {
    auto* d = static_cast<nvme::NvmeDriver*>(c);
    return pages ? d->submit_pages(write, block, pages, n, cookie) : d->submit(write, block, count, dma, cookie);
}

u32 dev_poll(void* c, psp::DeviceCompletion* out, u32 max) {
    nvme::IoCompletion done[nvme::kCommandSlots];
    u32 n = static_cast<nvme::NvmeDriver*>(c)->poll(done, max < nvme::kCommandSlots ? max : nvme::kCommandSlots);
    for (u32 i = 0; i < n; ++i) out[i] = {done[i].cookie, with_dnr(done[i].status, done[i].dnr)};
    return n;
}

u32 dev_max_in_flight(void* c) { return static_cast<nvme::NvmeDriver*>(c)->max_in_flight(); }

u32 dev_io_pages(void* c, bool write, u64 block, const u64* pages, u32 n) {
    auto* d = static_cast<nvme::NvmeDriver*>(c);
    u32 s = write ? d->write_pages(block, pages, n) : d->read_pages(block, pages, n);
    return with_dnr(s, d->last_dnr());
}

u32 dev_reset(void* c) {
    const char* step = "";
    u32 s = bring_up(*static_cast<nvme::NvmeDriver*>(c), &step);
    if (s) log("nvme: reset: %s failed: %s (0x%x)", step, nvme::status_name(s), s);
    return s;
}

u64 dev_blocks(void* c) { return static_cast<nvme::NvmeDriver*>(c)->blocks(); }
u32 dev_max_blocks(void* c) { return static_cast<nvme::NvmeDriver*>(c)->max_blocks(); }

// Raw sequential read of `mib` MiB from block 0 in commands of up to 256 KiB
// into buf (bus address = logical address), as many in the device at once
// as the driver takes (as the service keeps page-ins), each command into the
// same buffer (the data is not looked at). MiB/s into *mib_s; returns the
// driver status.
u32 raw_read(nvme::NvmeDriver& d, u64 buf, u64 mib, u64* mib_s) {
    *mib_s = 0;
    u32 chunk = d.max_blocks();
    if (chunk > kBenchBufferBytes / nvme::kLbaBytes) chunk = static_cast<u32>(kBenchBufferBytes / nvme::kLbaBytes);
    u64 total = mib * MiB / nvme::kLbaBytes;
    if (total > d.blocks()) total = d.blocks();
    if (chunk) total -= total % chunk;
    if (chunk == 0 || total == 0) {
        log("raw read benchmark skipped: %lu blocks, %u per command", d.blocks(), chunk);
        return nvme::kOk;
    }
    u32 s = nvme::kOk;
    u64 next = 0, done = 0;
    u64 t0 = timebase();
    while (done < total && !s) {
        if (d.max_in_flight() == 0) {  // a queue too shallow for asynchronous commands
            s = d.read(next, chunk, buf);
            next += chunk;
            done += chunk;
            continue;
        }
        while (next < total && d.in_flight() < d.max_in_flight()) {
            if ((s = d.submit(false, next, chunk, buf, next))) break;
            next += chunk;
        }
        if (s == nvme::kBusy) s = nvme::kOk;
        nvme::IoCompletion c[nvme::kCommandSlots];
        u32 n = d.poll(c, nvme::kCommandSlots);
        for (u32 i = 0; i < n; ++i) {
            if (c[i].status && !s) {
                log("raw read benchmark: read at block %lu failed: %s (0x%x)", c[i].cookie,
                    nvme::status_name(c[i].status), c[i].status);
                s = c[i].status;
            }
            done += chunk;
        }
    }
    // Nothing of ours stays in the device: the service starts on an empty
    // queue. Not after a timeout or a fatal status: such a command stays
    // counted in flight until the controller reset the caller then does.
    bool dead = s == nvme::kTimeout || s == nvme::kFatal;
    while (!dead && d.in_flight()) {
        nvme::IoCompletion c[nvme::kCommandSlots];
        u32 n = d.poll(c, nvme::kCommandSlots);
        for (u32 i = 0; i < n; ++i)
            if (c[i].status == nvme::kTimeout || c[i].status == nvme::kFatal) dead = true, s = c[i].status;
    }
    u64 ticks = timebase() - t0;
    if (s) return s;
    if (ticks == 0) ticks = 1;
    *mib_s = total * nvme::kLbaBytes * platform().timebase_hz / ticks >> 20;
    return nvme::kOk;
}

// The raw read benchmark: `trials` reads of the same blocks, their median
// (PV-BENCH name) and spread. Returns the driver status.
u32 bench_raw_read(nvme::NvmeDriver& d, u64 buf, u64 mib, u32 trials, const char* name = "psp_raw_read") {
    if (mib == 0) {
        log("raw read benchmark off (bench_mib=0)");
        return nvme::kOk;
    }
    rt::Trials t;
    for (u32 i = 0; i < trials && i < rt::Trials::kMax; ++i) {
        u64 mib_s = 0;
        if (u32 s = raw_read(d, buf, mib, &mib_s)) return s;
        if (mib_s == 0) return nvme::kOk;  // skipped
        t.add(mib_s);
    }
    u64 median = t.median();
    log("raw read of %lu MiB from block 0, up to %u commands of %u KiB at once: median %lu MiB/s of %u trials "
        "(%lu..%lu)",
        mib, d.max_in_flight() ? d.max_in_flight() : 1, d.max_blocks() * nvme::kLbaBytes >> 10, median, t.n,
        t.value[0], t.value[t.n - 1]);
    t.report(name, "MiB/s");
    return nvme::kOk;
}

// --- the CRQ ---------------------------------------------------------------

struct Channel {
    u32 unit;
    u64 dropped;  // H_SEND_CRQ answered H_DROPPED (the hypervisor's 64-entry ring full)
};

// H_SEND_CRQ, again while the hypervisor's ring is full: an answer must not
// be lost (the request would hang). First a few immediate tries, then short
// decrementer-bounded H_CEDEs, so the hypervisor's service gets to drain it.
i64 send_entry(void* c, const pv::CrqEntry& e) {
    auto* ch = static_cast<Channel*>(c);
    u64 since = 0;
    bool warned = false;
    for (u32 attempt = 0;; ++attempt) {
        i64 rc = rt_hcall(crq::H_SEND_CRQ, ch->unit, e.hi(), e.lo());
        if (rc != crq::H_DROPPED && !hcall_busy(rc)) return rc;
        ++ch->dropped;
        u64 now = timebase();
        if (attempt == 0) {
            since = now;
        } else if (!warned && now - since > ticks_from_us(kSendWarnUs)) {
            log("H_SEND_CRQ: the hypervisor's ring has been full for a second; still retrying");
            warned = true;
        }
        if (attempt >= kSendSpins) cede(ticks_from_us(kSendBackoffUs));
    }
}

// H_REG_CRQ of our zeroed queue; if one is registered already (we were
// restarted without the hypervisor noticing), free it and register again.
i64 register_queue(u32 unit, psp::CrqQueue& q) {
    q.reset();
    i64 rc = rt_hcall(crq::H_REG_CRQ, unit, addr_of(g_queue), kQueueBytes);
    if (rc == papr::H_RESOURCE) {
        log("H_REG_CRQ: a queue is registered already: freeing it and registering again");
        rt_hcall(crq::H_FREE_CRQ, unit);
        q.reset();
        rc = rt_hcall(crq::H_REG_CRQ, unit, addr_of(g_queue), kQueueBytes);
    }
    return rc;
}

// The end: controller shut down (a normal shutdown also flushes its write
// cache), queue freed, power off.
u64 g_bench_buf = 0;  // the raw-read buffer (the descriptor table's memory once the channel is closed)

[[noreturn]] void finish(PagingService::Action why, const PagingService* svc, nvme::NvmeDriver& d, const Channel& ch) {
    // bench_end=on: the raw read again, now that nothing else runs (make bench
    // compares page-in streaming with the better of the two).
    if (why == PagingService::Action::Closed && bootarg_is("bench_end", "on") && g_bench_buf) {
        u64 mib = bootarg_u64("bench_mib", kDefaultBenchMiB);
        (void)bench_raw_read(d, g_bench_buf, mib > kMaxBenchMiB ? kMaxBenchMiB : mib,
                             static_cast<u32>(bootarg_u64("bench_trials", kDefaultBenchTrials)), "psp_raw_read_idle");
    }
    u32 s = d.shutdown();
    if (s) log("nvme: shutdown: %s (0x%x)", nvme::status_name(s), s);
    psp::mover_finish();
    if (svc) {
        const psp::Counters& c = svc->counters();
        if (why == PagingService::Action::Closed)
            log("channel closed, %lu page-ins, %lu page-outs, %lu errors", c.page_ins, c.page_outs, c.errors);
        if (c.requests) svc->log_stats("final");
        if (c.max_in_device) log("paging I/O: at most %lu transfers were in the device at once", c.max_in_device);
        if (c.page_ins)
            log("PV-BENCH {\"name\":\"psp_page_in_device_ticks\",\"value\":%lu,\"unit\":\"timebase_ticks\","
                "\"goal\":null}",
                c.page_in_ticks / c.page_ins);
    }
    if (ch.dropped) log("H_SEND_CRQ: %lu retries with the hypervisor's ring full", ch.dropped);
    rt_hcall(crq::H_FREE_CRQ, ch.unit);
    power_off();
}

// Poll the queue; with nothing there for a little while, H_CEDE (the
// hypervisor H_PRODs us when it delivers; the decrementer is a safety net).
[[noreturn]] void serve(psp::CrqQueue& q, PagingService& svc, nvme::NvmeDriver& d, const Channel& ch) {
    u64 spin_us = bootarg_u64("spin_us", kDefaultSpinUs);
    u64 cede_us = bootarg_u64("cede_us", kDefaultCedeUs);
    if (spin_us > kMaxSpinUs) spin_us = kMaxSpinUs;
    if (cede_us < kMinCedeUs) cede_us = kMinCedeUs;
    if (cede_us > kMaxCedeUs) cede_us = kMaxCedeUs;
    const u64 spin = ticks_from_us(spin_us), cede_ticks = ticks_from_us(cede_us), wait_log = ticks_from_us(kWaitLogUs);
    const u64 linger = ticks_from_us(kLingerUs);
    const u64 mover_poll = ticks_from_us(psp::kMoverPollUs), mover_busy_poll = ticks_from_us(psp::kMoverCedeUs);
    u64 io_cede_us = bootarg_u64("io_cede_us", kDefaultIoCedeUs);
    if (io_cede_us > kMaxIoCedeUs) io_cede_us = kMaxIoCedeUs;
    const u64 io_cede = ticks_from_us(io_cede_us);
    const u64 crash_after = bootarg_u64("crash_after", 0);
    const u64 hang_after = bootarg_u64("hang_after", 0);
    u64 active = timebase(), logged = active;
    for (;;) {
        // What is queued, in order: adjacent page-ins become one device read.
        // The hypervisor queues a fault's read-ahead in one go, but we see it
        // arrive entry by entry: linger a moment after the last arrival.
        pv::CrqEntry batch[PagingService::kMaxMerge];
        pv::CrqEntry movers[PagingService::kMaxMerge];
        u32 n = 0, nm = 0;
        for (u64 last = timebase(); n < PagingService::kMaxMerge;) {
            if (q.poll(batch[n])) {
                ++n;
                last = timebase();
            } else if (!n || timebase() - last > linger) {
                break;
            }
        }
        if (n) {
            // crash_after=N (fault injection): die after N requests with a
            // store outside our memory; the hypervisor must cope (docs/ams.md).
            if (crash_after && svc.counters().requests >= crash_after) {
                log("crash_after=%lu: storing outside our memory", crash_after);
                *reinterpret_cast<volatile u64*>(u64{1} << 40) = 0;
            }
            // hang_after=N (fault injection): stop answering after N requests
            // but stay alive (ceding); the hypervisor's deadlines must notice.
            if (hang_after && svc.counters().requests >= hang_after) {
                log("hang_after=%lu: no more answers", hang_after);
                for (;;) cede(cede_ticks);
            }
            if (psp::mover_present()) n = psp::mover_split(batch, n, movers, nm);
            PagingService::Action a = n ? svc.handle_batch(batch, n) : PagingService::Action::Continue;
            if (a != PagingService::Action::Continue) finish(a, &svc, d, ch);
            (void)svc.progress();
            psp::mover_follow(svc);
            psp::mover_handle(movers, nm);
            active = timebase();
            // A paging storm does not starve the connection's timers.
            if (psp::mover_up() && active - psp::mover_polled_at() >= mover_busy_poll) psp::mover_poll();
            continue;
        }
        // Transfers in the device: poll their completions. Spinning would
        // hold a hardware thread the shared partitions' vCPUs also run on
        // (and, under QEMU, the host core its controller needs): io_cede_us
        // cedes that long when a poll found nothing (H_PROD still wakes us
        // for a request; partition/README.md has the figures).
        if (svc.in_flight()) {
            if (svc.progress()) active = timebase();
            else if (io_cede) cede(io_cede);
            if (psp::mover_up() && timebase() - psp::mover_polled_at() >= mover_busy_poll) psp::mover_poll();
            continue;
        }
        u64 now = timebase();
        if (psp::mover_up() && now - psp::mover_polled_at() >= mover_poll && psp::mover_poll()) active = timebase();
        if (now - active < spin) continue;
        if (svc.state() != PagingService::State::Serving && now - logged >= wait_log) {
            log("still %s", svc.state_name());
            logged = now;
        }
        u64 c = cede_ticks;
        if (psp::mover_up()) {
            // The peer's frames wait in the NIC's ring: cede briefly, and not
            // past the connection's next timer.
            if (psp::mover_poll()) {
                active = timebase();
                continue;
            }
            if ((c = psp::mover_cede_limit(c)) == 0) continue;
        }
        cede(c);
    }
}

}  // namespace

extern "C" [[noreturn]] void pv_main(const void* fdt) {
    if (!init(fdt, "psp")) halt();
    const Platform& p = platform();
    log("paging service partition: %lu MiB, %u vCPUs, timebase %lu Hz", p.mem_size >> 20, p.cpus_in_tree,
        p.timebase_hz);
    if (p.cpus_in_tree > 1) log("one vCPU serves: the other %u stay stopped", p.cpus_in_tree - 1);

    PagingNode node;
    switch (read_node(p.fdt, node)) {
    case NodeResult::Ok: break;
    case NodeResult::Missing: log("no paging device node"); power_off();
    case NodeResult::Bad: power_off();
    }
    log("%s: CRQ unit 0x%x, NVMe registers at 0x%lx (0x%lx bytes), request window at bus 0x%lx, %u request ids, "
        "devices: %s",
        kNodePath, node.unit, node.regs, node.regs_size, node.dma_request_base, node.requests, node.devices);
    if (node.dma_request_base < p.mem_size)
        log("warning: the request window (bus 0x%lx) overlaps our own identity window [0, 0x%lx)",
            node.dma_request_base, p.mem_size);

    // Free memory (above the image, below the top 2 MiB): the benchmark
    // buffer, then the same pages for the descriptor table, zeroed after the
    // benchmark. All of our memory is in the identity DMA window.
    Range free = free_memory();
    // completion_ring=off: every completion an H_SEND_CRQ of its own (the
    // protocol without the ring, for comparison; docs/paging-service.md).
    const bool completion_ring = !bootarg_is("completion_ring", "off");
    u64 table_bytes = align_up(pv::paging::desc_table_bytes({static_cast<u16>(node.requests), 0,
                                                              completion_ring ? pv::paging::kTableCompletionRing : u8{0}}),
                               pv::kPageSize);
    u64 need = table_bytes > kBenchBufferBytes ? table_bytes : kBenchBufferBytes;
    if (free.end - free.base < need) {
        log("not enough free memory for a %lu KiB descriptor table and a %lu KiB buffer (free 0x%lx-0x%lx)",
            table_bytes >> 10, kBenchBufferBytes >> 10, free.base, free.end);
        power_off();
    }
    u64 table_addr = free.base;
    u64 bench_buf = free.base;
    g_bench_buf = bench_buf;

    // The controller.
    g_bar = {node.regs, node.regs_size};
    nvme::NvmeHw hw{bar_read32, bar_write32, bar_read64, bar_write64, nullptr};
    nvme::NvmeDma dma;
    dma.base = g_dma_area;
    dma.size = sizeof g_dma_area;
    dma.dma_addr = dma_identity;
    nvme::NvmeClock clock;
    clock.now = clock_now;
    clock.ticks_per_ms = p.timebase_hz / 1000;
    nvme::NvmeDriver drv(hw, dma, clock);
    const char* step = "";
    u32 dev_status = bring_up(drv, &step);
    if (dev_status) {
        log("nvme: %s failed: %s (0x%x), CAP 0x%lx, VS 0x%x, CSTS 0x%x: every paging request will fail", step,
            nvme::status_name(dev_status), dev_status, drv.cap(), drv.version(), bar_read32(nullptr, 0x1c));
    } else {
        u32 vs = drv.version();
        log("nvme: %s serial %s firmware %s, NVMe %u.%u, %lu blocks of 512 bytes (%lu MiB), %u blocks per "
            "command, queue depth %u",
            drv.model(), drv.serial(), drv.firmware(), vs >> 16, (vs >> 8) & 0xff, drv.blocks(), drv.blocks() >> 11,
            drv.max_blocks(), drv.queue_depth());
        u64 mib = bootarg_u64("bench_mib", kDefaultBenchMiB);
        u32 s = bench_raw_read(drv, bench_buf, mib > kMaxBenchMiB ? kMaxBenchMiB : mib, 1);
        if (s == nvme::kTimeout || s == nvme::kFatal) {
            dev_status = dev_reset(&drv);
            if (dev_status) log("nvme: unusable after the benchmark: every paging request will fail");
        }
    }

    (void)psp::mover_bring_up(free.base, free.end, need);  // after the table and the benchmark buffer

    // The channel.
    Channel ch{node.unit, 0};
    memset(ptr_at<u8>(table_addr), 0, table_bytes);  // after the benchmark: the same pages
    __atomic_thread_fence(__ATOMIC_SEQ_CST);           // zeroes visible before the hypervisor may write
    psp::CrqQueue queue(g_queue, kQueueBytes);
    i64 rc = register_queue(node.unit, queue);
    if (rc != papr::H_SUCCESS && rc != crq::H_CLOSED) {
        log("H_REG_CRQ(unit 0x%x, 0x%lx, %lu) returned %ld: no channel to the hypervisor", node.unit,
            addr_of(g_queue), kQueueBytes, rc);
        finish(PagingService::Action::Fatal, nullptr, drv, ch);
    }
    log("CRQ registered at 0x%lx: %s", addr_of(g_queue),
        rc == papr::H_SUCCESS ? "sending the init request" : "waiting for the hypervisor to open its end");

    PagingService::Setup s;
    s.send = send_entry;
    s.send_ctx = &ch;
    s.now = clock_now;
    s.ticks_per_us = p.timebase_hz / 1000000 ? p.timebase_hz / 1000000 : 1;
    s.dev.io = dev_io;
    s.dev.io_pages = dev_io_pages;
    if (!bootarg_is("async_io", "off")) {  // async_io=off: one transfer at a time, each waited for
        s.dev.submit = dev_submit;
        s.dev.poll = dev_poll;
        s.dev.max_in_flight = dev_max_in_flight;
    }
    s.dev.reset = dev_reset;
    s.dev.blocks = dev_blocks;
    s.dev.max_blocks = dev_max_blocks;
    s.dev.ctx = &drv;
    s.dev_status = dev_status;
    s.table = ptr_at<u8>(table_addr);
    s.table_addr = table_addr;
    s.entries = static_cast<u16>(node.requests);
    s.completion_ring = completion_ring;
    s.dma_request_base = node.dma_request_base;
    u64 retries = bootarg_u64("retries", psp::kDefaultRetries);
    if (retries > psp::kMaxRetries) {
        log("retries=%lu: at most %u", retries, psp::kMaxRetries);
        retries = psp::kMaxRetries;
    }
    s.retries = static_cast<u32>(retries);
    log("device I/O errors: up to %u retries per request", s.retries);
    if (u64 ms = bootarg_u64("fail_delay_ms", 0)) {
        s.fail_delay_us = (ms < kMaxFailDelayMs ? ms : kMaxFailDelayMs) * 1000;
        s.pause = pause_us;
        log("fail_delay_ms=%lu: a failed page-in is answered that late", s.fail_delay_us / 1000);
    }
    static PagingService svc(s);  // static: ~420 KiB of request state (4096 ids), no guard variable (-fno-threadsafe-statics)
    if (s.dev.submit)
        log("paging I/O: asynchronous, up to %u transfers in flight", drv.max_in_flight());
    else
        log("paging I/O: one transfer at a time (async_io=off)");
    psp::mover_create(svc, send_entry, &ch);
    svc.start(rc == papr::H_SUCCESS);
    serve(queue, svc, drv, ch);
}
