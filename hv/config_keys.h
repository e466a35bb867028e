// Internal to the configuration parser (hv/config*.cpp): the sections and the
// keys each one accepts (docs/config.md).
#pragma once
#include "hv/config_lex.h"

namespace pv::config_detail {

enum class Section : u8 { None, System, Partition, SharedPool, Migration };

// Indexes into kKeys.
enum Key : u8 {
    kHdecSlice,
    kLparId,
    kDesiredProcs,
    kDesiredMem,
    kMemMode,
    kImage,
    kBootargs,
    kInitrd,
    kNetworkDevice,
    kWatchdog,
    kMemWeight,
    kIoEntitledMem,
    kPagingDevice,
    kPagingOffset,
    kDenyFacilities,
    kPoolMem,
    kPagingVios,
    kPagingRequests,
    kFaultThreshold,
    kMigSystem,
    kMigPeer,
    kMigPeerMac,
    kMigKeyFile,
    kKeyCount
};

struct KeyInfo {
    sv name;
    Section section;
    bool required;
};

inline constexpr KeyInfo kKeys[kKeyCount] = {
    {"hdec_slice", Section::System, false},
    {"lpar_id", Section::Partition, false},
    {"desired_procs", Section::Partition, true},
    {"desired_mem", Section::Partition, true},
    {"mem_mode", Section::Partition, true},
    {"image", Section::Partition, true},
    {"bootargs", Section::Partition, false},
    {"initrd", Section::Partition, false},
    {"network_device", Section::Partition, false},  // at most one owner, dedicated memory (check_network)
    {"watchdog", Section::Partition, false},
    {"mem_weight", Section::Partition, false},
    {"io_entitled_mem", Section::Partition, false},
    {"paging_device", Section::Partition, false},  // required when mem_mode = shared (close_partition)
    {"paging_offset", Section::Partition, false},
    {"deny_facilities", Section::Partition, false},
    {"pool_mem", Section::SharedPool, true},
    {"paging_vios", Section::SharedPool, true},
    {"paging_requests", Section::SharedPool, false},
    {"fault_threshold", Section::SharedPool, false},
    {"system", Section::Migration, true},
    {"peer", Section::Migration, true},  // differs from system (close_section)
    {"peer_mac", Section::Migration, true},
    {"key_file", Section::Migration, true},  // in the bundle: checked at boot (hv/mig_key.cpp)
};

// For "unknown key" messages.
inline constexpr sv kSystemKeys = "hdec_slice";
inline constexpr sv kPartitionKeys =
    "lpar_id, desired_procs, desired_mem, mem_mode, image, bootargs, initrd, watchdog, mem_weight, "
    "io_entitled_mem, paging_device, paging_offset, deny_facilities, network_device";
inline constexpr sv kPoolKeys = "pool_mem, paging_vios, paging_requests, fault_threshold";
inline constexpr sv kMigrationKeys = "system, peer, peer_mac, key_file";

}  // namespace pv::config_detail
