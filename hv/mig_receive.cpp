// The target's migration: records into MigTarget, pages to the paging device
// through the mover, install and resume.
#include "hv/mig_receive.h"

#include <cstring>
#include <new>

#include "arch/arch.h"
#include "base/format.h"
#include "hv/ams.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/mig_target.h"
#include "hv/mig_timebase.h"
#include "hv/suspend.h"

namespace pv {
namespace {

constexpr u64 kMaxLogicalPages = (u64{4} << 30) / kPageSize;  // desired_mem <= 4G

struct Receive {
    bool active = false;    // a stream is being received (Start seen, not resumed or dropped)
    bool installed = false;   // installed and held for the source's Go
    bool ready_sent = false;  // the source has been told Ready
    bool resumed = false;
    bool final_state = false;  // the first vCPU record came: the source has suspended it
    char peer[16]{};
    u64 start_tb = 0;
    bool writing[mover::kMaxSlots]{};
    LogicalPage write_lp[mover::kMaxSlots]{};
};
constinit Receive g_recv;
alignas(MigTarget) u8 g_target_mem[sizeof(MigTarget)];
MigTarget* g_target = nullptr;
u8 g_page_states[kMaxLogicalPages];

MoverLink& link_mover() { return hv().ams.link.mover(); }

Partition* io_create(void*, const MigStagedStart& s, char* why, u32 n) {
    return create_incoming_partition(s, g_recv.peer, why, n);
}

// The patents' branch while the source still runs: to paging storage.
bool io_write(void*, Partition& p, LogicalPage lp, const u8* data) {
    Guard g(hv().ams.pager.lock());
    MoverLink& m = link_mover();
    auto s = m.fill_slot(data, kPageSize);
    if (!s) return false;
    if (!m.write(*s, hv().ams.pager.device_block(p, lp), mover::kPageBlocks)) {
        m.free_slot(*s);
        return false;
    }
    g_recv.writing[*s] = true;
    g_recv.write_lp[*s] = lp;
    return true;
}

// Pinned without parking a vCPU on the page-in (a parked vCPU would be made
// runnable when it completes, before its state is installed).
PinResult io_pin(void*, Vcpu& v, u64 addr, u64 len) {
    switch (hv().ams.pager.mig_pin_incoming(*v.part, addr, len)) {
    case Err::Ok: return PinResult::Pinned;
    case Err::Busy: return PinResult::Blocked;
    case Err::NoMemory: return PinResult::OverLimit;
    default: return PinResult::Invalid;
    }
}
void io_unpin(void*, Partition& p, u64 addr, u64 len) { ams_unpin_area(p, addr, len); }

// A shell that never ran ends as a stopped partition: the normal end path
// gives its frames and pool slot back.
void io_destroy(void*, Partition& p) {
    p.gone = true;
    stop_partition(p, PartitionState::Stopped, "incoming migration from %s abandoned", g_recv.peer);
}

bool ensure_engine() {
    if (g_target) return true;
    g_target = new (g_target_mem) MigTarget();
    MigTargetIo io;
    io.create = io_create;
    io.write_page = io_write;
    io.pin = io_pin;
    io.unpin = io_unpin;
    io.destroy = io_destroy;
    io.pager = &hv().ams.pager;
    io.errors = &hv().paging_errors;
    if (g_target->init(io, std::span<u8>(g_page_states, kMaxLogicalPages)) != Err::Ok) {
        log("migration: the target engine cannot start");
        return false;
    }
    return true;
}

// Installed and held for its go, the partition is ours to end (the engine
// lets go of it); before, the engine undoes what it made.
void drop(const char* why) {
    log("migration: the partition coming from %s is dropped here: %s", g_recv.peer, why);
    if (g_target && g_target->phase() == MigTarget::Phase::Installed) {
        Partition& p = *g_target->partition();
        g_target->release();
        io_destroy(nullptr, p);
    } else if (g_target) {
        g_target->abort();
    }
    g_recv.active = g_recv.installed = false;
}

}  // namespace

MigRecv mig_receive_record(const u8* rec, u32 len, const char* peer, u64 now_tb) {
    if (!ensure_engine()) return MigRecv::Abort;
    Receive& r = g_recv;
    if (!r.active) {
        if (r.resumed) {
            log("migration: a record after the partition from %s resumed: refused", r.peer);
            return MigRecv::Abort;
        }
        r = Receive{};
        format(r.peer, sizeof r.peer, "%s", peer);
        r.active = true;
        r.start_tb = now_tb;
    }
    Err e = g_target->on_record(rec, len);
    MigRecordType type{};
    if (e == Err::Ok && !r.final_state && mig_check_header(rec, len, type) == MigError::Ok &&
        type == MigRecordType::VcpuCore) {
        // vCPU state is sent only once the source has suspended the partition.
        r.final_state = true;
        log("migration: %s: suspended at %s; its final state is arriving", g_target->staging().start.name, r.peer);
    }
    if (e == Err::Ok) return MigRecv::Consumed;
    if (e == Err::Busy) return MigRecv::Hold;
    char why[160];
    format(why, sizeof why, "record refused: %s (%s)", mig_error_name(g_target->error()), g_target->why());
    drop(why);
    return MigRecv::Abort;
}

bool mig_receive_io_done(u16 slot, u16 status) {
    Receive& r = g_recv;
    if (slot >= mover::kMaxSlots || !r.writing[slot]) return false;
    r.writing[slot] = false;
    if (g_target && r.active) g_target->write_done(r.write_lp[slot], status == 0);
    Guard g(hv().ams.pager.lock());
    link_mover().free_slot(slot);
    return true;
}

bool mig_receive_poll(u64 now_tb) {
    Receive& r = g_recv;
    if (r.installed) return !r.ready_sent;
    if (!r.active || !g_target->ready()) return false;
    Err e = g_target->install(now_tb);
    if (e == Err::Busy) return false;  // a pin is paging its area in
    if (e != Err::Ok) {
        char why[160];
        format(why, sizeof why, "install failed: %s (%s)", mig_error_name(g_target->error()), g_target->why());
        drop(why);
        return false;
    }
    // Held as a suspended partition is (it was created suspended): a vCPU
    // that runs waits parked, and one that wakes from H_CEDE is parked when
    // the scheduler pops it; the go's resume_partition releases them all.
    Partition& p = *g_target->partition();
    {
        Guard g(p.lock);
        for (u32 i = 0; i < p.vcpu_count; ++i)
            if (p.vcpus[i].state == VcpuState::Runnable) p.vcpus[i].parked = true;
    }
    r.installed = true;
    log("migration: %s from %s is installed here; holding it for %s's go", p.name, r.peer, r.peer);
    return true;
}

void mig_receive_ready_sent() { g_recv.ready_sent = true; }

bool mig_receive_go(u64 now_tb) {
    Receive& r = g_recv;
    if (r.resumed) return true;
    if (!r.installed || !r.ready_sent) {
        log("migration: a go from %s with no partition held for it: ignored", r.peer[0] ? r.peer : "the peer");
        return false;
    }
    Partition& p = *g_target->partition();
    // Its timebase continues from the source's, on by the downtime (hv/mig_timebase.h).
    const MigStagedPartition& sp = g_target->staging().part;
    MigTimebase t = mig_resume_timebase(sp.guest_tb, sp.suspend_wall_ns, now_tb, arch::wall_clock_ns(),
                                        arch::timebase_hz());
    mig_apply_timebase(p, t, now_tb);
    u64 tb_ms = arch::timebase_hz() / 1000;
    bool back = static_cast<i64>(t.offset) < 0;
    log("migration: %s: timebase offset %c%lu ms (its timebase continues from %s's, %lu ms on%s)", p.name,
        back ? '-' : '+', (back ? -t.offset : t.offset) / tb_ms, r.peer, t.step / tb_ms,
        t.wall ? "" : "; no wall clock to measure the downtime");
    u32 runnable = 0;
    for (u32 i = 0; i < p.vcpu_count; ++i) runnable += p.vcpus[i].parked ? 1 : 0;
    resume_partition(p);
    r.active = r.installed = false;
    r.resumed = true;
    log("migration: %s from %s resumed here (%u vCPU%s runnable, stream of %lu records in %lu ms)", p.name,
        r.peer, runnable, runnable == 1 ? "" : "s", g_target->stats().records,
        (now_tb - r.start_tb) * 1000 / arch::timebase_hz());
    g_target->release();  // the partition is ours; the engine waits for the next stream
    return true;
}

void mig_receive_session_lost() {
    Receive& r = g_recv;
    // Without its go the source still has it (and resumes it there).
    if (r.active)
        drop(r.installed ? "the session ended before its go (the source still has it)"
                         : "the session with the source ended first (the source still has it)");
    r.resumed = false;
}

bool mig_receive_active() { return g_recv.active; }

}  // namespace pv
