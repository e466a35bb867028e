// net-guest: brings up the NIC the hypervisor handed us (network_device in the
// config; /poolvisor-network in our device tree) with our own e1000e driver
// (vio/e1000e) and UDP/IPv4 link-local framing (vio/udp_link), and exchanges
// datagrams with the same guest on the other machine (tools/pv-pair):
//   role=ping  sends count=N datagrams (sizes vary up to 1472 bytes), each
//              until its echo comes back (retransmitted on a timeout), checks
//              every echo byte for byte, then tells the peer it is done;
//   role=echo  sends back every datagram it receives, checking each against
//              the pattern its sequence number gives, until the peer is done.
//   role=mig-client / role=mig-server  the migration transport instead
//              (partition/guest/net/mig.h): an authenticated session, count=N
//              messages client to server, checked in order; key=<64 hex
//              digits> is the pre-shared key (test-only provisioning).
// Both print "PASS ..." with their counts, or "FAIL ...", and power off.
// Bootargs: role=, count=N, peer_mac=52:54:00:12:34:57 (its link-local
// address is derived from it; ARP finds its MAC), port=P, peer_port=P,
// pin_peer=on (no ARP: the peer's MAC is a static entry), wait_s=S (how
// long to wait for the peer at first, default 90).
// One vCPU, real mode. DMA: bus address = logical address (the hypervisor maps
// our whole memory at TCE 0), so the driver's area needs no translation.
#include <string.h>

#include "partition/guest/net/mig.h"
#include "partition/guest/net/nic.h"
#include "partition/guest/rt/console.h"
#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/platform.h"
#include "vio/e1000e.h"
#include "vio/udp_link.h"

using namespace rt;
using namespace netguest;
namespace e1000e = pv::e1000e;
namespace net = pv::net;

