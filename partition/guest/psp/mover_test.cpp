// Host test of the PSP's mover (mover.cpp, docs/mover.md): two Mover
// instances, "A" and "B", joined by an in-memory datagram link (lossy on
// demand), each with a fake hypervisor that records the CRQ entries its
// PSP sends and a fake paging device behind a real PagingService. A fake
// clock (ms) drives the transport's timers. Built as its own executable
// psp_mover_test (label unit, cmake/host.cmake). Also the /poolvisor-mover
// node reader (mover_node.cpp) on trees built here.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "base/papr.h"
#include "partition/guest/psp/host_log.h"
#include "partition/guest/psp/mover.h"
#include "partition/guest/psp/mover_node.h"

#include <libfdt.h>

using namespace pv;
using namespace pv::mover;
using psp_test::g_log;
using psp::Mover;

namespace {

constexpr u16 kSlots = 64;
constexpr u64 kAreaAddr = 0x100000;  // the area's logical (= bus) address
constexpr u64 kDiskBlocks = 2048;

struct World;

// One system: its PSP's mover and what its hypervisor sees.
struct Side {
    World* w = nullptr;
    const char* name = "";
    alignas(4096) u8 area[kSlots * kSlotBytes]{};
    std::vector<u8> disk = std::vector<u8>(kDiskBlocks * 512);
    std::vector<CrqEntry> got;  // entries the PSP sent its hypervisor, in order
    std::deque<std::vector<u8>> inbox;  // datagrams from the peer, not yet given to the mover
    bool peer_answers_arp = true;
    bool asked_arp = false;
    u32 arp_requests = 0;
    std::unique_ptr<psp::PagingService> paging;
    std::unique_ptr<Mover> mover;

    u8* slot(u16 s) { return area + u64{s} * kSlotBytes; }
    void hv(const CrqEntry& e) { mover->handle(e); }
    void area_ok() { hv(encode(AreaRespMsg{AreaStatus::Ok})); }
    void connect() { hv(encode_bare(Opcode::Connect)); }
    void send_msg(u16 s, u16 len) { hv(encode(SlotMsg{Opcode::Send, s, len})); }
    void rx_free(u16 s) { hv(encode(SlotMsg{Opcode::RxFree, s, 0})); }

    // Every Session message so far.
    std::vector<SessionMsg> sessions() const {
        std::vector<SessionMsg> v;
        for (const CrqEntry& e : got) {
            SessionMsg m;
            if (decode(e, m)) v.push_back(m);
        }
        return v;
    }
    std::vector<SlotMsg> slot_msgs(Opcode op) const {
        std::vector<SlotMsg> v;
        for (const CrqEntry& e : got) {
            SlotMsg m;
            if (decode(e, m) && m.op == op) v.push_back(m);
        }
        return v;
    }
    bool has_session(SessionState st) const {
        for (auto& m : sessions())
            if (m.state == st) return true;
        return false;
    }
    size_t count_session(SessionState st) const {
        size_t n = 0;
        for (auto& m : sessions()) n += m.state == st;
        return n;
    }
};

struct World {
    u64 now = 1000;
    Side a, b;
    u32 drop_every = 0;  // lossy: every n-th datagram is lost (0: none)
    u64 sent = 0, dropped = 0;

    static void port_send(Side* to, World* w, const u8* f, u32 len) {
        ++w->sent;
        if (w->drop_every && w->sent % w->drop_every == 0) {
            ++w->dropped;
            return;
        }
        to->inbox.emplace_back(f, f + len);
    }

