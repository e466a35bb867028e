// Migration record authentication (vio/mig_auth.h): the handshake derives the
// same session on both sides only with the same PSK; records open only in
// their own session, direction and once; every modified byte is refused.
#include "vio/mig_auth.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/unit/rng.h"

namespace pv::mig {
namespace {

Psk psk_of(u8 seed) {
    Psk k;
    for (u32 i = 0; i < kPskBytes; ++i) k.bytes[i] = static_cast<u8>(seed * 31 + i);
    return k;
}
Nonce nonce_of(u64 seed) {
    test::Rng r{seed};
    Nonce n;
    for (auto& b : n.bytes) b = static_cast<u8>(r.next());
    return n;
}
HandshakeParams params(u16 w) {
    HandshakeParams p{};
    p.window.set(w);
    p.max_message.set(1408);
    return p;
}

struct Pair {
    Handshake hi, hr;
    Session si, sr;
    u8 hello[kMaxFrameBytes], reply[kMaxFrameBytes], confirm[kMaxFrameBytes];
    u32 reply_len = 0, confirm_len = 0;
    AuthError hello_result = AuthError::Ok, reply_result = AuthError::Ok, confirm_result = AuthError::Ok;

    void run(const Psk& ki, const Psk& kr, u64 seed = 1) {
        u32 n = hi.initiator_hello(ki, nonce_of(seed), params(32), hello, sizeof hello);
        ASSERT_EQ(n, kHelloBytes);
        hello_result =
            hr.responder_hello(kr, nonce_of(seed + 1000), params(16), hello, n, reply, sizeof reply, &reply_len, sr);
        if (hello_result != AuthError::Ok) return;
        reply_result = hi.initiator_reply(reply, reply_len, confirm, sizeof confirm, &confirm_len, si);
        if (reply_result == AuthError::Ok) confirm_result = hr.responder_confirm(confirm, confirm_len);
    }
};

TEST(MigAuth, HandshakeAgreesOnSessionAndParams) {
    Pair p;
    p.run(psk_of(1), psk_of(1));
    ASSERT_EQ(p.reply_result, AuthError::Ok);
    ASSERT_EQ(p.confirm_result, AuthError::Ok);
    EXPECT_TRUE(p.si.established());
    EXPECT_TRUE(p.sr.established());
    EXPECT_EQ(p.si.id(), p.sr.id());
    EXPECT_NE(p.si.id().value, 0u);
    EXPECT_EQ(p.hi.peer_params().window.get(), 16);
    EXPECT_EQ(p.hr.peer_params().window.get(), 32);
    EXPECT_EQ(p.reply_len, kReplyBytes);
    EXPECT_EQ(p.confirm_len, kConfirmBytes);
    // Fresh nonces, a fresh session.
    Pair q;
    q.run(psk_of(1), psk_of(1), 7);
    EXPECT_NE(q.si.id(), p.si.id());
}

TEST(MigAuth, WrongPskFailsAtEveryStep) {
    // The Hello's tag is under the PSK's hello key.
    Pair p;
    p.run(psk_of(1), psk_of(2));
    EXPECT_EQ(p.hello_result, AuthError::BadTag);
    EXPECT_FALSE(p.sr.established());
    EXPECT_FALSE(p.si.established());
    // A reply made with another key (the Hello replayed to it by an attacker
    // who holds that key) never verifies at the initiator.
    Pair q;
    u32 n = q.hi.initiator_hello(psk_of(1), nonce_of(3), params(32), q.hello, sizeof q.hello);
    Handshake other;
    Session os;
    u8 hello2[kMaxFrameBytes];
    Handshake h2;
    h2.initiator_hello(psk_of(2), nonce_of(3), params(32), hello2, sizeof hello2);  // the same nonce, key 2
    ASSERT_EQ(other.responder_hello(psk_of(2), nonce_of(4), params(16), hello2, n, q.reply, sizeof q.reply,
                                    &q.reply_len, os),
              AuthError::Ok);
    EXPECT_NE(q.hi.initiator_reply(q.reply, q.reply_len, q.confirm, sizeof q.confirm, &q.confirm_len, q.si),
              AuthError::Ok);
    EXPECT_FALSE(q.si.established());
    // The responder never accepts a Confirm of another session.
    Pair a;
    a.run(psk_of(1), psk_of(1));
    Pair b;
    u32 m = b.hi.initiator_hello(psk_of(1), nonce_of(9), params(32), b.hello, sizeof b.hello);
    ASSERT_EQ(b.hr.responder_hello(psk_of(1), nonce_of(10), params(16), b.hello, m, b.reply, sizeof b.reply,
                                   &b.reply_len, b.sr),
              AuthError::Ok);
    EXPECT_EQ(b.hr.responder_confirm(a.confirm, a.confirm_len), AuthError::WrongSession);
}

TEST(MigAuth, EveryModifiedHelloByteIsRefused) {
    Pair p;
    u32 n = p.hi.initiator_hello(psk_of(1), nonce_of(5), params(32), p.hello, sizeof p.hello);
    ASSERT_EQ(n, kHelloBytes);
    for (u32 i = 0; i < n; ++i) {
        Handshake hr;
        Session sr;
        p.hello[i] ^= 0x04;
        EXPECT_NE(hr.responder_hello(psk_of(1), nonce_of(6), params(16), p.hello, n, p.reply, sizeof p.reply,
                                     &p.reply_len, sr),
                  AuthError::Ok)
            << "hello byte " << i;
        EXPECT_FALSE(sr.established());
        p.hello[i] ^= 0x04;
    }
}

TEST(MigAuth, EveryModifiedReplyOrConfirmByteIsRefused) {
    for (u32 i = 0; i < kReplyBytes; ++i) {
        Pair p;
        u32 n = p.hi.initiator_hello(psk_of(1), nonce_of(5), params(32), p.hello, sizeof p.hello);
        ASSERT_EQ(p.hr.responder_hello(psk_of(1), nonce_of(6), params(16), p.hello, n, p.reply, sizeof p.reply,
                                       &p.reply_len, p.sr),
                  AuthError::Ok);
        p.reply[i] ^= 0x01;
        EXPECT_NE(p.hi.initiator_reply(p.reply, p.reply_len, p.confirm, sizeof p.confirm, &p.confirm_len, p.si),
                  AuthError::Ok)
            << "reply byte " << i;
    }
    for (u32 i = 0; i < kConfirmBytes; ++i) {
        Pair p;
        u32 n = p.hi.initiator_hello(psk_of(1), nonce_of(5), params(32), p.hello, sizeof p.hello);
        ASSERT_EQ(p.hr.responder_hello(psk_of(1), nonce_of(6), params(16), p.hello, n, p.reply, sizeof p.reply,
                                       &p.reply_len, p.sr),
                  AuthError::Ok);
        ASSERT_EQ(p.hi.initiator_reply(p.reply, p.reply_len, p.confirm, sizeof p.confirm, &p.confirm_len, p.si),
                  AuthError::Ok);
        p.confirm[i] ^= 0x80;
        EXPECT_NE(p.hr.responder_confirm(p.confirm, p.confirm_len), AuthError::Ok) << "confirm byte " << i;
    }
}

TEST(MigAuth, RecordsOpenOnceInTheirSessionAndDirection) {
    Pair p;
    p.run(psk_of(1), psk_of(1));
    ASSERT_EQ(p.confirm_result, AuthError::Ok);
    const u8 body[] = "page 42 chunk 3";
    u8 f[kMaxFrameBytes];
    u32 n = p.si.seal(RecordType::Data, body, sizeof body, f, sizeof f);
    ASSERT_EQ(n, kRecordHeaderBytes + sizeof body + kTagBytes);
    // The initiator cannot open its own record (per-direction keys: a reflected record is refused).
    Session::Opened o{};
    EXPECT_EQ(p.si.open(f, n, o), AuthError::BadTag);
    ASSERT_EQ(p.sr.open(f, n, o), AuthError::Ok);
    EXPECT_EQ(o.type, RecordType::Data);
    EXPECT_EQ(o.seq, 1u);
    ASSERT_EQ(o.length, sizeof body);
    EXPECT_EQ(std::memcmp(o.body, body, sizeof body), 0);
    // Replayed.
    EXPECT_EQ(p.sr.open(f, n, o), AuthError::Replayed);
    // Another session with the same PSK (a record recorded from it) is refused.
    Pair q;
    q.run(psk_of(1), psk_of(1), 77);
    u8 g[kMaxFrameBytes];
    u32 m = q.si.seal(RecordType::Data, body, sizeof body, g, sizeof g);
    EXPECT_EQ(p.sr.open(g, m, o), AuthError::WrongSession);
    // ... also when an attacker rewrites its session id: the tag covers it.
    store_be<u64>(g + 8, p.sr.id().value);
    EXPECT_EQ(p.sr.open(g, m, o), AuthError::BadTag);
    // Every single-bit change anywhere in a record is refused, and the good one still opens after.
    u32 k = p.si.seal(RecordType::Ack, body, 5, f, sizeof f);
    for (u32 i = 0; i < k; ++i) {
        for (u8 bit = 1; bit; bit <<= 1) {
            f[i] ^= bit;
            EXPECT_NE(p.sr.open(f, k, o), AuthError::Ok) << "byte " << i;
            f[i] ^= bit;
        }
    }
    EXPECT_EQ(p.sr.open(f, k, o), AuthError::Ok);
    EXPECT_EQ(o.type, RecordType::Ack);
    // Truncated and padded frames.
    u32 j = p.si.seal(RecordType::Data, body, sizeof body, f, sizeof f);
    EXPECT_EQ(p.sr.open(f, j - 1, o), AuthError::BadLength);
    EXPECT_EQ(p.sr.open(f, 10, o), AuthError::Short);
    EXPECT_EQ(p.sr.open(f, j, o), AuthError::Ok);
}

TEST(MigAuth, SealRefusesWhatDoesNotFit) {
    Pair p;
    p.run(psk_of(1), psk_of(1));
    static u8 big[kMaxFrameBytes + 64];
    u8 f[kMaxFrameBytes];
    EXPECT_EQ(p.si.seal(RecordType::Data, big, kMaxBodyBytes, f, sizeof f), kMaxFrameBytes);
    EXPECT_EQ(p.si.seal(RecordType::Data, big, kMaxBodyBytes + 1, f, sizeof f), 0u);
    EXPECT_EQ(p.si.seal(RecordType::Hello, big, 4, f, sizeof f), 0u);
    Session none;
    EXPECT_EQ(none.seal(RecordType::Data, big, 4, f, sizeof f), 0u);
}

TEST(MigAuth, ReplayWindowAcceptsReorderWithinAndRefusesOld) {
    ReplayWindow w;
    EXPECT_EQ(w.check(0), AuthError::TooOld);
    for (u64 seq : {5u, 3u, 4u, 1u, 300u, 299u, 100u}) {
        ASSERT_EQ(w.check(seq), AuthError::Ok) << seq;
        w.accept(seq);
    }
    EXPECT_EQ(w.check(300), AuthError::Replayed);
    EXPECT_EQ(w.check(299), AuthError::Replayed);
    EXPECT_EQ(w.check(100), AuthError::Replayed);
    EXPECT_EQ(w.check(101), AuthError::Ok);
    EXPECT_EQ(w.check(45), AuthError::Ok);      // 300 - 255: the oldest still in the window
    EXPECT_EQ(w.check(44), AuthError::TooOld);  // 300 - 256
    EXPECT_EQ(w.check(5), AuthError::TooOld);
    // A random trace against a plain set: exactly the sequence numbers not yet
    // seen and within the window are accepted.
    test::Rng r{42};
    ReplayWindow v;
    static bool seen[20000];
    u64 hi = 0;
    for (int i = 0; i < 50000; ++i) {
        u64 s = 1 + r.below(19000);
        if (hi > 0 && s + 300 < hi) s = hi - r.below(300);  // keep most tries near the front
        if (s == 0) s = 1;
        AuthError want = seen[s] ? AuthError::Replayed : AuthError::Ok;
        if (hi >= s + ReplayWindow::kReplayWindow) want = AuthError::TooOld;
        ASSERT_EQ(v.check(s), want) << "try " << i << " seq " << s << " highest " << hi;
        if (want == AuthError::Ok) {
            v.accept(s);
            seen[s] = true;
            if (s > hi) hi = s;
        }
    }
}

TEST(MigAuth, EqualCtComparesEveryByte) {
    u8 a[16]{}, b[16]{};
    EXPECT_TRUE(equal_ct(a, b, 16));
    b[15] = 1;
    EXPECT_FALSE(equal_ct(a, b, 16));
    EXPECT_TRUE(equal_ct(a, b, 15));
    b[0] = 0x80;
    EXPECT_FALSE(equal_ct(a, b, 1));
}

}  // namespace
}  // namespace pv::mig

