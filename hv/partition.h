// A logical partition: its identity, memory, translation, vCPUs and the
// counters PV-STAT reports.
#pragma once
#include "hv/config.h"
#include "base/spinlock.h"
#include "hv/vcpu.h"
#include "mm/radix.h"

namespace pv {

inline constexpr u32 kMaxVcpusPerPartition = kMaxConfigVcpus;

enum class PartitionState : u8 {
    Running,
    Stopped,  // ended by its own request (RTAS power-off)
    Killed,   // stopped by the hypervisor for misbehaving
};

struct PartitionStats {
    u64 hcalls = 0;
    u64 hv_exits = 0;
    u64 threads_used = 0;  // bitmask of hardware thread indexes that ran its vCPUs
    // PMC5: instructions its vCPUs ran, and the hypervisor ran for them (hv/instruction_account.h).
    u64 guest_instructions = 0, hv_instructions = 0;
    u64 instructions_discarded = 0;  // intervals too long to be real (not added)
    u64 instructions_uncounted = 0;  // runs its own PMU setting kept PMC5 from counting (hv/instruction_account.cpp)
};

// A range handed out front to back (page-table pages of one partition).
struct BumpChunk {
    u64 next = 0, end = 0;
};
// A TablePool allocator over a BumpChunk (ctx): zeroed, naturally aligned
// page-table pages; HostReal{0} when the chunk is used up.
HostReal bump_table_alloc(void* ctx, u64 bytes);

struct ConsoleLine {
    char text[160];
    u32 len = 0;
};

struct Partition {
    char name[16]{};
    Lpid lpid{};
    MemMode mem_mode = MemMode::Dedicated;
    volatile PartitionState state = PartitionState::Running;
    char reason[128]{};  // why it stopped
    bool finished = false;  // stopped and no vCPU left on a thread (reported once)
    bool restart_requested = false;  // RTAS system-reboot: boot again once every vCPU is off its thread
    // Migration switch-over (hv/suspend.h): no vCPU is dispatched while set.
    volatile bool suspended = false;
    char migrated_to[16]{};    // it moved to this system and ended here (PV-STAT)
    char migrated_from[16]{};  // it came from this system (a migration target)
    // It lives on elsewhere (it migrated away, or it is the shell of a
    // migration in that was abandoned): nothing finds it by name, and once it
    // has finished its slot is reclaimed for a partition that moves in
    // (hv/incoming_partition.cpp). PV-STAT reports it until then.
    bool gone = false;
    bool reclaimed = false;  // its pool slot, LPID and paging region are given back
    u32 restarts = 0;
    // A shared partition's restart (hv/hv.cpp restart_shared_partitions): 0 none,
    // 1 waiting for its paging I/O or pool frames, 2 a thread is at it.
    u8 restart_stage = 0;
    bool restart_unpinned = false;  // its registered areas are unpinned (this restart)
    bool restart_scanned = false;   // Pager::reset_partition ran once (this restart)
    u64 restart_room_tb = 0;        // when it began waiting for pool frames
    u64 restart_dropped = 0;        // paging-device copies its restart dropped (logged)
    u32 vcpu_count = 0;
    Vcpu vcpus[kMaxVcpusPerPartition];
    u64 watchdog_tb = 0;  // 0: off

    // Logical memory [0, mem_bytes) is backed by host-real [mem_base, +mem_bytes).
    HostReal mem_base{};
    u64 mem_bytes = 0;
    RadixTable radix;
    BumpChunk table_chunk{};  // where its page tables come from
    // A shared partition's page-state array and table memory, taken from the
    // boot allocator once per slot: a partition that later moves into the
    // slot uses them again if they are large enough (no allocation is ever
    // given back).
    BumpChunk info_mem{}, table_mem{};

    u32 slot = 0;               // index among the hypervisor's partitions (pool slot)
    u64 paging_block = 0;       // shared: first 512-byte block of its paging region

    u64 lpcr = 0;           // per-partition LPCR (ILE changes with H_SET_MODE)
    // Its timebase is the host's + this (modulo 2^64, a multiple of 2^24 for
    // TBU40): 0 if it booted here, set when it migrates in so that its
    // timebase continues from the source's (hv/mig_timebase.h).
    u64 tb_offset = 0;
    u64 hfscr = kGuestHfscr;  // the facilities its vCPUs get (config deny_facilities, hv/facilities.h)
    u64 process_table = 0;  // partition-table dw1 (H_REGISTER_PROC_TBL)
    u64 prtb_pin_base = 0, prtb_pin_len = 0;  // the process table, pinned for the MMU (hv/vpa.h)
    u8 pins_released = 0;  // after it ended: 1 being unpinned, 2 unpinned (vpa_release_ended_partitions)
    u64 rtas_base = 0, rtas_size = 0;
    // ibm,nmi-register (FWNMI): handler addresses (logical), valid when fwnmi_registered.
    bool fwnmi_registered = false;
    u64 fwnmi_sreset_addr = 0, fwnmi_mc_addr = 0;

    SpinLock lock{LockRank::Partition};  // state, console, vCPU start/stop (the PSP's: PspPartition)
    ConsoleLine console;
    ConsoleLine panel;  // RTAS display-character: the operator panel, not the console
    PartitionStats stats{};

    bool is_running() const { return state == PartitionState::Running; }
    bool logical_range_ok(u64 addr, u64 len) const {
        return addr < mem_bytes && len <= mem_bytes - addr;
    }
    // Host pointer to partition memory; callers check logical_range_ok first.
    // Only for memory known to be contiguous and resident (loading at boot).
    void* logical_ptr(u64 addr) const;
    // Copies through the partition-scoped tables, page by page: false when a
    // byte is outside the partition or not resident (nothing partial is
    // promised for the destination then).
    [[nodiscard]] bool copy_from(u64 addr, void* dst, u64 len) const;
    [[nodiscard]] bool copy_to(u64 addr, const void* src, u64 len) const;
    Vcpu* vcpu_by_id(u64 id) { return id < vcpu_count ? &vcpus[id] : nullptr; }
};

}  // namespace pv
