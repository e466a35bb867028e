// The network device for the partition that owns it (network_device in the
// config): the machine's Intel 82574 NIC (QEMU e1000e) on a PHB of its own,
// configured through OPAL like the paging device (arch/ppc64/paging_device.cpp),
// alone in its PE, its DMA restricted to a TCE window. The hypervisor never
// drives it: it resets it so the owner's driver (vio/e1000e) starts from a
// quiet device that holds no ring pointer into anyone's memory.
#include <cstring>

#include "arch/arch.h"
#include "arch/ppc64/pci.h"
#include "base/format.h"
#include "hv/console.h"
#include "hv/hv.h"

extern "C" pv::u64 pv_boot_args[3];

namespace pv::arch {
namespace {

constexpr u32 kNetClass = 0x020000;  // network controller, Ethernet
constexpr u32 kNvmeClass = 0x010802;
constexpr u16 kIntel = 0x8086, k82574 = 0x10d3;
constexpr u32 kPe = 3;  // the paging device has PE 2 (on its own PHB; distinct anyway)
constexpr const char* kDeviceName = "eth0";

// 82574 registers and bits used to quiesce it (datasheet 10.2; vio/e1000e.cpp).
constexpr u32 kRegCtrl = 0x0000, kRegStatus = 0x0008, kRegIcr = 0x00c0, kRegImc = 0x00d8, kRegRctl = 0x0100,
              kRegTctl = 0x0400;
constexpr u32 kCtrlRst = 1u << 26;
constexpr u64 kResetTimeoutMs = 100;

pci::Function g_fn;
pci::TceTable g_tces;
bool g_attached = false;

u32 rd(u32 off) { return pci::mmio_read32(g_fn.bar0_cpu + off); }
void wr(u32 off, u32 v) { pci::mmio_write32(g_fn.bar0_cpu + off, v); }

void delay_ms(u64 ms) {
    u64 end = timebase() + ms * (timebase_hz() / 1000);
    while (static_cast<i64>(timebase() - end) < 0) {
    }
}

// Receive and transmit off, interrupts masked, then a full device reset: no
// descriptor base survives from the firmware or an earlier owner.
bool quiesce(char* err, u32 errlen) {
    if (rd(kRegStatus) == ~u32{0}) {
        format(err, errlen, "NIC %04x: nothing answers at BAR0", g_fn.bdfn);
        return false;
    }
    wr(kRegImc, ~u32{0});
    wr(kRegRctl, 0);
    wr(kRegTctl, 0);
    (void)rd(kRegStatus);  // flush the posted writes before the reset
    delay_ms(1);
    wr(kRegCtrl, rd(kRegCtrl) | kCtrlRst);
    delay_ms(1);  // the 82574 must not be accessed for a while after CTRL.RST
    u64 deadline = timebase() + kResetTimeoutMs * (timebase_hz() / 1000);
    while (rd(kRegCtrl) & kCtrlRst) {
        if (static_cast<i64>(timebase() - deadline) > 0) {
            format(err, errlen, "NIC %04x: CTRL.RST did not clear within %lu ms", g_fn.bdfn, kResetTimeoutMs);
            return false;
        }
    }
    wr(kRegImc, ~u32{0});
    (void)rd(kRegIcr);
    return true;
}

}  // namespace

bool net_device_attach(u64 dma_pages, NetDevice& out, char* err, u32 errlen) {
    const void* fdt = reinterpret_cast<const void*>(pv_boot_args[0]);
    if (!pci::find_function(fdt, kNetClass, g_fn)) {
        format(err, errlen, "no Ethernet controller (class 020000) found on any PHB");
        return false;
    }
    if (g_fn.vendor != kIntel || g_fn.device != k82574) {
        format(err, errlen, "the Ethernet controller at %04x is %04x:%04x, not an Intel 82574 (8086:10d3)", g_fn.bdfn,
               g_fn.vendor, g_fn.device);
        return false;
    }
    // Its own PHB: PEs, MMIO segments and the PHB's error state stay apart from the paging device's.
    pci::Function nvme;
    if (pci::find_function(fdt, kNvmeClass, nvme) && nvme.phb.opal_id == g_fn.phb.opal_id) {
        format(err, errlen, "the NIC shares PHB %lu with the NVMe controller (give it a PHB of its own)",
               g_fn.phb.opal_id);
        return false;
    }
    const char* step = "";
    if (i64 rc = pci::enable(g_fn, kPe, &step); rc != 0) {
        format(err, errlen, "NIC %04x: %s failed (%ld)", g_fn.bdfn, step, rc);
        return false;
    }
    // Quiet before it may master the bus: firmware (a netboot loader on a
    // real machine) may have left its rings running, and any DMA it tried
    // through the still empty window would freeze the PE.
    (void)pci::set_bus_master(g_fn, false);
    if (!quiesce(err, errlen)) return false;
    (void)pci::freeze_clear(g_fn);
    u64 bytes = pci::tce_table_bytes(dma_pages);
    auto table = hv().frames.alloc(bytes, bytes);  // never returned: the device is the partition's for good
    if (!table.ok()) {
        format(err, errlen, "no memory for a %lu KiB TCE table", bytes >> 10);
        return false;
    }
    void* t = host_ptr(table.value);
    std::memset(t, 0, bytes);
    if (i64 rc = pci::dma_window_setup(g_fn, g_tces, t, bytes); rc != 0) {
        format(err, errlen, "NIC %04x: DMA window setup failed (%ld)", g_fn.bdfn, rc);
        return false;
    }
    // QEMU stores no received frame without bus mastering (docs/network-link.md).
    if (i64 rc = pci::set_bus_master(g_fn, true); rc != 0) {
        format(err, errlen, "NIC %04x: bus master enable failed (%ld)", g_fn.bdfn, rc);
        return false;
    }
    u8 frozen = 0;
    if (pci::freeze_status(g_fn, frozen) == 0 && frozen) {
        (void)pci::set_bus_master(g_fn, false);
        format(err, errlen, "NIC %04x: its PE is frozen after the reset", g_fn.bdfn);
        return false;
    }
    out.name = kDeviceName;
    out.regs_phys = g_fn.bar0_cpu;
    out.regs_size = g_fn.bar0_size;
    out.dma_pages = g_tces.count;
    out.vendor = g_fn.vendor;
    out.device = g_fn.device;
    out.bdfn = g_fn.bdfn;
    out.phb = g_fn.phb.opal_id;
    g_attached = true;
    return true;
}

bool net_dma_map(u64 index, HostReal phys, u64 npages) {
    return g_attached && index + npages <= g_tces.count && pci::tce_map(g_tces, index, phys, true, true, npages) == 0;
}

bool net_device_reset() {
    if (!g_attached) return true;
    char err[96];
    if (quiesce(err, sizeof err)) return true;
    log("network device: %s", err);
    return false;
}

bool net_device_thaw() {
    u8 frozen = 0;
    if (!g_attached || pci::freeze_status(g_fn, frozen) != 0 || frozen == 0) return false;
    (void)pci::freeze_clear(g_fn);
    return true;
}

}  // namespace pv::arch
