// The network device's owner: see net_attach.h.
#include "hv/net_attach.h"

#include <cstring>

#include <libfdt.h>

#include "arch/arch.h"
#include "hv/console.h"
#include "hv/partition.h"

namespace pv {
namespace {

struct NetOwner {
    bool present = false;
    u32 slot = 0;  // its index in the config (= partition slot)
    arch::NetDevice device{};
};
NetOwner g_net;

}  // namespace

bool net_init(const SystemConfig& cfg) {
    g_net = NetOwner{};
    const PartitionConfig* owner = nullptr;
    for (u32 i = 0; i < cfg.partition_count; ++i) {
        if (!cfg.partitions[i].network_device[0]) continue;
        owner = &cfg.partitions[i];
        g_net.slot = i;
    }
    if (!owner) return true;
    char err[128];
    arch::NetDevice d;
    if (!arch::net_device_attach(owner->mem_bytes / kPageSize, d, err, sizeof err)) {
        log("config:%u: network_device: partition %s names '%s', which this machine cannot give it: %s",
            owner->network_device_line, owner->name, owner->network_device, err);
        return false;
    }
    if (std::strcmp(d.name, owner->network_device) != 0) {
        log("config:%u: network_device: partition %s names '%s', which this machine does not have (its network "
            "device is '%s')",
            owner->network_device_line, owner->name, owner->network_device, d.name);
        return false;
    }
    if (d.dma_pages < owner->mem_bytes / kPageSize) {
        log("config:%u: network_device: a DMA window of %lu pages cannot hold partition %s's %lu MiB",
            owner->network_device_line, d.dma_pages, owner->name, owner->mem_bytes >> 20);
        return false;
    }
    g_net.device = d;
    g_net.present = true;
    log("network device %s: %04x:%04x at PHB %lu %04x, registers at 0x%lx (%lu KiB), for partition %s", d.name,
        d.vendor, d.device, d.phb, d.bdfn, d.regs_phys, d.regs_size >> 10, owner->name);
    return true;
}

bool net_is_owner(const Partition& p) { return g_net.present && p.slot == g_net.slot; }

bool net_attach(Partition& p, void* fdt, u32 fdt_size) {
    const arch::NetDevice& d = g_net.device;
    // A boot after a restart: the last one may have frozen the PE. The owner's
    // driver resets the device before it uses it again.
    if (arch::net_device_thaw())
        log("network: %s's PE was frozen (a DMA outside its window?): cleared for %s's boot %u", d.name, p.name,
            p.restarts + 1);
    for (u64 off = 0; off < d.regs_size; off += kPageSize) {
        if (p.radix.map(page_of(LogicalAddr{kNetRegsLogical + off}), frame_of(HostReal{d.regs_phys + off}), Perm::RW,
                        RadixTable::MapKind::Io) != Err::Ok) {
            log("network: cannot map %s's registers into %s", d.name, p.name);
            return false;
        }
    }
    // Its dedicated memory is contiguous: bus address = logical address.
    if (!arch::net_dma_map(0, p.mem_base, p.mem_bytes / kPageSize)) {
        log("network: cannot open %s's memory to %s (%lu TCEs)", p.name, d.name, d.dma_pages);
        return false;
    }
    int rc = fdt_open_into(fdt, fdt, static_cast<int>(fdt_size));
    int node = rc ? rc : fdt_add_subnode(fdt, 0, "poolvisor-network");
    if (node < 0) {
        log("network: cannot add the network node to %s's device tree: %s", p.name, fdt_strerror(node));
        return false;
    }
    fdt64_t regs[2] = {cpu_to_fdt64(kNetRegsLogical), cpu_to_fdt64(d.regs_size)};
    fdt64_t window[2] = {cpu_to_fdt64(0), cpu_to_fdt64(p.mem_bytes)};
    bool ok = fdt_setprop_string(fdt, node, "compatible", "poolvisor,network-v1") == 0 &&
              fdt_setprop_string(fdt, node, "device-name", d.name) == 0 &&
              fdt_setprop_u32(fdt, node, "vendor-id", d.vendor) == 0 &&
              fdt_setprop_u32(fdt, node, "device-id", d.device) == 0 &&
              fdt_setprop(fdt, node, "e1000e-regs", regs, sizeof regs) == 0 &&
              fdt_setprop(fdt, node, "dma-window", window, sizeof window) == 0 && fdt_pack(fdt) == 0;
    if (!ok) log("network: %s's device tree has no room for the network node", p.name);
    return ok;
}

}  // namespace pv
