// Live migration: the shell of a partition that moves in (hv/hv.h).
#include <cstring>

#include "base/format.h"
#include "hv/ams.h"
#include "hv/console.h"
#include "hv/facilities.h"
#include "hv/hv.h"
#include "hv/mig_decode.h"
#include "hv/paging_space.h"

namespace pv {

// A partition that migrates in: the shell the stream fills (docs/migration.md,
// "Moving a partition"). Its config entry is made here, as the boot makes
// them from the file, so that everything that reads the config (paging
// regions, PV-STAT, a later move away) sees it. Runs on one thread (the
// migration control); other threads see it once partition_count says so.
Partition* create_incoming_partition(const MigStagedStart& s, const char* from, char* why, u32 why_len) {
    Hypervisor& h = hv();
    u32 slot = h.partition_count;
    if (slot >= kMaxPartitions) {
        format(why, why_len, "no free partition slot (%u in use)", slot);
        return nullptr;
    }
    if (s.mem_mode != MemMode::Shared || !ams_enabled()) {
        format(why, why_len, "only shared-memory partitions move in, into the shared pool");
        return nullptr;
    }
    if (find_partition(s.name)) {
        format(why, why_len, "a partition named %s exists here", s.name);
        return nullptr;
    }
    u32 lpid = 1;
    for (bool used = true; used && lpid <= kMaxLpid;) {
        used = false;
        for (u32 i = 0; i < slot; ++i)
            if (h.partitions[i].lpid.value == lpid) used = true, ++lpid;
    }
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
    init_partition(p, pc);
    for (u32 i = 0; i < p.vcpu_count; ++i) p.vcpus[i].state = VcpuState::Stopped;  // until the stream's run states
    format(p.migrated_from, sizeof p.migrated_from, "%s", from);
    if (!ams_create_partition(p, pc, slot)) {
        format(why, why_len, "no memory for its page state, or the pool cannot guarantee its entitlement");
        return nullptr;
    }
    PartitionTableEntry& e = h.partition_table[p.lpid.value];
    e.dw0.set(p.radix.partition_table_dw0());
    e.dw1.set(make_prte_dw1_guest_radix(HostReal{0}, 0));
    h.config.partition_count = slot + 1;
    __atomic_add_fetch(&h.live_partitions, 1, __ATOMIC_ACQ_REL);
    __atomic_store_n(&h.partition_count, slot + 1, __ATOMIC_RELEASE);
    log("partition %s: lpid %u, %u vCPU%s, %lu MiB shared (weight %u, paging %s at %lu MiB): migrating in from %s",
        p.name, p.lpid.value, p.vcpu_count, p.vcpu_count == 1 ? "" : "s", p.mem_bytes >> 20, pc.mem_weight,
        pc.paging_device, pc.paging_offset >> 20, from);
    return &p;
}

}  // namespace pv
