// The paging device for the paging service partition: the machine's NVMe
// controller, configured through OPAL, with DMA restricted to a TCE window.
// Before handing it over, the hypervisor identifies namespace 1 with its own
// driver (vio/nvme) to learn the paging space's size, then resets the
// controller, so the PSP's bring-up starts from a disabled controller.
#include <cstring>

#include "arch/ppc64/pci.h"
#include "arch/arch.h"
#include "base/format.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "vio/nvme.h"

extern "C" pv::u64 pv_boot_args[3];

namespace pv::arch {
namespace {

constexpr u32 kNvmeClass = 0x010802;
constexpr u32 kPe = 2;  // one PE for the paging device
constexpr const char* kDeviceName = "nvme0";  // the config's paging_device for it

// Controller registers and bits used for the reset (NVMe 1.4, 3.1).
constexpr u32 kRegCap = 0x00, kRegCc = 0x14, kRegCsts = 0x1c;
constexpr u32 kCcEnable = 1, kCcShnMask = 3u << 14, kCstsRdy = 1;
constexpr u32 kMinReadyTimeoutMs = 500;

// The driver's DMA area, in the page order vio/nvme.h gives (admin SQ, admin
// CQ, I/O SQ, I/O CQ, identify, PRP list). Init and identify use only the
// admin queues and the identify page; only those are ever mapped, at TCEs
// [kTceArea, +kAreaPages) while identify runs, and the window is empty again
// before the PSP gets the device.
constexpr u32 kAreaPages = nvme::kDmaAreaBytes / 4096;
constexpr u32 kPgAdminSq = 0, kPgAdminCq = 1, kPgIdentify = 4;
static_assert(kPgIdentify < kAreaPages);
constexpr u64 kTceArea = 0;

pci::Function g_fn;
pci::TceTable g_tces;
bool g_attached = false;

struct Identify {
    u8* area = nullptr;
    HostReal area_phys{};
    HostReal page(u32 i) const { return HostReal{area_phys.value + u64{i} * 4096}; }
};
Identify g_id;

u64 bar() { return g_fn.bar0_cpu; }
u32 bar_read32(void*, u32 off) { return pci::mmio_read32(bar() + off); }
u64 bar_read64(void*, u32 off) { return pci::mmio_read64(bar() + off); }
void bar_write32(void*, u32 off, u32 v) { pci::mmio_write32(bar() + off, v); }
void bar_write64(void*, u32 off, u64 v) { pci::mmio_write64(bar() + off, v); }
u64 area_dma(void*, const void* p) {
    return pci::tce_dma_addr(kTceArea) + static_cast<u64>(static_cast<const u8*>(p) - g_id.area);
}
u64 now(void*) { return timebase(); }

// Polls CSTS.RDY until it equals `want`, at most ms milliseconds; false on
// timeout or when nothing answers at the BAR.
bool wait_ready(bool want, u64 ms) {
    u64 deadline = timebase() + ms * (timebase_hz() / 1000);
    for (;;) {
        u32 csts = pci::mmio_read32(bar() + kRegCsts);
        if (csts == ~u32{0}) return false;
        if (((csts & kCstsRdy) != 0) == want) return true;
        if (static_cast<i64>(timebase() - deadline) > 0) return false;
    }
}

// Controller reset (CC.EN = 0, then CSTS.RDY = 0 within CAP.TO), whatever
// state init or identify left it in. A controller still coming up (EN = 1,
// RDY = 0) is let finish first, as the driver's init does.
bool disable_controller() {
    u64 cap = pci::mmio_read64(bar() + kRegCap);
    u64 to_ms = ((cap >> 24) & 0xff) * 500;
    if (to_ms < kMinReadyTimeoutMs) to_ms = kMinReadyTimeoutMs;
    u32 cc = pci::mmio_read32(bar() + kRegCc);
    if (cc == ~u32{0}) return false;
    if (cc & kCcEnable) {
        if (!(pci::mmio_read32(bar() + kRegCsts) & kCstsRdy)) (void)wait_ready(true, to_ms);
        pci::mmio_write32(bar() + kRegCc, cc & ~(kCcEnable | kCcShnMask));
    }
    return wait_ready(false, to_ms);
}

// Enable, identify (the identify page mapped for that command only), reset.
// Leaves no TCE mapped. Fills out.blocks/block_bytes on success.
bool identify_namespace(PagingDevice& out, char* err, u32 errlen) {
    if (g_tces.count < kTceArea + kAreaPages) {
        format(err, errlen, "DMA window of %lu pages too small to identify the device", g_tces.count);
        return false;
    }
    nvme::NvmeHw hw{bar_read32, bar_write32, bar_read64, bar_write64, nullptr};
    nvme::NvmeDma dma;
    dma.base = g_id.area;
    dma.size = nvme::kDmaAreaBytes;
    dma.dma_addr = area_dma;
    nvme::NvmeClock clock;
    clock.now = now;
    clock.ticks_per_ms = timebase_hz() / 1000;
    nvme::NvmeDriver d(hw, dma, clock);

    const char* step = "TCE map";
    u32 s = nvme::kInvalid;
    if (pci::tce_map(g_tces, kTceArea + kPgAdminSq, g_id.page(kPgAdminSq), true, false) == 0 &&
        pci::tce_map(g_tces, kTceArea + kPgAdminCq, g_id.page(kPgAdminCq), false, true) == 0) {
        step = "controller enable";
        s = d.init();
        if (s == 0) {
            step = "identify";
            s = pci::tce_map(g_tces, kTceArea + kPgIdentify, g_id.page(kPgIdentify), false, true) == 0
                    ? d.identify()
                    : nvme::kInvalid;
            (void)pci::tce_unmap(g_tces, kTceArea + kPgIdentify);
        }
    }
    bool reset = disable_controller();
    i64 unmapped = pci::tce_unmap(g_tces, kTceArea, kAreaPages);
    u8 frozen = 0;
    if (pci::freeze_status(g_fn, frozen) == 0 && frozen) {
        format(err, errlen, "NVMe %04x: its PE froze during %s (DMA outside the identify pages?)", g_fn.bdfn, step);
        return false;
    }
    if (s) {
        format(err, errlen, "NVMe %04x: %s failed: %s (status 0x%x)", g_fn.bdfn, step, nvme::status_name(s), s);
        return false;
    }
    if (!reset) {
        format(err, errlen, "NVMe %04x: the controller did not reset (CSTS.RDY stayed 1) after identify", g_fn.bdfn);
        return false;
    }
    if (unmapped != 0) {
        format(err, errlen, "TCE unmap after identify failed (%ld)", unmapped);
        return false;
    }
    out.blocks = d.blocks();
    out.block_bytes = nvme::kLbaBytes;
    log("paging device %s: %s serial %s, %lu blocks of %u bytes (%lu MiB)", kDeviceName, d.model(), d.serial(),
        out.blocks, out.block_bytes, out.blocks * out.block_bytes >> 20);
    return true;
}

}  // namespace

bool paging_device_attach(u64 dma_pages, PagingDevice& out, char* err, u32 errlen) {
    if (!pci::find_function(reinterpret_cast<const void*>(pv_boot_args[0]), kNvmeClass, g_fn)) {
        format(err, errlen, "no NVMe controller found on any PHB");
        return false;
    }
    const char* step = "";
    if (i64 rc = pci::enable(g_fn, kPe, &step); rc != 0) {
        format(err, errlen, "NVMe %04x: %s failed (%ld)", g_fn.bdfn, step, rc);
        return false;
    }
    u64 bytes = pci::tce_table_bytes(dma_pages);
    auto table = hv().frames.alloc(bytes, bytes);
    // Never returned (the boot allocator keeps no free list); the pages hold
    // nothing else of ours, as a TCE exposes a whole page.
    auto area = hv().frames.alloc(nvme::kDmaAreaBytes, 4096);
    if (!table.ok() || !area.ok()) {
        format(err, errlen, "no memory for a %lu KiB TCE table and the identify pages", bytes >> 10);
        return false;
    }
    void* t = host_ptr(table.value);
    std::memset(t, 0, bytes);
    g_id.area_phys = area.value;
    g_id.area = static_cast<u8*>(host_ptr(area.value));
    std::memset(g_id.area, 0, nvme::kDmaAreaBytes);
    if (i64 rc = pci::dma_window_setup(g_fn, g_tces, t, bytes); rc != 0) {
        format(err, errlen, "DMA window setup failed (%ld)", rc);
        return false;
    }
    if (g_fn.phb.regs)
        log("paging device %s: TCE kills by the PHB kill register (PHB registers at 0x%lx)", kDeviceName,
            g_fn.phb.regs);
    else
        log("paging device %s: TCE kills through OPAL (no PHB register space in the device tree)", kDeviceName);
    (void)pci::set_bus_master(g_fn, true);
    if (!identify_namespace(out, err, errlen)) {
        (void)pci::set_bus_master(g_fn, false);
        return false;
    }
    out.name = kDeviceName;
    out.regs_phys = g_fn.bar0_cpu;
    out.regs_size = g_fn.bar0_size;
    out.dma_pages = g_tces.count;
    g_attached = true;
    return true;
}

bool dma_map(u64 index, HostReal phys, bool device_reads, bool device_writes, u64 npages) {
    return g_attached && index + npages <= g_tces.count &&
           pci::tce_map(g_tces, index, phys, device_reads, device_writes, npages) == 0;
}

void dma_unmap(u64 index, u64 npages) {
    if (g_attached && index + npages <= g_tces.count) (void)pci::tce_unmap(g_tces, index, npages);
}

void dma_unmap_deferred(u64 index) {
    if (g_attached && index < g_tces.count) (void)pci::tce_clear(g_tces, index);
}

void dma_revoke_all() {
    if (g_attached) (void)pci::tce_kill_all(g_tces);
}

TceKillCounts tce_kill_counts() {
    pci::TceKillCounts c = pci::tce_kill_counts();
    return {c.by_register, c.by_opal};
}

}  // namespace pv::arch
