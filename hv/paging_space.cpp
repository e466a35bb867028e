// Boot-time check of the paging regions against the attached paging device.
#include "hv/paging_space.h"

#include "hv/console.h"
#include "vio/paging_protocol.h"

namespace pv {

bool check_paging_space(const SystemConfig& cfg, const arch::PagingDevice& dev) {
    // Paging requests address the device in 512-byte blocks (paging::kBlockBytes).
    if (dev.block_bytes != paging::kBlockBytes) {
        log("paging device %s has %u-byte blocks; paging needs %lu-byte blocks", dev.name, dev.block_bytes,
            paging::kBlockBytes);
        return false;
    }
    ConfigError err{};
    if (check_paging_device(cfg, dev.name, dev.blocks, dev.block_bytes, err)) return true;
    char msg[256];
    format_config_error(err, msg, sizeof msg);
    log("%s", msg);
    return false;
}

u64 largest_free_paging_region(const SystemConfig& cfg, u64 device_bytes, u64* offset) {
    // Walk the gaps in address order: the next region is the lowest one
    // starting at or after the cursor (few partitions: quadratic is fine).
    u64 best = 0, best_at = 0, cursor = 0;
    while (cursor < device_bytes) {
        u64 next_start = device_bytes, next_end = device_bytes;
        for (u32 i = 0; i < cfg.partition_count; ++i) {
            const PartitionConfig& p = cfg.partitions[i];
            if (p.mem_mode != MemMode::Shared || p.reclaimed) continue;
            u64 start = p.paging_offset, end = p.paging_offset + p.mem_bytes;
            if (end <= cursor) continue;
            if (start < cursor) start = cursor;  // overlaps the cursor: the gap is empty
            if (start < next_start) next_start = start, next_end = end;
        }
        if (next_start > device_bytes) next_start = device_bytes;
        if (next_start - cursor > best) best = next_start - cursor, best_at = cursor;
        if (next_start >= device_bytes) break;
        cursor = next_end;
    }
    if (offset) *offset = best_at;
    return best;
}

}  // namespace pv