    void setup(Side& s, Side& peer, const char* name, const mig::Psk& psk) {
        s.w = this;
        s.name = name;
        psp::PagingService::Setup ps;
        ps.send = [](void*, const CrqEntry&) -> i64 { return papr::H_SUCCESS; };
        ps.dev.io = [](void* c, bool write, u64 block, u32 count, u64 dma) -> u32 {
            auto* sd = static_cast<Side*>(c);
            if (dma < kAreaAddr || dma + u64{count} * 512 > kAreaAddr + sizeof sd->area) return 0x04;
            u8* p = sd->area + (dma - kAreaAddr);
            u8* d = sd->disk.data() + block * 512;
            if (write) std::memcpy(d, p, count * 512);
            else std::memcpy(p, d, count * 512);
            return 0;
        };
        ps.dev.blocks = [](void*) { return kDiskBlocks; };
        ps.dev.max_blocks = [](void*) -> u32 { return 256; };
        ps.dev.ctx = &s;
        s.paging = std::make_unique<psp::PagingService>(ps);

        Mover::Setup m;
        m.send = [](void* c, const CrqEntry& e) -> i64 {
            static_cast<Side*>(c)->got.push_back(e);
            return papr::H_SUCCESS;
        };
        m.send_ctx = &s;
        m.now_ms = [](void* c) { return static_cast<World*>(c)->now; };
        m.now_ctx = this;
        m.nonce = [](void* c, mig::Nonce& n) {
            static u64 counter = 0;
            ++counter;
            for (u32 i = 0; i < mig::kNonceBytes; ++i)
                n.bytes[i] = static_cast<u8>(counter * 37 + i * 11 + reinterpret_cast<uintptr_t>(c));
            return true;
        };
        m.nonce_ctx = &s;
        struct PortCtx {
            Side* to;
            World* w;
        };
        auto* pc = new PortCtx{&peer, this};  // lives as long as the test
        ports_.emplace_back(pc);
        m.link.port = {[](void* c, const u8* f, u32 len) {
                           auto* p = static_cast<PortCtx*>(c);
                           port_send(p->to, p->w, f, len);
                       },
                       pc};
        m.link.resolved = [](void* c) {
            auto* sd = static_cast<Side*>(c);
            return sd->asked_arp && sd->peer_answers_arp;
        };
        m.link.resolve = [](void* c) {
            auto* sd = static_cast<Side*>(c);
            sd->asked_arp = true;
            ++sd->arp_requests;
        };
        m.link.ctx = &s;
        m.psk = psk;
        m.paging = s.paging.get();
        m.area = s.area;
        m.area_addr = kAreaAddr;
        m.slots = kSlots;
        s.mover = std::make_unique<Mover>(m);
    }

    World(const mig::Psk& ka, const mig::Psk& kb) {
        setup(a, b, "A", ka);
        setup(b, a, "B", kb);
        // Both hypervisors accept their PSP's area: both listen.
        for (Side* s : {&a, &b}) {
            s->mover->start();
            AreaMsg m;
            EXPECT_EQ(s->got.size(), 1u);
            EXPECT_TRUE(decode(s->got.at(0), m));
            EXPECT_EQ(m.slots, kSlots);
            EXPECT_EQ(m.addr, kAreaAddr);
            s->got.clear();
            s->area_ok();
            EXPECT_EQ(s->mover->state(), Mover::State::Listening);
        }
    }

    // One millisecond: the datagrams in flight arrive, both movers poll.
    void step() {
        for (Side* s : {&a, &b}) {
            std::deque<std::vector<u8>> in;
            in.swap(s->inbox);
            for (auto& d : in) s->mover->receive(d.data(), static_cast<u32>(d.size()));
        }
        for (Side* s : {&a, &b}) s->mover->poll();
        ++now;
    }
    template <typename F>
    bool run_until(F done, u64 limit_ms = 30000) {
        for (u64 i = 0; i < limit_ms; ++i) {
            if (done()) return true;
            step();
        }
        return done();
    }
    void run_for(u64 ms) {
        for (u64 i = 0; i < ms; ++i) step();
    }

