// What the machine's device tree (from skiboot) tells us: memory, reserved
// ranges, hardware threads, and where the partition bundle (initrd) is.
#pragma once
#include "hv/cpu.h"
#include "mm/frame_alloc.h"

namespace pv {

// skiboot's usual heartbeat, for a tree that does not say.
inline constexpr u32 kDefaultHeartbeatMs = 2000;

struct MachineInfo {
    static constexpr u32 kMaxMem = 8, kMaxReserved = 32;
    u32 thread_count = 0;
    Pir threads[kMaxThreads]{};
    u32 mem_count = 0;
    MemRange mem[kMaxMem]{};
    u32 reserved_count = 0;
    MemRange reserved[kMaxReserved]{};
    u64 initrd_start = 0, initrd_end = 0;
    u64 timebase_hz = 0;
    u32 heartbeat_ms = 0;  // /ibm,opal ibm,heartbeat-ms: how often the OS must call OPAL_POLL_EVENTS
    char model[48]{};
};

// Returns false with a reason in err when the tree is unusable.
[[nodiscard]] bool scan_machine_fdt(const void* fdt, MachineInfo& out, char* err, u32 errlen);

}  // namespace pv
