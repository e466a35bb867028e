// The shared partitions' paging spaces on the paging device, checked at boot
// as soon as the device is attached: its size is known only then
// (docs/config.md, "Checked at boot").
#pragma once
#include "arch/arch.h"
#include "hv/config.h"

namespace pv {

// True if every shared partition's paging region lies on `dev`. Otherwise logs
// the first offender as a configuration error, e.g. "config:19: paging_offset:
// paging region 128M..160M of partition 's1' ends past the end of paging
// device 'nvme0' (128M: 262144 blocks of 512 bytes)", and returns false: no
// partition may start.
[[nodiscard]] bool check_paging_space(const SystemConfig& cfg, const arch::PagingDevice& dev);

// The largest stretch of the paging device no shared partition's paging
// region uses (regions as configured, any order): what an incoming
// partition's paging space could be. *offset: where it starts.
u64 largest_free_paging_region(const SystemConfig& cfg, u64 device_bytes, u64* offset = nullptr);

}  // namespace pv
