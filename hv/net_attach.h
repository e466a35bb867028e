// The network device handed to the partition that names it (network_device in
// its config, docs/network-link.md): found and reset at boot through arch/,
// its registers mapped into the owner's partition-scoped space
// cache-inhibited, the owner's whole memory its DMA window (bus address =
// logical address), and a /poolvisor-network node in the owner's device tree
// telling it where the registers are.
#pragma once
#include "base/types.h"
#include "hv/config.h"

namespace pv {

struct Partition;

// Logical address of the NIC's registers in its owner's space: above any
// partition memory (desired_mem <= 4G) and clear of the PSP's NVMe registers.
inline constexpr u64 kNetRegsLogical = (u64{1} << 36) + (u64{1} << 32);

// Boot, before any partition is created: the owner's device is attached (it
// must exist, with the configured name); false after logging why (then no
// partition starts). Nothing to do without an owner.
[[nodiscard]] bool net_init(const SystemConfig& cfg);
bool net_is_owner(const Partition& p);
// Each boot of the owner (fdt of fdt_size bytes, grown in place): registers
// mapped, memory open to the device, /poolvisor-network added.
[[nodiscard]] bool net_attach(Partition& p, void* fdt, u32 fdt_size);

}  // namespace pv