namespace {

constexpr u16 kDefaultPort = 7310;
constexpr u64 kDefaultCount = 200, kMaxCount = 100000;
constexpr u64 kRetryUs = 200000;        // an echo not back in 200 ms: send again
constexpr u32 kMaxRetries = 50;          // per datagram once the peer has answered once
constexpr u64 kDefaultWaitS = 90;        // for the peer's first answer (it may boot later)
constexpr u64 kEchoIdleUs = 30000000;   // echo: the peer silent this long after it started: give up
constexpr u64 kDoneLingerUs = 1000000;  // echo: answer repeated DONEs this long

constexpr u32 kMagicData = 0x50564e44;  // "PVND"
constexpr u32 kMagicDone = 0x50564e45;  // "PVNE": ping is done (count, echoes)
constexpr u32 kMagicAck = 0x50564e46;   // "PVNF": echo saw DONE (its count)
constexpr u32 kHeaderBytes = 12;        // magic, seq, len

// --- bootargs -------------------------------------------------------------

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool parse_mac(const char* s, size_t len, net::MacAddress& m) {
    if (len != 17) return false;
    for (int i = 0; i < 6; ++i) {
        int hi = hex_digit(s[i * 3]), lo = hex_digit(s[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':')) return false;
        m.b[i] = static_cast<u8>(hi << 4 | lo);
    }
    return true;
}

// --- payloads ---------------------------------------------------------------

void put32(u8* p, u32 v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<u8>(v >> (24 - 8 * i));
}
u32 get32(const u8* p) { return u32{p[0]} << 24 | u32{p[1]} << 16 | u32{p[2]} << 8 | p[3]; }

// Datagram `seq`: its length cycles through small, odd and full sizes.
u32 data_len(u32 seq) {
    constexpr u32 kLens[] = {kHeaderBytes, 18, 64, 333, 1000, 1471, net::kMaxPayloadBytes};
    return kLens[seq % (sizeof kLens / sizeof kLens[0])];
}
u8 pattern(u32 seq, u32 i) { return static_cast<u8>(seq * 131 + i * 7 + (i >> 8)); }

u32 make_data(u8* buf, u32 seq) {
    u32 len = data_len(seq);
    put32(buf, kMagicData);
    put32(buf + 4, seq);
    put32(buf + 8, len);
    for (u32 i = kHeaderBytes; i < len; ++i) buf[i] = pattern(seq, i);
    return len;
}

bool data_ok(const u8* p, u32 len) {
    if (len < kHeaderBytes || get32(p) != kMagicData || get32(p + 8) != len) return false;
    u32 seq = get32(p + 4);
    if (data_len(seq) != len) return false;
    for (u32 i = kHeaderBytes; i < len; ++i)
        if (p[i] != pattern(seq, i)) return false;
    return true;
}

// --- the exchange -------------------------------------------------------------

struct Peer {
    e1000e::Driver* nic;
    net::UdpLink* link;
    // What arrived (both roles).
    u64 datagrams = 0, bad = 0, dup = 0;
    // ping: the echo we wait for.
    u32 want_seq = 0;
    bool got_echo = false, got_ack = false;
    u64 ack_count = 0;
    const u8* sent = nullptr;
    u32 sent_len = 0;
    u64 mismatches = 0;
    // echo
    u64 echoed = 0;
    bool done = false;
    u64 done_count = 0, done_echoes = 0;
    u64 out_of_order = 0;  // a sequence number ahead of the next one expected
};

void on_ping_side(void* ctx, const u8* p, u32 len) {
    auto* s = static_cast<Peer*>(ctx);
    ++s->datagrams;
    if (len >= 8 && get32(p) == kMagicAck) {
        s->got_ack = true;
        s->ack_count = len >= 12 ? get32(p + 4) : 0;
        return;
    }
    if (len < kHeaderBytes || get32(p) != kMagicData) {
        ++s->bad;
        return;
    }
    u32 seq = get32(p + 4);
    if (seq != s->want_seq || s->got_echo) {  // a late echo of a retransmitted one
        ++s->dup;
        return;
    }
    s->got_echo = true;
    if (len != s->sent_len || memcmp(p, s->sent, len) != 0) ++s->mismatches;
}

void on_echo_side(void* ctx, const u8* p, u32 len) {
    auto* s = static_cast<Peer*>(ctx);
    ++s->datagrams;
    if (len >= 12 && get32(p) == kMagicDone) {
        s->done = true;
        s->done_count = get32(p + 4);
        s->done_echoes = get32(p + 8);
        u8 ack[12];
        put32(ack, kMagicAck);
        put32(ack + 4, static_cast<u32>(s->echoed));
        put32(ack + 8, 0);
        (void)s->link->send(ack, sizeof ack);
        return;
    }
    if (!data_ok(p, len)) {
        ++s->bad;
        return;
    }
    // The peer sends seq + 1 only once seq's echo is back, so a first copy
    // arrives in order; an older seq is a retransmission (our echo was lost
    // or slow) or a copy the wire duplicated or held back: echoed again,
    // counted once. A newer one cannot happen.
    u32 seq = get32(p + 4);
    if (seq == s->echoed) ++s->echoed;
    else if (seq < s->echoed) ++s->dup;
    else ++s->out_of_order;
    (void)s->link->send(p, len);  // poll()'s callback may send (vio/e1000e.h)
}

[[noreturn]] void finish(e1000e::Driver& nic, const net::UdpLink& link) {
    report_stats(nic, link);
    nic.stop();
    power_off();
}

[[noreturn]] void run_ping(e1000e::Driver& nic, net::UdpLink& link, u64 count, u64 wait_s) {
    static u8 buf[net::kMaxPayloadBytes];
    Peer s{&nic, &link};
    u64 retries = 0, first_answer_ticks = 0;
    const u64 retry = ticks_from_us(kRetryUs);
    const u64 t0 = timebase();
    for (u32 seq = 0; seq < count; ++seq) {
        u32 len = make_data(buf, seq);
        s.want_seq = seq;
        s.got_echo = false;
        s.sent = buf;
        s.sent_len = len;
        for (u32 tries = 0; !s.got_echo; ++tries) {
            bool waiting_for_peer = seq == 0;
            if (waiting_for_peer ? timebase() - t0 > wait_s * platform().timebase_hz : tries > kMaxRetries) {
                log("FAIL datagram %u: no echo after %u tries (%lu echoed before it)", seq, tries, u64{seq});
                finish(nic, link);
            }
            if (tries) ++retries;
            (void)link.send(buf, len);  // NotFound: ARP asked for the peer's MAC; Busy: ring full: retried
            u64 sent_at = timebase();
            while (!s.got_echo && timebase() - sent_at < retry) link.poll(nic, on_ping_side, &s);
        }
        if (seq == 0) {
            first_answer_ticks = timebase() - t0;
            log("peer answered after %lu ms (%lu retries)", first_answer_ticks * 1000 / platform().timebase_hz,
                retries);
        }
    }
    u64 ticks = timebase() - t0 - first_answer_ticks;
    u64 echoed = count;  // each seq left the loop only with its echo
    // Tell the peer, until it acknowledges (bounded).
    u8 done[12];
    put32(done, kMagicDone);
    put32(done + 4, static_cast<u32>(count));
    put32(done + 8, static_cast<u32>(echoed));
    for (u32 tries = 0; !s.got_ack && tries < 20; ++tries) {
        (void)link.send(done, sizeof done);
        u64 sent_at = timebase();
        while (!s.got_ack && timebase() - sent_at < retry) link.poll(nic, on_ping_side, &s);
    }
    u64 us = ticks * 1000000 / platform().timebase_hz;
    log("%lu datagrams echoed in %lu ms after the first (%lu us per round trip), %lu retransmissions, %lu late "
        "duplicates, %lu unexpected",
        echoed, us / 1000, echoed > 1 ? us / (echoed - 1) : 0, retries, s.dup, s.bad);
    if (!s.got_ack) log("the peer did not acknowledge the end");
    if (s.mismatches == 0 && s.got_ack && s.ack_count == count)
        log("PASS role=ping sent %lu, echoed %lu, 0 mismatches, peer echoed %lu", count, echoed, s.ack_count);
    else
        log("FAIL role=ping sent %lu, echoed %lu, %lu mismatches, peer echoed %lu (ack %s)", count, echoed,
            s.mismatches, s.ack_count, s.got_ack ? "yes" : "no");
    finish(nic, link);
}

[[noreturn]] void run_echo(e1000e::Driver& nic, net::UdpLink& link, u64 wait_s) {
    Peer s{&nic, &link};
    const u64 hz = platform().timebase_hz;
    u64 last = timebase();
    bool started = false;
    while (!s.done) {
        u64 before = s.datagrams;
        link.poll(nic, on_echo_side, &s);
        u64 now = timebase();
        if (s.datagrams != before) {
            if (!started) log("first datagram from the peer");
            started = true;
            last = now;
        } else if (now - last > (started ? ticks_from_us(kEchoIdleUs) : wait_s * hz)) {
            log("FAIL role=echo: the peer went silent (%lu echoed, %lu bad)", s.echoed, s.bad);
            finish(nic, link);
        }
    }
    // A lost ACK makes the peer send DONE again: answer for a while.
    for (u64 t = timebase(); timebase() - t < ticks_from_us(kDoneLingerUs);) link.poll(nic, on_echo_side, &s);
    log("peer done: it sent %lu, saw %lu echoes; we echoed %lu (%lu repeats, %lu bad, %lu ahead)", s.done_count,
        s.done_echoes, s.echoed, s.dup, s.bad, s.out_of_order);
    if (s.bad == 0 && s.out_of_order == 0 && s.echoed == s.done_count && s.done_echoes == s.done_count && s.echoed > 0)
        log("PASS role=echo echoed %lu, 0 mismatches", s.echoed);
    else
        log("FAIL role=echo echoed %lu of %lu, %lu mismatches, %lu ahead", s.echoed, s.done_count, s.bad,
            s.out_of_order);
    finish(nic, link);
}

}  // namespace

