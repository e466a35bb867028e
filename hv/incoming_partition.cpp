// Live migration: the shell of a partition that moves in (hv/hv.h), and the
// slots of partitions that are gone, given back for it.
#include <cstring>
#include <new>

#include "arch/arch.h"
#include "base/format.h"
#include "hv/ams.h"
#include "hv/console.h"
#include "hv/console_input.h"
#include "hv/facilities.h"
#include "hv/hv.h"
#include "hv/mig_decode.h"
#include "hv/paging_space.h"

namespace pv {
namespace {

// A gone partition's slot once it has wound down (ended, every vCPU off its
// thread, its pins and frames released, no paging I/O in flight): out of the
// pool, so its entitlement is free; its LPID out of the partition table and
// flushed from every TLB before another partition gets it; its paging region
// free. Runs on the migration control's thread only, as every user of
// `reclaimed` does. False while it is still winding down.
bool reclaim(Partition& p) {
    if (!p.gone || p.reclaimed) return p.reclaimed;
    if (!__atomic_load_n(&p.finished, __ATOMIC_ACQUIRE) || __atomic_load_n(&p.pins_released, __ATOMIC_ACQUIRE) != 2)
        return false;
    Hypervisor& h = hv();
    if (p.mem_mode == MemMode::Shared && h.ams.pager.remove_partition(p) != Err::Ok) return false;
    PartitionTableEntry& e = h.partition_table[p.lpid.value];
    e.dw0.set(0);
    e.dw1.set(0);
    arch::tlb_flush_partition(p.lpid);
    h.paging_errors.forget_slot(p.slot);
    console_input().forget(p);
    h.config.partitions[p.slot].reclaimed = true;
    p.reclaimed = true;
    log("partition %s: its slot %u, lpid %u and paging region are free again (it %s)", p.name, p.slot,
        p.lpid.value, p.migrated_to[0] ? "migrated away" : "never ran here");
    return true;
}

void reclaim_all() {
    Hypervisor& h = hv();
    for (u32 i = 0; i < h.partition_count; ++i) (void)reclaim(h.partitions[i]);
}

bool lpid_in_use(u32 lpid) {
    Hypervisor& h = hv();
    for (u32 i = 0; i < h.partition_count; ++i)
        if (!h.partitions[i].reclaimed && h.partitions[i].lpid.value == lpid) return true;
    return false;
}

// A reclaimed slot, the one that had this name first (the partition coming
// back), else the next never-used one; kMaxPartitions when none is free.
u32 free_slot(const char* name) {
    Hypervisor& h = hv();
    u32 any = kMaxPartitions;
    for (u32 i = 0; i < h.partition_count; ++i) {
        if (!h.partitions[i].reclaimed) continue;
        if (std::strcmp(h.partitions[i].name, name) == 0) return i;
        if (any == kMaxPartitions) any = i;
    }
    if (any == kMaxPartitions && h.partition_count < kMaxPartitions) any = h.partition_count;
    return any;
}

// A reclaimed slot starts afresh but keeps the memory its page state and
// tables had (hv/ams.cpp reuses it when it is large enough). Nothing on any
// thread refers to the old partition any more (reclaim's conditions).
void renew(Partition& p) {
    BumpChunk info = p.info_mem, tables = p.table_mem;
    new (&p) Partition();
    p.info_mem = info;
    p.table_mem = tables;
}

}  // namespace

IncomingRoom incoming_room() {
    reclaim_all();
    Hypervisor& h = hv();
    IncomingRoom r;
    u32 live = 0;
    for (u32 i = 0; i < h.partition_count; ++i)
        if (h.partitions[i].reclaimed) ++r.slots;
        else ++live;
    r.slots += kMaxPartitions - h.partition_count;
    r.lpids = kMaxLpid - live;  // LPIDs 1..kMaxLpid, one per partition here
    return r;
}

// A partition that migrates in: the shell the stream fills (docs/migration.md,
// "Moving a partition"). Its config entry is made here, as the boot makes
// them from the file, so that everything that reads the config (paging
// regions, PV-STAT, a later move away) sees it. Runs on one thread (the
// migration control); other threads see a new slot once partition_count
// says so.
Partition* create_incoming_partition(const MigStagedStart& s, const char* from, char* why, u32 why_len) {
    Hypervisor& h = hv();
    if (s.mem_mode != MemMode::Shared || !ams_enabled()) {
        format(why, why_len, "only shared-memory partitions move in, into the shared pool");
        return nullptr;
    }
    if (find_partition(s.name)) {
        format(why, why_len, "a partition named %s exists here", s.name);
        return nullptr;
    }
    reclaim_all();
    u32 slot = free_slot(s.name);
    if (slot >= kMaxPartitions) {
        format(why, why_len, "no free partition slot (%u in use)", h.partition_count);
        return nullptr;
    }
    u32 lpid = 1;
    while (lpid <= kMaxLpid && lpid_in_use(lpid)) ++lpid;
    if (lpid > kMaxLpid) {
        format(why, why_len, "no free LPID");
        return nullptr;
    }
    const arch::PagingDevice& dev = h.ams.link.device();
    u64 offset = 0;
    u64 room = largest_free_paging_region(h.config, dev.blocks * dev.block_bytes, &offset);
    if (room < s.mem_bytes) {
        format(why, why_len, "%lu MiB of free paging space, %lu MiB needed", room >> 20, s.mem_bytes >> 20);
        return nullptr;
    }
    bool reused = slot < h.partition_count;
    PartitionConfig& pc = h.config.partitions[slot];
    pc = PartitionConfig{};
    format(pc.name, sizeof pc.name, "%s", s.name);
    pc.lpid = Lpid{lpid};
    pc.vcpus = s.vcpu_count;
    pc.mem_bytes = s.mem_bytes;
    pc.mem_mode = MemMode::Shared;
    format(pc.bootargs, sizeof pc.bootargs, "%s", s.bootargs);
    pc.watchdog_us = s.watchdog_us;
    pc.hfscr = kGuestHfscr;
    pc.mem_weight = s.mem_weight;
    pc.io_entitled_bytes = s.io_entitled_bytes;
    format(pc.paging_device, sizeof pc.paging_device, "%s", dev.name);
    pc.paging_offset = offset;

    Partition& p = h.partitions[slot];
    if (reused) renew(p);
    init_partition(p, pc);
    for (u32 i = 0; i < p.vcpu_count; ++i) p.vcpus[i].state = VcpuState::Stopped;  // until the stream's run states
    p.suspended = true;  // and then held back until the source's go (hv/mig_receive.cpp)
    format(p.migrated_from, sizeof p.migrated_from, "%s", from);
    if (!ams_create_partition(p, pc, slot)) {
        format(why, why_len, "no memory for its page state, or the pool cannot guarantee its entitlement");
        // Nothing of it is in the pool: the slot stays free for the next one
        // (a reused one says so in PV-STAT; a new one is not counted yet).
        renew(p);
        if (reused) {
            format(p.name, sizeof p.name, "%s", s.name);
            format(p.reason, sizeof p.reason, "its migration in from %s failed: %s", from, why);
            p.state = PartitionState::Stopped;
            p.finished = p.gone = p.reclaimed = pc.reclaimed = true;
            p.pins_released = 2;  // nothing to release
        }
        return nullptr;
    }
    PartitionTableEntry& e = h.partition_table[p.lpid.value];
    e.dw0.set(p.radix.partition_table_dw0());
    e.dw1.set(make_prte_dw1_guest_radix(HostReal{0}, 0));
    __atomic_add_fetch(&h.live_partitions, 1, __ATOMIC_ACQ_REL);
    if (!reused) {
        h.config.partition_count = slot + 1;
        __atomic_store_n(&h.partition_count, slot + 1, __ATOMIC_RELEASE);
    }
    log("partition %s: lpid %u, %u vCPU%s, %lu MiB shared (weight %u, paging %s at %lu MiB): migrating in from %s%s",
        p.name, p.lpid.value, p.vcpu_count, p.vcpu_count == 1 ? "" : "s", p.mem_bytes >> 20, pc.mem_weight,
        pc.paging_device, pc.paging_offset >> 20, from, reused ? " (a reclaimed slot)" : "");
    return &p;
}

}  // namespace pv
