#include "vio/mig_transport.h"

namespace pv::mig {

namespace {
constexpr u64 kNever = ~u64{0};

void copy(u8* d, const u8* s, u32 n) {
    for (u32 i = 0; i < n; ++i) d[i] = s[i];
}

HandshakeParams local_params() {
    HandshakeParams p{};
    p.window.set(kSlots);
    p.max_message.set(kMaxMessageBytes);
    return p;
}
}  // namespace

const char* abort_reason_name(AbortReason r) {
    switch (r) {
    case AbortReason::None: return "none";
    case AbortReason::PeerTimeout: return "peer timeout";
    case AbortReason::AuthFailed: return "authentication failed";
    case AbortReason::PeerAborted: return "peer aborted";
    case AbortReason::Local: return "local abort";
    case AbortReason::ProtocolError: return "protocol error";
    }
    return "?";
}

const char* conn_state_name(ConnState s) {
    switch (s) {
    case ConnState::Idle: return "idle";
    case ConnState::Connecting: return "connecting";
    case ConnState::Accepting: return "accepting";
    case ConnState::Open: return "open";
    case ConnState::Closing: return "closing";
    case ConnState::Closed: return "closed";
    case ConnState::Aborted: return "aborted";
    }
    return "?";
}

Connection::Connection(const DatagramPort& port, const Psk& psk, TransportConfig cfg)
    : port_(port), psk_(psk), cfg_(cfg) {
    for (auto& s : sslots_) s = SendSlot{};
    for (auto& r : rslots_) r = RecvSlot{};
}

u32 Connection::rto(u32 tx_count) const {
    u64 t = cfg_.rto_initial_ms;
    for (u32 i = 1; i < tx_count && t < cfg_.rto_max_ms; ++i) t *= 2;
    return static_cast<u32>(t < cfg_.rto_max_ms ? t : cfg_.rto_max_ms);
}

// How long the initiator keeps retransmitting a Hello: what the responder
// waits for a Confirm after its HelloReply.
u64 Connection::handshake_budget() const {
    u64 sum = 0;
    for (u32 k = 1; k <= cfg_.max_retries; ++k) sum += rto(k);
    return sum;
}


void Connection::transmit(const u8* frame, u32 len) {
    ++stats_.frames_sent;
    port_.send(port_.ctx, frame, len);
}

void Connection::send_record(RecordType type, u64 msn, const u8* payload, u32 len, u8 flags, u8 reason) {
    TransportHeader t{};
    t.msn.set(msn);
    t.ack.set(rcv_next_);
    u32 sack = 0;
    for (u32 i = 0; i < 32; ++i) {
        u64 m = rcv_next_ + 1 + i;
        if (m < rcv_base_ + kSlots && rslots_[m % kSlots].present) sack |= u32{1} << i;
    }
    t.sack.set(sack);
    last_limit_ = advertised_limit();
    t.window.set(static_cast<u16>(last_limit_ - rcv_next_));
    t.flags = flags;
    t.reason = reason;
    store_layout(body_, t);
    copy(body_ + kTransportHeaderBytes, payload, len);
    u32 n = session_.seal(type, body_, kTransportHeaderBytes + len, frame_, sizeof frame_);
    if (n) transmit(frame_, n);
}

void Connection::send_ack(u8 flags) {
    ++stats_.acks_sent;
    send_record(RecordType::Ack, 0, nullptr, 0, flags, 0);
}

void Connection::transmit_slot(SendSlot& s, u64 msn, u64 now) {
    if (s.tx_count) ++stats_.retransmits;
    ++s.tx_count;
    s.deadline = now + rto(s.tx_count);
    // A retransmission is a new record: a new record sequence number and tag.
    send_record(s.type, msn, s.data, s.len, 0, 0);
}

void Connection::fail(AbortReason reason) {
    state_ = ConnState::Aborted;
    reason_ = reason;
    hs_deadline_ = probe_deadline_ = kNever;
    session_.clear();
    hs_.clear();
}

void Connection::abort(AbortReason reason, u64) {
    if (state_ == ConnState::Aborted) return;
    // Unreliable by design: a peer that misses it times out instead.
    if (session_.established()) send_record(RecordType::Abort, 0, nullptr, 0, 0, static_cast<u8>(reason));
    fail(reason);
}

// ---- Handshake ---------------------------------------------------------------

void Connection::connect(const Nonce& ni, u64 now) {
    if (state_ != ConnState::Idle) return;
    hs_len_ = hs_.initiator_hello(psk_, ni, local_params(), hs_frame_, sizeof hs_frame_);
    hs_tx_ = 1;
    hs_deadline_ = now + rto(1);
    state_ = ConnState::Connecting;
    transmit(hs_frame_, hs_len_);
}

void Connection::accept(const Nonce& nr, u64) {
    if (state_ != ConnState::Idle) return;
    nr_ = nr;
    state_ = ConnState::Accepting;
}

void Connection::become_open(u64 now) {
    state_ = ConnState::Open;
    peer_limit_ = 1 + hs_.peer_params().window.get();
    last_rx_ = now;
    probe_deadline_ = now + cfg_.keepalive_ms;
    probes_ = 0;
}

void Connection::on_handshake(const RecordHeader& h, const u8* frame, u32 len, u64 now) {
    auto type = static_cast<RecordType>(h.type);
    if (state_ == ConnState::Connecting && type == RecordType::HelloRefused) {
        if (hs_.refuses_our_hello(frame, len)) auth_failures_ = true;
        return;
    }
    if (state_ == ConnState::Connecting && type == RecordType::HelloReply) {
        u32 n = 0;
        AuthError e = hs_.initiator_reply(frame, len, hs_frame_, sizeof hs_frame_, &n, session_);
        if (e != AuthError::Ok) {
            ++stats_.rejected;
            (e == AuthError::BadTag || e == AuthError::WrongSession ? stats_.bad_tag : stats_.malformed)++;
            auth_failures_ = true;
            return;
        }
        // Confirm goes out until the responder answers with any session record.
        hs_len_ = n;
        hs_tx_ = 1;
        hs_deadline_ = now + rto(1);
        confirm_pending_ = true;
        transmit(hs_frame_, hs_len_);
        become_open(now);
        return;
    }
    if (state_ == ConnState::Accepting && type == RecordType::Hello) {
        // The initiator missed our reply: the same one again.
        if (hs_.same_hello(frame, len)) {
            transmit(hs_.reply(), kReplyBytes);
            return;
        }
        // Otherwise a Hello that verifies starts (or, the initiator having
        // restarted with a new nonce, restarts) the handshake; one that does
        // not changes nothing but starts the clock on a wrong key.
        u32 n = 0;
        AuthError e = hs_.responder_hello(psk_, nr_, local_params(), frame, len, hs_frame_, sizeof hs_frame_, &n,
                                          session_);
        if (e != AuthError::Ok) {
            ++stats_.rejected;
            (e == AuthError::BadTag ? stats_.bad_tag : stats_.malformed)++;
            if (e == AuthError::BadTag) {
                auth_failures_ = true;
                if (hs_deadline_ == kNever) hs_deadline_ = now + handshake_budget();
                u32 r = 0;
                if (Handshake::refusal(frame, len, frame_, sizeof frame_, &r)) transmit(frame_, r);
            }
            return;
        }
        hs_deadline_ = now + handshake_budget();
        transmit(hs_frame_, n);
        return;
    }
    if (state_ == ConnState::Accepting && type == RecordType::Confirm && hs_.step() == Handshake::Step::ReplySent) {
        AuthError e = hs_.responder_confirm(frame, len);
        if (e != AuthError::Ok) {
            ++stats_.rejected;
            ++stats_.bad_tag;
            auth_failures_ = true;
            return;
        }
        hs_deadline_ = kNever;
        become_open(now);
        send_ack();  // stops the initiator's Confirm retransmissions
        return;
    }
    // A Confirm again after we are open: its Ack was lost.
    if (type == RecordType::Confirm && hs_.role() == Handshake::Role::Responder &&
        (state_ == ConnState::Open || state_ == ConnState::Closing)) {
        AuthError e = hs_.responder_confirm(frame, len);
        if (e == AuthError::Ok || e == AuthError::WrongState) send_ack();
        return;
    }
    // Anything else (a late HelloReply, a Hello while open): not ours to act on.
}

// ---- Receiving ---------------------------------------------------------------

void Connection::receive(const u8* frame, u32 len, u64 now) {
    ++stats_.frames_received;
    if (state_ == ConnState::Idle || state_ == ConnState::Aborted) return;
    if (len < kRecordHeaderBytes) {
        ++stats_.rejected;
        ++stats_.malformed;
        return;
    }
    RecordHeader h = load_layout<RecordHeader>(frame);
    if (!is_session_record(h.type)) {
        on_handshake(h, frame, len, now);
        return;
    }
    Session::Opened r;
    AuthError e = session_.open(frame, len, r);
    if (e == AuthError::Ok && r.length < kTransportHeaderBytes) e = AuthError::BadLength;
    if (e != AuthError::Ok) {
        ++stats_.rejected;
        if (e == AuthError::BadTag) ++stats_.bad_tag;
        else if (e == AuthError::Replayed || e == AuthError::TooOld) ++stats_.replayed;
        else if (e == AuthError::WrongSession) ++stats_.wrong_session;
        else ++stats_.malformed;
        if (state_ == ConnState::Accepting && e == AuthError::BadTag) auth_failures_ = true;
        return;
    }
    on_record(r, now);
}

void Connection::on_record(const Session::Opened& r, u64 now) {
    // An authentic record under the session keys proves the initiator holds
    // the PSK as well as its Confirm would.
    if (state_ == ConnState::Accepting) {
        hs_deadline_ = kNever;
        become_open(now);
    }
    if (confirm_pending_) {
        confirm_pending_ = false;
        hs_deadline_ = kNever;
    }
    last_rx_ = now;
    probes_ = 0;
    probe_deadline_ = now + cfg_.keepalive_ms;
    TransportHeader t = load_layout<TransportHeader>(r.body);
    if (r.type == RecordType::Abort) {
        peer_reason_ = static_cast<AbortReason>(t.reason);
        fail(AbortReason::PeerAborted);
        return;
    }
    on_ack(t, now);
    if (state_ == ConnState::Aborted) return;
    if (r.type == RecordType::Data || r.type == RecordType::Close) {
        on_message(r, t);
        send_ack();
    } else if (t.flags & kFlagProbe) {
        send_ack();
    }
    check_closed();
}

void Connection::on_ack(const TransportHeader& t, u64 now) {
    u64 ack = t.ack.get();
    if (ack > snd_next_) {
        abort(AbortReason::ProtocolError, now);
        return;
    }
    while (snd_una_ < ack) {
        SendSlot& s = sslots_[snd_una_ % kSlots];
        s.tx_count = 0;
        s.sacked = false;
        ++snd_una_;
    }
    u32 sack = t.sack.get();
    for (u32 i = 0; i < 32; ++i) {
        u64 m = ack + 1 + i;
        if ((sack >> i) & 1 && m >= snd_una_ && m < snd_next_) sslots_[m % kSlots].sacked = true;
    }
    u64 limit = ack + t.window.get();
    if (limit > peer_limit_) peer_limit_ = limit;
    // A queued close() goes out as soon as there is room for it.
    if (close_wanted_ && !close_queued_) queue(RecordType::Close, nullptr, 0, now);
}

void Connection::on_message(const Session::Opened& r, const TransportHeader& t) {
    u64 msn = t.msn.get();
    u32 len = r.length - kTransportHeaderBytes;
    if (msn < rcv_next_ || (msn < rcv_base_ + kSlots && rslots_[msn % kSlots].present)) {
        ++stats_.duplicates;
        return;
    }
    if (msn == 0 || msn >= rcv_base_ + kSlots) {
        ++stats_.window_overruns;
        return;
    }
    RecvSlot& s = rslots_[msn % kSlots];
    s.present = true;
    s.type = r.type;
    s.len = static_cast<u16>(len);
    copy(s.data, r.body + kTransportHeaderBytes, len);
    if (msn != rcv_next_) ++stats_.out_of_order;
    while (rcv_next_ < rcv_base_ + kSlots && rslots_[rcv_next_ % kSlots].present) {
        if (rslots_[rcv_next_ % kSlots].type == RecordType::Close && peer_fin_ == 0) peer_fin_ = rcv_next_;
        ++rcv_next_;
    }
}

// ---- The application side ------------------------------------------------------

u32 Connection::send_credit() const {
    if (state_ != ConnState::Open || close_wanted_) return 0;
    u64 by_slots = kSlots - (snd_next_ - snd_una_);
    u64 by_peer = peer_limit_ > snd_next_ ? peer_limit_ - snd_next_ : 0;
    return static_cast<u32>(by_slots < by_peer ? by_slots : by_peer);
}

bool Connection::queue(RecordType type, const u8* msg, u32 len, u64 now) {
    bool room = snd_next_ - snd_una_ < kSlots && snd_next_ < peer_limit_;
    if (!room) {
        // Held back by the peer's window: probe soon, its update may be lost.
        if (all_acked() && probes_ == 0 && probe_deadline_ > now + rto(1)) probe_deadline_ = now + rto(1);
        return false;
    }
    u64 msn = snd_next_++;
    SendSlot& s = sslots_[msn % kSlots];
    s.tx_count = 0;
    s.sacked = false;
    s.type = type;
    s.len = static_cast<u16>(len);
    copy(s.data, msg, len);
    if (type == RecordType::Close) close_queued_ = true;
    else ++stats_.messages_sent;
    transmit_slot(s, msn, now);
    return true;
}

Err Connection::send(const u8* msg, u32 len, u64 now) {
    if (state_ != ConnState::Open || close_wanted_ || len > kMaxMessageBytes) return Err::Invalid;
    return queue(RecordType::Data, msg, len, now) ? Err::Ok : Err::Busy;
}

const u8* Connection::peek(u32* len) const {
    if (rcv_base_ >= rcv_next_) return nullptr;
    const RecvSlot& s = rslots_[rcv_base_ % kSlots];
    if (s.type != RecordType::Data) return nullptr;  // the peer's Close: nothing after it
    *len = s.len;
    return s.data;
}

void Connection::pop(u64) {
    if (rcv_base_ >= rcv_next_ || rslots_[rcv_base_ % kSlots].type != RecordType::Data) return;
    rslots_[rcv_base_ % kSlots].present = false;
    ++rcv_base_;
    ++stats_.messages_delivered;
    // A window update when the peer may be stalled on us: the window we last
    // advertised was shut or has grown by a quarter since.
    bool usable = state_ == ConnState::Open || state_ == ConnState::Closing;
    if (usable && (last_limit_ <= rcv_next_ || advertised_limit() >= last_limit_ + kSlots / 4)) send_ack();
}

bool Connection::peer_closed() const { return peer_fin_ != 0 && rcv_base_ == peer_fin_; }

void Connection::close(u64 now) {
    if (state_ != ConnState::Open) return;
    close_wanted_ = true;
    state_ = ConnState::Closing;
    queue(RecordType::Close, nullptr, 0, now);
    check_closed();
}

void Connection::check_closed() {
    if (state_ == ConnState::Closing && close_queued_ && all_acked() && peer_fin_ != 0) {
        state_ = ConnState::Closed;
        probe_deadline_ = kNever;
    }
}

// ---- Timers ------------------------------------------------------------------

u64 Connection::next_timer() const {
    if (state_ == ConnState::Aborted || state_ == ConnState::Idle) return kNever;
    u64 t = hs_deadline_;
    if (state_ == ConnState::Open || state_ == ConnState::Closing) {
        if (all_acked() && probe_deadline_ < t) t = probe_deadline_;
        for (u64 m = snd_una_; m < snd_next_; ++m) {
            const SendSlot& s = sslots_[m % kSlots];
            if (!s.sacked && s.deadline < t) t = s.deadline;
        }
    }
    return t;
}

void Connection::poll(u64 now) {
    if (state_ == ConnState::Aborted || state_ == ConnState::Idle) return;
    if (now >= hs_deadline_) {
        if (state_ == ConnState::Accepting) {
            fail(auth_failures_ ? AbortReason::AuthFailed : AbortReason::PeerTimeout);
            return;
        }
        if (hs_tx_ >= cfg_.max_retries) {
            // No answer to the Hello (or the Confirm); a reply that never verified means the keys differ.
            if (confirm_pending_) abort(AbortReason::PeerTimeout, now);
            else fail(auth_failures_ ? AbortReason::AuthFailed : AbortReason::PeerTimeout);
            return;
        }
        ++hs_tx_;
        ++stats_.retransmits;
        hs_deadline_ = now + rto(hs_tx_);
        transmit(hs_frame_, hs_len_);
    }
    if (state_ != ConnState::Open && state_ != ConnState::Closing && state_ != ConnState::Closed) return;
    if (state_ == ConnState::Closed) return;  // nothing of ours is outstanding
    for (u64 m = snd_una_; m < snd_next_; ++m) {
        SendSlot& s = sslots_[m % kSlots];
        if (s.sacked || now < s.deadline) continue;
        if (s.tx_count >= cfg_.max_retries) {
            abort(AbortReason::PeerTimeout, now);
            return;
        }
        transmit_slot(s, m, now);
    }
    // Liveness with nothing in flight: probe, faster when the peer's window
    // holds us back (its update may have been lost).
    if (all_acked() && now >= probe_deadline_) {
        if (probes_ >= cfg_.max_retries) {
            abort(AbortReason::PeerTimeout, now);
            return;
        }
        ++probes_;
        ++stats_.probes;
        probe_deadline_ = now + rto(probes_);
        send_ack(kFlagProbe);
    }
}

}  // namespace pv::mig
