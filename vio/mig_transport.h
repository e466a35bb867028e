// The migration transport (docs/migration-transport.md): a reliable,
// windowed, message-oriented connection between two mover partitions over
// any datagram service (UDP/IPv4 on the e1000e link). Every frame is one
// authenticated record (vio/mig_auth.h); messages of up to kMaxMessageBytes
// arrive exactly once, in order, intact, or the connection aborts with a
// reason. The layer above splits a 4 KiB page into several messages.
// Polled, like vio/nvme: no threads, no interrupts, no heap. The caller
// implements DatagramPort::send, feeds every received frame to receive(),
// and calls poll() with the current time (ms, monotonic) at least every
// next_timer() - now ms.
#pragma once
#include "base/result.h"
#include "vio/mig_auth.h"

namespace pv::mig {

// The header every session record's body starts with.
struct TransportHeader {
    Be64 msn;     // Data, Close: message sequence number (from 1); 0 otherwise
    Be64 ack;     // next msn the sender of this frame expects (all below it received)
    Be32 sack;    // bit i set: msn ack + 1 + i received as well
    Be16 window;  // the sender of this frame accepts msn < ack + window
    u8 flags;     // kFlagProbe: answer with an Ack at once
    u8 reason;    // Abort: the AbortReason
};
static_assert(sizeof(TransportHeader) == 24);
static_assert(__builtin_offsetof(TransportHeader, ack) == 8);
static_assert(__builtin_offsetof(TransportHeader, sack) == 16);
static_assert(__builtin_offsetof(TransportHeader, window) == 20);
static_assert(__builtin_offsetof(TransportHeader, flags) == 22);
static_assert(__builtin_offsetof(TransportHeader, reason) == 23);
inline constexpr u8 kFlagProbe = 1;
inline constexpr u32 kTransportHeaderBytes = sizeof(TransportHeader);
inline constexpr u32 kMaxMessageBytes = kMaxBodyBytes - kTransportHeaderBytes;  // 1408
static_assert(kRecordHeaderBytes + kTransportHeaderBytes + kMaxMessageBytes + kTagBytes == kMaxFrameBytes);
// Messages in flight (sender) and buffered (receiver); the SACK bitmap covers
// the whole window past the cumulative ack.
inline constexpr u32 kSlots = 32;

struct DatagramPort {
    void (*send)(void* ctx, const u8* frame, u32 len) = nullptr;  // best effort; may drop
    void* ctx = nullptr;
};

struct TransportConfig {
    u32 rto_initial_ms = 40;   // first retransmission timeout
    u32 rto_max_ms = 1000;     // the doubling stops here
    u32 max_retries = 10;      // transmissions of one frame (or probes) before the abort
    u32 keepalive_ms = 500;    // idle this long with nothing in flight: probe the peer
};

enum class ConnState : u8 {
    Idle,        // neither connect() nor accept() yet
    Connecting,  // initiator: Hello sent, waiting for the HelloReply
    Accepting,   // responder: waiting for a Hello, then for the Confirm
    Open,
    Closing,     // close() called: our Close not acked yet, or the peer's not received
    Closed,      // both Closes acked (still answers the peer's retransmissions)
    Aborted,
};
enum class AbortReason : u8 {
    None = 0,
    PeerTimeout = 1,    // a frame or probe went unanswered max_retries times
    AuthFailed = 2,     // the handshake never verified (wrong key on one side)
    PeerAborted = 3,    // the peer's authentic Abort (its reason in peer_reason())
    Local = 4,          // abort() by the owner
    ProtocolError = 5,  // the authentic peer broke the protocol (acked the unsent)
};
const char* abort_reason_name(AbortReason r);
const char* conn_state_name(ConnState s);

struct TransportStats {
    u64 frames_sent = 0, frames_received = 0;
    u64 messages_sent = 0, messages_delivered = 0;
    u64 retransmits = 0, probes = 0, acks_sent = 0;
    u64 rejected = 0;            // every frame refused by authentication
    u64 bad_tag = 0, replayed = 0, wrong_session = 0, malformed = 0;
    u64 duplicates = 0;          // authentic data already received
    u64 out_of_order = 0;        // authentic data buffered past a hole
    u64 window_overruns = 0;     // authentic data beyond what we advertised (a bug in the peer)
};

class Connection {
public:
    Connection(const DatagramPort& port, const Psk& psk, TransportConfig cfg = {});
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Initiator (the migration source) / responder. The nonce must be fresh.
    void connect(const Nonce& ni, u64 now);
    void accept(const Nonce& nr, u64 now);

