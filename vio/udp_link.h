// UDP/IPv4 over Ethernet II for the point-to-point migration link
// (docs/network-link.md): just enough to carry mig_transport datagrams
// between two mover partitions over the e1000e NIC.
//   * Addresses: IPv4 link-local only (169.254.1.0 - 169.254.254.255, RFC
//     3927), each side's from its config or derived from its MAC; one peer.
//   * ARP: answers requests for our address, asks for the peer's (replies
//     broadcast, as RFC 3927 2.5 wants for link-local senders), learns the
//     peer's MAC from either.
//   * IPv4 without options on send, no fragments either way: a payload is at
//     most 1472 bytes, a frame at most 1514. Header checksum and UDP checksum
//     computed on send, verified on receive.
//   * Anything not for our MAC (or broadcast ARP), our address, from the
//     peer's address, to our port from the peer's, is dropped and counted.
// No heap, no clock: the caller polls, like the rest of vio/.
#pragma once
#include "base/result.h"
#include "vio/e1000e.h"
#include "vio/mig_transport.h"

namespace pv::net {

using e1000e::MacAddress;

struct Ipv4 {
    u8 b[4];
    friend constexpr bool operator==(const Ipv4&, const Ipv4&) = default;
};
constexpr Ipv4 link_local(u8 x, u8 y) { return Ipv4{{169, 254, x, y}}; }
// 169.254.1.0 .. 169.254.254.255: the first and last 256 are reserved.
constexpr bool is_link_local_unicast(Ipv4 a) { return a.b[0] == 169 && a.b[1] == 254 && a.b[2] >= 1 && a.b[2] <= 254; }
// A link-local address chosen from a MAC (a hash of all six bytes, spread
// over the 65024 usable addresses). Two MACs may collide: configure the
// address explicitly when they do (UdpLink::configure refuses equal ones).
Ipv4 link_local_from_mac(const MacAddress& mac);

inline constexpr MacAddress kBroadcastMac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
inline constexpr u16 kEtherTypeIpv4 = 0x0800, kEtherTypeArp = 0x0806;
inline constexpr u8 kIpProtoUdp = 17;
inline constexpr u32 kEthHeaderBytes = 14, kIpv4HeaderBytes = 20, kUdpHeaderBytes = 8, kArpBytes = 28;
inline constexpr u32 kMaxPayloadBytes = 1500 - kIpv4HeaderBytes - kUdpHeaderBytes;  // 1472
inline constexpr u32 kMaxFrameBytes = kEthHeaderBytes + 1500;                         // 1514
inline constexpr u8 kTtl = 64;
static_assert(kMaxFrameBytes == e1000e::kMaxFrameBytes);
static_assert(mig::kMaxFrameBytes <= kMaxPayloadBytes, "a transport frame fits one datagram");

// RFC 1071 one's-complement sum over len bytes (big-endian 16-bit words, an
// odd last byte padded with zero), folded, not inverted; sum continues a
// previous partial sum.
u32 ones_sum(const u8* p, u32 len, u32 sum = 0);
// The checksum field value: the inverted folded sum.
u16 internet_checksum(const u8* p, u32 len, u32 sum = 0);
// The UDP checksum of a datagram (header with its checksum field zero, then
// payload) between src and dst; 0 is sent as 0xffff (RFC 768).
u16 udp_checksum(Ipv4 src, Ipv4 dst, const u8* udp, u32 udp_len);

// The NIC as the link sees it: Ok, Busy (ring full), Invalid (length).
struct FramePort {
    Err (*send)(void* ctx, const u8* frame, u32 len) = nullptr;
    void* ctx = nullptr;
};
FramePort frame_port(e1000e::Driver& nic);

struct UdpLinkConfig {
    MacAddress mac{};       // ours: the NIC's
    Ipv4 ip{};              // ours (link_local_from_mac(mac) if not configured)
    u16 port = 0;
    Ipv4 peer_ip{};
    u16 peer_port = 0;
    bool peer_mac_known = false;  // peer_mac given: a static entry ARP never changes (else learnt)
    MacAddress peer_mac{};
};

struct LinkStats {
    u64 frames_in = 0;           // every frame given to receive_frame
    u64 datagrams_in = 0;        // delivered to the caller
    u64 datagrams_out = 0;       // handed to the NIC
    u64 not_for_us = 0;          // another MAC, EtherType, protocol, address or port
    u64 malformed = 0;           // truncated or inconsistent headers, IP options we cannot skip, ...
    u64 bad_ip_checksum = 0;
    u64 bad_udp_checksum = 0;    // includes a missing (zero) UDP checksum
    u64 fragments = 0;           // MF set or a fragment offset: never reassembled
    u64 arp_requests_in = 0, arp_replies_in = 0, arp_requests_out = 0, arp_replies_out = 0;
    u64 arp_conflicts = 0;       // someone else claims our address
    u64 peer_mac_changes = 0;    // learnt a different MAC for the peer's address
    u64 peer_mac_mismatches = 0; // the peer's datagrams from a MAC other than the learnt one
    u64 unresolved = 0;          // datagrams dropped: the peer's MAC not known yet (ARP sent)
    u64 tx_busy = 0;             // datagrams dropped: NIC ring full
    u64 tx_invalid = 0;          // datagrams refused: too long, or not configured
};

class UdpLink {
public:
    explicit UdpLink(const FramePort& nic) : nic_(nic) {}
    UdpLink(const UdpLink&) = delete;
    UdpLink& operator=(const UdpLink&) = delete;

    // Invalid: an address not link-local unicast, both the same, a zero
    // port, or a group MAC. Resets the peer MAC unless the config gives it.
    Err configure(const UdpLinkConfig& cfg);
    const UdpLinkConfig& config() const { return cfg_; }

    // The datagram service mig::Connection runs over (best effort).
    mig::DatagramPort port() { return mig::DatagramPort{&UdpLink::port_send, this}; }

    // One datagram to the peer. NotFound: the peer's MAC is not known yet (an
    // ARP request went out instead); Busy: NIC ring full; Invalid: longer
    // than kMaxPayloadBytes or not configured.
    Err send(const u8* payload, u32 len);
    // Ask for the peer's MAC now (also tells the peer ours).
    Err resolve();
    bool peer_resolved() const { return peer_known_; }
    const MacAddress& peer_mac() const { return peer_mac_; }

    using DatagramFn = void (*)(void* ctx, const u8* payload, u32 len);
    // One received Ethernet frame (no FCS): ARP handled here, a datagram for
    // us handed to fn (the bytes live until fn returns), the rest dropped.
    void receive_frame(const u8* frame, u32 len, DatagramFn fn, void* ctx);
    // Every frame the NIC has (up to budget) through receive_frame.
    u32 poll(e1000e::Driver& nic, DatagramFn fn, void* ctx, u32 budget = ~u32{0});

    const LinkStats& stats() const { return stats_; }

private:
    static void port_send(void* ctx, const u8* frame, u32 len) { (void)static_cast<UdpLink*>(ctx)->send(frame, len); }
    Err send_arp(u16 op, const MacAddress& eth_dst, const MacAddress& target_mac, Ipv4 target_ip);
    void on_arp(const u8* arp, u32 len);
    void on_ipv4(const MacAddress& src, const u8* ip, u32 len, DatagramFn fn, void* ctx);

    FramePort nic_;
    UdpLinkConfig cfg_{};
    bool configured_ = false, peer_known_ = false;
    MacAddress peer_mac_{};
    u16 ip_id_ = 0;
    LinkStats stats_;
    u8 frame_[kMaxFrameBytes];
};

}  // namespace pv::net
