// UDP/IPv4 link-local framing (vio/udp_link): checksums and frames against
// known answers (computed with Python's struct module), ARP, what is dropped
// and counted, and mig_transport Connections carried end to end through two
// e1000e drivers on two fake NICs joined back to back.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "tests/unit/fake_e1000e.h"
#include "tests/unit/rng.h"
#include "vio/udp_link.h"

using namespace pv;
using namespace pv::net;

namespace {

constexpr MacAddress kMacA{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
constexpr MacAddress kMacB{{0x52, 0x54, 0x00, 0x12, 0x34, 0x57}};
constexpr Ipv4 kIpA = link_local(10, 1), kIpB = link_local(20, 2);
constexpr u16 kPortA = 7700, kPortB = 7701;

UdpLinkConfig config_a(bool pin_peer = true) {
    return UdpLinkConfig{kMacA, kIpA, kPortA, kIpB, kPortB, pin_peer, pin_peer ? kMacB : MacAddress{}};
}
UdpLinkConfig config_b(bool pin_peer = true) {
    return UdpLinkConfig{kMacB, kIpB, kPortB, kIpA, kPortA, pin_peer, pin_peer ? kMacA : MacAddress{}};
}

// A NIC that keeps what it is given.
struct Capture {
    std::vector<std::vector<u8>> frames;
    Err result = Err::Ok;
    static Err send(void* c, const u8* f, u32 len) {
        auto* cap = static_cast<Capture*>(c);
        if (cap->result == Err::Ok) cap->frames.emplace_back(f, f + len);
        return cap->result;
    }
    FramePort port() { return FramePort{&Capture::send, this}; }
};

struct Inbox {
    std::vector<std::vector<u8>> got;
    static void fn(void* c, const u8* p, u32 len) { static_cast<Inbox*>(c)->got.emplace_back(p, p + len); }
};

// Frame A -> B, 20-byte payload "poolvisor migration\n", IP id 1: IP
// checksum 0xc8bc, UDP checksum 0x07ee.
const std::vector<u8> kFrameAB = {
    0x52, 0x54, 0x00, 0x12, 0x34, 0x57, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x30, 0x00, 0x01, 0x40, 0x00, 0x40, 0x11, 0xc8, 0xbc, 0xa9, 0xfe, 0x0a, 0x01, 0xa9, 0xfe,
    0x14, 0x02, 0x1e, 0x14, 0x1e, 0x15, 0x00, 0x1c, 0x07, 0xee, 0x70, 0x6f, 0x6f, 0x6c, 0x76, 0x69,
    0x73, 0x6f, 0x72, 0x20, 0x6d, 0x69, 0x67, 0x72, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x0a};
const char kPayload[] = "poolvisor migration\n";
// A's ARP request for B's address.
const std::vector<u8> kArpRequestAB = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06, 0x00, 0x01,
    0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0xa9, 0xfe, 0x0a, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa9, 0xfe, 0x14, 0x02};

// Recompute both checksums after a test edited a frame's headers.
void reseal(std::vector<u8>& f) {
    u8* ip = f.data() + 14;
    u32 ihl = (ip[0] & 0xf) * 4u;
    store_be<u16>(ip + 10, 0);
    store_be<u16>(ip + 10, internet_checksum(ip, ihl));
    u8* udp = ip + ihl;
    u32 udp_len = load_be<u16>(ip + 2) - ihl;
    store_be<u16>(udp + 6, 0);
    Ipv4 src{{ip[12], ip[13], ip[14], ip[15]}}, dst{{ip[16], ip[17], ip[18], ip[19]}};
    store_be<u16>(udp + 6, udp_checksum(src, dst, udp, udp_len));
}

TEST(UdpLink, ChecksumKnownAnswers) {
    const u8 rfc1071[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};  // RFC 1071 section 3
    EXPECT_EQ(ones_sum(rfc1071, 8), 0xddf2u);
    EXPECT_EQ(internet_checksum(rfc1071, 8), 0x220d);
    const u8 odd[] = {0x01, 0x02, 0x03};
    EXPECT_EQ(ones_sum(odd, 3), 0x0402u) << "the odd byte is the high half of a word";
    // An IPv4 header with its checksum field zero (192.168.0.1 -> 192.168.0.199, UDP).
    const u8 hdr[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                      0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    EXPECT_EQ(internet_checksum(hdr, 20), 0xb861);
    EXPECT_EQ(internet_checksum(kFrameAB.data() + 14, 20), 0) << "a correct header sums to zero";
    std::vector<u8> udp(kFrameAB.begin() + 34, kFrameAB.end());
    udp[6] = udp[7] = 0;
    EXPECT_EQ(udp_checksum(kIpA, kIpB, udp.data(), static_cast<u32>(udp.size())), 0x07ee);
}

TEST(UdpLink, LinkLocalAddresses) {
    EXPECT_TRUE(is_link_local_unicast(link_local(1, 0)));
    EXPECT_TRUE(is_link_local_unicast(link_local(254, 255)));
    EXPECT_FALSE(is_link_local_unicast(link_local(0, 7))) << "169.254.0.0/24 reserved";
    EXPECT_FALSE(is_link_local_unicast(link_local(255, 1))) << "169.254.255.0/24 reserved";
    EXPECT_FALSE(is_link_local_unicast(Ipv4{{10, 0, 0, 1}}));
    EXPECT_FALSE(is_link_local_unicast(Ipv4{{169, 253, 1, 1}}));
    // Known answers (FNV-1a of the six bytes, mod 65024).
    EXPECT_EQ(link_local_from_mac(kMacA), link_local(46, 123));
    EXPECT_EQ(link_local_from_mac(kMacB), link_local(40, 232));
    test::Rng r{3};
    for (int i = 0; i < 10000; ++i) {
        MacAddress m;
        for (auto& b : m.b) b = static_cast<u8>(r.next());
        ASSERT_TRUE(is_link_local_unicast(link_local_from_mac(m)));
    }
}

TEST(UdpLink, ConfigureRefusesWhatIsNotPointToPointLinkLocal) {
    Capture cap;
    UdpLink l(cap.port());
    EXPECT_EQ(l.send(reinterpret_cast<const u8*>(kPayload), 20), Err::Invalid) << "not configured";
    auto bad = [&](auto edit) {
        UdpLinkConfig c = config_a();
        edit(c);
        return l.configure(c) == Err::Invalid;
    };
    EXPECT_TRUE(bad([](UdpLinkConfig& c) { c.ip = Ipv4{{192, 168, 1, 1}}; }));
    EXPECT_TRUE(bad([](UdpLinkConfig& c) { c.peer_ip = link_local(255, 0); }));
    EXPECT_TRUE(bad([](UdpLinkConfig& c) { c.peer_ip = c.ip; }));
    EXPECT_TRUE(bad([](UdpLinkConfig& c) { c.port = 0; }));
    EXPECT_TRUE(bad([](UdpLinkConfig& c) { c.peer_port = 0; }));
    EXPECT_TRUE(bad([](UdpLinkConfig& c) { c.mac.b[0] |= 1; }));
    EXPECT_TRUE(bad([](UdpLinkConfig& c) { c.peer_mac = kBroadcastMac; }));
    EXPECT_TRUE(bad([](UdpLinkConfig& c) { c.peer_mac = c.mac; }));
    EXPECT_TRUE(cap.frames.empty());
    EXPECT_EQ(l.configure(config_a()), Err::Ok);
}

TEST(UdpLink, FrameKnownAnswerAndRoundTrip) {
    Capture cap;
    UdpLink a(cap.port());
    ASSERT_EQ(a.configure(config_a()), Err::Ok);
    ASSERT_EQ(a.send(reinterpret_cast<const u8*>(kPayload), 20), Err::Ok);
    ASSERT_EQ(cap.frames.size(), 1u);
    EXPECT_EQ(cap.frames[0], kFrameAB);
    EXPECT_EQ(a.stats().datagrams_out, 1u);

    Capture cap_b;
    UdpLink b(cap_b.port());
    ASSERT_EQ(b.configure(config_b()), Err::Ok);
    Inbox in;
    b.receive_frame(kFrameAB.data(), static_cast<u32>(kFrameAB.size()), &Inbox::fn, &in);
    ASSERT_EQ(in.got.size(), 1u);
    EXPECT_EQ(in.got[0], std::vector<u8>(kPayload, kPayload + 20));

    // Limits: 1472 bytes make a 1514-byte frame; one more is refused; empty is fine.
    std::vector<u8> big(kMaxPayloadBytes, 0x5a);
    ASSERT_EQ(a.send(big.data(), kMaxPayloadBytes), Err::Ok);
    EXPECT_EQ(cap.frames.back().size(), 1514u);
    EXPECT_EQ(a.send(big.data(), kMaxPayloadBytes + 1), Err::Invalid);
    ASSERT_EQ(a.send(nullptr, 0), Err::Ok);
    EXPECT_EQ(cap.frames.back().size(), 42u);
    for (size_t i = 1; i < cap.frames.size(); ++i)
        b.receive_frame(cap.frames[i].data(), static_cast<u32>(cap.frames[i].size()), &Inbox::fn, &in);
    ASSERT_EQ(in.got.size(), 3u);
    EXPECT_EQ(in.got[1], big);
    EXPECT_TRUE(in.got[2].empty());
    // A short frame as it arrives from the wire: padded to 60 bytes.
    auto padded = cap.frames.back();
    padded.resize(60, 0);
    b.receive_frame(padded.data(), 60, &Inbox::fn, &in);
    ASSERT_EQ(in.got.size(), 4u);
    EXPECT_TRUE(in.got[3].empty());
    EXPECT_EQ(b.stats().datagrams_in, 4u);

    cap.result = Err::Busy;
    EXPECT_EQ(a.send(big.data(), 10), Err::Busy);
    EXPECT_EQ(a.stats().tx_busy, 1u);
}

// A payload whose UDP sum comes out 0 (Python: 0xffff - the rest's sum):
// sent as 0xffff; the same datagram with a zero field would also sum right,
// so only the "zero means none" rule refuses it.
TEST(UdpLink, ChecksumZeroIsSentAsAllOnesAndRefusedWhenZero) {
    Capture ca, cb;
    UdpLink a(ca.port()), b(cb.port());
    ASSERT_EQ(a.configure(config_a()), Err::Ok);
    ASSERT_EQ(b.configure(config_b()), Err::Ok);
    const u8 payload[] = {0x51, 0xb1};
    ASSERT_EQ(a.send(payload, 2), Err::Ok);
    auto f = ca.frames.at(0);
    EXPECT_EQ(load_be<u16>(f.data() + 40), 0xffff);
    Inbox in;
    b.receive_frame(f.data(), static_cast<u32>(f.size()), &Inbox::fn, &in);
    ASSERT_EQ(in.got.size(), 1u);
    f[40] = f[41] = 0;
    b.receive_frame(f.data(), static_cast<u32>(f.size()), &Inbox::fn, &in);
    EXPECT_EQ(in.got.size(), 1u);
    EXPECT_EQ(b.stats().bad_udp_checksum, 1u);
}

TEST(UdpLink, ArpResolvesThePeer) {
    Capture ca, cb;
    UdpLink a(ca.port()), b(cb.port());
    ASSERT_EQ(a.configure(config_a(false)), Err::Ok);
    ASSERT_EQ(b.configure(config_b(false)), Err::Ok);
    EXPECT_FALSE(a.peer_resolved());
    Inbox in;
    // The first datagram is not sent: an ARP request goes out instead.
    EXPECT_EQ(a.send(reinterpret_cast<const u8*>(kPayload), 20), Err::NotFound);
    ASSERT_EQ(ca.frames.size(), 1u);
    EXPECT_EQ(ca.frames[0], kArpRequestAB);
    EXPECT_EQ(a.stats().unresolved, 1u);
    EXPECT_EQ(a.stats().arp_requests_out, 1u);

    // B learns A from the request and answers it (broadcast, RFC 3927 2.5).
    b.receive_frame(ca.frames[0].data(), 42, &Inbox::fn, &in);
    EXPECT_TRUE(b.peer_resolved());
    EXPECT_EQ(b.peer_mac(), kMacA);
    ASSERT_EQ(cb.frames.size(), 1u);
    const auto& reply = cb.frames[0];
    ASSERT_EQ(reply.size(), 42u);
    EXPECT_EQ(std::vector<u8>(reply.begin(), reply.begin() + 6), std::vector<u8>(6, 0xff));
    EXPECT_EQ(load_be<u16>(reply.data() + 12), kEtherTypeArp);
    EXPECT_EQ(load_be<u16>(reply.data() + 20), 2) << "reply";
    EXPECT_EQ(std::memcmp(reply.data() + 22, kMacB.b, 6), 0);
    EXPECT_EQ(std::memcmp(reply.data() + 28, kIpB.b, 4), 0);
    EXPECT_EQ(std::memcmp(reply.data() + 32, kMacA.b, 6), 0);
    EXPECT_EQ(std::memcmp(reply.data() + 38, kIpA.b, 4), 0);
    EXPECT_EQ(b.stats().arp_requests_in, 1u);
    EXPECT_EQ(b.stats().arp_replies_out, 1u);

    a.receive_frame(reply.data(), 42, &Inbox::fn, &in);
    EXPECT_TRUE(a.peer_resolved());
    EXPECT_EQ(a.peer_mac(), kMacB);
    EXPECT_EQ(a.stats().arp_replies_in, 1u);
    ASSERT_EQ(a.send(reinterpret_cast<const u8*>(kPayload), 20), Err::Ok);
    EXPECT_EQ(ca.frames.back(), kFrameAB) << "IP ids count datagrams sent, not attempts";
    b.receive_frame(ca.frames.back().data(), 62, &Inbox::fn, &in);
    EXPECT_EQ(in.got.size(), 1u);
}

TEST(UdpLink, ArpForOthersConflictsAndDamage) {
    Capture ca;
    UdpLink a(ca.port());
    ASSERT_EQ(a.configure(config_a(false)), Err::Ok);
    Inbox in;
    auto req = kArpRequestAB;  // as if B asked: sender B, target (edited below)
    std::memcpy(req.data() + 6, kMacB.b, 6);
    std::memcpy(req.data() + 22, kMacB.b, 6);
    std::memcpy(req.data() + 28, kIpB.b, 4);
    std::memcpy(req.data() + 38, link_local(99, 9).b, 4);
    a.receive_frame(req.data(), 42, &Inbox::fn, &in);
    EXPECT_TRUE(ca.frames.empty()) << "not our address: no reply";
    EXPECT_EQ(a.stats().not_for_us, 1u);
    EXPECT_TRUE(a.peer_resolved()) << "but the peer said where it is";

    auto claim = req;  // someone else uses our address
    std::memcpy(claim.data() + 22, MacAddress{{0x52, 0x54, 0, 0, 0, 9}}.b, 6);
    std::memcpy(claim.data() + 28, kIpA.b, 4);
    a.receive_frame(claim.data(), 42, &Inbox::fn, &in);
    EXPECT_EQ(a.stats().arp_conflicts, 1u);

    auto bad = req;
    bad[18] = 8;  // hardware address length
    a.receive_frame(bad.data(), 42, &Inbox::fn, &in);
    a.receive_frame(req.data(), 30, &Inbox::fn, &in);  // truncated
    EXPECT_EQ(a.stats().malformed, 2u);

    // A pinned peer MAC is never changed by ARP.
    UdpLink p(ca.port());
    ASSERT_EQ(p.configure(config_a(true)), Err::Ok);
    auto liar = req;
    std::memcpy(liar.data() + 22, MacAddress{{0x52, 0x54, 0, 0, 0, 9}}.b, 6);
    p.receive_frame(liar.data(), 42, &Inbox::fn, &in);
    EXPECT_EQ(p.peer_mac(), kMacB);
    EXPECT_TRUE(in.got.empty());
}

TEST(UdpLink, FramesNotForUsAreDropped) {
    Capture cb;
    UdpLink b(cb.port());
    ASSERT_EQ(b.configure(config_b()), Err::Ok);
    Inbox in;
    auto deliver = [&](std::vector<u8> f) {
        b.receive_frame(f.data(), static_cast<u32>(f.size()), &Inbox::fn, &in);
    };
    auto edited = [](auto edit) {
        auto f = kFrameAB;
        edit(f);
        reseal(f);
        return f;
    };
    deliver(edited([](auto& f) { f[5] = 0x99; }));                       // another MAC
    deliver(edited([](auto& f) { std::fill(f.begin(), f.begin() + 6, 0xff); }));  // IPv4 to broadcast
    deliver(edited([](auto& f) { f[12] = 0x86, f[13] = 0xdd; }));         // IPv6
    deliver(edited([](auto& f) { f[23] = 6; }));                          // TCP
    deliver(edited([](auto& f) { f[33] = 3; }));                          // another destination address
    deliver(edited([](auto& f) { f[29] = 7; }));                          // another source address
    deliver(edited([](auto& f) { f[37] ^= 1; }));                         // another destination port
    deliver(edited([](auto& f) { f[35] ^= 1; }));                         // another source port
    EXPECT_TRUE(in.got.empty());
    EXPECT_EQ(b.stats().not_for_us, 8u);
    deliver(edited([](auto&) {}));
    EXPECT_EQ(in.got.size(), 1u) << "the unedited frame, resealed, still passes";
    EXPECT_TRUE(cb.frames.empty());
}

TEST(UdpLink, DamagedFramesAreDroppedAndCounted) {
    Capture cb;
    UdpLink b(cb.port());
    ASSERT_EQ(b.configure(config_b()), Err::Ok);
    Inbox in;
    auto deliver = [&](const std::vector<u8>& f, u32 len = 0) {
        b.receive_frame(f.data(), len ? len : static_cast<u32>(f.size()), &Inbox::fn, &in);
    };
    auto f = kFrameAB;
    f[50] ^= 0x10;  // payload
    deliver(f);
    EXPECT_EQ(b.stats().bad_udp_checksum, 1u);
    f = kFrameAB;
    f[22] = 63;  // TTL
    deliver(f);
    EXPECT_EQ(b.stats().bad_ip_checksum, 1u);
    f = kFrameAB;
    f[40] = f[41] = 0;  // "no checksum": ours always have one
    deliver(f);
    EXPECT_EQ(b.stats().bad_udp_checksum, 2u);
    deliver(kFrameAB, 57);  // truncated: IP total length beyond the frame
    deliver(kFrameAB, 20);  // not even an IP header
    f = kFrameAB;
    f[39] = 0x1d;  // UDP length disagrees with IP's
    reseal(f);
    deliver(f);
    EXPECT_EQ(b.stats().malformed, 3u);
    f = kFrameAB;
    f[20] |= 0x20;  // more fragments
    reseal(f);
    deliver(f);
    f = kFrameAB;
    f[21] = 8;  // fragment offset
    reseal(f);
    deliver(f);
    EXPECT_EQ(b.stats().fragments, 2u);
    EXPECT_TRUE(in.got.empty());

    // Every single-bit error past the Ethernet header is caught.
    for (u32 bit = 14 * 8; bit < kFrameAB.size() * 8; ++bit) {
        f = kFrameAB;
        f[bit / 8] ^= static_cast<u8>(1u << (bit % 8));
        deliver(f);
        ASSERT_TRUE(in.got.empty()) << "bit " << bit;
    }
    // IP options are skipped (and covered by the header checksum).
    f = kFrameAB;
    f.insert(f.begin() + 34, {0x01, 0x01, 0x01, 0x00});  // NOP NOP NOP EOL
    f[14] = 0x46;
    store_be<u16>(f.data() + 16, 0x34);
    reseal(f);
    deliver(f);
    ASSERT_EQ(in.got.size(), 1u);
    EXPECT_EQ(in.got[0], std::vector<u8>(kPayload, kPayload + 20));
}

TEST(UdpLink, DamagedArpReplyHealsByAskingAgain) {
    Capture ca, cb;
    UdpLink a(ca.port()), b(cb.port());
    ASSERT_EQ(a.configure(config_a(false)), Err::Ok);
    ASSERT_EQ(b.configure(config_b(false)), Err::Ok);
    Inbox in;
    ASSERT_EQ(a.resolve(), Err::Ok);
    b.receive_frame(ca.frames[0].data(), 42, &Inbox::fn, &in);
    auto reply = cb.frames.at(0);
    reply[27] ^= 0x40;  // sender MAC damaged on the way
    a.receive_frame(reply.data(), 42, &Inbox::fn, &in);
    ASSERT_TRUE(a.peer_resolved());
    ASSERT_NE(a.peer_mac(), kMacB);
    // B's datagrams arrive from its real MAC: A asks again and takes the answer.
    ASSERT_EQ(b.send(reinterpret_cast<const u8*>(kPayload), 20), Err::Ok);
    size_t before = ca.frames.size();
    a.receive_frame(cb.frames.back().data(), 62, &Inbox::fn, &in);
    EXPECT_EQ(in.got.size(), 1u) << "delivered all the same";
    ASSERT_EQ(ca.frames.size(), before + 1);
    EXPECT_EQ(load_be<u16>(ca.frames.back().data() + 12), kEtherTypeArp);
    b.receive_frame(ca.frames.back().data(), 42, &Inbox::fn, &in);
    a.receive_frame(cb.frames.back().data(), 42, &Inbox::fn, &in);
    EXPECT_EQ(a.peer_mac(), kMacB);
    EXPECT_EQ(a.stats().peer_mac_changes, 1u);
}

// --- end to end: Connection / UdpLink / e1000e::Driver / fake NIC ----------

mig::Psk psk() {
    mig::Psk k;
    for (u32 i = 0; i < mig::kPskBytes; ++i) k.bytes[i] = static_cast<u8>(0x40 + i);
    return k;
}
mig::Nonce nonce(u64 seed) {
    test::Rng r{seed};
    mig::Nonce n;
    for (auto& b : n.bytes) b = static_cast<u8>(r.next());
    return n;
}

struct Side {
    test::DmaArena arena;
    test::FakeE1000e nic;
    test::StepClock clk;
    e1000e::Driver drv;
    UdpLink link;
    std::unique_ptr<mig::Connection> conn;
    u64 now = 0;

    Side(const MacAddress& mac, const UdpLinkConfig& cfg)
        : nic(arena, mac),
          drv(nic.hw(), e1000e::E1000eDma{arena.mem, sizeof arena.mem, &test::DmaArena::to_iova, &arena},
              clk.clock()),
          link(frame_port(drv)) {
        EXPECT_EQ(drv.init(), e1000e::kOk);
        EXPECT_EQ(link.configure(cfg), Err::Ok);
        conn = std::make_unique<mig::Connection>(link.port(), psk());
    }
    static void to_conn(void* c, const u8* p, u32 len) {
        auto* s = static_cast<Side*>(c);
        s->conn->receive(p, len, s->now);
    }
    void pump() { link.poll(drv, &Side::to_conn, this); }
};

std::vector<u8> message(int side, u64 i) {
    test::Rng r{static_cast<u64>(side) * 1000003 + i};
    std::vector<u8> m(1 + r.below(mig::kMaxMessageBytes));
    for (auto& b : m) b = static_cast<u8>(r.next());
    return m;
}

void run_end_to_end(bool pinned, double loss, double corrupt, u64 n_each) {
    Side a(kMacA, config_a(pinned)), b(kMacB, config_b(pinned));
    ASSERT_EQ(a.drv.mac(), kMacA);
    Side* sides[2] = {&a, &b};
    test::Rng wire{17};
    u64 corrupted = 0;
    b.conn->accept(nonce(2), 0);
    a.conn->connect(nonce(1), 0);
    u64 sent[2] = {0, 0}, got[2] = {0, 0};
    bool closing = false;
    for (u64 t = 1; t < 200000; ++t) {
        for (int s = 0; s < 2; ++s) {
            Side& me = *sides[s];
            Side& peer = *sides[1 - s];
            me.now = peer.now = t;
            auto frames = std::move(me.nic.wire);
            me.nic.wire.clear();
            for (auto& f : frames) {
                if (wire.unit() < loss) continue;
                bool ipv4 = load_be<u16>(f.data() + 12) == kEtherTypeIpv4;
                if (ipv4 && wire.unit() < corrupt) {
                    f[14 + wire.below(f.size() - 14)] ^= static_cast<u8>(1 + wire.below(255));
                    ++corrupted;
                }
                if (!peer.nic.deliver(f)) {
                    peer.pump();  // the receive ring was full: make room, as a busy receiver would
                    peer.nic.deliver(f);
                }
            }
        }
        for (int s = 0; s < 2; ++s) {
            Side& me = *sides[s];
            me.pump();
            me.conn->poll(t);
            if (me.conn->state() != mig::ConnState::Open) continue;
            while (sent[s] < n_each && me.conn->send_credit() > 0) {
                auto m = message(s, sent[s]);
                ASSERT_EQ(me.conn->send(m.data(), static_cast<u32>(m.size()), t), Err::Ok);
                ++sent[s];
            }
            u32 len;
            while (const u8* p = me.conn->peek(&len)) {
                auto m = message(1 - s, got[s]);
                ASSERT_EQ(std::vector<u8>(p, p + len), m) << "message " << got[s] << " to side " << s;
                me.conn->pop(t);
                ++got[s];
            }
        }
        ASSERT_NE(a.conn->state(), mig::ConnState::Aborted) << mig::abort_reason_name(a.conn->abort_reason());
        ASSERT_NE(b.conn->state(), mig::ConnState::Aborted) << mig::abort_reason_name(b.conn->abort_reason());
        if (!closing && sent[0] == n_each && sent[1] == n_each && a.conn->all_acked() && b.conn->all_acked()) {
            closing = true;
            a.conn->close(t);
            b.conn->close(t);
        }
        if (a.conn->state() == mig::ConnState::Closed && b.conn->state() == mig::ConnState::Closed) break;
    }
    EXPECT_EQ(a.conn->state(), mig::ConnState::Closed);
    EXPECT_EQ(b.conn->state(), mig::ConnState::Closed);
    EXPECT_EQ(got[0], n_each);
    EXPECT_EQ(got[1], n_each);
    EXPECT_TRUE(a.link.peer_resolved() && b.link.peer_resolved());
    EXPECT_EQ(a.link.peer_mac(), kMacB);
    EXPECT_EQ(b.link.peer_mac(), kMacA);
    u64 link_drops = 0, rejected = 0;
    for (Side* s : sides) {
        const auto& st = s->link.stats();
        link_drops += st.bad_ip_checksum + st.bad_udp_checksum + st.malformed + st.fragments + st.not_for_us;
        rejected += s->conn->stats().rejected;
        EXPECT_EQ(s->arena.faults + s->nic.bad_desc + s->nic.bad_tail, 0u);
    }
    if (corrupt > 0) {
        EXPECT_GT(corrupted, 10u);
        EXPECT_GT(link_drops, 0u);
    }
    // Every damaged frame that reached a NIC stopped in the link layer, none
    // reached the transport's authentication.
    EXPECT_LE(link_drops, corrupted);
    EXPECT_EQ(rejected, 0u);
    if (loss == 0 && corrupt == 0 && pinned) {  // a learnt peer costs the first Hello (sent before ARP)
        EXPECT_EQ(link_drops, 0u);
        EXPECT_EQ(a.conn->stats().retransmits + b.conn->stats().retransmits, 0u);
    }
}

TEST(UdpLink, ConnectionEndToEndOverTwoNics) { run_end_to_end(/*pinned=*/true, 0, 0, 300); }
TEST(UdpLink, ConnectionEndToEndLearntPeer) { run_end_to_end(/*pinned=*/false, 0, 0, 100); }
TEST(UdpLink, ConnectionEndToEndLossyAndCorrupt) { run_end_to_end(/*pinned=*/true, 0.05, 0.05, 300); }
TEST(UdpLink, ConnectionEndToEndLearntPeerLossy) { run_end_to_end(/*pinned=*/false, 0.1, 0.02, 200); }

}  // namespace
