// The migration jobs: validation through the mover, and the target's answers.
#include "hv/mig_control.h"

#include <cstring>

#include <libfdt.h>

#include "arch/arch.h"
#include "base/format.h"
#include "base/spinlock.h"
#include "hv/ams.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/mig_receive.h"
#include "hv/mig_send.h"
#include "hv/mig_validate.h"
#include "hv/mig_records.h"
#include "hv/paging_space.h"

namespace pv {
namespace {

constexpr u64 kConnectTimeoutMs = 15000;  // ARP and the handshake's retries fit in this
constexpr u64 kAnswerTimeoutMs = 10000;
constexpr u64 kCloseTimeoutMs = 5000;
constexpr u32 kDefaultUdpPort = 7391;

enum class Phase : u8 { Idle, Queued, Connecting, AwaitOffer, Migrating, Closing };
constexpr u64 kConfirmTimeoutMs = 60000;  // everything sent: the target installs and resumes

struct Job {
    Phase phase = Phase::Idle;
    bool then_migrate = false;
    char partition[16]{};
    char system[16]{};
    u64 deadline_tb = 0;
};

struct Control {
    SpinLock lock{LockRank::Migration};
    const SystemConfig* cfg = nullptr;
    bool configured = false;
    u8 key[32]{};
    Job job;
    bool serving_peer = false;  // a session the peer opened is up: we are its target
    bool stop_wanted = false;   // migrlpar -o s
    // Received messages not handled yet, oldest first: a record the target
    // engine cannot take now holds back everything after it (order).
    MoverLink::Message pending[mover::kMaxSlots / 2]{};
    u32 pending_head = 0, pending_len = 0;
};
constinit Control g_mig;

u64 ms_to_tb(u64 ms) { return ms * (arch::timebase_hz() / 1000); }

bool eq(const char* a, const char* b) { return std::strcmp(a, b) == 0; }

MoverLink& mover() { return hv().ams.link.mover(); }

// The mover is the PSP link's, under the pager's lock: every request to it
// takes that lock briefly, so that nothing here holds it while it works
// (the migration engines take it themselves).
template <typename F>
auto with_mover(F f) {
    Guard g(hv().ams.pager.lock());
    return f(mover());
}

// Prints the decision; every refusal reason on its own line. True: it may move.
bool report(const Job& j, const MigOffer* offer, bool authenticated, const char* why_unanswered) {
    MigCandidate cand = mig_candidate(find_partition(j.partition), j.partition, false);
    u32 refused = mig_validate(cand, offer, authenticated);
    if (!refused) {
        log("command: migrlpar: %s can move to %s%s", j.partition, j.system, j.then_migrate ? "; migrating" : "");
        return true;
    }
    log("command: migrlpar: %s cannot move to %s; nothing changed:", j.partition, j.system);
    for (u32 b = 0; b < kMigRefusalCount; ++b) {
        auto r = static_cast<MigRefusal>(1u << b);
        if (!(refused & r)) continue;
        if (r == kMigNotAuthenticated && why_unanswered)
            log("command:   not authenticated: %s", why_unanswered);
        else
            log("command:   %s", mig_refusal_text(r));
    }
    return false;
}

// The source's own reasons, and the ones it knows without asking; true
// when the target must be asked.
bool needs_target(const Job& j) {
    char why[96];
    if (!g_mig.configured) {
        format(why, sizeof why, "no migration link to system %s (this system's config names no peer)", j.system);
    } else if (!eq(j.system, g_mig.cfg->migration.peer)) {
        format(why, sizeof why, "no migration link to system %s (this system's peer is %s)", j.system,
               g_mig.cfg->migration.peer);
    } else if (!mover().active()) {
        format(why, sizeof why, "the mover (paging service partition %s) is not ready", g_mig.cfg->pool.paging_vios);
    } else {
        return true;
    }
    // Same lines as before a link existed: the local reasons, then why no offer.
    MigCandidate cand = mig_candidate(find_partition(j.partition), j.partition, false);
    u32 refused = mig_validate(cand, nullptr, false);
    log("command: migrlpar: %s cannot move to %s; nothing changed:", j.partition, j.system);
    for (u32 b = 0; b < kMigRefusalCount; ++b) {
        auto r = static_cast<MigRefusal>(1u << b);
        if (!(refused & r)) continue;
        if (r == kMigNotAuthenticated) log("command:   %s", why);
        else log("command:   %s", mig_refusal_text(r));
    }
    return false;
}

// What this system can take in, as the target.
MigOffer local_offer() {
    const SystemConfig& cfg = *g_mig.cfg;
    MigOffer o;
    format(o.system, sizeof o.system, "%s", cfg.migration.system);
    o.has_pool = ams_enabled();
    IncomingRoom room = incoming_room();  // reclaims the slots of gone partitions first
    const Partition* psp = hv().ams.link.psp();
    o.psp_running = o.has_pool && psp && psp->is_running() && !hv().ams.link.failed();
    o.pool_bytes = cfg.pool.pool_bytes;
    const arch::PagingDevice& dev = hv().ams.link.device();
    o.paging_free_bytes = o.has_pool ? largest_free_paging_region(cfg, dev.blocks * dev.block_bytes) : 0;
    o.free_partitions = room.slots;
    o.free_lpids = room.lpids;
    o.free_vcpus = o.free_partitions * kMaxConfigVcpus;
    o.max_vcpus_per_partition = kMaxConfigVcpus;
    o.page_bytes = static_cast<u32>(kPageSize);
    return o;
}

// A message into a slot of ours and to the peer; false if no slot is free.
bool send_message(const u8* bytes, u32 len) {
    return with_mover([&](MoverLink& m) {
        auto s = m.fill_slot(bytes, len);
        if (!s) return false;
        if (m.send(*s, static_cast<u16>(len))) return true;
        m.free_slot(*s);
        return false;
    });
}

void end_job(Job& j, bool close_session) {
    if (close_session) {
        with_mover([](MoverLink& m) { (void)m.close(); });
        j.phase = Phase::Closing;
        j.deadline_tb = arch::timebase() + ms_to_tb(kCloseTimeoutMs);
        return;
    }
    j = Job{};
}

void start_job(Job& j, u64 now) {
    if (!mover().active()) {  // the PSP went away since the command was queued
        (void)needs_target(j);
        return end_job(j, false);
    }
    if (with_mover([](MoverLink& m) { return m.session(); }) == mover::SessionState::Open) {
        // the peer is migrating to us right now
        (void)report(j, nullptr, false, "a session with the peer is open already (it is sending to us)");
        return end_job(j, false);
    }
    log("command: migrlpar: asking %s about %s", j.system, j.partition);
    with_mover([](MoverLink& m) { (void)m.connect(); });
    j.phase = Phase::Connecting;
    j.deadline_tb = now + ms_to_tb(kConnectTimeoutMs);
}

// mig::AbortReason (vio/mig_transport.h, not linked into the hypervisor),
// which the mover passes on.
const char* abort_reason_text(u8 r) {
    switch (r) {
    case 1: return "the peer did not answer";
    case 2: return "the handshake did not verify (the systems hold different keys?)";
    case 3: return "the peer aborted";
    case 4: return "aborted here";
    case 5: return "the peer broke the protocol";
    default: return "the session failed";
    }
}

void on_session(Job& j, const mover::SessionMsg& s, u64 now) {
    using mover::SessionState;
    if (s.state == SessionState::Open) {
        if (s.peer_initiated) {
            g_mig.serving_peer = true;
            log("migration: %s opened session %016lx: answering as the target", g_mig.cfg->migration.peer, s.session);
            return;
        }
        if (j.phase != Phase::Connecting) return;
        MigOfferRequest q;
        format(q.system, sizeof q.system, "%s", g_mig.cfg->migration.system);
        format(q.partition, sizeof q.partition, "%s", j.partition);
        u8 buf[kMigOfferRequestBytes];
        u32 n = mig_encode_offer_request(q, buf);
        if (!send_message(buf, n)) {
            (void)report(j, nullptr, true, nullptr);
            return end_job(j, true);
        }
        j.phase = Phase::AwaitOffer;
        j.deadline_tb = now + ms_to_tb(kAnswerTimeoutMs);
        return;
    }
    if (g_mig.serving_peer) {
        mig_receive_session_lost();
        log("migration: the session %s opened has ended (%s)", g_mig.cfg->migration.peer,
            s.state == SessionState::Closed ? "closed" : abort_reason_text(s.reason));
    }
    g_mig.serving_peer = false;  // Closed, Aborted, Refused: the session is gone
    g_mig.pending_len = 0;       // what it still had for us is moot
    if (j.phase == Phase::Migrating) {
        char why[112];
        format(why, sizeof why, "the session with %s ended (%s)", j.system,
               s.state == SessionState::Closed ? "closed" : abort_reason_text(s.reason));
        mig_send_session_lost(why);
        return end_job(j, false);
    }
    if (j.phase == Phase::Connecting || j.phase == Phase::AwaitOffer) {
        char why[112];
        if (s.state == SessionState::Refused)
            format(why, sizeof why, "the mover refused to open a session");
        else if (j.phase == Phase::Connecting)
            format(why, sizeof why, "no session with %s: %s", j.system, abort_reason_text(s.reason));
        else
            format(why, sizeof why, "the session with %s ended before its offer", j.system);
        (void)report(j, nullptr, false, why);
        return end_job(j, false);
    }
    if (j.phase == Phase::Closing) end_job(j, false);
}

// What the mover has for us, taken under the pager's lock in one go.
struct Collected {
    static constexpr u32 kMax = 32;
    mover::SessionMsg events[kMax];
    MoverLink::Message messages[kMax];
    MoverLink::IoResult io[kMax];
    u32 events_n = 0, messages_n = 0, io_n = 0;
};

bool send_switch(MigSwitch step) {
    u8 buf[kMigSwitchBytes];
    mig_encode_switch(step, buf);
    return send_message(buf, sizeof buf);
}

// The switch-over (docs/migration.md "Switch-over"): target Ready, source
// Go, target Running. A step whose answer finds no mover slot is held and
// handled again (each side's half is done once).
bool on_switch(Job& j, const u8* p, u32 len, u64 now) {
    MigSwitch step{};
    if (mig_decode_switch(p, len, step) != Err::Ok) {
        log("migration: a malformed switch-over message from %s: ignored", g_mig.cfg->migration.peer);
        return true;
    }
    if (step == MigSwitch::Go && g_mig.serving_peer) return !mig_receive_go(now) || send_switch(MigSwitch::Running);
    if (j.phase == Phase::Migrating && step == MigSwitch::Ready && mig_send_state() == MigSendState::Sent) {
        if (!send_switch(MigSwitch::Go)) return false;
        mig_send_committed();
        j.deadline_tb = now + ms_to_tb(kConfirmTimeoutMs);
        return true;
    }
    if (j.phase == Phase::Migrating && step == MigSwitch::Running && mig_send_state() == MigSendState::Committed) {
        mig_send_confirmed();
        log("command: migrlpar: %s migrated to %s", j.partition, j.system);
        end_job(j, true);
        return true;
    }
    log("migration: a switch-over step %u from %s that does not fit now: ignored", static_cast<unsigned>(step),
        g_mig.cfg->migration.peer);
    return true;
}

// False: the message must be given again later (a record the target
// engine cannot take yet).
bool on_message(Job& j, const u8* p, u32 len, u64 now) {
    u32 magic = mig_message_magic(p, len);
    if (magic == kMigMagic && g_mig.serving_peer) {
        MigRecv r = mig_receive_record(p, len, g_mig.cfg->migration.peer, now);
        if (r == MigRecv::Hold) return false;
        if (r == MigRecv::Abort) with_mover([](MoverLink& m) { (void)m.abort(); });
        return true;
    }
    if (magic == kMigSwitchMagic) return on_switch(j, p, len, now);
    if (magic == kMigOfferRequestMagic && g_mig.serving_peer) {
        MigOfferRequest q;
        if (mig_decode_offer_request(p, len, q) != Err::Ok) {
            log("migration: a malformed offer request from %s: ignored", g_mig.cfg->migration.peer);
            return true;
        }
        MigOffer o = local_offer();
        u8 buf[kMigOfferBytes];
        u32 n = mig_encode_offer(o, buf);
        log("migration: %s asks about its partition %s: offering %u partition slots, %lu MiB of paging space",
            q.system, q.partition, o.free_partitions, o.paging_free_bytes >> 20);
        if (!send_message(buf, n)) log("migration: no mover slot for the offer to %s", q.system);
        return true;
    }
    if (magic == kMigOfferMagic && j.phase == Phase::AwaitOffer) {
        MigOffer o;
        bool go = false;
        if (mig_decode_offer(p, len, o) != Err::Ok) {
            (void)report(j, nullptr, true, nullptr);
        } else if (!eq(o.system, j.system)) {
            char why[112];
            format(why, sizeof why, "the peer says it is %s, not %s", o.system, j.system);
            (void)report(j, nullptr, false, why);
        } else {
            go = report(j, &o, true, nullptr) && j.then_migrate;
        }
        Partition* part = go ? find_partition(j.partition) : nullptr;
        if (part && mig_send_begin(*part, j.system, now)) {
            j.phase = Phase::Migrating;
            return true;
        }
        if (part) log("command: migrlpar: %s: %s; nothing moved", j.partition, mig_send_why());
        end_job(j, true);
        return true;
    }
    log("migration: an unexpected message (magic %08x, %u bytes) from %s: ignored", magic, len,
        g_mig.cfg->migration.peer);
    return true;
}

// The received messages in order, pending ones first; stops at one that
// must wait.
void handle_messages(Job& j, const Collected& c, u64 now) {
    Control& g = g_mig;
    constexpr u32 kRing = sizeof g.pending / sizeof g.pending[0];
    for (u32 i = 0; i < c.messages_n; ++i) {
        if (g.pending_len == kRing) {  // cannot happen: the PSP has no more slots to give
            with_mover([&](MoverLink& m) { m.rx_free(c.messages[i].slot); });
            continue;
        }
        g.pending[(g.pending_head + g.pending_len++) % kRing] = c.messages[i];
    }
    while (g.pending_len) {
        MoverLink::Message msg = g.pending[g.pending_head];
        // Ours until rx_free: the PSP does not touch a slot it gave us.
        const u8* p = mover().slot(msg.slot);
        if (p && !on_message(j, p, msg.len, now)) return;
        g.pending_head = (g.pending_head + 1) % kRing;
        --g.pending_len;
        with_mover([&](MoverLink& m) { m.rx_free(msg.slot); });
    }
}

void collect(Collected& c) {
    MoverLink& m = mover();
    if (!m.has_news()) return;
    Guard g(hv().ams.pager.lock());
    while (c.events_n < Collected::kMax && m.take_session_event(c.events[c.events_n])) ++c.events_n;
    while (c.messages_n < Collected::kMax && m.take_received(c.messages[c.messages_n])) ++c.messages_n;
    while (c.io_n < Collected::kMax && m.take_io_done(c.io[c.io_n])) ++c.io_n;
}

void poll_unlocked(u64 now) {
    Job& j = g_mig.job;
    if (j.phase == Phase::Queued) start_job(j, now);
    Collected c;
    collect(c);
    // Page I/O first: a held record may be waiting for a write to finish.
    for (u32 i = 0; i < c.io_n; ++i)
        if (!mig_send_io_done(c.io[i].slot, c.io[i].status) && !mig_receive_io_done(c.io[i].slot, c.io[i].status))
            with_mover([&](MoverLink& m) { m.free_slot(c.io[i].slot); });
    // The PSP reports Open before the session's first message and Closed or
    // Aborted after its last one; the two FIFOs keep that order when opens
    // go first and ends last.
    for (u32 i = 0; i < c.events_n; ++i)
        if (c.events[i].state == mover::SessionState::Open) on_session(j, c.events[i], now);
    handle_messages(j, c, now);
    for (u32 i = 0; i < c.events_n; ++i)
        if (c.events[i].state != mover::SessionState::Open) on_session(j, c.events[i], now);
    if (g_mig.serving_peer && mig_receive_poll(now) && send_switch(MigSwitch::Ready))
        mig_receive_ready_sent();  // no slot now: again at the next poll
    if (j.phase == Phase::Migrating) {
        if (g_mig.stop_wanted) {
            g_mig.stop_wanted = false;
            mig_send_session_lost("stopped by migrlpar -o s");
            with_mover([](MoverLink& m) { (void)m.abort(); });
            return end_job(j, false);
        }
        MigSendState st = mig_send_poll(now);
        if (st == MigSendState::Failed) {
            log("command: migrlpar: %s: %s; it runs on here", j.partition, mig_send_why());
            with_mover([](MoverLink& m) { (void)m.abort(); });
            return end_job(j, false);
        }
        if (st != MigSendState::Sent && st != MigSendState::Committed) j.deadline_tb = now + ms_to_tb(kConfirmTimeoutMs);
        else if (now >= j.deadline_tb) {
            mig_send_session_lost(st == MigSendState::Sent ? "no word from the target in 60 s"
                                                           : "no running from the target in 60 s");
            with_mover([](MoverLink& m) { (void)m.abort(); });
            return end_job(j, false);
        }
        return;
    }
    if (j.phase == Phase::Connecting || j.phase == Phase::AwaitOffer || j.phase == Phase::Closing) {
        if (now < j.deadline_tb) return;
        if (j.phase == Phase::Closing) return end_job(j, false);
        char why[112];
        format(why, sizeof why, "no %s from %s in %lu s", j.phase == Phase::Connecting ? "session" : "offer",
               j.system, (j.phase == Phase::Connecting ? kConnectTimeoutMs : kAnswerTimeoutMs) / 1000);
        (void)report(j, nullptr, false, why);
        with_mover([](MoverLink& m) { (void)m.abort(); });
        end_job(j, false);
    }
}

}  // namespace

void mig_control_init(const SystemConfig& cfg, const u8 (&key)[32]) {
    g_mig.cfg = &cfg;
    g_mig.configured = cfg.migration.present;
    std::memcpy(g_mig.key, key, sizeof g_mig.key);
}

bool mig_configured() { return g_mig.configured; }

bool mig_attach_mover(Partition& psp, void* fdt, u32 fdt_size) {
    if (!g_mig.configured) return true;
    const SystemConfig::MigrationConfig& mc = g_mig.cfg->migration;
    int rc = fdt_open_into(fdt, fdt, static_cast<int>(fdt_size));
    int node = rc ? rc : fdt_add_subnode(fdt, 0, "poolvisor-mover");
    if (node < 0) {
        log("migration: cannot add the mover node to %s's device tree: %s", psp.name, fdt_strerror(node));
        return false;
    }
    bool ok = fdt_setprop_string(fdt, node, "compatible", "poolvisor,mover-v1") == 0 &&
              fdt_setprop_string(fdt, node, "system", mc.system) == 0 &&
              fdt_setprop_string(fdt, node, "peer-system", mc.peer) == 0 &&
              fdt_setprop(fdt, node, "peer-mac", mc.peer_mac, sizeof mc.peer_mac) == 0 &&
              fdt_setprop(fdt, node, "psk", g_mig.key, sizeof g_mig.key) == 0 &&
              fdt_setprop_u32(fdt, node, "udp-port", kDefaultUdpPort) == 0 && fdt_pack(fdt) == 0;
    if (!ok) log("migration: %s's device tree has no room for the mover node", psp.name);
    return ok;
}

void mig_command_validate(const char* partition, const char* system, bool then_migrate) {
    Guard g(g_mig.lock);
    Job& j = g_mig.job;
    if (j.phase != Phase::Idle) {
        log("command: migrlpar: %s: busy with %s (one migration command at a time)", partition, j.partition);
        return;
    }
    Job q;
    q.then_migrate = then_migrate;
    format(q.partition, sizeof q.partition, "%s", partition);
    format(q.system, sizeof q.system, "%s", system);
    // What this system decides alone is answered at once; asking the target
    // is mig_poll's.
    if (!needs_target(q)) return;
    q.phase = Phase::Queued;
    j = q;
}

void mig_command_stop(const char* partition) {
    Guard g(g_mig.lock);
    if (!find_partition(partition)) return log("command: migrlpar: no partition %s", partition);
    if (g_mig.job.phase != Phase::Migrating || !eq(g_mig.job.partition, partition))
        return log("command: migrlpar: %s is not migrating", partition);
    g_mig.stop_wanted = true;
    log("command: migrlpar: stopping the migration of %s", partition);
}

void mig_command_recover(const char* partition) {
    Guard g(g_mig.lock);
    if (!find_partition(partition)) return log("command: migrlpar: no partition %s", partition);
    if (!mig_send_recover(partition)) return log("command: migrlpar: %s", mig_send_why());
    log("command: migrlpar: %s resumed here", partition);
}

const char* mig_state_name(const Partition& p) {
    if (p.migrated_to[0]) return "Migration Complete";
    if (mig_send_partition() == &p) {
        MigSendState s = mig_send_state();
        if (mig_send_under_way(s)) return "Migration In Progress";
        if (s == MigSendState::InDoubt) return "Migration In Doubt";
    }
    if (p.migrated_from[0] && mig_receive_active()) return "Migration In Progress";
    return "Not Migrating";
}

void mig_poll(u64 now_tb) {
    if (!g_mig.cfg) return;
    if (!g_mig.lock.try_lock()) return;  // another thread is at it
    poll_unlocked(now_tb);
    g_mig.lock.unlock();
}

}  // namespace pv