    bool open() {
        a.connect();
        return run_until([&] { return a.has_session(SessionState::Open) && b.has_session(SessionState::Open); });
    }

private:
    std::vector<std::shared_ptr<void>> ports_;  // the datagram ports' contexts
};

mig::Psk key(u8 seed) {
    mig::Psk k;
    for (u32 i = 0; i < mig::kPskBytes; ++i) k.bytes[i] = static_cast<u8>(seed + i * 3);
    return k;
}

u8 pattern(u64 msg, u32 i) { return static_cast<u8>(msg * 131 + i * 7 + (i >> 8) + 1); }
u16 msg_len(u64 i) {
    if (i % 5 == 0) return 1;
    if (i % 5 == 1) return static_cast<u16>(kMaxMessageBytes);
    return static_cast<u16>(1 + (i * 389) % kMaxMessageBytes);
}

// A hypervisor that streams `count` messages out of its PSP's slots: a slot
// is reused only once SlotFree gave it back.
struct Streamer {
    Side& s;
    u64 count, next = 0;
    std::vector<u16> free;
    size_t seen = 0;
    Streamer(Side& side, u64 n) : s(side), count(n) {
        for (u16 i = 0; i < kSlots / 2; ++i) free.push_back(i);
    }
    void pump() {
        for (; seen < s.got.size(); ++seen) {
            SlotMsg m;
            if (decode(s.got[seen], m) && m.op == Opcode::SlotFree) free.push_back(m.slot);
        }
        while (next < count && !free.empty()) {
            u16 slot = free.back();
            free.pop_back();
            u16 len = msg_len(next);
            for (u32 i = 0; i < len; ++i) s.slot(slot)[i] = pattern(next, i);
            s.send_msg(slot, len);
            ++next;
        }
    }
};

// A hypervisor that takes what its PSP received, checks it, and gives the
// slot back (or holds it while `hold`).
struct Sink {
    Side& s;
    u64 received = 0, mismatches = 0;
    size_t seen = 0;
    bool hold = false;
    std::vector<u16> held;
    explicit Sink(Side& side) : s(side) {}
    void take() {
        for (; seen < s.got.size(); ++seen) {
            SlotMsg m;
            if (!decode(s.got[seen], m) || m.op != Opcode::Received) continue;
            EXPECT_TRUE(psp_slot(s.mover->area(), m.slot));
            bool ok = m.len == msg_len(received);
            for (u32 i = 0; ok && i < m.len; ++i) ok = s.slot(m.slot)[i] == pattern(received, i);
            mismatches += !ok;
            ++received;
            if (hold) held.push_back(m.slot);
            else s.rx_free(m.slot);
        }
    }
    void release() {
        hold = false;
        for (u16 slot : held) s.rx_free(slot);
        held.clear();
    }
};

// Both hypervisors at work: until every message is in (true) or for `ms`
// (false) with `forever`.
bool exchange(World& w, Streamer& tx, Sink& rx, u64 ms = 60000, bool forever = false) {
    return w.run_until([&] {
        tx.pump();
        rx.take();
        return !forever && rx.received == tx.count;
    }, ms);
}

void stream(World& w, Side& from, Side& to, u64 count) {
    Streamer tx(from, count);
    Sink rx(to);
    ASSERT_TRUE(exchange(w, tx, rx));
    EXPECT_EQ(rx.mismatches, 0u);
    EXPECT_EQ(tx.next, count);
    EXPECT_EQ(from.slot_msgs(Opcode::SlotFree).size(), count);
    EXPECT_FALSE(from.has_session(SessionState::Aborted));
    EXPECT_FALSE(to.has_session(SessionState::Aborted));
}

TEST(Mover, ConnectOpensBothSides) {
    World w(key(1), key(1));
    ASSERT_TRUE(w.open());
    auto sa = w.a.sessions(), sb = w.b.sessions();
    ASSERT_EQ(sa.size(), 1u);
    ASSERT_EQ(sb.size(), 1u);
    EXPECT_FALSE(sa[0].peer_initiated);
    EXPECT_TRUE(sb[0].peer_initiated);
    EXPECT_EQ(sa[0].session, sb[0].session);
    EXPECT_NE(sa[0].session, 0u);
    EXPECT_EQ(w.a.mover->state(), Mover::State::Open);
    EXPECT_EQ(w.b.mover->state(), Mover::State::Open);
    EXPECT_GE(w.a.arp_requests, 1u);
    // A second Connect while open, from either side: Refused.
    w.b.connect();
    ASSERT_EQ(w.b.sessions().size(), 2u);
    EXPECT_EQ(w.b.sessions()[1].state, SessionState::Refused);
}

TEST(Mover, MessagesBothWaysArriveIntact) {
    World w(key(2), key(2));
    ASSERT_TRUE(w.open());
    stream(w, w.a, w.b, 150);
    stream(w, w.b, w.a, 90);
    EXPECT_EQ(w.a.mover->counters().sent, 150u);
    EXPECT_EQ(w.b.mover->counters().received, 150u);
    EXPECT_EQ(w.b.mover->counters().errors, 0u);
}

TEST(Mover, LossyLinkLosesNothing) {
    World w(key(3), key(3));
    w.drop_every = 7;
    ASSERT_TRUE(w.open());
    stream(w, w.a, w.b, 200);
    EXPECT_GT(w.dropped, 0u);
    EXPECT_GT(w.a.mover->connection()->stats().retransmits, 0u);
}

// Loss during the close: the linger answers the peer's retransmitted Close,
// both report Closed (not Aborted), and the next session opens.
TEST(Mover, LossyCloseAndReconnect) {
    for (u32 drop : {3u, 4u, 5u}) {
        World w(key(14), key(14));
        w.drop_every = drop;
        ASSERT_TRUE(w.open()) << drop;
        stream(w, w.a, w.b, 30);
        w.a.hv(encode_bare(Opcode::Close));
        ASSERT_TRUE(w.run_until([&] {
            return w.a.has_session(SessionState::Closed) && w.b.has_session(SessionState::Closed);
        })) << drop;
        w.run_for(2000);  // both lingers end
        EXPECT_FALSE(w.a.has_session(SessionState::Aborted)) << drop;
        EXPECT_FALSE(w.b.has_session(SessionState::Aborted)) << drop;
        EXPECT_EQ(w.a.mover->state(), Mover::State::Listening);
        EXPECT_EQ(w.b.mover->state(), Mover::State::Listening);
        w.a.connect();
        ASSERT_TRUE(w.run_until([&] {
            return w.a.count_session(SessionState::Open) == 2 && w.b.count_session(SessionState::Open) == 2;
        })) << drop;
        EXPECT_GT(w.dropped, 0u);
    }
}

TEST(Mover, BackPressureWithNoFreeSlotLosesNothing) {
    World w(key(4), key(4));
    ASSERT_TRUE(w.open());
    const u64 count = 300;
    Streamer tx(w.a, count);
    Sink rx(w.b);
    rx.hold = true;  // B's hypervisor keeps every slot for now
    exchange(w, tx, rx, 3000, true);
    // Only the 32 received-message slots were handed over; the rest waits in
    // the connections (and A's queue), nothing dropped, nothing aborted.
    EXPECT_EQ(rx.received, kSlots / 2u);
    EXPECT_LT(tx.next, count);
    EXPECT_FALSE(w.a.has_session(SessionState::Aborted));
    EXPECT_FALSE(w.b.has_session(SessionState::Aborted));
    rx.release();
    ASSERT_TRUE(exchange(w, tx, rx));
    EXPECT_EQ(rx.mismatches, 0u);
    EXPECT_FALSE(w.a.has_session(SessionState::Aborted));
}

TEST(Mover, ReadWriteRoundTrip) {
    World w(key(5), key(5));
    Side& s = w.a;
    for (u32 i = 0; i < kSlotBytes; ++i) s.slot(3)[i] = static_cast<u8>(i * 13 + 5);
    std::vector<u8> want(s.slot(3), s.slot(3) + kSlotBytes);
    s.hv(encode(IoMsg{Opcode::Write, 3, kPageBlocks, 16}));
    IoDoneMsg d;
    ASSERT_TRUE(decode(s.got.back(), d));
    EXPECT_EQ(d.slot, 3);
    EXPECT_EQ(d.status, 0);
    EXPECT_EQ(std::memcmp(s.disk.data() + 16 * 512, want.data(), kSlotBytes), 0);
    std::memset(s.slot(3), 0, kSlotBytes);
    s.hv(encode(IoMsg{Opcode::Read, 3, kPageBlocks, 16}));
    ASSERT_TRUE(decode(s.got.back(), d));
    EXPECT_EQ(d.status, 0);
    EXPECT_EQ(std::memcmp(s.slot(3), want.data(), kSlotBytes), 0);
    // Refused: a received-message slot, too many blocks, past the device's end.
    u16 bad = static_cast<u16>(paging::kFailureStatusBit | static_cast<u16>(paging::FailureReason::BadDescriptor));
    s.hv(encode(IoMsg{Opcode::Read, 40, 8, 0}));
    ASSERT_TRUE(decode(s.got.back(), d));
    EXPECT_EQ(d.slot, 40);
    EXPECT_EQ(d.status, bad);
    s.hv(encode(IoMsg{Opcode::Read, 3, 9, 0}));
    ASSERT_TRUE(decode(s.got.back(), d));
    EXPECT_EQ(d.status, bad);
    s.hv(encode(IoMsg{Opcode::Write, 3, 8, kDiskBlocks - 4}));
    ASSERT_TRUE(decode(s.got.back(), d));
    EXPECT_EQ(d.status, bad);
    EXPECT_EQ(s.mover->counters().ios, 3u);
}

TEST(Mover, CloseThenASecondSession) {
    World w(key(6), key(6));
    ASSERT_TRUE(w.open());
    stream(w, w.a, w.b, 20);
    w.a.hv(encode_bare(Opcode::Close));
    ASSERT_TRUE(w.run_until([&] { return w.a.has_session(SessionState::Closed) && w.b.has_session(SessionState::Closed); }));
    EXPECT_FALSE(w.a.has_session(SessionState::Aborted));
    EXPECT_FALSE(w.b.has_session(SessionState::Aborted));
    // B connects this time, at once: its Connect waits out the linger.
    w.b.connect();
    ASSERT_TRUE(w.run_until([&] {
        return w.a.count_session(SessionState::Open) == 2 && w.b.count_session(SessionState::Open) == 2;
    }));
    auto sa = w.a.sessions(), sb = w.b.sessions();
    EXPECT_TRUE(sa.back().peer_initiated);
    EXPECT_FALSE(sb.back().peer_initiated);
    EXPECT_NE(sa.back().session, sa.front().session);
    // Messages flow in the new session, counted from the start again.
    Streamer tx(w.b, 40);
    Sink rx(w.a);
    ASSERT_TRUE(exchange(w, tx, rx));
    EXPECT_EQ(rx.mismatches, 0u);
    EXPECT_FALSE(w.a.has_session(SessionState::Aborted));
}

// B's hypervisor closes while A still streams and B has no free slot: A's
// messages all reach B's hypervisor before B reports Closed.
TEST(Mover, CloseDeliversEverythingBeforeClosed) {
    World w(key(13), key(13));
    ASSERT_TRUE(w.open());
    Streamer tx(w.a, 100);
    Sink rx(w.b);
    rx.hold = true;
    exchange(w, tx, rx, 1000, true);
    w.b.hv(encode_bare(Opcode::Close));
    exchange(w, tx, rx, 2000, true);
    EXPECT_FALSE(w.b.has_session(SessionState::Closed));
    // B's hypervisor gives a slot back every 5 ms only: A's Close arrives
    // with messages before it still in B's connection.
    u64 tick = 0;
    ASSERT_TRUE(w.run_until([&] {
        tx.pump();
        rx.take();
        if (++tick % 5 == 0 && !rx.held.empty()) {
            w.b.rx_free(rx.held.front());
            rx.held.erase(rx.held.begin());
        }
        return w.a.has_session(SessionState::Closed) && w.b.has_session(SessionState::Closed);
    }, 60000));
    rx.take();  // what the last RxFree brought
    EXPECT_EQ(tx.next, 100u);
    EXPECT_EQ(rx.received, 100u);
    EXPECT_EQ(rx.mismatches, 0u);
    // Every Received came before B's Closed.
    size_t closed_at = 0, last_rx = 0;
    for (size_t i = 0; i < w.b.got.size(); ++i) {
        SessionMsg m;
        SlotMsg sm;
        if (decode(w.b.got[i], m) && m.state == SessionState::Closed) closed_at = i;
        if (decode(w.b.got[i], sm) && sm.op == Opcode::Received) last_rx = i;
    }
    EXPECT_LT(last_rx, closed_at);
    EXPECT_FALSE(w.a.has_session(SessionState::Aborted));
    EXPECT_FALSE(w.b.has_session(SessionState::Aborted));
}

TEST(Mover, WrongKeyAbortsTheInitiatorAndDeliversNothing) {
    World w(key(7), key(8));
    w.a.connect();
    ASSERT_TRUE(w.run_until([&] { return w.a.has_session(SessionState::Aborted); }));
    auto sa = w.a.sessions();
    ASSERT_EQ(sa.size(), 1u);
    EXPECT_EQ(sa[0].reason, static_cast<u8>(mig::AbortReason::AuthFailed));
    w.run_for(10000);
    EXPECT_TRUE(w.b.sessions().empty());  // nothing opened: the hypervisor hears nothing
    EXPECT_TRUE(w.b.slot_msgs(Opcode::Received).empty());
    EXPECT_EQ(w.b.mover->state(), Mover::State::Listening);
    EXPECT_EQ(w.a.mover->state(), Mover::State::Listening);
    EXPECT_GE(w.b.mover->counters().failed_handshakes, 1u);
}

TEST(Mover, PeerSilentOnArpAborts) {
    World w(key(9), key(9));
    w.a.peer_answers_arp = false;
    w.a.connect();
    ASSERT_TRUE(w.run_until([&] { return w.a.has_session(SessionState::Aborted); }, 10000));
    EXPECT_EQ(w.a.sessions()[0].reason, static_cast<u8>(mig::AbortReason::PeerTimeout));
    EXPECT_GE(w.a.arp_requests, 20u);  // asked again every 200 ms for 5 s
    EXPECT_EQ(w.a.mover->state(), Mover::State::Listening);
}

TEST(Mover, AbortEndsBothSidesAndReturnsQueuedSlots) {
    World w(key(10), key(10));
    ASSERT_TRUE(w.open());
    Sink rx(w.b);
    rx.hold = true;
    Streamer tx(w.a, 200);
    exchange(w, tx, rx, 2000, true);
    // A's hypervisor has all its slots with the PSP now (queued or sent).
    u64 freed_before = w.a.slot_msgs(Opcode::SlotFree).size();
    w.a.hv(encode_bare(Opcode::Abort));
    auto sa = w.a.sessions();
    EXPECT_EQ(sa.back().state, SessionState::Aborted);
    EXPECT_EQ(sa.back().reason, static_cast<u8>(mig::AbortReason::Local));
    // Every slot the hypervisor gave is back: SlotFree count = Sends.
    EXPECT_EQ(w.a.slot_msgs(Opcode::SlotFree).size(), tx.next);
    EXPECT_GT(w.a.slot_msgs(Opcode::SlotFree).size(), freed_before);
    ASSERT_TRUE(w.run_until([&] { return w.b.has_session(SessionState::Aborted); }));
    EXPECT_EQ(w.b.sessions().back().reason, static_cast<u8>(mig::AbortReason::PeerAborted));
    EXPECT_EQ(w.a.mover->state(), Mover::State::Listening);
}

TEST(Mover, BadCommandsGiveSlotsBack) {
    World w(key(11), key(11));
    // No session: the slot comes back at once, an error is counted.
    w.a.send_msg(2, 10);
    auto f = w.a.slot_msgs(Opcode::SlotFree);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].slot, 2);
    EXPECT_EQ(w.a.mover->counters().errors, 1u);
    // Not a hypervisor slot.
    w.a.send_msg(50, 10);
    EXPECT_EQ(w.a.slot_msgs(Opcode::SlotFree).size(), 2u);
    // RxFree of a slot the hypervisor does not hold: ignored.
    w.a.rx_free(40);
    EXPECT_EQ(w.a.mover->counters().errors, 3u);
    // A bad length in an open session: slot back, the session aborted.
    ASSERT_TRUE(w.open());
    w.a.send_msg(1, kMaxMessageBytes + 1);
    EXPECT_EQ(w.a.slot_msgs(Opcode::SlotFree).size(), 3u);
    EXPECT_EQ(w.a.sessions().back().state, SessionState::Aborted);
}

