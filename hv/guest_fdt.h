// The flattened device tree a partition is entered with (r3), built with
// libfdt's sequential-write API. It describes a PAPR (pSeries) partition the
// way QEMU's spapr machine does, closely enough for an unmodified Linux
// pseries kernel entered kexec-style (no Open Firmware, no CAS): the radix
// MMU is announced in /chosen/ibm,architecture-vec-5 and ibm,pa-features.
// docs/partition-entry.md lists every node and property.
#pragma once
#include <span>

#include "base/result.h"

namespace pv {

struct RtasToken {
    const char* name;  // RTAS function name, e.g. "start-cpu"
    u32 token;
};

inline constexpr u32 kGuestFdtMaxVcpus = 8;     // == kMaxVcpusPerPartition
inline constexpr u32 kGuestFdtMaxReserves = 4;
inline constexpr u32 kXicpPhandle = 0x1111;  // /interrupt-controller (as QEMU's PHANDLE_INTC)

struct GuestFdtParams {
    const char* partition_name;  // root ibm,partition-name
    Lpid lpid;                   // root ibm,partition-no
    u32 vcpus;                   // 1..kGuestFdtMaxVcpus, numbered 0..vcpus-1
    u64 mem_bytes;               // logical memory [0, mem_bytes), page multiple
    const char* bootargs;        // may be nullptr (empty command line)
    u64 initrd_start;            // logical [initrd_start, initrd_end) in /chosen; both 0: no initrd
    u64 initrd_end;
    u64 rtas_base;               // logical; must fit in 32 bits
    u32 rtas_size;
    u64 rtas_entry;              // inside [rtas_base, rtas_base + rtas_size)
    std::span<const RtasToken> rtas_tokens;
    u32 vty_reg;                 // unit address of the hvterm (0x30000000)
    u64 timebase_hz;             // must fit in 32 bits (512000000)
    u64 reserve_base[kGuestFdtMaxReserves];  // memory reserve map entries
    u64 reserve_size[kGuestFdtMaxReserves];
    u32 reserve_count;
    u32 boot_count;              // /chosen poolvisor,boot-count: restarts so far (system-reboot)
};

// Writes the tree into buf (8-byte aligned). Err::NoMemory if it does not fit,
// Err::Invalid for bad parameters.
[[nodiscard]] Err build_guest_fdt(const GuestFdtParams& p, void* buf, u32 buf_size);

}  // namespace pv
