// The migration transport (vio/mig_transport.h) between two endpoints over a
// fake link that drops, duplicates, reorders and corrupts frames (seeded, so a
// failing seed replays): every message arrives exactly once, in order, intact;
// forged, replayed and foreign records are refused; a dead peer or a wrong key
// ends in an abort with a reason within a bounded time; the receiver's
// advertised window is never overrun.
#include "vio/mig_transport.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "tests/unit/rng.h"

namespace pv::mig {
namespace {

Psk psk_of(u8 seed) {
    Psk k;
    for (u32 i = 0; i < kPskBytes; ++i) k.bytes[i] = static_cast<u8>(seed * 17 + i);
    return k;
}
Nonce nonce_of(u64 seed) {
    test::Rng r{seed};
    Nonce n;
    for (auto& b : n.bytes) b = static_cast<u8>(r.next());
    return n;
}

struct Faults {
    double drop = 0, dup = 0, corrupt = 0;
    u32 max_delay_ms = 0;  // uniform 0..max: reorders
};

// Frames in flight between endpoint 0 and endpoint 1.
struct Link {
    struct Frame {
        u64 at;
        int to;
        std::vector<u8> bytes;
    };
    test::Rng rng{1};
    Faults faults;
    std::vector<Frame> in_flight;
    bool dead[2] = {false, false};  // a dead endpoint neither sends nor receives
    u64 now = 0;
    std::vector<std::vector<u8>> sent[2];  // every frame each side sent, for replays
    u64 corrupted = 0;

    void put(int from, const u8* f, u32 len) {
        EXPECT_LE(len, kMaxFrameBytes);
        sent[from].emplace_back(f, f + len);
        if (dead[from] || rng.unit() < faults.drop) return;
        int copies = rng.unit() < faults.dup ? 2 : 1;
        for (int c = 0; c < copies; ++c) {
            Frame fr{now + (faults.max_delay_ms ? rng.below(faults.max_delay_ms + 1) : 0), 1 - from,
                     std::vector<u8>(f, f + len)};
            if (rng.unit() < faults.corrupt) {
                fr.bytes[rng.below(len)] ^= static_cast<u8>(1 + rng.below(255));
                ++corrupted;
            }
            in_flight.push_back(std::move(fr));
        }
    }
};

struct End {
    Link* link;
    int id;
    static void send(void* ctx, const u8* f, u32 len) {
        auto* e = static_cast<End*>(ctx);
        e->link->put(e->id, f, len);
    }
};

struct Harness {
    Link link;
    End ends[2];
    std::unique_ptr<Connection> c[2];