TEST(Mover, RefusedAreaMeansNoMover) {
    World w(key(12), key(12));
    // A fresh channel (the hypervisor re-initialized it): the area again, refused this time.
    w.a.mover->reset();
    w.a.got.clear();
    w.a.mover->start();
    AreaMsg m;
    ASSERT_TRUE(decode(w.a.got.at(0), m));
    w.a.hv(encode(AreaRespMsg{AreaStatus::NoMover}));
    EXPECT_EQ(w.a.mover->state(), Mover::State::Off);
    EXPECT_FALSE(w.a.mover->active());
    w.a.connect();
    ASSERT_EQ(w.a.sessions().size(), 1u);
    EXPECT_EQ(w.a.sessions()[0].state, SessionState::Refused);
}

// ---- /poolvisor-mover -----------------------------------------------------------

// A tree with /poolvisor-mover; `skip` leaves that property out, `bad`
// replaces its value with `value`.
struct Tree {
    std::vector<u8> blob = std::vector<u8>(4096);
    Tree(const char* skip = "", const char* bad = "", std::vector<u8> value = {}, bool port = false) {
        void* f = blob.data();
        EXPECT_EQ(fdt_create(f, static_cast<int>(blob.size())), 0);
        EXPECT_EQ(fdt_finish_reservemap(f), 0);
        EXPECT_EQ(fdt_begin_node(f, ""), 0);
        EXPECT_EQ(fdt_begin_node(f, "poolvisor-mover"), 0);
        auto prop = [&](const char* name, std::vector<u8> v) {
            if (std::strcmp(name, skip) == 0) return;
            if (std::strcmp(name, bad) == 0) v = value;
            EXPECT_EQ(fdt_property(f, name, v.data(), static_cast<int>(v.size())), 0);
        };
        auto str = [](const char* s) { return std::vector<u8>(s, s + std::strlen(s) + 1); };
        prop("compatible", str("poolvisor,mover-v1"));
        prop("system", str("sysa"));
        prop("peer-system", str("sysb"));
        prop("peer-mac", {0x52, 0x54, 0x00, 0x12, 0x34, 0x57});
        std::vector<u8> k(32);
        for (u32 i = 0; i < 32; ++i) k[i] = static_cast<u8>(i * 5 + 1);
        prop("psk", k);
        if (port) prop("udp-port", {0, 0, 0x1c, 0xe9});  // 7401
        EXPECT_EQ(fdt_end_node(f), 0);
        EXPECT_EQ(fdt_end_node(f), 0);
        EXPECT_EQ(fdt_finish(f), 0);
    }
};