    void receive(const u8* frame, u32 len, u64 now);
    void poll(u64 now);
    // The earliest time poll() has work (~0 when none).
    u64 next_timer() const;

    // Queues and sends one message. Busy: window full (try after poll or
    // receive); Invalid: too long, or the connection is not open.
    Err send(const u8* msg, u32 len, u64 now);
    // How many send() calls would succeed now.
    u32 send_credit() const;
    // The next in-order message, or nullptr; pop() releases it (and reopens
    // the window the peer sees).
    const u8* peek(u32* len) const;
    void pop(u64 now);

    // Orderly close: everything sent is delivered first, then a Close.
    void close(u64 now);
    void abort(AbortReason reason, u64 now);

    ConnState state() const { return state_; }
    AbortReason abort_reason() const { return reason_; }
    AbortReason peer_reason() const { return peer_reason_; }
    bool peer_closed() const;  // the peer's Close delivered and every message before it popped
    bool all_acked() const { return snd_una_ == snd_next_; }
    SessionId session() const { return session_.id(); }
    const TransportStats& stats() const { return stats_; }

private:
    struct SendSlot {
        u64 deadline;
        u32 tx_count;
        u16 len;
        RecordType type;  // Data or Close
        bool sacked;
        u8 data[kMaxMessageBytes];
    };
    struct RecvSlot {
        bool present;
        RecordType type;
        u16 len;
        u8 data[kMaxMessageBytes];
    };

    u32 rto(u32 tx_count) const;
    u64 handshake_budget() const;
    void transmit(const u8* frame, u32 len);
    void send_record(RecordType type, u64 msn, const u8* payload, u32 len, u8 flags, u8 reason);
    void send_ack(u8 flags = 0);
    void transmit_slot(SendSlot& s, u64 msn, u64 now);
    bool queue(RecordType type, const u8* msg, u32 len, u64 now);
    void on_handshake(const RecordHeader& h, const u8* frame, u32 len, u64 now);
    void on_record(const Session::Opened& r, u64 now);
    void on_ack(const TransportHeader& t, u64 now);
    void on_message(const Session::Opened& r, const TransportHeader& t);
    void become_open(u64 now);
    void check_closed();
    void fail(AbortReason reason);
    u64 advertised_limit() const { return rcv_base_ + kSlots; }

    DatagramPort port_;
    Psk psk_;
    TransportConfig cfg_;
    Handshake hs_;
    Session session_;
    ConnState state_ = ConnState::Idle;
    AbortReason reason_ = AbortReason::None, peer_reason_ = AbortReason::None;
    bool auth_failures_ = false;  // a handshake message failed verification

    // Handshake retransmission (Hello, then Confirm until the peer answers).
    u8 hs_frame_[kReplyBytes]{};
    u32 hs_len_ = 0, hs_tx_ = 0;
    u64 hs_deadline_ = ~u64{0};
    bool confirm_pending_ = false;
    Nonce nr_{};  // responder: kept for a restarted handshake

    // Sender: msn [snd_una_, snd_next_) in flight, limited by peer_limit_.
    u64 snd_una_ = 1, snd_next_ = 1, peer_limit_ = 1;
    bool close_queued_ = false, close_wanted_ = false;
    SendSlot sslots_[kSlots];
    // Receiver: [rcv_base_, rcv_next_) received, not popped; past rcv_next_ buffered out of order.
    u64 rcv_base_ = 1, rcv_next_ = 1, last_limit_ = 1 + kSlots;
    u64 peer_fin_ = 0;  // msn of the peer's Close, 0 until received in order
    RecvSlot rslots_[kSlots];

    // Liveness: probes while nothing is in flight (the first after keepalive_ms
    // of silence, or rto when the peer's window holds us back; then backing off).
    u64 last_rx_ = 0, probe_deadline_ = ~u64{0};
    u32 probes_ = 0;

    TransportStats stats_;
    u8 body_[kMaxBodyBytes];
    u8 frame_[kMaxFrameBytes];
};

}  // namespace pv::mig
