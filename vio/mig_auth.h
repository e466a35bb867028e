// Migration record authentication (docs/migration-transport.md): a pre-shared
// system-pair key, a three-message mutual handshake that derives per-session,
// per-direction keys with HKDF-SHA256, and records sealed with HMAC-SHA256
// (truncated to 128 bits) over header and body, bound to their session and a
// per-direction record sequence number checked against a replay window.
// All cryptography is BearSSL's; this file only frames bytes and compares tags.
// Portable: no heap, no exceptions; the caller supplies the nonces (they must
// be unpredictable and never reused: DARN on POWER9, the host RNG in tests).
#pragma once
#include <bearssl/bearssl_hmac.h>

#include "base/endian.h"
#include "base/types.h"

namespace pv::mig {

inline constexpr u32 kPskBytes = 32;
inline constexpr u32 kNonceBytes = 32;
inline constexpr u32 kTagBytes = 16;     // HMAC-SHA256 truncated to its first 128 bits
inline constexpr u32 kKeyBytes = 32;
inline constexpr u32 kRecordMagic = 0x50564d47;  // "PVMG"
inline constexpr u8 kRecordVersion = 1;
// One frame fills at most one UDP/IPv4 datagram on a 1500-byte Ethernet MTU
// (1500 - 20 IPv4 - 8 UDP).
inline constexpr u32 kMaxFrameBytes = 1472;

struct Psk {
    u8 bytes[kPskBytes];
};
struct Nonce {
    u8 bytes[kNonceBytes];
};
struct SessionIdTag {};
using SessionId = Strong<SessionIdTag>;

enum class RecordType : u8 {
    Hello = 1,       // initiator -> responder, tag under the PSK's hello key
    HelloReply = 2,  // responder -> initiator, tag over the transcript
    Confirm = 3,     // initiator -> responder, tag over the transcript
    HelloRefused = 4,  // responder -> initiator: a Hello's tag failed; no tag, a hint only
    Data = 16,       // everything after the handshake: a session record
    Ack = 17,
    Close = 18,
    Abort = 19,
};
inline constexpr bool is_session_record(u8 t) { return t >= 16 && t <= 19; }

// The header every frame starts with. A session record is this header, the
// body, then kTagBytes of tag; the tag covers header and body.
struct RecordHeader {
    Be32 magic;
    u8 version;
    u8 type;
    Be16 length;  // body bytes (not header, not tag)
    Be64 session;  // 0 in a Hello
    Be64 seq;      // record sequence number, per direction, from 1, never reused
};
static_assert(sizeof(RecordHeader) == 24);
static_assert(__builtin_offsetof(RecordHeader, type) == 5);
static_assert(__builtin_offsetof(RecordHeader, length) == 6);
static_assert(__builtin_offsetof(RecordHeader, session) == 8);
static_assert(__builtin_offsetof(RecordHeader, seq) == 16);
inline constexpr u32 kRecordHeaderBytes = sizeof(RecordHeader);
inline constexpr u32 kMaxBodyBytes = kMaxFrameBytes - kRecordHeaderBytes - kTagBytes;  // 1432

// What each handshake message carries besides the nonce: the sender's
// receive window and largest message, for the transport above.
struct HandshakeParams {
    Be16 window;
    Be16 max_message;
    Be32 reserved;
};
static_assert(sizeof(HandshakeParams) == 8);
struct HelloBody {  // Hello and HelloReply
    u8 nonce[kNonceBytes];
    HandshakeParams params;
};
static_assert(sizeof(HelloBody) == 40 && __builtin_offsetof(HelloBody, params) == 32);
inline constexpr u32 kHelloBytes = kRecordHeaderBytes + sizeof(HelloBody) + kTagBytes;   // 80
inline constexpr u32 kReplyBytes = kRecordHeaderBytes + sizeof(HelloBody) + kTagBytes;   // 80
inline constexpr u32 kConfirmBytes = kRecordHeaderBytes + sizeof(HandshakeParams) + kTagBytes;  // 48
inline constexpr u32 kRefusedBytes = kRecordHeaderBytes + kNonceBytes;  // 56: the refused Hello's nonce

enum class AuthError : u8 {
    Ok = 0,
    Short,         // shorter than its header, or than header + length + tag
    BadMagic,
    BadVersion,
    BadType,       // a type this step does not take
    BadLength,     // length field disagrees with the frame size
    WrongSession,  // another session's record (or a session not yet set up)
    BadTag,        // forged, corrupted, or sealed with another key
    Replayed,      // authentic, sequence number already accepted
    TooOld,        // authentic, sequence number left the replay window
    WrongState,    // handshake message out of turn
};
const char* auth_error_name(AuthError e);

// Constant-time comparison (no early exit): tags are compared with this only.
bool equal_ct(const u8* a, const u8* b, u32 n);

// Sequence numbers accepted so far: the highest, and a bitmap of the
// kReplayWindow below it. Records further back are refused as TooOld; the
// transport above never needs them (a retransmission is a new record).
class ReplayWindow {
public:
    static constexpr u32 kReplayWindow = 256;
    AuthError check(u64 seq) const;
    void accept(u64 seq);  // only after check() said Ok and the tag verified
    u64 highest() const { return highest_; }

private:
    bool test_bit(u64 back) const { return (bits_[back / 64] >> (back % 64)) & 1; }
    u64 highest_ = 0;         // 0: nothing accepted yet (sequence numbers start at 1)
    u64 bits_[kReplayWindow / 64]{};  // bit b: highest_ - b accepted
};

// Keys and counters of one established session.
class Session {
public:
    bool established() const { return established_; }
    SessionId id() const { return id_; }
    // Seals one record into out (cap bytes): header, body, tag. Returns the
    // frame length, 0 when it does not fit or the session is not established.
    u32 seal(RecordType type, const u8* body, u32 len, u8* out, u32 cap);
    struct Opened {
        RecordType type;
        const u8* body;  // inside the frame given to open()
        u32 length;
        u64 seq;
    };
    // Verifies one received frame; on Ok fills out and records the sequence
    // number. Nothing of a frame that is not Ok may be used.
    AuthError open(const u8* frame, u32 len, Opened& out);
    u64 records_sealed() const { return tx_seq_; }
    u64 highest_opened() const { return rx_window_.highest(); }
    void clear();  // forget the keys (close, abort)

private:
    friend class Handshake;
    void install(SessionId id, const u8* tx_key, const u8* rx_key);
    br_hmac_key_context tx_{}, rx_{};
    SessionId id_{};
    u64 tx_seq_ = 0;
    ReplayWindow rx_window_;
    bool established_ = false;
};

// One side of the handshake (docs/migration-transport.md "Handshake"):
//   I -> R  Hello(Ni, params)                       tag = HMAC(Khello, Hello head+body)
//   R -> I  HelloReply(Nr, params) session = S      tag = HMAC(Khs, Hello | Reply head+body)
//   I -> R  Confirm(params)        session = S      tag = HMAC(Khs, Hello | Reply | Confirm head+body)
// PRK = HKDF-Extract(salt = Ni | Nr, PSK); HKDF-Expand(PRK, "poolvisor migration v1", 104)
// = Khs | Ki->r | Kr->i | S (8 bytes, big-endian); Khello = HKDF-Expand(
// HKDF-Extract(no salt, PSK), "poolvisor migration v1 hello", 32) only keeps
// corrupted and keyless Hellos out (it is replayable). The initiator is the
// migration's source. Each tag proves its sender holds the PSK and saw the
// other side's fresh nonce; neither ever reveals anything about the PSK.
class Handshake {
public:
    enum class Role : u8 { None, Initiator, Responder };
    enum class Step : u8 { Idle, HelloSent, ReplySent, Done };

