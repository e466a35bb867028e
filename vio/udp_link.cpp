// UDP/IPv4 link-local framing and ARP: see udp_link.h and
// docs/network-link.md. Header layouts: RFC 894 (Ethernet II), RFC 791
// (IPv4), RFC 768 (UDP), RFC 826 (ARP); all fields big-endian.
#include "vio/udp_link.h"

#include "base/endian.h"

namespace pv::net {
namespace {

constexpr u16 kArpHtypeEthernet = 1, kArpRequest = 1, kArpReply = 2;
constexpr u16 kIpFlagDf = 0x4000, kIpFlagMf = 0x2000, kIpOffsetMask = 0x1fff;

// Offsets inside the frame.
constexpr u32 kEthDst = 0, kEthSrc = 6, kEthType = 12;
constexpr u32 kIp = kEthHeaderBytes, kUdp = kIp + kIpv4HeaderBytes, kPayload = kUdp + kUdpHeaderBytes;

void put_mac(u8* p, const MacAddress& m) { __builtin_memcpy(p, m.b, 6); }
void put_ip(u8* p, Ipv4 a) { __builtin_memcpy(p, a.b, 4); }
MacAddress get_mac(const u8* p) {
    MacAddress m;
    __builtin_memcpy(m.b, p, 6);
    return m;
}
Ipv4 get_ip(const u8* p) {
    Ipv4 a;
    __builtin_memcpy(a.b, p, 4);
    return a;
}
bool is_unicast(const MacAddress& m) {
    return !(m.b[0] & 1) && (m.b[0] | m.b[1] | m.b[2] | m.b[3] | m.b[4] | m.b[5]);
}
// The pseudo header's share of the UDP checksum (RFC 768).
u32 pseudo_sum(Ipv4 src, Ipv4 dst, u32 udp_len) {
    u8 ph[12];
    put_ip(ph, src);
    put_ip(ph + 4, dst);
    ph[8] = 0;
    ph[9] = kIpProtoUdp;
    store_be<u16>(ph + 10, static_cast<u16>(udp_len));
    return ones_sum(ph, sizeof ph);
}

struct PollCtx {
    UdpLink* link;
    UdpLink::DatagramFn fn;
    void* ctx;
};

}  // namespace

u32 ones_sum(const u8* p, u32 len, u32 sum) {
    u64 s = sum;
    u32 i = 0;
    for (; i + 1 < len; i += 2) s += u32{p[i]} << 8 | p[i + 1];
    if (i < len) s += u32{p[i]} << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<u32>(s);
}

u16 internet_checksum(const u8* p, u32 len, u32 sum) { return static_cast<u16>(~ones_sum(p, len, sum) & 0xffff); }

u16 udp_checksum(Ipv4 src, Ipv4 dst, const u8* udp, u32 udp_len) {
    u16 c = internet_checksum(udp, udp_len, pseudo_sum(src, dst, udp_len));
    return c == 0 ? 0xffff : c;
}

Ipv4 link_local_from_mac(const MacAddress& mac) {
    u32 h = 2166136261u;  // FNV-1a
    for (u8 b : mac.b) h = (h ^ b) * 16777619u;
    u32 n = h % (254 * 256);
    return link_local(static_cast<u8>(1 + n / 256), static_cast<u8>(n % 256));
}

FramePort frame_port(e1000e::Driver& nic) {
    return FramePort{[](void* ctx, const u8* f, u32 len) { return static_cast<e1000e::Driver*>(ctx)->send(f, len); },
                     &nic};
}

Err UdpLink::configure(const UdpLinkConfig& cfg) {
    configured_ = peer_known_ = false;
    if (!is_unicast(cfg.mac) || !is_link_local_unicast(cfg.ip) || !is_link_local_unicast(cfg.peer_ip) ||
        cfg.ip == cfg.peer_ip || cfg.port == 0 || cfg.peer_port == 0 ||
        (cfg.peer_mac_known && (!is_unicast(cfg.peer_mac) || cfg.peer_mac == cfg.mac)))
        return Err::Invalid;
    cfg_ = cfg;
    peer_known_ = cfg.peer_mac_known;
    peer_mac_ = cfg.peer_mac_known ? cfg.peer_mac : MacAddress{};
    configured_ = true;
    return Err::Ok;
}

Err UdpLink::send_arp(u16 op, const MacAddress& eth_dst, const MacAddress& target_mac, Ipv4 target_ip) {
    u8* f = frame_;
    put_mac(f + kEthDst, eth_dst);
    put_mac(f + kEthSrc, cfg_.mac);
    store_be<u16>(f + kEthType, kEtherTypeArp);
    u8* a = f + kEthHeaderBytes;
    store_be<u16>(a, kArpHtypeEthernet);
    store_be<u16>(a + 2, kEtherTypeIpv4);
    a[4] = 6;
    a[5] = 4;
    store_be<u16>(a + 6, op);
    put_mac(a + 8, cfg_.mac);
    put_ip(a + 14, cfg_.ip);
    put_mac(a + 18, target_mac);
    put_ip(a + 24, target_ip);
    Err e = nic_.send(nic_.ctx, f, kEthHeaderBytes + kArpBytes);  // the NIC pads it to 60
    if (e == Err::Ok) ++(op == kArpRequest ? stats_.arp_requests_out : stats_.arp_replies_out);
    return e;
}

Err UdpLink::resolve() {
    if (!configured_) return Err::Invalid;
    return send_arp(kArpRequest, kBroadcastMac, MacAddress{}, cfg_.peer_ip);
}

Err UdpLink::send(const u8* payload, u32 len) {
    if (!configured_ || len > kMaxPayloadBytes) {
        ++stats_.tx_invalid;
        return Err::Invalid;
    }
    if (!peer_known_) {
        ++stats_.unresolved;
        (void)resolve();
        return Err::NotFound;
    }
    u8* f = frame_;
    put_mac(f + kEthDst, peer_mac_);
    put_mac(f + kEthSrc, cfg_.mac);
    store_be<u16>(f + kEthType, kEtherTypeIpv4);

    const u32 udp_len = kUdpHeaderBytes + len, ip_len = kIpv4HeaderBytes + udp_len;
    u8* ip = f + kIp;
    ip[0] = 0x45;  // version 4, 5 words
    ip[1] = 0;     // DSCP/ECN
    store_be<u16>(ip + 2, static_cast<u16>(ip_len));
    store_be<u16>(ip + 4, ++ip_id_);
    store_be<u16>(ip + 6, kIpFlagDf);
    ip[8] = kTtl;
    ip[9] = kIpProtoUdp;
    store_be<u16>(ip + 10, 0);
    put_ip(ip + 12, cfg_.ip);
    put_ip(ip + 16, cfg_.peer_ip);
    store_be<u16>(ip + 10, internet_checksum(ip, kIpv4HeaderBytes));

    u8* udp = f + kUdp;
    store_be<u16>(udp, cfg_.port);
    store_be<u16>(udp + 2, cfg_.peer_port);
    store_be<u16>(udp + 4, static_cast<u16>(udp_len));
    store_be<u16>(udp + 6, 0);
    if (len) __builtin_memcpy(f + kPayload, payload, len);
    store_be<u16>(udp + 6, udp_checksum(cfg_.ip, cfg_.peer_ip, udp, udp_len));

    Err e = nic_.send(nic_.ctx, f, kEthHeaderBytes + ip_len);
    if (e == Err::Ok) ++stats_.datagrams_out;
    else if (e == Err::Busy) ++stats_.tx_busy;
    else ++stats_.tx_invalid;
    return e;
}

void UdpLink::on_arp(const u8* a, u32 len) {
    if (len < kArpBytes || load_be<u16>(a) != kArpHtypeEthernet || load_be<u16>(a + 2) != kEtherTypeIpv4 ||
        a[4] != 6 || a[5] != 4) {
        ++stats_.malformed;
        return;
    }
    u16 op = load_be<u16>(a + 6);
    if (op != kArpRequest && op != kArpReply) {
        ++stats_.malformed;
        return;
    }
    MacAddress sha = get_mac(a + 8);
    Ipv4 spa = get_ip(a + 14), tpa = get_ip(a + 24);
    if (spa == cfg_.ip && sha != cfg_.mac) ++stats_.arp_conflicts;  // RFC 3927 2.5: no defence here
    // Learn the peer from anything it says about itself (a request for us
    // included: it is about to talk to us), unless the config pinned it.
    if (spa == cfg_.peer_ip && !cfg_.peer_mac_known && is_unicast(sha) && sha != cfg_.mac) {
        if (peer_known_ && sha != peer_mac_) ++stats_.peer_mac_changes;
        peer_mac_ = sha;
        peer_known_ = true;
    }
    if (tpa != cfg_.ip) {
        ++stats_.not_for_us;
        return;
    }
    if (op == kArpReply) {
        ++stats_.arp_replies_in;
        return;
    }
    ++stats_.arp_requests_in;
    (void)send_arp(kArpReply, kBroadcastMac, sha, spa);
}

void UdpLink::on_ipv4(const MacAddress& src, const u8* ip, u32 len, DatagramFn fn, void* ctx) {
    if (len < kIpv4HeaderBytes || (ip[0] >> 4) != 4) {
        ++stats_.malformed;
        return;
    }
    u32 ihl = (ip[0] & 0xf) * 4u, total = load_be<u16>(ip + 2);
    if (ihl < kIpv4HeaderBytes || total < ihl || total > len) {  // len may include Ethernet padding
        ++stats_.malformed;
        return;
    }
    if (ones_sum(ip, ihl) != 0xffff) {
        ++stats_.bad_ip_checksum;
        return;
    }
    u16 frag = load_be<u16>(ip + 6);
    if ((frag & kIpFlagMf) || (frag & kIpOffsetMask)) {
        ++stats_.fragments;
        return;
    }
    if (ip[9] != kIpProtoUdp || get_ip(ip + 16) != cfg_.ip || get_ip(ip + 12) != cfg_.peer_ip) {
        ++stats_.not_for_us;
        return;
    }
    const u8* udp = ip + ihl;
    u32 udp_len = total - ihl;
    if (udp_len < kUdpHeaderBytes || load_be<u16>(udp + 4) != udp_len) {
        ++stats_.malformed;
        return;
    }
    // Ours always carry a checksum, so a zero one is as wrong as a bad one.
    if (load_be<u16>(udp + 6) == 0 ||
        ones_sum(udp, udp_len, pseudo_sum(cfg_.peer_ip, cfg_.ip, udp_len)) != 0xffff) {
        ++stats_.bad_udp_checksum;
        return;
    }
    if (load_be<u16>(udp) != cfg_.peer_port || load_be<u16>(udp + 2) != cfg_.port) {
        ++stats_.not_for_us;
        return;
    }
    // Nothing checks an Ethernet header (the FCS is gone): a learnt MAC that
    // a damaged ARP frame gave us is replaced by asking again, now and then,
    // while the peer's datagrams come from another one.
    if (!cfg_.peer_mac_known && src != peer_mac_ && stats_.peer_mac_mismatches++ % 16 == 0) (void)resolve();
    ++stats_.datagrams_in;
    fn(ctx, udp + kUdpHeaderBytes, udp_len - kUdpHeaderBytes);
}

void UdpLink::receive_frame(const u8* f, u32 len, DatagramFn fn, void* ctx) {
    ++stats_.frames_in;
    if (!configured_) {
        ++stats_.not_for_us;
        return;
    }
    if (len < kEthHeaderBytes) {
        ++stats_.malformed;
        return;
    }
    MacAddress dst = get_mac(f + kEthDst);
    u16 type = load_be<u16>(f + kEthType);
    bool to_us = dst == cfg_.mac, bcast = dst == kBroadcastMac;
    if (type == kEtherTypeArp && (to_us || bcast)) {
        on_arp(f + kEthHeaderBytes, len - kEthHeaderBytes);
    } else if (type == kEtherTypeIpv4 && to_us) {
        on_ipv4(get_mac(f + kEthSrc), f + kEthHeaderBytes, len - kEthHeaderBytes, fn, ctx);
    } else {
        ++stats_.not_for_us;
    }
}

u32 UdpLink::poll(e1000e::Driver& nic, DatagramFn fn, void* ctx, u32 budget) {
    PollCtx pc{this, fn, ctx};
    return nic.poll(
        [](void* c, const u8* f, u32 len) {
            auto* p = static_cast<PollCtx*>(c);
            p->link->receive_frame(f, len, p->fn, p->ctx);
        },
        &pc, budget);
}

}  // namespace pv::net