namespace pv::mig {
namespace {

// Computed independently from docs/migration-transport.md with Python's hmac
// and hashlib (RFC 5869 HKDF by hand; the same splitmix64 nonces): PSK
// psk_of(1), Ni = nonce_of(1), Nr = nonce_of(1001), params window 32 / 1408.
constexpr u64 kPinnedSession = 14219095350772438069ull;   // OKM bytes 96..103
constexpr u64 kPinnedHelloTag = 16092225900870449167ull;  // first 8 bytes of the Hello's tag

// The wire format as docs/migration-transport.md gives it, byte for byte: two
// systems may run different builds, so any change here is a protocol change.
TEST(MigAuth, RecordBytesAreAsDocumented) {
    Pair p;
    p.run(psk_of(1), psk_of(1));
    ASSERT_EQ(p.confirm_result, AuthError::Ok);
    const u8 body[3] = {0xa1, 0xa2, 0xa3};
    u8 f[kMaxFrameBytes];
    ASSERT_EQ(p.si.seal(RecordType::Data, body, 3, f, sizeof f), 24u + 3 + 16);
    ASSERT_EQ(p.si.seal(RecordType::Close, body, 3, f, sizeof f), 24u + 3 + 16);  // record seq 2
    const u8 head[8] = {'P', 'V', 'M', 'G', 1, 18, 0, 3};
    EXPECT_EQ(std::memcmp(f, head, 8), 0);
    u64 sid = p.si.id().value;
    for (int i = 0; i < 8; ++i) EXPECT_EQ(f[8 + i], static_cast<u8>(sid >> (56 - 8 * i))) << i;
    const u8 seq[8] = {0, 0, 0, 0, 0, 0, 0, 2};
    EXPECT_EQ(std::memcmp(f + 16, seq, 8), 0);
    EXPECT_EQ(std::memcmp(f + 24, body, 3), 0);
    // The handshake frames: sizes, types, session fields.
    EXPECT_EQ(p.hello[5], 1);
    EXPECT_EQ(load_be<u16>(p.hello + 6), 40);
    EXPECT_EQ(load_be<u64>(p.hello + 8), 0u);
    EXPECT_EQ(p.reply[5], 2);
    EXPECT_EQ(load_be<u64>(p.reply + 8), sid);
    EXPECT_EQ(load_be<u16>(p.reply + 24 + 32), 16);  // the responder's window
    EXPECT_EQ(p.confirm[5], 3);
    EXPECT_EQ(load_be<u16>(p.confirm + 6), 8);
}

// Fixed PSK and nonces give the session id and Hello tag an independent
// implementation of the documented derivation gives (HKDF-SHA256, its info
// strings, the nonce order, the Hello layout).
TEST(MigAuth, KeyDerivationIsPinned) {
    Pair p;
    p.run(psk_of(1), psk_of(1), 1);
    ASSERT_EQ(p.confirm_result, AuthError::Ok);
    EXPECT_EQ(p.si.id().value, kPinnedSession);
    u64 hello_tag = load_be<u64>(p.hello + kHelloBytes - kTagBytes);
    EXPECT_EQ(hello_tag, kPinnedHelloTag);
}

}  // namespace
}  // namespace pv::mig
