#include "hv/metadata.h"

#include "base/format.h"
#include "hv/console.h"
#include "hv/hv.h"

namespace pv {

MetadataFigures metadata_figures() {
    Hypervisor& h = hv();
    MetadataFigures m;
    for (u32 i = 0; i < h.partition_count; ++i) {
        const Partition& p = h.partitions[i];
        if (p.mem_mode != MemMode::Shared || !h.ams.enabled) continue;
        m.shared_pages += p.mem_bytes / kPageSize;
        // The chunks as carved at boot (both stay whole: the tables are
        // handed out of a copy, the page states start at next).
        m.page_state_bytes += p.info_mem.end - p.info_mem.next;
        m.table_bytes += p.table_mem.end - p.table_mem.next;
        m.fixed_table_bytes += kSharedFixedTableBytes;
    }
    if (h.ams.enabled) {
        Pager& pg = h.ams.pager;
        m.frame_table_bytes = align_up(pg.pool().frames() * sizeof(FrameInfo), kPageSize) +
                              u64{pg.requests().capacity()} * sizeof(PagingRequest);
    }
    // Per slot: the partition (its vCPUs embedded), its config entry, its
    // partition-table entry, the pool's per-partition state, and the
    // pager's tables (the request waiters among them) over its slots.
    m.per_partition_bytes = sizeof(Partition) + sizeof(PartitionConfig) + sizeof(PartitionTableEntry) +
                            SharedPool::slot_bytes() + sizeof(Pager) / kMaxPartitions + kSharedFixedTableBytes;
    return m;
}

void print_metadata_stats() {
    MetadataFigures m = metadata_figures();
    // Per page, what grows with the logical pages: the root and directories
    // every tree has are the partition's (bytes_per_partition), else tiny
    // test partitions would make them look like a per-page cost.
    u64 total = m.page_state_bytes + m.table_bytes - m.fixed_table_bytes + m.frame_table_bytes;
    // Hundredths of a byte per page (no floating point in the hypervisor).
    u64 per_page_x100 = m.shared_pages ? total * 100 / m.shared_pages : 0;
    log_raw("PV-STAT {\"type\":\"metadata\",\"shared_pages\":%lu,\"page_state_bytes\":%lu,\"table_bytes\":%lu,"
            "\"fixed_table_bytes\":%lu,"
            "\"frame_table_bytes\":%lu,\"bytes_per_page\":%lu.%02lu,\"bytes_per_partition\":%lu,"
            "\"page_info_bytes\":%lu,\"frame_info_bytes\":%lu,\"partition_slots\":%u}",
            m.shared_pages, m.page_state_bytes, m.table_bytes, m.fixed_table_bytes, m.frame_table_bytes, per_page_x100 / 100,
            per_page_x100 % 100, m.per_partition_bytes, sizeof(PageInfo), sizeof(FrameInfo), kMaxPartitions);
}

}  // namespace pv
