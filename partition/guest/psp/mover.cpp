#include "partition/guest/psp/mover.h"

#include <new>

#include "base/papr.h"
#include "partition/guest/rt/console.h"

namespace psp {

namespace mig = pv::mig;
using namespace pv::mover;

namespace {
constexpr u64 kNever = ~u64{0};
constexpr u64 kArpRetryMs = 200;  // Resolving: an ARP request this often
constexpr u64 kRetryMs = 100;     // Listening without a nonce: try DARN again

void copy(u8* d, const u8* s, u32 n) {
    for (u32 i = 0; i < n; ++i) d[i] = s[i];
}
u16 failure(pv::paging::FailureReason r) {
    return static_cast<u16>(pv::paging::kFailureStatusBit | static_cast<u16>(r));
}
}  // namespace

Mover::Mover(const Setup& s) : s_(s) { reset_slots(); }

const char* Mover::state_name() const {
    switch (state_) {
    case State::Unregistered: return "unregistered";
    case State::WaitArea: return "waiting for AreaResp";
    case State::Off: return "off";
    case State::Listening: return "listening";
    case State::Resolving: return "resolving the peer";
    case State::Connecting: return "connecting";
    case State::Open: return "open";
    case State::Linger: return "lingering after a close";
    }
    return "?";
}

void Mover::send(const CrqEntry& e, const char* what) {
    i64 rc = s_.send(s_.send_ctx, e);
    if (rc != pv::papr::H_SUCCESS && log_error()) rt::log("mover: H_SEND_CRQ (%s) returned %ld", what, rc);
}

void Mover::session(SessionState st, mig::AbortReason r, bool peer_initiated, u64 id) {
    send(encode(SessionMsg{st, static_cast<u8>(r), peer_initiated, id}), "Session");
}

bool Mover::log_error() {
    if (++logged_ == s_.logged_errors + 1) rt::log("mover: more errors: counted, no longer logged one by one");
    return logged_ <= s_.logged_errors;
}

void Mover::error(const char* fmt, u64 a, u64 b) {
    ++c_.errors;
    if (!log_error()) return;
    char line[160];
    rt::format(line, sizeof line, fmt, a, b);
    rt::log("mover: %s (%s)", line, state_name());
}

void Mover::reset_slots() {
    for (u32 i = 0; i < kMaxSlots; ++i) owner_[i] = i < s_.slots / 2u ? Owner::Hv : Owner::Psp;
    tx_head_ = tx_count_ = 0;
}

void Mover::new_connection() {
    conn_ = new (conn_storage_) mig::Connection(s_.link.port, s_.psk, s_.transport);
    session_id_ = 0;
}

void Mover::listen() {
    new_connection();
    close_wanted_ = false;
    state_ = State::Listening;
    mig::Nonce n;
    if (s_.nonce(s_.nonce_ctx, n)) conn_->accept(n, now());
    else if (log_error()) rt::log("mover: no random number for a nonce: not accepting yet");
}

void Mover::start() {
    if (state_ != State::Unregistered) return;
    AreaMsg a = area();
    if (check_area(a) != AreaStatus::Ok || !s_.area || !s_.paging) {
        rt::log("mover: area of %u slots at 0x%lx unusable: no mover", a.slots, a.addr);
        state_ = State::Off;
        return;
    }
    reset_slots();
    state_ = State::WaitArea;
    send(encode(a), "Area");
}

void Mover::reset() {
    if (state_ == State::Unregistered) return;
    if (conn_ && state_ >= State::Listening) conn_->abort(mig::AbortReason::Local, now());
    if (state_ == State::Open || state_ == State::Connecting) report("ended by the channel's reset");
    reset_slots();
    close_wanted_ = connect_pending_ = false;
    rt::log("mover: the CRQ was re-initialized: the session (if any) ended, the area will be registered again");
    state_ = State::Unregistered;
}

void Mover::handle(const CrqEntry& e) {
    Opcode op = opcode_of(e);
    if (op == Opcode::AreaResp) {
        AreaRespMsg m;
        (void)decode(e, m);
        return on_area_resp(m);
    }
    if (!active()) {
        if (op == Opcode::Connect) {
            ++c_.refused;
            return session(SessionState::Refused);
        }
        return error("opcode 0x%lx with no mover area", static_cast<u64>(op));
    }
    SlotMsg sm;
    IoMsg io;
    switch (op) {
    case Opcode::Connect: return on_connect();
    case Opcode::Send: (void)decode(e, sm); return on_send(sm);
    case Opcode::RxFree: (void)decode(e, sm); return on_rx_free(sm);
    case Opcode::Read:
    case Opcode::Write: (void)decode(e, io); return on_io(io);
    case Opcode::Close: return on_close();
    case Opcode::Abort: return on_abort();
    default: return error("opcode 0x%lx is not the hypervisor's", static_cast<u64>(op));
    }
}

void Mover::on_area_resp(const AreaRespMsg& m) {
    if (state_ != State::WaitArea) return error("AreaResp not asked for");
    if (m.status != AreaStatus::Ok) {
        rt::log("mover: the hypervisor refused the area of %u slots at 0x%lx: status %u: no mover, paging goes on",
                s_.slots, s_.area_addr, static_cast<u32>(m.status));
        state_ = State::Off;
        return;
    }
    rt::log("mover: area of %u slots at 0x%lx accepted; listening", s_.slots, s_.area_addr);
    listen();
}

// ---- Sessions ------------------------------------------------------------------

void Mover::on_connect() {
    if (state_ == State::Linger) {
        connect_pending_ = true;  // when the linger ends: the peer's retransmitted Close still gets its answer
        return;
    }
    // A listener that has a Hello in progress has a handshake deadline.
    bool idle = conn_->state() == mig::ConnState::Idle ||
                (conn_->state() == mig::ConnState::Accepting && conn_->next_timer() == kNever);
    if (state_ != State::Listening || !idle) {
        ++c_.refused;
        rt::log("mover: Connect refused: %s", state_name());
        return session(SessionState::Refused);
    }
    begin_connect(now());
}

void Mover::begin_connect(u64 t) {
    new_connection();  // idle: the peer's datagrams are ignored until we connect
    state_ = State::Resolving;
    since_ = asked_ = t;
    if (!s_.link.resolved(s_.link.ctx)) s_.link.resolve(s_.link.ctx);
    update(t);
}

void Mover::on_close() {
    if (state_ == State::Open) {
        close_wanted_ = true;
        return update(now());
    }
    if (state_ == State::Resolving || state_ == State::Connecting) {
        conn_->abort(mig::AbortReason::Local, now());
        return end_session(SessionState::Aborted, mig::AbortReason::Local);
    }
    error("Close with no session");
}

void Mover::on_abort() {
    conn_->abort(mig::AbortReason::Local, now());
    connect_pending_ = false;
    end_session(SessionState::Aborted, mig::AbortReason::Local);
}

void Mover::return_queued() {
    for (; tx_count_; --tx_count_) {
        Pending p = txq_[tx_head_];
        tx_head_ = (tx_head_ + 1) % (kMaxSlots / 2);
        owner_[p.slot] = Owner::Hv;
        send(encode(SlotMsg{Opcode::SlotFree, p.slot, 0}), "SlotFree");
    }
    tx_head_ = 0;
}

void Mover::end_session(SessionState st, mig::AbortReason r) {
    return_queued();
    if (state_ == State::Open || state_ == State::Connecting) report(mig::abort_reason_name(r));
    rt::log("mover: session ended: %s", mig::abort_reason_name(r));
    session(st, r);
    listen();
}

void Mover::report(const char* why) const {
    const mig::TransportStats& s = conn_->stats();
    // Two lines: one would pass the console's 256 bytes.
    u64 id = session_id_;
    rt::log("mover: session %016lx %s: frames %lu sent / %lu received, messages %lu sent / %lu delivered, %lu "
            "retransmissions, %lu probes, %lu acks",
            id, why, s.frames_sent, s.frames_received, s.messages_sent, s.messages_delivered, s.retransmits, s.probes,
            s.acks_sent);
    rt::log("mover: session %016lx: %lu rejected records (%lu bad tag, %lu replayed, %lu wrong session, %lu "
            "malformed), %lu duplicates, %lu out of order",
            id, s.rejected, s.bad_tag, s.replayed, s.wrong_session, s.malformed, s.duplicates, s.out_of_order);
}

void Mover::update(u64 t) {
    mig::ConnState cs = conn_->state();
    switch (state_) {
    case State::Resolving:
        if (s_.link.resolved(s_.link.ctx)) {
            mig::Nonce n;
            if (!s_.nonce(s_.nonce_ctx, n)) {
                rt::log("mover: Connect: no random number for a nonce");
                return end_session(SessionState::Aborted, mig::AbortReason::Local);
            }
            conn_->connect(n, t);
            state_ = State::Connecting;
            return;
        }
        if (t - since_ >= s_.resolve_ms) {
            rt::log("mover: Connect: the peer did not answer ARP in %u ms", s_.resolve_ms);
            return end_session(SessionState::Aborted, mig::AbortReason::PeerTimeout);
        }
        if (t - asked_ >= kArpRetryMs) {
            s_.link.resolve(s_.link.ctx);
            asked_ = t;
        }
        return;
    case State::Linger:
        if (t - since_ < s_.linger_ms) return;
        listen();
        if (connect_pending_) {
            connect_pending_ = false;
            on_connect();
        }
        return;
    case State::Listening:
    case State::Connecting:
        if (cs == mig::ConnState::Open || cs == mig::ConnState::Closing) {
            bool peer = state_ == State::Listening;
            state_ = State::Open;
            session_id_ = conn_->session().value;
            ++c_.sessions;
            rt::log("mover: session %016lx open (%s)", conn_->session().value,
                    peer ? "the peer connected" : "we connected");
            session(SessionState::Open, mig::AbortReason::None, peer, conn_->session().value);
            break;  // on to the session's queues
        }
        if (cs == mig::ConnState::Aborted) {
            if (state_ == State::Connecting) return end_session(SessionState::Aborted, conn_->abort_reason());
            // Nobody asked for this one: the hypervisor hears of sessions only.
            ++c_.failed_handshakes;
            rt::log("mover: a handshake from the peer failed: %s (%lu records rejected); listening again",
                    mig::abort_reason_name(conn_->abort_reason()), conn_->stats().rejected);
            return listen();
        }
        return;
    default: break;
    }
    if (state_ != State::Open) return;
    pump(t);
    deliver(t);
    cs = conn_->state();
    // Close after the queued Sends; the peer's close is answered with ours
    // once its messages are all with the hypervisor.
    if (cs == mig::ConnState::Open && tx_count_ == 0 && (close_wanted_ || conn_->peer_closed())) {
        conn_->close(t);
        cs = conn_->state();
    }
    u32 left = 0;
    // Closed once the peer's Close is in, whether or not every message
    // before it has a slot yet: those are still the hypervisor's.
    if (cs == mig::ConnState::Closed && !conn_->peek(&left)) {
        report("closed");
        session(SessionState::Closed);
        state_ = State::Linger;
        since_ = t;
        close_wanted_ = false;
    } else if (cs == mig::ConnState::Aborted) {
        end_session(SessionState::Aborted, conn_->abort_reason());
    }
}

// ---- Messages ------------------------------------------------------------------

void Mover::on_send(const SlotMsg& m) {
    AreaMsg a = area();
    if (!hv_slot(a, m.slot)) {
        error("Send: slot %lu is not a hypervisor slot", m.slot);
        return send(encode(SlotMsg{Opcode::SlotFree, m.slot, 0}), "SlotFree");
    }
    if (owner_[m.slot] != Owner::Hv) return error("Send: slot %lu is ours already", m.slot);
    bool open = state_ == State::Open && !close_wanted_ && conn_->state() == mig::ConnState::Open;
    if (m.len == 0 || m.len > kMaxMessageBytes) {
        error("Send: slot %lu length %lu", m.slot, m.len);
        send(encode(SlotMsg{Opcode::SlotFree, m.slot, 0}), "SlotFree");
        // A message missing from the stream: the session must not go on.
        if (open) {
            conn_->abort(mig::AbortReason::Local, now());
            end_session(SessionState::Aborted, mig::AbortReason::Local);
        }
        return;
    }
    if (!open) {
        error("Send: slot %lu with no open session", m.slot);
        return send(encode(SlotMsg{Opcode::SlotFree, m.slot, 0}), "SlotFree");
    }
    owner_[m.slot] = Owner::Psp;
    txq_[(tx_head_ + tx_count_) % (kMaxSlots / 2)] = {m.slot, m.len};
    ++tx_count_;
    update(now());
}

void Mover::pump(u64 t) {
    while (tx_count_ && conn_->send_credit() > 0) {
        Pending p = txq_[tx_head_];
        if (conn_->send(slot_ptr(p.slot), p.len, t) != pv::Err::Ok) break;
        tx_head_ = (tx_head_ + 1) % (kMaxSlots / 2);
        --tx_count_;
        owner_[p.slot] = Owner::Hv;
        ++c_.sent;
        send(encode(SlotMsg{Opcode::SlotFree, p.slot, 0}), "SlotFree");
    }
}

void Mover::deliver(u64 t) {
    u32 len = 0;
    u16 slot = static_cast<u16>(s_.slots / 2);
    while (const u8* p = conn_->peek(&len)) {
        while (slot < s_.slots && owner_[slot] != Owner::Psp) ++slot;
        if (slot == s_.slots) return;  // the rest waits in the connection: its window holds the peer back
        copy(slot_ptr(slot), p, len);
        conn_->pop(t);
        owner_[slot] = Owner::Hv;
        ++c_.received;
        send(encode(SlotMsg{Opcode::Received, slot, static_cast<u16>(len)}), "Received");
    }
}

void Mover::on_rx_free(const SlotMsg& m) {
    if (!psp_slot(area(), m.slot) || owner_[m.slot] != Owner::Hv)
        return error("RxFree: slot %lu is not a received-message slot of the hypervisor's", m.slot);
    owner_[m.slot] = Owner::Psp;
    if (state_ == State::Open) update(now());
}

void Mover::on_io(const IoMsg& m) {
    bool write = m.op == Opcode::Write;
    u16 status = 0;
    if (!hv_slot(area(), m.slot) || owner_[m.slot] != Owner::Hv) {
        error("Read/Write: slot %lu is not the hypervisor's", m.slot);
        status = failure(pv::paging::FailureReason::BadDescriptor);
    } else if (m.blocks == 0 || m.blocks > kPageBlocks) {
        error("Read/Write: %lu blocks", m.blocks);
        status = failure(pv::paging::FailureReason::BadDescriptor);
    } else {
        ++c_.ios;
        status = s_.paging->transfer(write, m.block, m.blocks, s_.area_addr + u64{m.slot} * kSlotBytes);
        if (status) ++c_.io_errors;
    }
    send(encode(IoDoneMsg{m.slot, status}), "IoDone");
}

// ---- The link ------------------------------------------------------------------

void Mover::receive(const u8* frame, u32 len) {
    if (!active()) return;
    u64 t = now();
    conn_->receive(frame, len, t);
    update(t);
}

void Mover::poll() {
    if (!active()) return;
    u64 t = now();
    if (state_ == State::Listening && conn_->state() == mig::ConnState::Idle) {
        mig::Nonce n;
        if (s_.nonce(s_.nonce_ctx, n)) conn_->accept(n, t);
    }
    conn_->poll(t);
    update(t);
}

u64 Mover::next_timer() const {
    if (!active()) return kNever;
    u64 t = conn_->next_timer();
    auto at = [&t](u64 v) { t = v < t ? v : t; };
    if (state_ == State::Resolving) {
        at(asked_ + kArpRetryMs);
        at(since_ + s_.resolve_ms);
    }
    if (state_ == State::Linger) at(since_ + s_.linger_ms);
    if (state_ == State::Listening && conn_->state() == mig::ConnState::Idle) at(now() + kRetryMs);
    return t;
}

}  // namespace psp