    explicit Harness(u64 seed, Faults f = {}, Psk k0 = psk_of(1), Psk k1 = psk_of(1), TransportConfig cfg = {}) {
        link.rng = test::Rng{seed};
        link.faults = f;
        for (int i = 0; i < 2; ++i) {
            ends[i] = End{&link, i};
            c[i] = std::make_unique<Connection>(DatagramPort{&End::send, &ends[i]}, i ? k1 : k0, cfg);
        }
        c[1]->accept(nonce_of(seed * 2 + 1), 0);
        c[0]->connect(nonce_of(seed * 2), 0);
    }
    // Delivers what is due, then polls both: one millisecond.
    void step() {
        ++link.now;
        std::vector<Link::Frame> due;
        for (size_t i = 0; i < link.in_flight.size();) {
            if (link.in_flight[i].at <= link.now) {
                due.push_back(std::move(link.in_flight[i]));
                link.in_flight[i] = std::move(link.in_flight.back());
                link.in_flight.pop_back();
            } else {
                ++i;
            }
        }
        for (auto& f : due)
            if (!link.dead[f.to]) c[f.to]->receive(f.bytes.data(), static_cast<u32>(f.bytes.size()), link.now);
        for (int i = 0; i < 2; ++i)
            if (!link.dead[i]) c[i]->poll(link.now);
    }
    void inject(int to, const std::vector<u8>& f) { c[to]->receive(f.data(), static_cast<u32>(f.size()), link.now); }
    bool open() const { return c[0]->state() == ConnState::Open && c[1]->state() == ConnState::Open; }
    void run_until_open(u64 limit = 20000) {
        while (!open() && link.now < limit) step();
    }
};

// The message with index i of stream s: its length and bytes follow from the seed.
std::vector<u8> message(u64 seed, int s, u64 i) {
    test::Rng r{seed * 1000003 + static_cast<u64>(s) * 7919 + i};
    u32 len = r.below(4) == 0 ? kMaxMessageBytes : static_cast<u32>(r.below(kMaxMessageBytes + 1));
    std::vector<u8> m(len);
    for (auto& b : m) b = static_cast<u8>(r.next());
    return m;
}

// What the faults made both endpoints do, summed over a test's seeds.
struct Seen {
    u64 retransmits = 0, duplicates = 0, out_of_order = 0, bad_tag = 0, replayed = 0, probes = 0;
    void add(const TransportStats& s) {
        retransmits += s.retransmits;
        duplicates += s.duplicates;
        out_of_order += s.out_of_order;
        bad_tag += s.bad_tag;
        replayed += s.replayed;
        probes += s.probes;
    }
};

// Both directions at once, a slow reader on side 1, then an orderly close.
void exchange(u64 seed, Faults f, u64 n0, u64 n1, Seen* seen = nullptr, TransportConfig cfg = {}) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    Harness h(seed, f, psk_of(1), psk_of(1), cfg);
    h.run_until_open();
    ASSERT_TRUE(h.open()) << conn_state_name(h.c[0]->state()) << " / " << conn_state_name(h.c[1]->state());
    ASSERT_EQ(h.c[0]->session(), h.c[1]->session());
    u64 sent[2] = {0, 0}, got[2] = {0, 0}, want[2] = {n0, n1};
    test::Rng reader{seed ^ 0x5555};
    bool closing = false;
    for (u64 t = 0; t < 600000; ++t) {
        for (int s = 0; s < 2; ++s) {
            while (sent[s] < want[s] && h.c[s]->send_credit() > 0) {
                auto m = message(seed, s, sent[s]);
                ASSERT_EQ(h.c[s]->send(m.data(), static_cast<u32>(m.size()), h.link.now), Err::Ok);
                ++sent[s];
            }
            if (sent[s] < want[s] && h.c[s]->state() == ConnState::Open) {
                EXPECT_EQ(h.c[s]->send(nullptr, 0, h.link.now), Err::Busy);  // no credit: refused, not queued
            }
        }
        for (int r = 0; r < 2; ++r) {
            // Side 1 reads slowly and in bursts, so the window shuts now and then.
            u32 budget = r == 1 ? (reader.below(8) == 0 ? 40 : 0) : 1000;
            u32 len;
            const u8* p;
            while (budget-- && (p = h.c[r]->peek(&len)) != nullptr) {
                auto m = message(seed, 1 - r, got[r]);
                ASSERT_LT(got[r], want[1 - r]) << "more messages than sent";
                ASSERT_EQ(len, m.size()) << "message " << got[r] << " to side " << r;
                ASSERT_TRUE(len == 0 || std::memcmp(p, m.data(), len) == 0) << "message " << got[r] << " to side " << r;
                h.c[r]->pop(h.link.now);
                ++got[r];
            }
        }
        if (!closing && sent[0] == n0 && sent[1] == n1) {
            closing = true;
            h.c[0]->close(h.link.now);
            h.c[1]->close(h.link.now);
        }
        if (h.c[0]->state() == ConnState::Closed && h.c[1]->state() == ConnState::Closed && got[0] == n1 &&
            got[1] == n0)
            break;
        ASSERT_NE(h.c[0]->state(), ConnState::Aborted) << abort_reason_name(h.c[0]->abort_reason());
        ASSERT_NE(h.c[1]->state(), ConnState::Aborted) << abort_reason_name(h.c[1]->abort_reason());
        h.step();
    }
    EXPECT_EQ(got[1], n0);
    EXPECT_EQ(got[0], n1);
    EXPECT_EQ(h.c[0]->state(), ConnState::Closed);
    EXPECT_EQ(h.c[1]->state(), ConnState::Closed);
    EXPECT_TRUE(h.c[0]->peer_closed());
    EXPECT_TRUE(h.c[1]->peer_closed());
    for (int s = 0; s < 2; ++s) {
        EXPECT_EQ(h.c[s]->stats().window_overruns, 0u) << "side " << s;
        EXPECT_EQ(h.c[s]->stats().messages_delivered, s ? n0 : n1);
        EXPECT_EQ(h.c[s]->stats().messages_sent, s ? n1 : n0);
        if (seen) seen->add(h.c[s]->stats());
    }
    // Every corrupted frame that arrived was refused, none was delivered (the
    // byte compare above would have failed).
    if (f.corrupt > 0 && h.link.corrupted > 20) {
        EXPECT_GT(h.c[0]->stats().rejected + h.c[1]->stats().rejected, 0u);
    }
}

TEST(MigTransport, CleanLinkDeliversInOrder) { exchange(1, {}, 300, 100); }

TEST(MigTransport, LossyLinkManySeeds) {
    Seen seen;
    for (u64 seed = 1; seed <= 200; ++seed) {
        Faults f{0.15, 0.08, 0.05, 25};
        exchange(seed, f, 150, 60, &seen);
        if (HasFatalFailure()) return;
    }
    // Every fault kind happened and was handled (not merely survived by luck).
    EXPECT_GT(seen.retransmits, 1000u);
    EXPECT_GT(seen.duplicates, 100u);
    EXPECT_GT(seen.out_of_order, 100u);
    EXPECT_GT(seen.bad_tag, 100u);
    EXPECT_GT(seen.replayed, 100u);  // the link's duplicated frames
}

TEST(MigTransport, VeryLossyLink) {
    // About 45 % of frames lost or corrupted each way: a frame and its ack get
    // through together about a third of the time, so ten tries would fail
    // some message of a hundred every few runs (as they should: that is the
    // dead-peer rule). This link gets 30.
    TransportConfig cfg;
    cfg.max_retries = 30;
    for (u64 seed = 100; seed < 130; ++seed) {
        exchange(seed, Faults{0.35, 0.2, 0.15, 60}, 80, 20, nullptr, cfg);
        if (HasFatalFailure()) return;
    }
}

TEST(MigTransport, ForgedReplayedAndForeignRecordsAreRefused) {
    Harness h(7);
    h.run_until_open();
    ASSERT_TRUE(h.open());
    const u8 msg[] = "the real page";
    ASSERT_EQ(h.c[0]->send(msg, sizeof msg, h.link.now), Err::Ok);
    std::vector<u8> data = h.link.sent[0].back();
    for (int i = 0; i < 50; ++i) h.step();
    u32 len;
    const u8* p = h.c[1]->peek(&len);
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(len, sizeof msg);
    h.c[1]->pop(h.link.now);
    // Replayed: refused, not delivered again.
    u64 replayed = h.c[1]->stats().replayed;
    h.inject(1, data);
    EXPECT_EQ(h.c[1]->stats().replayed, replayed + 1);
    EXPECT_EQ(h.c[1]->peek(&len), nullptr);
    // Forged: the payload rewritten, the tag kept, or a new tag made up.
    std::vector<u8> forged = data;
    forged[kRecordHeaderBytes + kTransportHeaderBytes] ^= 0x20;
    store_be<u64>(forged.data() + 16, 1000);  // a fresh record number too
    u64 bad = h.c[1]->stats().bad_tag;
    h.inject(1, forged);
    EXPECT_EQ(h.c[1]->stats().bad_tag, bad + 1);
    EXPECT_EQ(h.c[1]->peek(&len), nullptr);
    // From another session (same PSK, another handshake): refused.
    Harness other(8);
    other.run_until_open();
    ASSERT_TRUE(other.open());
    ASSERT_EQ(other.c[0]->send(msg, sizeof msg, other.link.now), Err::Ok);
    u64 foreign = h.c[1]->stats().wrong_session;
    h.inject(1, other.link.sent[0].back());
    EXPECT_EQ(h.c[1]->stats().wrong_session, foreign + 1);
    EXPECT_EQ(h.c[1]->peek(&len), nullptr);
    // The connection is unharmed.
    ASSERT_EQ(h.c[0]->send(msg, sizeof msg, h.link.now), Err::Ok);
    for (int i = 0; i < 50; ++i) h.step();
    EXPECT_NE(h.c[1]->peek(&len), nullptr);
    EXPECT_EQ(h.c[1]->state(), ConnState::Open);
    EXPECT_EQ(h.c[1]->stats().messages_delivered, 1u);
}

TEST(MigTransport, WrongKeyNeverOpens) {
    for (u64 seed = 1; seed <= 5; ++seed) {
        Harness h(seed, Faults{0.1, 0.05, 0, 10}, psk_of(1), psk_of(2));
        for (int i = 0; i < 30000 && !(h.c[0]->state() == ConnState::Aborted &&
                                       h.c[1]->state() == ConnState::Aborted);
             ++i)
            h.step();
        EXPECT_EQ(h.c[0]->state(), ConnState::Aborted);
        EXPECT_EQ(h.c[0]->abort_reason(), AbortReason::AuthFailed);
        EXPECT_EQ(h.c[1]->state(), ConnState::Aborted);
        EXPECT_EQ(h.c[1]->abort_reason(), AbortReason::AuthFailed);
        EXPECT_GT(h.c[1]->stats().bad_tag, 0u);
        EXPECT_EQ(h.c[0]->stats().messages_delivered + h.c[1]->stats().messages_delivered, 0u);
        const u8 m[] = "x";
        EXPECT_EQ(h.c[0]->send(m, 1, h.link.now), Err::Invalid);
        EXPECT_EQ(h.c[1]->send(m, 1, h.link.now), Err::Invalid);
        EXPECT_LT(h.link.now, 10000u);
    }
}

// The bound a dead peer is noticed in: every retransmission's timeout.
u64 give_up_ms(const TransportConfig& cfg) {
    u64 sum = 0, t = cfg.rto_initial_ms;
    for (u32 k = 0; k < cfg.max_retries; ++k, t = t * 2 > cfg.rto_max_ms ? cfg.rto_max_ms : t * 2) sum += t;
    return sum;
}

TEST(MigTransport, DeadPeerAbortsInBoundedTime) {
    TransportConfig cfg;
    // Dead before the handshake.
    {
        Harness h(3);
        h.link.dead[1] = true;
        while (h.c[0]->state() != ConnState::Aborted && h.link.now < 60000) h.step();
        EXPECT_EQ(h.c[0]->abort_reason(), AbortReason::PeerTimeout);
        EXPECT_LE(h.link.now, give_up_ms(cfg) + 2);
    }
    // Dead with data in flight.
    {
        Harness h(4, Faults{0.1, 0, 0, 5});
        h.run_until_open();
        ASSERT_TRUE(h.open());
        for (int i = 0; i < 200; ++i) h.step();
        h.link.dead[1] = true;
        u64 died = h.link.now;
        const u8 m[100]{};
        ASSERT_EQ(h.c[0]->send(m, sizeof m, h.link.now), Err::Ok);
        while (h.c[0]->state() != ConnState::Aborted && h.link.now < 60000) h.step();
        EXPECT_EQ(h.c[0]->abort_reason(), AbortReason::PeerTimeout);
        EXPECT_LE(h.link.now - died, give_up_ms(cfg) + 2);
    }
    // Dead while idle: the keepalive probes find out.
    {
        Harness h(5);
        h.run_until_open();
        ASSERT_TRUE(h.open());
        for (int i = 0; i < 2000; ++i) h.step();
        ASSERT_TRUE(h.open()) << "an idle, live peer must stay connected";
        h.link.dead[1] = true;
        u64 died = h.link.now;
        while (h.c[0]->state() != ConnState::Aborted && h.link.now < 60000) h.step();
        EXPECT_EQ(h.c[0]->abort_reason(), AbortReason::PeerTimeout);
        EXPECT_LE(h.link.now - died, cfg.keepalive_ms + give_up_ms(cfg) + 2);
        EXPECT_GT(h.c[0]->stats().probes, 0u);
    }
}

TEST(MigTransport, AbortReachesThePeerWithItsReason) {
    Harness h(9);
    h.run_until_open();
    ASSERT_TRUE(h.open());
    h.c[0]->abort(AbortReason::Local, h.link.now);
    for (int i = 0; i < 10; ++i) h.step();
    EXPECT_EQ(h.c[0]->state(), ConnState::Aborted);
    EXPECT_EQ(h.c[1]->state(), ConnState::Aborted);
    EXPECT_EQ(h.c[1]->abort_reason(), AbortReason::PeerAborted);
    EXPECT_EQ(h.c[1]->peer_reason(), AbortReason::Local);
}

TEST(MigTransport, WindowHoldsTheSenderWhileTheReaderSleeps) {
    Harness h(11);
    h.run_until_open();
    ASSERT_TRUE(h.open());
    u8 m[64]{};
    u32 n = 0;
    while (h.c[0]->send(m, sizeof m, h.link.now) == Err::Ok) ++n;
    EXPECT_EQ(n, kSlots);
    for (int i = 0; i < 3000; ++i) h.step();  // the reader does not read
    EXPECT_EQ(h.c[0]->state(), ConnState::Open);
    EXPECT_EQ(h.c[0]->send_credit(), 0u) << "the receiver's buffers are full";
    EXPECT_EQ(h.c[1]->stats().window_overruns, 0u);
    u32 len;
    for (u32 i = 0; i < kSlots / 2; ++i) {
        ASSERT_NE(h.c[1]->peek(&len), nullptr);
        h.c[1]->pop(h.link.now);
    }
    for (int i = 0; i < 10; ++i) h.step();
    EXPECT_EQ(h.c[0]->send_credit(), kSlots / 2);
}

TEST(MigTransport, TooLongOrNotOpenIsInvalid) {
    Harness h(12);
    u8 big[kMaxMessageBytes + 1]{};
    EXPECT_EQ(h.c[0]->send(big, 1, h.link.now), Err::Invalid);  // still connecting
    h.run_until_open();
    ASSERT_TRUE(h.open());
    EXPECT_EQ(h.c[0]->send(big, kMaxMessageBytes + 1, h.link.now), Err::Invalid);
    EXPECT_EQ(h.c[0]->send(big, kMaxMessageBytes, h.link.now), Err::Ok);
    EXPECT_EQ(h.link.sent[0].back().size(), kMaxFrameBytes);
}

}  // namespace
}  // namespace pv::mig
