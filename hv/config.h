// The partition configuration (poolvisor.cfg in the partition bundle): an
// INI-like text naming the partitions to start in HMC terms. See docs/config.md.
#pragma once
#include <cstddef>
#include <string_view>

#include "base/limits.h"
#include "base/types.h"

namespace pv {

inline constexpr u64 kDefaultHdecSliceUs = 10'000;

// Active Memory Sharing defaults ([shared_pool] and per-partition keys).
inline constexpr u32 kDefaultPoolMemWeight = 128;
inline constexpr u32 kDefaultPoolPagingRequests = 32;
// As many as the paging protocol can have in flight (Pager::kMaxRequests, a 64 KiB CRQ's entries).
inline constexpr u32 kMaxPoolPagingRequests = 4096;
inline constexpr u32 kDefaultPoolFaultThreshold = 2;  // = kDefaultFaultThreshold (mm/fault.h)
inline constexpr u32 kMaxPoolOvercommit = 16;          // shared logical memory <= 16 x pool_mem

enum class MemMode : u8 { Dedicated, Shared };

struct PartitionConfig {
    char name[16];  // 1..15 chars of [a-z0-9_-]
    Lpid lpid;      // 1..kMaxLpid, unique (assigned if the config gave none)
    u32 vcpus;      // 1..kMaxConfigVcpus
    u64 mem_bytes;  // multiple of 1 MiB, 16 MiB..4 GiB
    MemMode mem_mode;
    char image[32];      // bundle entry name: a raw image or an ELF64 executable
    char initrd[32];     // bundle entry placed above the image and named in /chosen; "" if none
    char bootargs[256];  // "" if none
    u64 watchdog_us;     // 0: off
    u64 hfscr;           // the facilities it is given: kGuestHfscr less deny_facilities (hv/facilities.h)
    u32 line;            // line of the [partition NAME] header
    u32 mem_mode_line;   // line of its mem_mode key (0: none), for the whole-file pool checks
    // Active Memory Sharing (meaningful for mem_mode = shared only):
    u32 mem_weight;          // 0..255, default 128
    u64 io_entitled_bytes;   // multiple of 1 MiB, <= mem_bytes; default 0
    char paging_device[16];  // 1..15 chars of [a-z0-9] when shared; "" for dedicated
    u64 paging_offset;       // byte offset of the paging region (mem_bytes long), multiple of 4 KiB
    u32 paging_device_line;  // lines of those keys, for errors found at boot (0 for dedicated);
    u32 paging_offset_line;  // without a paging_offset key, the paging_device line
    // The NIC it owns (docs/network-link.md): 1..15 chars of [a-z0-9], "" if none.
    char network_device[16];
    u32 network_device_line;
    // Not from the file: its partition migrated away and its slot was
    // reclaimed, so its paging region and LPID are free (hv/incoming_partition.cpp).
    bool reclaimed;
};

struct SystemConfig {
    u64 hdec_slice_us;
    u32 partition_count;
    PartitionConfig partitions[kMaxPartitions];  // in file order
    // [shared_pool]; when !present, pool_bytes is 0, paging_vios "" and line 0
    // (paging_requests and fault_threshold still hold their defaults).
    struct PoolConfig {
        bool present;
        u64 pool_bytes;        // multiple of 1 MiB, 4 MiB..32 GiB
        char paging_vios[16];  // name of a dedicated-memory partition of this config
        u32 paging_requests;   // 2..kMaxPoolPagingRequests, default 32
        u32 fault_threshold;   // 1..64, default 2
        u32 line;              // line of the [shared_pool] header
    } pool;
    // [migration] (docs/migration.md, "Configuration"): this system's name,
    // its one peer and the pair's shared key. Needs a [shared_pool] whose
    // paging_vios owns a network_device (the PSP is the mover). When
    // !present everything is zero and no partition can move in or out.
    struct MigrationConfig {
        bool present;
        char system[16];    // this system's name (as migrlpar -t names it), [a-z0-9_-]{1,15}
        char peer[16];      // the peer system's name, different from system
        u8 peer_mac[6];     // the peer NIC's MAC (its link-local IPv4 is derived from it)
        char key_file[32];  // bundle entry holding the pair's key: 64 hex digits (docs/migration.md)
        u32 line;           // line of the [migration] header
        u32 key_file_line;
    } migration;
};

struct ConfigError {
    u32 line;  // 1-based; 0 = the whole file
    char field[24];
    char message[256];
};

// Returns true on success. On failure `out` is unspecified and `err` says
// where and why (the first error only).
[[nodiscard]] bool parse_config(std::string_view text, SystemConfig& out, ConfigError& err);

// "config:7: desired_mem: '64X' is not a size ..." (always NUL-terminated when n > 0).
void format_config_error(const ConfigError& err, char* buf, size_t n);

// At boot, once the paging device is attached (its size is known only then):
// every shared partition must page to `device`, and its paging region
// [paging_offset, paging_offset + desired_mem) must end within the device's
// blocks * block_bytes. Overlaps between regions were checked by parse_config.
// Returns true if all fit; otherwise `err` names the first partition that does not.
[[nodiscard]] bool check_paging_device(const SystemConfig& cfg, std::string_view device, u64 blocks, u32 block_bytes,
                                       ConfigError& err);

}  // namespace pv
