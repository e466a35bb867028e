#include "vio/mig_auth.h"

#include <bearssl/bearssl_hash.h>
#include <bearssl/bearssl_kdf.h>

namespace pv::mig {

namespace {

constexpr char kInfo[] = "poolvisor migration v1";
constexpr char kHelloInfo[] = "poolvisor migration v1 hello";
constexpr u32 kDerivedBytes = 3 * kKeyBytes + 8;

void wipe(void* p, u32 n) {
    // volatile: the compiler may not drop the stores to memory about to go out of use.
    auto* v = static_cast<volatile u8*>(p);
    for (u32 i = 0; i < n; ++i) v[i] = 0;
}

void copy(u8* d, const u8* s, u32 n) {
    for (u32 i = 0; i < n; ++i) d[i] = s[i];
}

RecordHeader make_header(RecordType type, u32 length, u64 session, u64 seq) {
    RecordHeader h{};
    h.magic.set(kRecordMagic);
    h.version = kRecordVersion;
    h.type = static_cast<u8>(type);
    h.length.set(static_cast<u16>(length));
    h.session.set(session);
    h.seq.set(seq);
    return h;
}

// The header fields every frame is checked for before any tag work.
AuthError check_header(const u8* frame, u32 len, u32 tag_bytes, RecordHeader* h) {
    if (len < kRecordHeaderBytes) return AuthError::Short;
    *h = load_layout<RecordHeader>(frame);
    if (h->magic.get() != kRecordMagic) return AuthError::BadMagic;
    if (h->version != kRecordVersion) return AuthError::BadVersion;
    if (len < kRecordHeaderBytes + tag_bytes) return AuthError::Short;
    if (u32{h->length.get()} + kRecordHeaderBytes + tag_bytes != len) return AuthError::BadLength;
    return AuthError::Ok;
}

void mac(const br_hmac_key_context& key, const u8* a, u32 alen, const u8* b, u32 blen, const u8* c,
         u32 clen, u8* tag) {
    br_hmac_context ctx;
    br_hmac_init(&ctx, &key, kTagBytes);
    br_hmac_update(&ctx, a, alen);
    if (blen) br_hmac_update(&ctx, b, blen);
    if (clen) br_hmac_update(&ctx, c, clen);
    br_hmac_out(&ctx, tag);
    wipe(&ctx, sizeof ctx);
}

}  // namespace

const char* auth_error_name(AuthError e) {
    switch (e) {
    case AuthError::Ok: return "ok";
    case AuthError::Short: return "short frame";
    case AuthError::BadMagic: return "bad magic";
    case AuthError::BadVersion: return "bad version";
    case AuthError::BadType: return "unexpected type";
    case AuthError::BadLength: return "bad length";
    case AuthError::WrongSession: return "wrong session";
    case AuthError::BadTag: return "bad tag";
    case AuthError::Replayed: return "replayed";
    case AuthError::TooOld: return "outside replay window";
    case AuthError::WrongState: return "out of turn";
    }
    return "?";
}

bool equal_ct(const u8* a, const u8* b, u32 n) {
    u8 diff = 0;
    for (u32 i = 0; i < n; ++i) diff |= static_cast<u8>(a[i] ^ b[i]);
    return diff == 0;
}

// ---- ReplayWindow ----------------------------------------------------------

AuthError ReplayWindow::check(u64 seq) const {
    if (seq == 0) return AuthError::TooOld;  // never sealed
    if (seq > highest_) return AuthError::Ok;
    u64 back = highest_ - seq;
    if (back >= kReplayWindow) return AuthError::TooOld;
    return test_bit(back) ? AuthError::Replayed : AuthError::Ok;
}

void ReplayWindow::accept(u64 seq) {
    if (seq > highest_) {
        u64 shift = seq - highest_;
        if (shift >= kReplayWindow) {
            for (auto& w : bits_) w = 0;
        } else {
            // Shift the bitmap towards older by `shift` bits (word 0 holds the newest).
            u32 words = shift / 64, bits = shift % 64;
            constexpr u32 n = kReplayWindow / 64;
            for (u32 i = n; i-- > 0;) {
                u64 hi = i >= words ? bits_[i - words] : 0;
                u64 lo = i >= words + 1 ? bits_[i - words - 1] : 0;
                bits_[i] = bits ? (hi << bits) | (lo >> (64 - bits)) : hi;
            }
        }
        highest_ = seq;
        bits_[0] |= 1;
    } else {
        u64 back = highest_ - seq;
        bits_[back / 64] |= u64{1} << (back % 64);
    }
}

// ---- Session ---------------------------------------------------------------

void Session::install(SessionId id, const u8* tx_key, const u8* rx_key) {
    br_hmac_key_init(&tx_, &br_sha256_vtable, tx_key, kKeyBytes);
    br_hmac_key_init(&rx_, &br_sha256_vtable, rx_key, kKeyBytes);
    id_ = id;
    tx_seq_ = 0;
    rx_window_ = ReplayWindow{};
    established_ = true;
}

void Session::clear() {
    wipe(&tx_, sizeof tx_);
    wipe(&rx_, sizeof rx_);
    id_ = SessionId{};
    tx_seq_ = 0;
    rx_window_ = ReplayWindow{};
    established_ = false;
}

u32 Session::seal(RecordType type, const u8* body, u32 len, u8* out, u32 cap) {
    u32 total = kRecordHeaderBytes + len + kTagBytes;
    if (!established_ || !is_session_record(static_cast<u8>(type)) || len > kMaxBodyBytes || total > cap)
        return 0;
    RecordHeader h = make_header(type, len, id_.value, ++tx_seq_);
    store_layout(out, h);
    copy(out + kRecordHeaderBytes, body, len);
    mac(tx_, out, kRecordHeaderBytes + len, nullptr, 0, nullptr, 0, out + kRecordHeaderBytes + len);
    return total;
}

AuthError Session::open(const u8* frame, u32 len, Opened& out) {
    RecordHeader h;
    if (AuthError e = check_header(frame, len, kTagBytes, &h); e != AuthError::Ok) return e;
    if (!is_session_record(h.type)) return AuthError::BadType;
    if (!established_ || h.session.get() != id_.value) return AuthError::WrongSession;
    u64 seq = h.seq.get();
    u32 body = h.length.get();
    u8 tag[kTagBytes];
    mac(rx_, frame, kRecordHeaderBytes + body, nullptr, 0, nullptr, 0, tag);
    if (!equal_ct(tag, frame + kRecordHeaderBytes + body, kTagBytes)) return AuthError::BadTag;
    // The window is consulted only for authentic records: a forged sequence
    // number can never move it.
    if (AuthError e = rx_window_.check(seq); e != AuthError::Ok) return e;
    rx_window_.accept(seq);
    out = Opened{static_cast<RecordType>(h.type), frame + kRecordHeaderBytes, body, seq};
    return AuthError::Ok;
}

// ---- Handshake -------------------------------------------------------------

void Handshake::clear() {
    wipe(khs_, sizeof khs_);
    wipe(&psk_, sizeof psk_);
    wipe(hello_, sizeof hello_);
    wipe(reply_, sizeof reply_);
    peer_ = HandshakeParams{};
    sid_ = SessionId{};
    role_ = Role::None;
    step_ = Step::Idle;
}

void Handshake::derive(const Psk& psk, const u8* ni, const u8* nr, u8* khs, u8* ki2r, u8* kr2i, u64* sid) {
    u8 salt[2 * kNonceBytes];
    copy(salt, ni, kNonceBytes);
    copy(salt + kNonceBytes, nr, kNonceBytes);
    br_hkdf_context hc;
    br_hkdf_init(&hc, &br_sha256_vtable, salt, sizeof salt);
    br_hkdf_inject(&hc, psk.bytes, kPskBytes);
    br_hkdf_flip(&hc);
    u8 okm[kDerivedBytes];
    br_hkdf_produce(&hc, kInfo, sizeof kInfo - 1, okm, sizeof okm);
    copy(khs, okm, kKeyBytes);
    copy(ki2r, okm + kKeyBytes, kKeyBytes);
    copy(kr2i, okm + 2 * kKeyBytes, kKeyBytes);
    *sid = load_be<u64>(okm + 3 * kKeyBytes);
    if (*sid == 0) *sid = 1;  // 0 means "no session" in a Hello
    wipe(okm, sizeof okm);
    wipe(&hc, sizeof hc);
}

void Handshake::hello_tag(const Psk& psk, const u8* hello, u8* tag) {
    br_hkdf_context hc;
    br_hkdf_init(&hc, &br_sha256_vtable, BR_HKDF_NO_SALT, 0);
    br_hkdf_inject(&hc, psk.bytes, kPskBytes);
    br_hkdf_flip(&hc);
    u8 key[kKeyBytes];
    br_hkdf_produce(&hc, kHelloInfo, sizeof kHelloInfo - 1, key, sizeof key);
    br_hmac_key_context k;
    br_hmac_key_init(&k, &br_sha256_vtable, key, kKeyBytes);
    mac(k, hello, kHelloBytes - kTagBytes, nullptr, 0, nullptr, 0, tag);
    wipe(key, sizeof key);
    wipe(&k, sizeof k);
    wipe(&hc, sizeof hc);
}

void Handshake::transcript_tag(const u8* tail, u32 tail_len, bool with_reply, u8* tag) const {
    br_hmac_key_context k;
    br_hmac_key_init(&k, &br_sha256_vtable, khs_, kKeyBytes);
    mac(k, hello_, kHelloBytes, with_reply ? reply_ : nullptr, with_reply ? kReplyBytes : 0, tail, tail_len, tag);
    wipe(&k, sizeof k);
}

u32 Handshake::initiator_hello(const Psk& psk, const Nonce& ni, HandshakeParams mine, u8* out, u32 cap) {
    if (cap < kHelloBytes) return 0;
    clear();
    HelloBody b{};
    copy(b.nonce, ni.bytes, kNonceBytes);
    b.params = mine;
    store_layout(hello_, make_header(RecordType::Hello, sizeof b, 0, 0));
    store_layout(hello_ + kRecordHeaderBytes, b);
    hello_tag(psk, hello_, hello_ + kHelloBytes - kTagBytes);
    copy(out, hello_, kHelloBytes);
    psk_ = psk;
    role_ = Role::Initiator;
    step_ = Step::HelloSent;
    return kHelloBytes;
}

AuthError Handshake::initiator_reply(const u8* frame, u32 len, u8* out, u32 cap, u32* out_len, Session& s) {
    RecordHeader h;
    if (AuthError e = check_header(frame, len, kTagBytes, &h); e != AuthError::Ok) return e;
    if (h.type != static_cast<u8>(RecordType::HelloReply)) return AuthError::BadType;
    if (len != kReplyBytes) return AuthError::BadLength;
    if (role_ != Role::Initiator || step_ != Step::HelloSent) return AuthError::WrongState;
    if (cap < kConfirmBytes) return AuthError::Short;
    u8 khs[kKeyBytes], ki2r[kKeyBytes], kr2i[kKeyBytes];
    u64 sid;
    derive(psk_, hello_ + kRecordHeaderBytes, frame + kRecordHeaderBytes, khs, ki2r, kr2i, &sid);
    AuthError result = AuthError::Ok;
    if (h.session.get() != sid) {
        result = AuthError::WrongSession;  // a reply to another Hello, or another key
    } else {
        copy(khs_, khs, kKeyBytes);
        u8 tag[kTagBytes];
        transcript_tag(frame, kReplyBytes - kTagBytes, false, tag);
        if (!equal_ct(tag, frame + kReplyBytes - kTagBytes, kTagBytes)) {
            wipe(khs_, sizeof khs_);
            result = AuthError::BadTag;
        }
    }
    if (result == AuthError::Ok) {
        copy(reply_, frame, kReplyBytes);
        peer_ = load_layout<HelloBody>(frame + kRecordHeaderBytes).params;
        sid_ = SessionId{sid};
        HandshakeParams mine = load_layout<HelloBody>(hello_ + kRecordHeaderBytes).params;
        store_layout(out, make_header(RecordType::Confirm, sizeof mine, sid, 0));
        store_layout(out + kRecordHeaderBytes, mine);
        transcript_tag(out, kConfirmBytes - kTagBytes, true, out + kConfirmBytes - kTagBytes);
        *out_len = kConfirmBytes;
        s.install(sid_, ki2r, kr2i);
        step_ = Step::Done;
    }
    wipe(khs, sizeof khs);
    wipe(ki2r, sizeof ki2r);
    wipe(kr2i, sizeof kr2i);
    return result;
}

AuthError Handshake::responder_hello(const Psk& psk, const Nonce& nr, HandshakeParams mine, const u8* frame,
                                     u32 len, u8* out, u32 cap, u32* out_len, Session& s) {
    RecordHeader h;
    if (AuthError e = check_header(frame, len, kTagBytes, &h); e != AuthError::Ok) return e;
    if (h.type != static_cast<u8>(RecordType::Hello)) return AuthError::BadType;
    if (len != kHelloBytes || h.session.get() != 0 || h.seq.get() != 0) return AuthError::BadLength;
    if (cap < kReplyBytes) return AuthError::Short;
    u8 tag[kTagBytes];
    hello_tag(psk, frame, tag);
    if (!equal_ct(tag, frame + kHelloBytes - kTagBytes, kTagBytes)) return AuthError::BadTag;
    clear();
    copy(hello_, frame, kHelloBytes);
    peer_ = load_layout<HelloBody>(frame + kRecordHeaderBytes).params;
    u8 ki2r[kKeyBytes], kr2i[kKeyBytes];
    u64 sid;
    derive(psk, frame + kRecordHeaderBytes, nr.bytes, khs_, ki2r, kr2i, &sid);
    sid_ = SessionId{sid};
    HelloBody b{};
    copy(b.nonce, nr.bytes, kNonceBytes);
    b.params = mine;
    store_layout(reply_, make_header(RecordType::HelloReply, sizeof b, sid, 0));
    store_layout(reply_ + kRecordHeaderBytes, b);
    transcript_tag(reply_, kReplyBytes - kTagBytes, false, reply_ + kReplyBytes - kTagBytes);
    copy(out, reply_, kReplyBytes);
    *out_len = kReplyBytes;
    s.install(sid_, kr2i, ki2r);
    wipe(ki2r, sizeof ki2r);
    wipe(kr2i, sizeof kr2i);
    role_ = Role::Responder;
    step_ = Step::ReplySent;
    return AuthError::Ok;
}

AuthError Handshake::responder_confirm(const u8* frame, u32 len) {
    RecordHeader h;
    if (AuthError e = check_header(frame, len, kTagBytes, &h); e != AuthError::Ok) return e;
    if (h.type != static_cast<u8>(RecordType::Confirm)) return AuthError::BadType;
    if (len != kConfirmBytes) return AuthError::BadLength;
    if (role_ != Role::Responder || step_ != Step::ReplySent) return AuthError::WrongState;
    if (h.session.get() != sid_.value) return AuthError::WrongSession;
    u8 tag[kTagBytes];
    transcript_tag(frame, kConfirmBytes - kTagBytes, true, tag);
    if (!equal_ct(tag, frame + kConfirmBytes - kTagBytes, kTagBytes)) return AuthError::BadTag;
    step_ = Step::Done;
    return AuthError::Ok;
}

bool Handshake::refusal(const u8* hello, u32 len, u8* out, u32 cap, u32* out_len) {
    RecordHeader h;
    if (check_header(hello, len, kTagBytes, &h) != AuthError::Ok || len != kHelloBytes || cap < kRefusedBytes ||
        h.type != static_cast<u8>(RecordType::Hello))
        return false;
    store_layout(out, make_header(RecordType::HelloRefused, kNonceBytes, 0, 0));
    copy(out + kRecordHeaderBytes, hello + kRecordHeaderBytes, kNonceBytes);
    *out_len = kRefusedBytes;
    return true;
}

bool Handshake::refuses_our_hello(const u8* frame, u32 len) const {
    RecordHeader h;
    if (check_header(frame, len, 0, &h) != AuthError::Ok || len != kRefusedBytes ||
        h.type != static_cast<u8>(RecordType::HelloRefused))
        return false;
    return role_ == Role::Initiator && equal_ct(frame + kRecordHeaderBytes, hello_ + kRecordHeaderBytes, kNonceBytes);
}

bool Handshake::same_hello(const u8* frame, u32 len) const {
    return role_ == Role::Responder && len == kHelloBytes && equal_ct(frame, hello_, kHelloBytes);
}

}  // namespace pv::mig
