// The source's migration: MigSource pumped into mover slots, the suspend,
// the end of the partition here once the target runs it.
#include "hv/mig_send.h"

#include <cstring>
#include <new>

#include "arch/arch.h"
#include "base/format.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/mig_source.h"
#include "hv/suspend.h"

namespace pv {
namespace {

constexpr u64 kMaxLogicalPages = (u64{4} << 30) / kPageSize;  // desired_mem <= 4G
constexpr u32 kPumpsPerPoll = 16;
// The partition stays suspended at most this long before Go: a PSP read that
// never comes back, or a target that stops taking records or never says
// Ready, must not freeze it.
constexpr u64 kMaxSuspendMs = 30000;

struct Send {
    MigSendState state = MigSendState::Idle;
    Partition* part = nullptr;
    char target[16]{};
    char why[96]{};
    bool suspend_done = false;  // MigSource::suspended called
    u64 begin_tb = 0, suspend_tb = 0;
    // Our slots with a PSP read in flight, and the page each is for.
    bool reading[mover::kMaxSlots]{};
    LogicalPage read_lp[mover::kMaxSlots]{};
};
constinit Send g_send;
alignas(MigSource) u8 g_source_mem[sizeof(MigSource)];
MigSource* g_source = nullptr;
u8 g_page_states[kMaxLogicalPages];

MoverLink& link_mover() { return hv().ams.link.mover(); }

bool io_send(void*, const u8* rec, u32 len) {
    Guard g(hv().ams.pager.lock());
    MoverLink& m = link_mover();
    auto s = m.fill_slot(rec, len);
    if (!s) return false;
    if (m.send(*s, static_cast<u16>(len))) return true;
    m.free_slot(*s);
    return false;
}

// Straight from the paging device into a slot: never a page-in here.
bool io_read(void*, LogicalPage lp, u64 block) {
    Guard g(hv().ams.pager.lock());
    MoverLink& m = link_mover();
    auto s = m.alloc_slot();
    if (!s) return false;
    if (!m.read(*s, block, mover::kPageBlocks)) {
        m.free_slot(*s);
        return false;
    }
    g_send.reading[*s] = true;
    g_send.read_lp[*s] = lp;
    return true;
}

void fail(const char* what, const char* detail) {
    format(g_send.why, sizeof g_send.why, "%s%s", what, detail);
    g_send.state = MigSendState::Failed;
}

}  // namespace

bool mig_send_begin(Partition& p, const char* target, u64 now_tb) {
    Send& s = g_send;
    if (mig_send_under_way(s.state) || s.state == MigSendState::InDoubt) {
        format(s.why, sizeof s.why, "a migration of %s is %s", s.part ? s.part->name : "?",
               s.state == MigSendState::InDoubt ? "in doubt (migrlpar -o r)" : "under way");
        return false;
    }
    u64 pages = p.mem_bytes / kPageSize;
    u32 slot = static_cast<u32>(&p - hv().partitions);
    if (pages > kMaxLogicalPages || slot >= hv().partition_count) {
        format(s.why, sizeof s.why, "%s is too large to move", p.name);
        return false;
    }
    s = Send{};
    if (!g_source) g_source = new (g_source_mem) MigSource();
    MigSourceIo io;
    io.send = io_send;
    io.read_block = io_read;
    Err e = g_source->begin(p, hv().config.partitions[slot], hv().ams.pager, std::span<u8>(g_page_states, pages),
                            MigPolicy{}, io);
    if (e != Err::Ok) {
        format(s.why, sizeof s.why, "the pre-copy engine refused %s (error %u)", p.name, static_cast<unsigned>(e));
        s.state = MigSendState::Failed;
        return false;
    }
    s.part = &p;
    format(s.target, sizeof s.target, "%s", target);
    s.state = MigSendState::Precopy;
    s.begin_tb = now_tb;
    log("migration: %s to %s: pre-copy started (%lu logical pages)", p.name, target, pages);
    return true;
}

MigSendState mig_send_poll(u64 now_tb) {
    Send& s = g_send;
    u64 max_suspend_tb = kMaxSuspendMs * (arch::timebase_hz() / 1000);
    if (s.state == MigSendState::Sent && now_tb - s.suspend_tb > max_suspend_tb) {
        // Everything went out but the target never said Ready: before Go it
        // is ours to resume (the control aborts the session: the target drops it).
        g_source->abort();
        resume_partition(*s.part);
        fail("the target was not ready 30 s after the suspend", "");
        return s.state;
    }
    if (s.state != MigSendState::Precopy && s.state != MigSendState::Suspended) return s.state;
    if (!s.part->is_running()) {  // it ended by itself (or was stopped) meanwhile
        g_source->abort();
        fail("the partition ended before the switch-over", "");
        return s.state;
    }
    if (s.state == MigSendState::Suspended && now_tb - s.suspend_tb > max_suspend_tb) {
        g_source->abort();
        resume_partition(*s.part);
        fail("the final records were not out 30 s after the suspend", "");
        return s.state;
    }
    if (s.state == MigSendState::Suspended && !s.suspend_done) {
        if (!partition_quiesced(*s.part)) return s.state;  // its vCPUs are still leaving their threads
        s.suspend_done = true;
        // The partition's timebase, and the wall clock the target advances it by.
        g_source->suspended(now_tb, arch::timebase() + s.part->tb_offset, arch::wall_clock_ns());
    }
    for (u32 i = 0; i < kPumpsPerPoll; ++i) {
        MigSource::Step st = g_source->pump(now_tb);
        if (st == MigSource::Step::Working) continue;
        if (st == MigSource::Step::SuspendNow && s.state == MigSendState::Precopy) {
            const MigSourceStats& ss = g_source->stats();
            log("migration: %s: suspending after %u rounds (%lu data pages sent)", s.part->name, ss.rounds,
                ss.data_pages);
            suspend_partition(*s.part);
            s.suspend_tb = now_tb;
            s.state = MigSendState::Suspended;
            return s.state;
        }
        if (st == MigSource::Step::Done) {
            s.state = MigSendState::Sent;
            const MigSourceStats& ss = g_source->stats();
            log("migration: %s: everything sent (%lu records, %lu KiB, %u rounds); waiting for %s to run it",
                s.part->name, ss.records, ss.bytes >> 10, ss.rounds, s.target);
            return s.state;
        }
        if (st == MigSource::Step::Failed) {
            bool was_suspended = s.state == MigSendState::Suspended;
            fail("the pre-copy failed: ", mig_source_fail_name(g_source->failure()));
            if (was_suspended) resume_partition(*s.part);
            return s.state;
        }
        break;  // SuspendNow again while suspended: records are still due
    }
    return s.state;
}

bool mig_send_io_done(u16 slot, u16 status) {
    Send& s = g_send;
    if (slot >= mover::kMaxSlots || !s.reading[slot]) return false;
    s.reading[slot] = false;
    const u8* data = status == 0 ? link_mover().slot(slot) : nullptr;  // ours until freed
    if (g_source && g_source->active()) g_source->read_done(s.read_lp[slot], data);
    Guard g(hv().ams.pager.lock());
    link_mover().free_slot(slot);
    return true;
}

void mig_send_committed() {
    Send& s = g_send;
    if (s.state != MigSendState::Sent) return;
    s.state = MigSendState::Committed;
    log("migration: %s: %s holds it ready; go sent (from now on only %s may resume it)", s.part->name, s.target,
        s.target);
}

void mig_send_confirmed() {
    Send& s = g_send;
    if (s.state != MigSendState::Committed) return;
    Partition& p = *s.part;
    u64 hz = arch::timebase_hz();
    u64 now = arch::timebase();
    const MigSourceStats& ss = g_source->stats();
    log("migration: %s runs on %s: ending it here (pre-copy %lu ms, suspended %lu ms, %u rounds, %lu data pages, "
        "%lu KiB sent for %lu KiB of logical memory, %lu source page-ins)",
        p.name, s.target, (s.suspend_tb - s.begin_tb) * 1000 / hz, (now - s.suspend_tb) * 1000 / hz, ss.rounds,
        ss.data_pages, ss.bytes >> 10, p.mem_bytes >> 10, ss.source_page_ins);
    format(p.migrated_to, sizeof p.migrated_to, "%s", s.target);
    p.gone = true;  // its slot is reclaimed once it has wound down (a move back may want it)
    g_source->abort();  // tracking ends; the pages it tracked go with the partition
    resume_partition(p);  // its vCPUs leave the park to stop
    stop_partition(p, PartitionState::Stopped, "migrated to %s", s.target);
    s.state = MigSendState::Done;
}

void mig_send_session_lost(const char* why) {
    Send& s = g_send;
    if (s.state == MigSendState::Committed) {
        // The target may have taken the go and resumed it, or not: resuming
        // here could run it twice, ending it could lose it. It stays suspended.
        s.state = MigSendState::InDoubt;
        format(s.why, sizeof s.why, "%s", why);
        log("migration: %s: %s after the go: it stays suspended here, intact; if %s does not run it, "
            "migrlpar -o r -p %s resumes it here",
            s.part->name, why, s.target, s.part->name);
        return;
    }
    if (!mig_send_under_way(s.state)) return;
    bool suspended = s.state != MigSendState::Precopy;
    if (g_source) g_source->abort();
    if (suspended) resume_partition(*s.part);
    fail(why, "");
    log("migration: %s: %s; it %s here", s.part->name, why, suspended ? "is resumed and runs on" : "runs on");
}

bool mig_send_recover(const char* name) {
    Send& s = g_send;
    if (s.state != MigSendState::InDoubt || std::strcmp(s.part->name, name) != 0) {
        format(s.why, sizeof s.why, "%s is not in doubt (only a partition whose session ended after the go is)", name);
        return false;
    }
    if (g_source) g_source->abort();
    resume_partition(*s.part);
    log("migration: %s: recovered: it resumes here (the migration to %s is abandoned)", name, s.target);
    fail("recovered here by migrlpar -o r", "");
    return true;
}

MigSendState mig_send_state() { return g_send.state; }
const char* mig_send_why() { return g_send.why; }
const Partition* mig_send_partition() { return g_send.part; }

}  // namespace pv
