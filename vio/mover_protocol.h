// The mover protocol between the hypervisor and the paging service partition
// (PSP) acting as the mover service partition of live migration (issue 10,
// docs/mover.md). It shares the PSP's CRQ with the paging protocol
// (vio/paging_protocol.h): same 16-byte entries, valid byte 0x80, opcodes in
// their own range (0x20..0x2f from the hypervisor, 0xa0..0xaf from the PSP).
//
// The PSP owns the NIC and the authenticated, reliable connection to the
// peer system's PSP (vio/mig_transport): it carries opaque messages of up to
// mig::kMaxMessageBytes. The hypervisor decides everything (what to send,
// what a received message means); the PSP moves bytes: messages between its
// slots and the connection, pages between its slots and the paging device.
//
// Memory: the PSP registers a *mover area* in its own memory (MoverArea):
// `slots` slots of kSlotBytes each, 4 KiB aligned. A slot holds one message
// (at offset 0, length in the entry) or one page of device data. Slots
// [0, slots/2) start owned by the hypervisor (messages to send, page
// buffers), [slots/2, slots) by the PSP (received messages). A slot changes
// owner only by the messages below; whoever does not own a slot never
// touches it. The hypervisor checks every slot number it is given.
#pragma once
#include <cstddef>

#include "base/endian.h"
#include "vio/crq.h"

