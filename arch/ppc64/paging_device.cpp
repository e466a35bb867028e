// The paging device for the paging service partition: the machine's NVMe
// controller, configured through OPAL, with DMA restricted to a TCE window.
#include <cstring>

#include "arch/ppc64/pci.h"
#include "arch/arch.h"
#include "base/format.h"
#include "hv/hv.h"

extern "C" pv::u64 pv_boot_args[3];

namespace pv::arch {
namespace {

constexpr u32 kNvmeClass = 0x010802;
constexpr u32 kPe = 2;  // one PE for the paging device

pci::Function g_fn;
pci::TceTable g_tces;
bool g_attached = false;

u64 table_bytes_for(u64 pages) {
    u64 bytes = 4096;
    while (bytes < pages * 8) bytes <<= 1;
    return bytes;
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
    u64 bytes = table_bytes_for(dma_pages);
    auto table = hv().frames.alloc(bytes, bytes);
    if (!table.ok()) {
        format(err, errlen, "no memory for a %lu KiB TCE table", bytes >> 10);
        return false;
    }
    void* t = host_ptr(table.value);
    std::memset(t, 0, bytes);
    if (i64 rc = pci::dma_window_setup(g_fn, g_tces, t, bytes); rc != 0) {
        format(err, errlen, "DMA window setup failed (%ld)", rc);
        return false;
    }
    (void)pci::set_bus_master(g_fn, true);
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

}  // namespace pv::arch