    // Initiator: writes the Hello (kHelloBytes) into out.
    u32 initiator_hello(const Psk& psk, const Nonce& ni, HandshakeParams mine, u8* out, u32 cap);
    // Initiator: checks a HelloReply; on Ok writes the Confirm into out
    // (*out_len = kConfirmBytes), installs the keys in s, stores the peer's params.
    AuthError initiator_reply(const u8* frame, u32 len, u8* out, u32 cap, u32* out_len, Session& s);
    // Responder: takes a Hello; on Ok writes the HelloReply (*out_len =
    // kReplyBytes) and installs the keys in s (records can be opened from now:
    // a valid session record from the initiator confirms it as well as Confirm does).
    AuthError responder_hello(const Psk& psk, const Nonce& nr, HandshakeParams mine, const u8* frame,
                              u32 len, u8* out, u32 cap, u32* out_len, Session& s);
    // Responder: checks the Confirm.
    AuthError responder_confirm(const u8* frame, u32 len);
    // Responder, after a Hello failed its tag: the HelloRefused naming its
    // nonce (*out_len = kRefusedBytes). Unauthenticated, so the initiator
    // only takes it as the likely reason when its handshake times out.
    static bool refusal(const u8* hello, u32 len, u8* out, u32 cap, u32* out_len);
    // Initiator: whether frame is a HelloRefused of our Hello.
    bool refuses_our_hello(const u8* frame, u32 len) const;
    // A retransmitted Hello (the same bytes as the one answered): its reply again.
    bool same_hello(const u8* frame, u32 len) const;
    const u8* hello() const { return hello_; }
    const u8* reply() const { return reply_; }
    Role role() const { return role_; }
    Step step() const { return step_; }
    HandshakeParams peer_params() const { return peer_; }
    void clear();

private:
    static void hello_tag(const Psk& psk, const u8* hello, u8* tag);
    void derive(const Psk& psk, const u8* ni, const u8* nr, u8* khs, u8* ki2r, u8* kr2i, u64* sid);
    void transcript_tag(const u8* tail, u32 tail_len, bool with_reply, u8* tag) const;

    u8 khs_[kKeyBytes]{};
    u8 hello_[kHelloBytes]{};
    u8 reply_[kReplyBytes]{};
    Psk psk_{};
    HandshakeParams peer_{};
    SessionId sid_{};
    Role role_ = Role::None;
    Step step_ = Step::Idle;
};

}  // namespace pv::mig
