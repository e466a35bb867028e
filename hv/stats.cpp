// PV-STAT: one JSON line per partition at shutdown; tools and tests parse them.
#include "hv/ams.h"
#include "hv/console.h"
#include "base/format.h"
#include "hv/hv.h"
#include "hv/metadata.h"
#include "arch/arch.h"

namespace pv {
namespace {

const char* state_name(PartitionState s) {
    switch (s) {
    case PartitionState::Running: return "running";
    case PartitionState::Stopped: return "stopped";
    case PartitionState::Killed: return "killed";
    }
    return "?";
}

// JSON string body: quotes and backslashes escaped, control characters dropped.
void json_escape(const char* in, char* out, u32 n) {
    u32 o = 0;
    for (; *in && o + 2 < n; ++in) {
        char c = *in;
        if (c == '"' || c == '\\') out[o++] = '\\';
        if (static_cast<unsigned char>(c) >= 0x20) out[o++] = c;
    }
    out[o] = '\0';
}

u64 tb_to_us(u64 tb) { return tb * 1'000'000 / arch::timebase_hz(); }

// The worst run-queue wait of the run (hv/sched.h): the starvation bound
// the scale test checks (docs/scheduler.md).
void print_sched_stats() {
    Hypervisor& h = hv();
    RunQueue::Wait w = h.runq.worst_wait();
    u32 runnable_max = 0;
    for (u32 i = 0; i < h.partition_count; ++i) runnable_max += h.partitions[i].vcpu_count;
    const char* who = w.vcpu && w.vcpu->part ? w.vcpu->part->name : "-";
    u64 stops = 0, empty = 0;
    for (u32 i = 0; i < h.thread_count; ++i) stops += h.threads[i]->idle_stops, empty += h.threads[i]->idle_empty_wakes;
    log("scheduler: worst run-queue wait %lu us (%s vCPU %u) over %lu dispatches; %u vCPUs on %u threads, "
        "slice %lu us",
        tb_to_us(w.tb), who, w.vcpu ? w.vcpu->id.value : 0, w.dispatches, runnable_max, h.thread_count,
        tb_to_us(h.slice_tb));
    log_raw("PV-STAT {\"type\":\"scheduler\",\"worst_wait_us\":%lu,\"dispatches\":%lu,\"vcpus\":%u,"
            "\"threads\":%u,\"slice_us\":%lu,\"idle_stops\":%lu,\"idle_empty_wakes\":%lu}",
            tb_to_us(w.tb), w.dispatches, runnable_max, h.thread_count, tb_to_us(h.slice_tb), stops, empty);
}

}  // namespace

void print_stats() {
    Hypervisor& h = hv();
    for (u32 i = 0; i < h.partition_count; ++i) {
        Partition& p = h.partitions[i];
        u64 guest_tb = 0, exits = 0, vpa_cmo_faults = 0, vpa_cmo_fault_time = 0;
        u64 worst_wait = 0;  // its vCPUs' longest run-queue wait (hv/sched.h)
        for (u32 j = 0; j < p.vcpu_count; ++j) {
            guest_tb += p.vcpus[j].stats.guest_tb, exits += p.vcpus[j].stats.exits;
            if (p.vcpus[j].worst_wait_tb > worst_wait) worst_wait = p.vcpus[j].worst_wait_tb;
            vpa_cmo_faults += p.vcpus[j].vpa.cmo_faults_shown;
            vpa_cmo_fault_time += p.vcpus[j].vpa.cmo_fault_time_shown;
        }
        char reason[2 * sizeof p.reason];
        json_escape(p.reason, reason, sizeof reason);
        char paging[256];
        ams_format_partition_stats(p, paging, sizeof paging);
        // A live migration: where it went (it ended here) or where it came from.
        char moved[48] = "";
        if (p.migrated_to[0]) format(moved, sizeof moved, ",\"migrated_to\":\"%s\"", p.migrated_to);
        else if (p.migrated_from[0]) format(moved, sizeof moved, ",\"migrated_from\":\"%s\"", p.migrated_from);
        log_raw("PV-STAT {\"type\":\"partition\",\"name\":\"%s\",\"lpid\":%u,\"vcpus\":%u,\"mem_mode\":\"%s\","
                "\"mem_mib\":%lu,\"hcalls\":%lu,\"hv_exits\":%lu,\"threads_used\":%u,\"guest_tb\":%lu,"
                "\"guest_instructions\":%lu,\"hv_instructions\":%lu,\"instructions_discarded\":%lu,"
                "\"instructions_uncounted\":%lu,"
                "\"vpa_cmo_faults\":%lu,\"vpa_cmo_fault_time\":%lu,\"worst_wait_us\":%lu,\"restarts\":%u,\"state\":\"%s\",\"reason\":\"%s\"%s%s}",
                p.name, p.lpid.value, p.vcpu_count, p.mem_mode == MemMode::Shared ? "shared" : "dedicated",
                p.mem_bytes >> 20, p.stats.hcalls, p.stats.hv_exits,
                static_cast<u32>(__builtin_popcountll(p.stats.threads_used)), guest_tb, p.stats.guest_instructions,
                p.stats.hv_instructions, p.stats.instructions_discarded, p.stats.instructions_uncounted, vpa_cmo_faults,
                vpa_cmo_fault_time,
                tb_to_us(worst_wait), p.restarts,
                p.migrated_to[0] ? "migrated" : state_name(p.state), reason, moved, paging);
    }
    print_sched_stats();
    print_metadata_stats();
    ams_print_stats();
}

}  // namespace pv
