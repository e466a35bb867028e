// Rules across sections (docs/config.md): paging regions, the shared memory
// pool, the network device and the mover, and, at boot, the paging device's size.
#include "hv/config_parser.h"

namespace pv {
namespace config_detail {

// The paging region is [paging_offset, paging_offset + desired_mem) of the
// device; regions on one device must not overlap those of earlier partitions.
bool Parser::check_paging_region(const PartitionConfig& p) {
    u32 offset_line = p.paging_offset_line;
    if (p.paging_offset > ~u64{0} - p.mem_bytes)
        return fail(offset_line, "paging_offset", "the paging region at ", Size{p.paging_offset}, " of ",
                    Size{p.mem_bytes}, " (desired_mem) ends beyond 64-bit device offsets");
    u64 end = p.paging_offset + p.mem_bytes;
    for (u32 i = 0; i + 1 < out_.partition_count; ++i) {
        const PartitionConfig& q = out_.partitions[i];
        if (q.mem_mode != MemMode::Shared || sv(q.paging_device) != sv(p.paging_device)) continue;
        u64 q_end = q.paging_offset + q.mem_bytes;
        if (p.paging_offset < q_end && q.paging_offset < end)
            return fail(offset_line, "paging_offset", "paging region ", Size{p.paging_offset}, "..", Size{end},
                        " on ", Quoted{p.paging_device}, " overlaps region ", Size{q.paging_offset}, "..", Size{q_end},
                        " of partition ", Quoted{q.name}, " (line ", q.line, ")");
    }
    return true;
}

const PartitionConfig* Parser::partition_named(sv name) const {
    for (u32 i = 0; i < out_.partition_count; ++i)
        if (sv(out_.partitions[i].name) == name) return &out_.partitions[i];
    return nullptr;
}

// Whole-file Active Memory Sharing rules: shared partitions need the pool; the
// pool needs a dedicated-memory paging VIOS partition, room for every I/O
// entitlement, and at most kMaxPoolOvercommit times its size in shared
// logical memory. A pool without shared partitions is allowed.
bool Parser::check_pool() {
    const SystemConfig::PoolConfig& pool = out_.pool;
    u64 entitled = 0, logical = 0;
    for (u32 i = 0; i < out_.partition_count; ++i) {
        const PartitionConfig& p = out_.partitions[i];
        if (p.mem_mode != MemMode::Shared) continue;
        if (!pool.present)
            return fail(out_.partitions[i].mem_mode_line, "mem_mode", "partition ", Quoted{p.name},
                        " has mem_mode = shared but there is no [shared_pool] section (pool_mem, paging_vios)");
        entitled += p.io_entitled_bytes;
        logical += p.mem_bytes;
    }
    if (!pool.present) return true;
    u32 vios_line = pool_key_line_[kPagingVios];
    const PartitionConfig* vios = partition_named(pool.paging_vios);
    if (!vios)
        return fail(vios_line, "paging_vios", "no partition named ", Quoted{pool.paging_vios},
                    " (the paging VIOS partition must be a [partition NAME] of this file)");
    if (vios->mem_mode == MemMode::Shared)
        return fail(vios_line, "paging_vios", "partition ", Quoted{vios->name}, " (line ", vios->line,
                    ") has mem_mode = shared; the paging VIOS partition must use dedicated memory");
    u32 pool_line = pool_key_line_[kPoolMem];
    if (entitled > pool.pool_bytes)
        return fail(pool_line, "pool_mem", "pool_mem ", Size{pool.pool_bytes}, " is smaller than the ",
                    Size{entitled}, " of I/O entitlement it must guarantee");
    if (logical > kMaxPoolOvercommit * pool.pool_bytes) {
        u64 least = (logical + kMaxPoolOvercommit * kMiB - 1) / (kMaxPoolOvercommit * kMiB) * kMiB;
        return fail(pool_line, "pool_mem", "pool_mem ", Size{pool.pool_bytes}, " is too small for the ",
                    Size{logical}, " of logical memory of the shared partitions (at most ", kMaxPoolOvercommit,
                    " times the pool: use at least ", Size{least}, ")");
    }
    return true;
}

// A NIC is handed whole to one partition, whose memory is its DMA window
// 1:1: dedicated, so that window never changes under the device.
bool Parser::check_network() {
    const PartitionConfig* owner = nullptr;
    for (u32 i = 0; i < out_.partition_count; ++i) {
        const PartitionConfig& p = out_.partitions[i];
        if (!p.network_device[0]) continue;
        if (p.mem_mode != MemMode::Dedicated)
            return fail(p.network_device_line, "network_device", "partition ", Quoted{p.name},
                        " has mem_mode = shared (line ", out_.partitions[i].mem_mode_line,
                        "); a network device's owner must use dedicated memory");
        if (owner && sv(owner->network_device) == sv(p.network_device))
            return fail(p.network_device_line, "network_device", "network device ", Quoted{p.network_device},
                        " is already owned by partition ", Quoted{owner->name}, " (line ", owner->network_device_line,
                        "); a device has one owner");
        if (owner)
            return fail(p.network_device_line, "network_device", "partition ", Quoted{p.name}, " names ",
                        Quoted{p.network_device}, " but partition ", Quoted{owner->name}, " (line ",
                        owner->network_device_line, ") already owns ", Quoted{owner->network_device},
                        "; this machine has one network device");
        owner = &p;
    }
    return true;
}

// The paging service partition is the mover (docs/migration.md): it needs
// the pool and the NIC. The key goes to the hypervisor and, through its
// device tree, the mover only: no partition may boot it as an image or initrd.
bool Parser::check_migration() {
    const SystemConfig::MigrationConfig& m = out_.migration;
    if (!m.present) return true;
    if (!out_.pool.present)
        return fail(m.line, "migration", "[migration] needs a [shared_pool] section: its paging service partition "
                                         "(paging_vios) is the mover");
    const PartitionConfig* vios = partition_named(out_.pool.paging_vios);  // check_pool found it
    if (vios && !vios->network_device[0])
        return fail(m.line, "migration", "the paging service partition ", Quoted{vios->name}, " (line ", vios->line,
                    ") must own a network_device to be the mover");
    for (u32 i = 0; i < out_.partition_count; ++i) {
        const PartitionConfig& p = out_.partitions[i];
        sv use = sv(p.image) == sv(m.key_file) ? "image" : sv(p.initrd) == sv(m.key_file) ? "initrd" : "";
        if (!use.empty())
            return fail(m.key_file_line, "key_file", "key_file ", Quoted{m.key_file}, " is also the ", use,
                        " of partition ", Quoted{p.name}, " (line ", p.line, ");"
                        " the pair's key is never loaded into a partition as an image or initrd");
    }
    return true;
}

}  // namespace config_detail

bool check_paging_device(const SystemConfig& cfg, std::string_view device, u64 blocks, u32 block_bytes,
                         ConfigError& err) {
    using namespace config_detail;
    err = ConfigError{};
    u64 bytes = block_bytes && blocks > ~u64{0} / block_bytes ? ~u64{0} : blocks * block_bytes;
    for (u32 i = 0; i < cfg.partition_count; ++i) {
        const PartitionConfig& p = cfg.partitions[i];
        if (p.mem_mode != MemMode::Shared) continue;
        if (sv(p.paging_device) != device)
            return fail(err, p.paging_device_line, "paging_device", "partition ", Quoted{p.name},
                        " pages to ", Quoted{p.paging_device}, ", which this machine does not have (its paging device is ",
                        Quoted{device}, ")");
        // parse_config made sure the end fits in 64 bits.
        u64 end = p.paging_offset + p.mem_bytes;
        if (end > bytes)
            return fail(err, p.paging_offset_line, "paging_offset", "paging region ", Size{p.paging_offset}, "..",
                        Size{end}, " of partition ", Quoted{p.name}, " ends past the end of paging device ",
                        Quoted{device}, " (", Size{bytes}, ": ", blocks, " blocks of ", block_bytes, " bytes)");
    }
    return true;
}

}  // namespace pv
