// What the hypervisor keeps to manage memory, from the real structure sizes
// (make bench: metadata_bytes_per_page, metadata_bytes_per_partition;
// docs/benchmarks.md says what is counted).
#pragma once
#include "base/types.h"

namespace pv {

struct MetadataFigures {
    u64 shared_pages = 0;       // 4 KiB logical pages of the shared partitions
    u64 page_state_bytes = 0;   // their PageInfo arrays (as carved at boot)
    u64 table_bytes = 0;        // their partition-scoped radix tables (the memory set aside)
    u64 fixed_table_bytes = 0;  // of which the part whatever the size (root, directories): per partition
    u64 frame_table_bytes = 0;  // the pool's FrameInfo array and paging requests (amortised)
    u64 per_partition_bytes = 0;  // a slot's fixed state: Partition, config, table entry, pool and pager,
                                  // and a shared partition's fixed table memory
};

MetadataFigures metadata_figures();
// PV-STAT {"type":"metadata",...} at shutdown.
void print_metadata_stats();

}  // namespace pv
