// The PSP as the mover of live migration (docs/mover.md, vio/mover_protocol.h):
// it owns the authenticated connection to the peer system's PSP
// (vio/mig_transport) and moves bytes for the hypervisor over the shared CRQ:
// messages between its mover-area slots and the connection, pages between
// slots and the paging device. Portable (no hcalls, no POWER instructions),
// like service.h: main.cpp gives it the CRQ, the UdpLink, the clock and DARN;
// mover_test.cpp two instances joined in memory.
#pragma once
#include "partition/guest/psp/service.h"
#include "vio/mig_transport.h"
#include "vio/mover_protocol.h"

namespace psp {

// The datagram service the connection runs over and, for Connect, the peer's
// address resolution (ARP on the e1000e link).
struct MoverLink {
    pv::mig::DatagramPort port;
    bool (*resolved)(void* ctx) = nullptr;  // the peer's MAC is known
    void (*resolve)(void* ctx) = nullptr;   // ask (again) for it
    void* ctx = nullptr;
};
using NonceFn = bool (*)(void* ctx, pv::mig::Nonce& n);  // false: no randomness now

struct MoverCounters {
    u64 sessions = 0;       // reported Open
    u64 sent = 0;           // messages handed to the connection
    u64 received = 0;       // messages handed to the hypervisor
    u64 ios = 0, io_errors = 0;
    u64 refused = 0;        // Connects answered Refused
    u64 errors = 0;         // commands with a bad slot, length or state (docs/mover.md "Failures")
    u64 failed_handshakes = 0;  // a peer's handshake that never opened (not reported: nobody asked for it)
};

class Mover {
public:
    static_assert(pv::mover::kMaxMessageBytes == pv::mig::kMaxMessageBytes);

    struct Setup {
        SendFn send = nullptr;  // the CRQ, as the paging service's (retried while the ring is full)
        void* send_ctx = nullptr;
        NowFn now_ms = nullptr;  // monotonic milliseconds
        void* now_ctx = nullptr;
        NonceFn nonce = nullptr;
        void* nonce_ctx = nullptr;
        MoverLink link;
        pv::mig::Psk psk{};
        pv::mig::TransportConfig transport{};
        PagingService* paging = nullptr;  // the paging device, its retries and resets (transfer())
        u8* area = nullptr;               // the mover area: slots * kSlotBytes, zeroed
        u64 area_addr = 0;                // its logical (= bus) address
        u16 slots = 0;
        u32 resolve_ms = 5000;   // Connect: the peer must answer ARP within this
        u32 linger_ms = 1500;    // after Closed: answer the peer's retransmitted Close this long
        u32 logged_errors = 16;  // errors logged one by one; the rest only counted
    };
    enum class State : u8 {
        Unregistered,  // waiting for the paging channel to serve
        WaitArea,      // Area sent, AreaResp not yet in
        Off,           // the hypervisor refused the area: no mover (paging goes on)
        Listening,     // a connection accepting: the peer may connect
        Resolving,     // Connect: ARP for the peer
        Connecting,    // Connect: our Hello out
        Open,          // a session (also while it closes)
        Linger,        // Closed: still answering the peer's retransmissions, then Listening
    };

    explicit Mover(const Setup& s);
    Mover(const Mover&) = delete;
    Mover& operator=(const Mover&) = delete;

    // The paging channel is serving: register the area (Area).
    void start();
    // The CRQ was re-initialized (or the partner failed): any session ends
    // without a word (the hypervisor's end is new), slots back to their first
    // owners, Unregistered until start().
    void reset();
    // One mover message from the CRQ (vio/mover_protocol.h is_mover_message).
    void handle(const CrqEntry& e);
    // One datagram from the link.
    void receive(const u8* frame, u32 len);
    // Timers, queued sends, received messages: call at least by next_timer().
    void poll();
    // The earliest time (ms) poll() has timed work; ~0 when none.
    u64 next_timer() const;

    State state() const { return state_; }
    const char* state_name() const;
    // The NIC and the connection want polling (a mover is up).
    bool active() const { return state_ >= State::Listening; }
    const MoverCounters& counters() const { return c_; }
    // A session still open (at shutdown): its transport counts, as at its end.
    void report_open(const char* why) const {
        if (state_ == State::Open) report(why);
    }
    const pv::mig::Connection* connection() const { return conn_; }
    pv::mover::AreaMsg area() const { return {s_.slots, s_.area_addr}; }

private:
    enum class Owner : u8 { Hv, Psp };
    struct Pending {
        u16 slot, len;
    };

    u64 now() const { return s_.now_ms(s_.now_ctx); }
    void send(const CrqEntry& e, const char* what);
    void session(pv::mover::SessionState st, pv::mig::AbortReason r = pv::mig::AbortReason::None,
                 bool peer_initiated = false, u64 id = 0);
    bool log_error();
    void error(const char* fmt, u64 a = 0, u64 b = 0);  // fmt takes u64 arguments (%lu, %lx)
    void reset_slots();
    void new_connection();
    void listen();
    void begin_connect(u64 now);
    void on_connect();
    void on_send(const pv::mover::SlotMsg& m);
    void on_rx_free(const pv::mover::SlotMsg& m);
    void on_io(const pv::mover::IoMsg& m);
    void on_close();
    void on_abort();
    void on_area_resp(const pv::mover::AreaRespMsg& m);
    // Session progress after receive() or poll(): opening, the queues, its end.
    void update(u64 now);
    void pump(u64 now);
    void deliver(u64 now);
    // The session is over (reported already or not): queued Sends' slots back.
    void return_queued();
    void end_session(pv::mover::SessionState st, pv::mig::AbortReason r);
    void report(const char* why) const;
    u8* slot_ptr(u16 slot) const { return s_.area + u64{slot} * pv::mover::kSlotBytes; }

    Setup s_;
    State state_ = State::Unregistered;
    MoverCounters c_;
    pv::mig::Connection* conn_ = nullptr;
    alignas(pv::mig::Connection) u8 conn_storage_[sizeof(pv::mig::Connection)];
    Owner owner_[pv::mover::kMaxSlots];
    Pending txq_[pv::mover::kMaxSlots / 2];  // Sends waiting for credit, in order
    u32 tx_head_ = 0, tx_count_ = 0;
    bool close_wanted_ = false;    // Close asked: after the queued Sends
    bool connect_pending_ = false; // Connect during Linger: when it ends
    u64 since_ = 0, asked_ = 0;    // Resolving: started, last ARP request; Linger: started
    u32 logged_ = 0;
    u64 session_id_ = 0;  // the open session's (the connection forgets it when it aborts)
};

}  // namespace psp
