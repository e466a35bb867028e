// Boot-time self-test of the machine's NVMe device with our own driver
// (vio/nvme), DMA restricted by TCEs: the device sees the driver's queue
// pages and, per request, only the data frames of that request. Silent and
// nearly free (a walk of the FDT's root nodes) when there is no NVMe device.
#include "arch/ppc64/pci.h"
#include "arch/arch.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "vio/nvme.h"

extern "C" pv::u64 pv_boot_args[3];  // FDT, OPAL base, OPAL entry

namespace pv::arch {
namespace {

using nvme::NvmeDriver;

constexpr u32 kNvmeClass = 0x010802;  // mass storage, NVM, NVMe
constexpr u32 kPe = 1;                // our device's PE (and its 32-bit MMIO segment)

// Memory: one run of frames from hv().frames (page indexes into it), not a
// static buffer: nothing is spent without an NVMe device, the pages hold
// nothing else of ours (a TCE exposes a whole page), and the TCE table gets
// its alignment. Never returned (the boot allocator keeps no free list).
constexpr u64 kTableBytes = 4096;  // 512 TCEs: device addresses 0 .. 2 MiB
constexpr u32 kExtents = 3, kExtentBlocks = 8;  // 4 KiB each
constexpr u32 kBenchPages = 64;                 // 256 KiB read buffer
enum : u32 {
    kPgTable = 0,
    kPgArea = 1,                                   // the driver's 6 pages
    kPgSave = kPgArea + nvme::kDmaAreaBytes / 4096,  // original contents, restored at the end
    kPgWrite = kPgSave + kExtents,
    kPgRead = kPgWrite + kExtents,
    kPgVictim = kPgRead + kExtents,
    kPgBench = kPgVictim + 1,
    kPages = kPgBench + kBenchPages,
};

// TCE indexes (device address = index * 4 KiB). Index 0 stays unused.
enum : u64 { kTceArea = 1, kTceData = 16, kTceUnmapped = 100, kTceRevoked = 101, kTceReadOnly = 102 };

struct SelfTest {
    pci::Function fn;
    pci::TceTable tces;
    u8* mem = nullptr;
    HostReal mem_phys{};
    u8* page(u32 i) const { return mem + u64{i} * 4096; }
    HostReal phys(u32 i) const { return HostReal{mem_phys.value + u64{i} * 4096}; }
};

u32 bar_read32(void* c, u32 off) { return pci::mmio_read32(static_cast<SelfTest*>(c)->fn.bar0_cpu + off); }
u64 bar_read64(void* c, u32 off) { return pci::mmio_read64(static_cast<SelfTest*>(c)->fn.bar0_cpu + off); }
void bar_write32(void* c, u32 off, u32 v) { pci::mmio_write32(static_cast<SelfTest*>(c)->fn.bar0_cpu + off, v); }
void bar_write64(void* c, u32 off, u64 v) { pci::mmio_write64(static_cast<SelfTest*>(c)->fn.bar0_cpu + off, v); }
u64 area_dma(void* c, const void* p) {
    auto* t = static_cast<SelfTest*>(c);
    return pci::tce_dma_addr(kTceArea) + static_cast<u64>(static_cast<const u8*>(p) - t->page(kPgArea));
}
u64 now(void*) { return timebase(); }

u64 extent_lba(const NvmeDriver& d, u32 e) {
    switch (e) {
    case 0: return 64;
    case 1: return d.blocks() / 2;
    default: return d.blocks() - kExtentBlocks;
    }
}

// One request with exactly its data frames visible to the device: device
// writes (reads from disk) get write permission, disk writes read permission.
u32 io(SelfTest& t, NvmeDriver& d, bool write, u64 lba, u32 count, u32 first_page, u32 pages) {
    if (pci::tce_map(t.tces, kTceData, t.phys(first_page), write, !write, pages) != 0) return nvme::kInvalid;
    u64 dma = pci::tce_dma_addr(kTceData);
    u32 s = write ? d.write(lba, count, dma) : d.read(lba, count, dma);
    if (pci::tce_unmap(t.tces, kTceData, pages) != 0 && s == 0) s = nvme::kInvalid;
    return s;
}

bool victim_intact(const SelfTest& t) {
    auto* p = reinterpret_cast<const u64*>(t.page(kPgVictim));
    for (u32 i = 0; i < 512; ++i)
        if (p[i] != 0xa5a5a5a5a5a5a5a5) return false;
    return true;
}

bool fail(const char* what, u32 s) {
    log("nvme: self-test FAILED: %s: %s (status 0x%x)", what, nvme::status_name(s), s);
    return false;
}

bool bring_up(NvmeDriver& d) {
    u32 s;
    if ((s = d.init())) return fail("controller enable", s);
    if ((s = d.identify())) return fail("identify", s);
    if ((s = d.create_io_queues())) return fail("I/O queue creation", s);
    return true;
}

// A read into memory the device may not write: memory must not change. QEMU
// drops such DMA silently (the command may still succeed); hardware freezes
// the PE, which we then clear and recover from.
bool blocked_read(SelfTest& t, NvmeDriver& d, u64 dma, u32& status, bool& froze) {
    __builtin_memset(t.page(kPgVictim), 0xa5, 4096);
    status = d.read(extent_lba(d, 0), kExtentBlocks, dma);
    u8 state = 0;
    froze = pci::freeze_status(t.fn, state) == 0 && state != 0;
    if (froze && (pci::freeze_clear(t.fn) != 0 || !bring_up(d))) return false;
    return victim_intact(t);
}

// The tests proper, on a controller that is up. False (with a line said) on failure.
bool test(SelfTest& t, NvmeDriver& d) {
    if (d.blocks() < 128 + 2 * kExtentBlocks) {
        log("nvme: self-test FAILED: namespace too small (%lu blocks)", d.blocks());
        return false;
    }
    // Save, write a pattern, read it back into other frames, compare.
    u32 s;
    u64 stamp = timebase();
    for (u32 e = 0; e < kExtents; ++e) {
        u64 lba = extent_lba(d, e);
        if ((s = io(t, d, false, lba, kExtentBlocks, kPgSave + e, 1))) return fail("saving the test blocks", s);
        auto* w = reinterpret_cast<u64*>(t.page(kPgWrite + e));
        for (u32 i = 0; i < 512; ++i) w[i] = (lba + i / 64) << 32 ^ i ^ stamp;
        __builtin_memset(t.page(kPgRead + e), 0, 4096);
        if ((s = io(t, d, true, lba, kExtentBlocks, kPgWrite + e, 1))) return fail("write", s);
        if ((s = io(t, d, false, lba, kExtentBlocks, kPgRead + e, 1))) return fail("read back", s);
        if (__builtin_memcmp(t.page(kPgRead + e), t.page(kPgWrite + e), 4096) != 0) {
            log("nvme: self-test FAILED: data read back from LBA %lu differs from what was written", lba);
            return false;
        }
    }

    // DMA the device is not allowed: no TCE, a revoked TCE, a read-only TCE.
    // The blocks read hold the pattern, so a leak would change the page.
    u32 st[3] = {};
    bool froze[3] = {};
    bool ok = blocked_read(t, d, pci::tce_dma_addr(kTceUnmapped), st[0], froze[0]);
    if (ok && pci::tce_map(t.tces, kTceRevoked, t.phys(kPgVictim), true, true) == 0 &&
        pci::tce_unmap(t.tces, kTceRevoked) == 0)
        ok = blocked_read(t, d, pci::tce_dma_addr(kTceRevoked), st[1], froze[1]);
    else
        ok = false;
    if (ok && pci::tce_map(t.tces, kTceReadOnly, t.phys(kPgVictim), true, false) == 0) {
        ok = blocked_read(t, d, pci::tce_dma_addr(kTceReadOnly), st[2], froze[2]);
        if (pci::tce_unmap(t.tces, kTceReadOnly) != 0) ok = false;
    } else {
        ok = false;
    }
    if (!ok) {
        log("nvme: self-test FAILED: the device wrote memory it had no writable TCE for");
        return false;
    }
    log("nvme: DMA without a writable TCE was blocked: unmapped, revoked and read-only pages unchanged "
        "(command status 0x%x/0x%x/0x%x%s)",
        st[0], st[1], st[2], froze[0] || froze[1] || froze[2] ? ", PE froze and was recovered" : "");

    // Put the original blocks back.
    for (u32 e = 0; e < kExtents; ++e)
        if ((s = io(t, d, true, extent_lba(d, e), kExtentBlocks, kPgSave + e, 1))) return fail("restore", s);
    if ((s = d.flush())) return fail("flush", s);

    // Raw sequential read throughput, 256 KiB (or MDTS) per command.
    u32 chunk = d.max_blocks() < kBenchPages * 8 ? d.max_blocks() : kBenchPages * 8;
    u64 total = d.blocks() < 32768 ? d.blocks() : 32768;  // up to 16 MiB
    total -= total % chunk;
    if (pci::tce_map(t.tces, kTceData, t.phys(kPgBench), false, true, kBenchPages) != 0)
        return fail("TCE map", nvme::kInvalid);
    u64 t0 = timebase();
    for (u64 lba = 0; lba < total; lba += chunk)
        if ((s = d.read(lba, chunk, pci::tce_dma_addr(kTceData)))) break;
    u64 ticks = timebase() - t0;
    (void)pci::tce_unmap(t.tces, kTceData, kBenchPages);
    if (s) return fail("throughput read", s);
    u64 bytes = total * 512, cmds = total / chunk;
    if (ticks && cmds)
        log("nvme: raw read %lu MiB in %u KiB commands: %lu MiB/s, %lu us per command", bytes >> 20, chunk / 2,
            bytes * timebase_hz() / ticks >> 20, ticks * 1000000 / timebase_hz() / cmds);
    return true;
}

void run(SelfTest& t) {
    const char* step = "";
    i64 rc = pci::enable(t.fn, kPe, &step);
    if (rc != 0) {
        log("nvme: self-test FAILED: PCI bring-up of %04x:%04x at %s (%ld)", t.fn.vendor, t.fn.device, step, rc);
        (void)pci::set_bus_master(t.fn, false);
        return;
    }
    Result<HostReal> r = hv().frames.alloc(u64{kPages} * 4096, kTableBytes);
    if (!r.ok()) {
        log("nvme: self-test FAILED: no memory");
        (void)pci::set_bus_master(t.fn, false);
        return;
    }
    t.mem_phys = r.value;
    t.mem = static_cast<u8*>(host_ptr(r.value));
    if ((rc = pci::dma_window_setup(t.fn, t.tces, t.page(kPgTable), kTableBytes)) != 0 ||
        (rc = pci::tce_map(t.tces, kTceArea, t.phys(kPgArea), true, true, nvme::kDmaAreaBytes / 4096)) != 0) {
        log("nvme: self-test FAILED: TCE window setup (%ld)", rc);
        (void)pci::set_bus_master(t.fn, false);
        return;
    }

    nvme::NvmeHw hw{bar_read32, bar_write32, bar_read64, bar_write64, &t};
    nvme::NvmeDma dma;
    dma.base = t.page(kPgArea);
    dma.size = nvme::kDmaAreaBytes;
    dma.dma_addr = area_dma;
    dma.ctx = &t;
    nvme::NvmeClock clock;
    clock.now = now;
    clock.ticks_per_ms = timebase_hz() / 1000;
    NvmeDriver d(hw, dma, clock);
    bool ok = bring_up(d);
    if (ok) {
        log("nvme: %s serial %s, %lu blocks of 512 bytes, PHB %lu BAR 0x%lx", d.model(), d.serial(), d.blocks(),
            t.fn.phb.opal_id, t.fn.bar0_cpu);
        ok = test(t, d);
    }

    // Leave the device quiet and blind: controller shut down, no TCE
    // mapped, bus mastering off (the paging partition will bring it up).
    u32 s = d.shutdown();
    (void)pci::tce_unmap(t.tces, 0, t.tces.count);
    (void)pci::set_bus_master(t.fn, false);
    if (!ok) return;
    if (s) {
        fail("shutdown", s);
        return;
    }
    log("nvme: self-test ok (wrote and read back %u blocks through TCEs)", kExtents * kExtentBlocks);
}

}  // namespace

void nvme_selftest() {
    SelfTest t;
    if (!pci::find_function(reinterpret_cast<const void*>(pv_boot_args[0]), kNvmeClass, t.fn)) return;
    run(t);
}

}  // namespace pv::arch