extern "C" [[noreturn]] void pv_main(const void* fdt) {
    if (!init(fdt, "net-guest")) halt();
    const Platform& p = platform();
    NetNode node;
    switch (read_network_node(p.fdt, node, "FAIL ")) {
    case NodeResult::Ok: break;
    case NodeResult::Missing:
        log("FAIL no network device node (compatible %s): is network_device set for this partition?",
            kNetworkCompatible);
        power_off();
    case NodeResult::Bad: power_off();
    }
    log("%s: registers at 0x%lx (%lu KiB), DMA window 0x%lx..0x%lx", node.name, node.regs, node.regs_size >> 10,
        node.dma_base, node.dma_base + node.dma_size);

    const char* role = "";
    size_t role_len = 0;
    (void)bootarg("role", &role, &role_len);
    bool ping = role_len == 4 && memcmp(role, "ping", 4) == 0;
    bool echo = role_len == 4 && memcmp(role, "echo", 4) == 0;
    bool mig_client = role_len == 10 && memcmp(role, "mig-client", 10) == 0;
    bool mig_server = role_len == 10 && memcmp(role, "mig-server", 10) == 0;
    pv::mig::Psk psk{};
    if (mig_client || mig_server) {
        const char* key = "";
        size_t key_len = 0;
        if (!bootarg("key", &key, &key_len) || !netguest::parse_psk(key, key_len, psk)) {
            log("FAIL bootargs: role=mig-* wants key=<64 hex digits> (the pre-shared key)");
            power_off();
        }
    }
    const char* mac_s = "";
    size_t mac_len = 0;
    net::MacAddress peer_mac{};
    if (!(ping || echo || mig_client || mig_server) || !bootarg("peer_mac", &mac_s, &mac_len) ||
        !parse_mac(mac_s, mac_len, peer_mac)) {
        log("FAIL bootargs: want role=ping|echo|mig-client|mig-server and peer_mac=xx:xx:xx:xx:xx:xx");
        power_off();
    }

    e1000e::Driver* nicp = start_nic(node, "FAIL ");
    if (!nicp) power_off();
    e1000e::Driver& nic = *nicp;
    static net::UdpLink link(net::frame_port(nic));
    net::UdpLinkConfig cfg = link_config(nic, peer_mac, static_cast<u16>(bootarg_u64("port", kDefaultPort)),
                                         static_cast<u16>(bootarg_u64("peer_port", kDefaultPort)),
                                         bootarg_is("pin_peer", "on"));
    if (pv::Err e = link.configure(cfg); e != pv::Err::Ok) {
        log("FAIL udp link configuration refused (error %u)", static_cast<unsigned>(e));
        power_off();
    }
    print_address("us:  ", cfg.mac, cfg.ip, cfg.port);
    print_address("peer:", peer_mac, cfg.peer_ip, cfg.peer_port);
    u64 wait_s = bootarg_u64("wait_s", kDefaultWaitS);
    if (mig_client || mig_server) {
        u64 count = bootarg_u64("count", kDefaultCount);
        if (count == 0 || count > kMaxCount) count = kDefaultCount;
        log("role=%s: %lu messages", mig_client ? "mig-client" : "mig-server", count);
        netguest::run_mig(nic, link, mig_client, psk, count, wait_s);
        finish(nic, link);
    }
    if (ping) {
        u64 count = bootarg_u64("count", kDefaultCount);
        if (count == 0 || count > kMaxCount) count = kDefaultCount;
        log("role=ping: %lu datagrams", count);
        run_ping(nic, link, count, wait_s);
    }
    log("role=echo");
    run_echo(nic, link, wait_s);
}
