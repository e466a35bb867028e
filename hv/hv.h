// The hypervisor's global state and the entry points the architecture layer
// calls: boot-time start, the per-thread scheduler, and partition exits.
#pragma once
#include "hv/ams.h"
#include "hv/config.h"
#include "hv/exit.h"
#include "hv/machine.h"
#include "hv/paging_error_log.h"
#include "hv/partition.h"
#include "hv/ppc_defs.h"
#include "hv/sched.h"
#include "mm/frame_alloc.h"
#include "mm/radix.h"

namespace pv {

struct Hypervisor {
    MachineInfo machine;
    FrameAllocator frames;
    SystemConfig config;
    u32 partition_count = 0;
    Partition partitions[kMaxPartitions];
    PartitionTableEntry* partition_table = nullptr;  // indexed by LPID
    HostReal partition_table_base{};
    u64 ptcr = 0;
    RunQueue runq;
    u64 slice_tb = 0;
    u32 thread_count = 0;
    PhysCpu* threads[kMaxThreads]{};
    u32 live_partitions = 0;  // atomically decremented as partitions finish
    u32 restarts_pending = 0;  // shared partitions queued for restart_shared_partitions
    volatile bool all_done = false;
    SpinLock finish_lock{LockRank::Finish};
    PagingErrorLog paging_errors;  // failed page-ins of shared partitions
    Ams ams;                       // Active Memory Sharing: the pager and the PSP link (hv/ams.h)
};

Hypervisor& hv();
// What a partition takes from its config entry before its memory is set up
// (name, LPID, mode, vCPUs, watchdog, LPCR, HFSCR): the boot's and a
// migration's incoming partition alike.
void init_partition(Partition& p, const PartitionConfig& pc);
// The partition of that name here, or nullptr (one that is gone elsewhere
// is not found: a partition of its name may move in).
Partition* find_partition(const char* name);
// Live migration: the shell of a partition moving in from system `from`
// (hv/mig_receive.cpp), in a free slot (a reclaimed one, the one its name
// had first, else the next) with a free LPID and the largest free paging
// region; its vCPUs stopped. nullptr and why when it cannot be.
struct MigStagedStart;
Partition* create_incoming_partition(const MigStagedStart& s, const char* from, char* why, u32 why_len);
// The slots a partition could move into now, and the LPIDs free for it:
// slots of gone partitions that have wound down are reclaimed first (their
// pool slot, entitlement, LPID and paging region given back).
struct IncomingRoom {
    u32 slots = 0, lpids = 0;
};
IncomingRoom incoming_room();

// Boot: parse the bundle's config and create every partition, or print why
// not (nothing starts then). Returns false if no partition could start.
[[nodiscard]] bool start_partitions(const u8* bundle, u64 bundle_size);
// Make every partition's boot vCPU runnable (after all threads are up).
void launch_partitions();
// RTAS system-reboot of a partition whose vCPUs are all stopped and off
// their threads: its memory is cleared, image, initrd, RTAS and device tree
// are loaded again, every vCPU and the partition's MMU, LPCR and FWNMI state
// start afresh, and vCPU 0 is made runnable at the entry. A dedicated
// partition restarts here; a shared one is only queued (true) and
// restart_shared_partitions restarts it. False (and a log line) if it cannot
// be loaded again, or for the paging service partition: it stays stopped.
// Caller holds p.lock.
[[nodiscard]] bool restart_partition(Partition& p);
// From the scheduler loop (no lock held): the shared partitions queued by
// restart_partition restart once their paging I/O has completed (docs/hcalls.md).
void restart_shared_partitions();

// Pick the next vCPU for this thread; idles until one is runnable. Never
// returns when every partition has ended (prints PV-STAT, powers off).
Vcpu& schedule(PhysCpu& cpu);

// A partition left to the hypervisor on this thread, for the reason the arch
// layer decoded into e: handle it and return what this thread runs next (the
// same vCPU or another). Host events resume v (hv/host_event.h).
Vcpu& handle_exit(PhysCpu& cpu, Vcpu& v, const Exit& e);

// Stop a partition: Killed with a reason (misbehaviour) or Stopped (its own request).
void stop_partition(Partition& p, PartitionState how, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

// vCPU state changes that may finish a partition.
void make_runnable(Vcpu& v);
void vcpu_stopped(Vcpu& v);

void print_stats();

}  // namespace pv
