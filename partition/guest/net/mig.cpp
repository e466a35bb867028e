// net-guest's migration-transport mode: the handshake (vio/mig_auth) and the
// reliable windowed connection (vio/mig_transport) between two machines over
// UDP on the e1000e link. BearSSL (Debian's ppc64el libbearssl.a, built with
// VSX) does the HMAC/HKDF, so MSR[FP|VEC|VSX] is turned on first; the
// hypervisor keeps that state per vCPU (docs/vcpu_state.md). Our own code is
// still built without FP and vector instructions.
#include "partition/guest/net/mig.h"
#include "partition/guest/net/nic.h"

#include <string.h>

#include <new>

#include "partition/guest/rt/console.h"
#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/platform.h"
#include "vio/mig_transport.h"

using namespace rt;
namespace mig = pv::mig;

namespace netguest {
namespace {

constexpr u32 kSummaryMagic = 0x50564d53;  // "PVMS": the server's summary (received, mismatches)
constexpr u64 kLimitMs = 180000;           // the whole exchange, handshake to close
constexpr u64 kLingerMs = 1500;            // after Closed: answer the peer's retransmitted Close

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void put32(u8* p, u32 v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<u8>(v >> (24 - 8 * i));
}
u32 get32(const u8* p) { return u32{p[0]} << 24 | u32{p[1]} << 16 | u32{p[2]} << 8 | p[3]; }

// Message i: 1 byte, the full 1408, and lengths spread over the range between.
u32 msg_len(u64 i) {
    if (i % 8 == 0) return 1;
    if (i % 8 == 1) return mig::kMaxMessageBytes;
    return static_cast<u32>(1 + (i * 389) % mig::kMaxMessageBytes);
}
u8 msg_byte(u64 i, u32 j) { return static_cast<u8>((i * 131 + j * 7 + (j >> 8)) ^ 0x5a); }

u32 make_msg(u8* buf, u64 i) {
    u32 len = msg_len(i);
    for (u32 j = 0; j < len; ++j) buf[j] = msg_byte(i, j);
    return len;
}
bool msg_ok(const u8* p, u32 len, u64 i) {
    if (len != msg_len(i)) return false;
    for (u32 j = 0; j < len; ++j)
        if (p[j] != msg_byte(i, j)) return false;
    return true;
}

u64 now_ms() { return timebase() * 1000 / platform().timebase_hz; }

struct Rx {
    mig::Connection* conn;
    u64 now;
};
void on_datagram(void* ctx, const u8* p, u32 len) {
    auto* rx = static_cast<Rx*>(ctx);
    rx->conn->receive(p, len, rx->now);  // receive() may send (acks): allowed in poll()'s callback
}

void report(const char* role, const mig::Connection& c) {
    const mig::TransportStats& s = c.stats();
    log("mig: %s: frames %lu sent / %lu received, messages %lu sent / %lu delivered, %lu retransmissions, %lu "
        "probes, %lu acks",
        role, s.frames_sent, s.frames_received, s.messages_sent, s.messages_delivered, s.retransmits, s.probes,
        s.acks_sent);
    log("mig: %s: %lu rejected records (%lu bad tag, %lu replayed, %lu wrong session, %lu malformed), %lu "
        "duplicates, %lu out of order",
        role, s.rejected, s.bad_tag, s.replayed, s.wrong_session, s.malformed, s.duplicates, s.out_of_order);
}

alignas(mig::Connection) u8 g_conn_storage[sizeof(mig::Connection)];
u8 g_msg[mig::kMaxMessageBytes];

}  // namespace

bool parse_psk(const char* s, size_t len, mig::Psk& psk) {
    if (len != 2 * mig::kPskBytes) return false;
    for (u32 i = 0; i < mig::kPskBytes; ++i) {
        int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        psk.bytes[i] = static_cast<u8>(hi << 4 | lo);
    }
    return true;
}

void run_mig(pv::e1000e::Driver& nic, pv::net::UdpLink& link, bool client, const mig::Psk& psk, u64 count,
             u64 wait_s) {
    const char* role = client ? "mig-client" : "mig-server";
    mig::Nonce nonce;
    if (!fresh_nonce(nonce)) {
        log("FAIL role=%s: DARN gave no random number for the nonce", role);
        return;
    }
    enable_fp_vmx_vsx();
    auto* conn = new (g_conn_storage) mig::Connection(link.port(), psk);
    Rx rx{conn, now_ms()};

    // The client starts once the server's link answers ARP (its machine may
    // boot later): the handshake's own retries cover a few seconds only.
    const u64 t0 = now_ms();
    if (client) {
        u64 asked = 0;
        while (!link.peer_resolved()) {
            rx.now = now_ms();
            if (rx.now - t0 > wait_s * 1000) {
                log("FAIL role=%s: the peer never answered ARP in %lu s", role, wait_s);
                return;
            }
            if (asked == 0 || rx.now - asked >= 200) {
                (void)link.resolve();
                asked = rx.now;
            }
            link.poll(nic, on_datagram, &rx);
        }
        log("mig: peer resolved after %lu ms; connecting", now_ms() - t0);
        conn->connect(nonce, now_ms());
    } else {
        conn->accept(nonce, now_ms());
    }

    u64 next = 0, received = 0, mismatches = 0, bytes = 0;
    u64 peer_received = 0, peer_mismatches = 0, opened_at = 0;
    bool summary = false, close_called = false, was_open = false, timed_out = false;
    while (conn->state() != mig::ConnState::Closed && conn->state() != mig::ConnState::Aborted) {
        rx.now = now_ms();
        link.poll(nic, on_datagram, &rx);
        conn->poll(rx.now);
        mig::ConnState st = conn->state();
        if (st == mig::ConnState::Accepting && !was_open && conn->stats().frames_received == 0 &&
            rx.now - t0 > wait_s * 1000) {
            log("FAIL role=%s: no Hello from the peer in %lu s", role, wait_s);
            return;
        }
        if (rx.now - t0 > kLimitMs) {
            timed_out = true;
            conn->abort(mig::AbortReason::Local, rx.now);
            break;
        }
        if (st != mig::ConnState::Open && st != mig::ConnState::Closing) continue;
        if (!was_open) {
            was_open = true;
            opened_at = rx.now;
            log("mig: session %016lx open after %lu ms", conn->session().value, rx.now - t0);
        }
        if (client) {
            while (next < count && conn->send_credit() > 0) {
                u32 len = make_msg(g_msg, next);
                if (conn->send(g_msg, len, rx.now) != pv::Err::Ok) break;
                bytes += len;
                ++next;
            }
        }
        u32 len = 0;
        while (const u8* p = conn->peek(&len)) {
            if (client) {
                if (!summary && len == 12 && get32(p) == kSummaryMagic) {
                    summary = true;
                    peer_received = get32(p + 4);
                    peer_mismatches = get32(p + 8);
                } else {
                    ++mismatches;  // the server sends nothing but its summary
                }
            } else {
                if (received >= count || !msg_ok(p, len, received)) ++mismatches;
                bytes += len;
                ++received;
            }
            conn->pop(rx.now);
        }
        if (!client && received >= count && !summary) {
            u8 s[12];
            put32(s, kSummaryMagic);
            put32(s + 4, static_cast<u32>(received));
            put32(s + 8, static_cast<u32>(mismatches));
            if (conn->send(s, sizeof s, rx.now) == pv::Err::Ok) summary = true;
        }
        // The client closes once the summary is in; the server after the client.
        if (!close_called && (client ? summary : conn->peer_closed())) {
            conn->close(rx.now);
            close_called = true;
        }
    }
    if (conn->state() == mig::ConnState::Closed)
        for (u64 t = now_ms(); now_ms() - t < kLingerMs;) {
            rx.now = now_ms();
            link.poll(nic, on_datagram, &rx);
            conn->poll(rx.now);
        }
    u64 ms = opened_at ? now_ms() - opened_at : 0;
    report(role, *conn);
    const mig::TransportStats& st = conn->stats();
    if (conn->state() != mig::ConnState::Closed) {
        const char* why = timed_out ? "no end in 180 s" : mig::abort_reason_name(conn->abort_reason());
        if (!was_open)
            log("FAIL role=%s: handshake failed: %s (%lu records rejected), %lu messages delivered", role, why,
                st.rejected, st.messages_delivered);
        else
            log("FAIL role=%s: connection aborted: %s (peer's reason: %s), %lu messages %s", role, why,
                mig::abort_reason_name(conn->peer_reason()), client ? next : received,
                client ? "sent" : "received");
        return;
    }
    if (client) {
        if (summary && next == count && peer_received == count && peer_mismatches == 0 && mismatches == 0)
            log("PASS role=mig-client sent %lu messages (%lu bytes) in %lu ms, peer verified %lu, 0 mismatches, "
                "%lu retransmissions, %lu rejected records",
                next, bytes, ms, peer_received, st.retransmits, st.rejected);
        else
            log("FAIL role=mig-client sent %lu of %lu, peer verified %lu with %lu mismatches, %lu unexpected "
                "messages",
                next, count, peer_received, peer_mismatches, mismatches);
    } else {
        if (received == count && mismatches == 0)
            log("PASS role=mig-server received %lu messages (%lu bytes) in order, 0 mismatches, %lu "
                "retransmissions, %lu rejected records",
                received, bytes, st.retransmits, st.rejected);
        else
            log("FAIL role=mig-server received %lu of %lu, %lu mismatches", received, count, mismatches);
    }
}

}  // namespace netguest