namespace pv::mover {

enum class Opcode : u8 {
    // hypervisor -> PSP
    AreaResp = 0x20,  // the area is accepted (status 0) or refused
    Connect = 0x21,   // open a session to the peer (we are the initiator)
    Send = 0x22,      // send the message in hypervisor slot `slot` (`len` bytes); the slot goes to the PSP
    RxFree = 0x23,    // a received-message slot goes back to the PSP
    Read = 0x24,      // read `blocks` 512-byte blocks at `block` into slot `slot` (the slot goes to the PSP)
    Write = 0x25,     // write `blocks` blocks from slot `slot` at `block` (the slot goes to the PSP)
    Close = 0x26,     // end the session gracefully (after everything sent is acknowledged)
    Abort = 0x27,     // end the session now; reason = mig::AbortReason::Local
    // PSP -> hypervisor
    Area = 0xa0,      // registers the mover area (addr, slots); also: "a mover is here"
    Session = 0xa1,   // the session changed state (SessionState)
    SlotFree = 0xa2,  // a Send's slot is back with the hypervisor (the transport holds a copy)
    Received = 0xa3,  // a message from the peer is in PSP slot `slot` (`len` bytes); the slot goes to the hypervisor
    IoDone = 0xa4,    // a Read/Write finished (status as a paging Completion's); the slot is back with the hypervisor
};

inline constexpr u64 kSlotBytes = 4096;
inline constexpr u16 kMinSlots = 8;
inline constexpr u16 kMaxSlots = 1024;
inline constexpr u32 kMaxMessageBytes = 1408;  // = mig::kMaxMessageBytes (static_assert in the users)
inline constexpr u16 kPageBlocks = 8;          // one 4 KiB page of 512-byte blocks

enum class SessionState : u8 {
    Listening = 0,  // no session; the PSP accepts one from the peer
    Open = 1,       // authenticated (both proved the key); messages flow
    Closed = 2,     // ended gracefully (both sides closed); the PSP listens again
    Aborted = 3,    // ended: `reason` says why (mig::AbortReason); the PSP listens again
    Refused = 4,    // Connect refused: a session is open already, or the PSP has no link
};

enum class AreaStatus : u16 { Ok = 0, BadAddress = 1, BadSlots = 2, NoMover = 3 };

// Decoded messages.
struct AreaMsg {
    u16 slots;
    u64 addr;  // PSP logical address, 4 KiB aligned
};
struct AreaRespMsg {
    AreaStatus status;
};
struct SessionMsg {
    SessionState state;
    u8 reason;             // Aborted: mig::AbortReason
    bool peer_initiated;   // Open: the peer connected to us (we are the target side)
    u64 session;           // Open: the session id (logs)
};
struct SlotMsg {  // Send, RxFree, SlotFree, Received
    Opcode op;
    u16 slot;
    u16 len;  // Send, Received: message bytes (1..kMaxMessageBytes); 0 otherwise
};
struct IoMsg {  // Read, Write
    Opcode op;
    u16 slot;
    u16 blocks;  // 1..kPageBlocks
    u64 block;   // on the PSP's paging device
};
struct IoDoneMsg {
    u16 slot;
    u16 status;  // 0 ok; an NVMe status; or paging::kFailureStatusBit | reason
};

namespace wire {
struct Header {
    u8 valid, opcode;
};
struct Area {
    u8 valid, opcode;
    Be16 slots;
    u8 reserved[4];
    Be64 addr;
};
struct AreaResp {
    u8 valid, opcode;
    Be16 status;
    u8 reserved[12];
};
struct Session {
    u8 valid, opcode;
    u8 state, reason, flags;  // flags bit 0: peer initiated
    u8 reserved[3];
    Be64 session;
};
struct Slot {
    u8 valid, opcode;
    Be16 slot, len;
    u8 reserved[10];
};
struct Io {
    u8 valid, opcode;
    Be16 slot, blocks;
    u8 reserved[2];
    Be64 block;
};
struct IoDone {
    u8 valid, opcode;
    Be16 slot, status;
    u8 reserved[10];
};
static_assert(sizeof(Area) == 16 && sizeof(AreaResp) == 16 && sizeof(Session) == 16 && sizeof(Slot) == 16 &&
              sizeof(Io) == 16 && sizeof(IoDone) == 16);
static_assert(offsetof(Area, addr) == 8 && offsetof(Session, session) == 8 && offsetof(Io, block) == 8);
inline constexpr u8 kPeerInitiated = 0x01;

template <typename Msg>
constexpr CrqEntry to_entry(const Msg& m) {
    return __builtin_bit_cast(CrqEntry, m);
}
template <typename Msg>
constexpr Msg from_entry(const CrqEntry& e) {
    return __builtin_bit_cast(Msg, e);
}
}  // namespace wire

constexpr Opcode opcode_of(const CrqEntry& e) { return static_cast<Opcode>(e.format()); }
constexpr bool is_mover_message(const CrqEntry& e) {
    u8 op = e.format();
    return e.valid() == crq::kCmdRsp && ((op >= 0x20 && op <= 0x27) || (op >= 0xa0 && op <= 0xa4));
}
constexpr bool is(const CrqEntry& e, Opcode op) { return e.valid() == crq::kCmdRsp && opcode_of(e) == op; }
constexpr u8 op_byte(Opcode op) { return static_cast<u8>(op); }

constexpr CrqEntry encode(const AreaMsg& m) {
    return wire::to_entry(wire::Area{crq::kCmdRsp, op_byte(Opcode::Area), big_endian(m.slots), {}, big_endian(m.addr)});
}
constexpr bool decode(const CrqEntry& e, AreaMsg& m) {
    if (!is(e, Opcode::Area)) return false;
    auto w = wire::from_entry<wire::Area>(e);
    m = {w.slots.get(), w.addr.get()};
    return true;
}

constexpr CrqEntry encode(const AreaRespMsg& m) {
    return wire::to_entry(
        wire::AreaResp{crq::kCmdRsp, op_byte(Opcode::AreaResp), big_endian(static_cast<u16>(m.status)), {}});
}
constexpr bool decode(const CrqEntry& e, AreaRespMsg& m) {
    if (!is(e, Opcode::AreaResp)) return false;
    m = {static_cast<AreaStatus>(wire::from_entry<wire::AreaResp>(e).status.get())};
    return true;
}

constexpr CrqEntry encode(const SessionMsg& m) {
    return wire::to_entry(wire::Session{crq::kCmdRsp, op_byte(Opcode::Session), static_cast<u8>(m.state), m.reason,
                                        m.peer_initiated ? wire::kPeerInitiated : u8{0}, {}, big_endian(m.session)});
}
constexpr bool decode(const CrqEntry& e, SessionMsg& m) {
    if (!is(e, Opcode::Session)) return false;
    auto w = wire::from_entry<wire::Session>(e);
    m = {static_cast<SessionState>(w.state), w.reason, (w.flags & wire::kPeerInitiated) != 0, w.session.get()};
    return true;
}

// Connect, Close, Abort: the opcode alone.
constexpr CrqEntry encode_bare(Opcode op) { return crq_header(crq::kCmdRsp, op_byte(op)); }

constexpr bool is_slot_op(Opcode op) {
    return op == Opcode::Send || op == Opcode::RxFree || op == Opcode::SlotFree || op == Opcode::Received;
}
constexpr CrqEntry encode(const SlotMsg& m) {
    return wire::to_entry(wire::Slot{crq::kCmdRsp, op_byte(m.op), big_endian(m.slot), big_endian(m.len), {}});
}
constexpr bool decode(const CrqEntry& e, SlotMsg& m) {
    if (e.valid() != crq::kCmdRsp || !is_slot_op(opcode_of(e))) return false;
    auto w = wire::from_entry<wire::Slot>(e);
    m = {opcode_of(e), w.slot.get(), w.len.get()};
    return true;
}

constexpr CrqEntry encode(const IoMsg& m) {
    return wire::to_entry(
        wire::Io{crq::kCmdRsp, op_byte(m.op), big_endian(m.slot), big_endian(m.blocks), {}, big_endian(m.block)});
}
constexpr bool decode(const CrqEntry& e, IoMsg& m) {
    if (!is(e, Opcode::Read) && !is(e, Opcode::Write)) return false;
    auto w = wire::from_entry<wire::Io>(e);
    m = {opcode_of(e), w.slot.get(), w.blocks.get(), w.block.get()};
    return true;
}

constexpr CrqEntry encode(const IoDoneMsg& m) {
    return wire::to_entry(wire::IoDone{crq::kCmdRsp, op_byte(Opcode::IoDone), big_endian(m.slot), big_endian(m.status), {}});
}
constexpr bool decode(const CrqEntry& e, IoDoneMsg& m) {
    if (!is(e, Opcode::IoDone)) return false;
    auto w = wire::from_entry<wire::IoDone>(e);
    m = {w.slot.get(), w.status.get()};
    return true;
}

// The hypervisor's check of a registered area (every page reachable is checked separately).
constexpr AreaStatus check_area(const AreaMsg& m) {
    if (m.slots < kMinSlots || m.slots > kMaxSlots || (m.slots & 1)) return AreaStatus::BadSlots;
    if (m.addr == 0 || (m.addr & (crq::kQueuePage - 1))) return AreaStatus::BadAddress;
    return AreaStatus::Ok;
}
constexpr bool hv_slot(const AreaMsg& a, u16 slot) { return slot < a.slots / 2; }
constexpr bool psp_slot(const AreaMsg& a, u16 slot) { return slot >= a.slots / 2 && slot < a.slots; }

}  // namespace pv::mover