TEST(MoverNode, ReadsEveryProperty) {
    psp::MoverNode n;
    ASSERT_EQ(psp::read_mover_node(Tree().blob.data(), n), psp::MoverNodeResult::Ok);
    EXPECT_STREQ(n.system, "sysa");
    EXPECT_STREQ(n.peer, "sysb");
    EXPECT_EQ(n.peer_mac.b[5], 0x57);
    EXPECT_EQ(n.psk.bytes[31], static_cast<u8>(31 * 5 + 1));
    EXPECT_EQ(n.port, psp::kDefaultMoverPort);
    ASSERT_EQ(psp::read_mover_node(Tree("", "", {}, true).blob.data(), n), psp::MoverNodeResult::Ok);
    EXPECT_EQ(n.port, 7401);
}

TEST(MoverNode, AbsentIsAPlainPsp) {
    Tree t;
    EXPECT_EQ(fdt_del_node(t.blob.data(), fdt_path_offset(t.blob.data(), "/poolvisor-mover")), 0);
    psp::MoverNode n;
    g_log.clear();
    EXPECT_EQ(psp::read_mover_node(t.blob.data(), n), psp::MoverNodeResult::Missing);
    EXPECT_TRUE(g_log.empty());  // today's PSP says nothing of a mover
}

TEST(MoverNode, MalformedIsLoggedAndRefused) {
    struct Case {
        const char* skip;
        const char* bad;
        std::vector<u8> value;
        const char* names;
    };
    const std::vector<Case> cases = {
        {"psk", "", {}, "psk"},
        {"", "psk", std::vector<u8>(31, 1), "psk"},
        {"", "peer-mac", {1, 2, 3, 4, 5}, "peer-mac"},
        {"peer-system", "", {}, "peer-system"},
        {"", "system", {'s', 'y', 's'}, "system"},  // not NUL-terminated
        {"", "compatible", {'x', 0}, "compatible"},
        {"", "udp-port", {0, 0, 0, 0}, "udp-port"},
        {"", "udp-port", {0, 1, 0, 0}, "udp-port"},  // 65536
    };
    for (const Case& c : cases) {
        psp::MoverNode n;
        g_log.clear();
        Tree t(c.skip, c.bad, c.value, true);
        EXPECT_EQ(psp::read_mover_node(t.blob.data(), n), psp::MoverNodeResult::Bad) << c.names;
        ASSERT_EQ(g_log.size(), 1u) << c.names;
        EXPECT_NE(g_log[0].find(std::string("property ") + c.names + " "), std::string::npos) << g_log[0];
        EXPECT_NE(g_log[0].find("no mover, paging only"), std::string::npos) << g_log[0];
    }
}

}  // namespace
