// The mover protocol's hypervisor end: slot ownership and the PSP's answers
// queued for the migration control.
#include "hv/mover_link.h"

#include <cstring>

#include "hv/console.h"

namespace pv {

using mover::Opcode;
using mover::SessionState;

void MoverLink::init(DeliverFn deliver, void* ctx, PartitionMemory psp_memory) {
    deliver_ = deliver;
    ctx_ = ctx;
    mem_ = psp_memory;
    reset();
}

void MoverLink::reset() {
    bool had_session = active_ && session_.state == SessionState::Open;
    active_ = false;
    area_ = {};
    free_len_ = rx_len_ = io_len_ = 0;
    rx_head_ = io_head_ = 0;
    for (auto& o : owner_) o = Owner::Hv;
    session_ = {};
    ev_head_ = ev_len_ = 0;
    // The control must learn that its session is gone.
    if (had_session) events_[ev_len_++] = mover::SessionMsg{SessionState::Aborted, 0, false, 0};
}

void MoverLink::protocol_error(const char* what, u32 value) {
    if (protocol_errors_++ < 16) log("mover: the paging service partition sent %s (%u): ignored", what, value);
}

void MoverLink::handle(const CrqEntry& e) {
    activity_ = true;
    switch (mover::opcode_of(e)) {
    case Opcode::Area: return handle_area(e);
    case Opcode::Session: return handle_session(e);
    case Opcode::SlotFree:
    case Opcode::Received: return handle_slot(e);
    case Opcode::IoDone: return handle_io_done(e);
    default: return protocol_error("a message only the hypervisor sends", e.format());
    }
}

// Every page of the area must be PSP memory we can reach: slots are
// addressed by number from now on and never rechecked.
void MoverLink::handle_area(const CrqEntry& e) {
    mover::AreaMsg m{};
    if (!mover::decode(e, m)) return;
    mover::AreaStatus st = mover::check_area(m);
    if (st == mover::AreaStatus::Ok) {
        for (u32 i = 0; i < m.slots; ++i)
            if (!mem_.ptr || !mem_.ptr(mem_.ctx, m.addr + u64{i} * mover::kSlotBytes, mover::kSlotBytes)) {
                st = mover::AreaStatus::BadAddress;
                break;
            }
    }
    reset();
    send_entry(mover::encode(mover::AreaRespMsg{st}));
    if (st != mover::AreaStatus::Ok) {
        log("mover: the paging service partition's area (0x%lx, %u slots) refused: status %u", m.addr, m.slots,
            static_cast<unsigned>(st));
        return;
    }
    area_ = m;
    active_ = true;
    u16 half = static_cast<u16>(m.slots / 2);
    for (u16 i = 0; i < m.slots; ++i) owner_[i] = i < half ? Owner::Hv : Owner::PspRx;
    for (u16 i = half; i > 0; --i) free_[free_len_++] = static_cast<u16>(i - 1);
    log("mover: the paging service partition is the mover (%u slots at 0x%lx)", m.slots, m.addr);
}

void MoverLink::handle_session(const CrqEntry& e) {
    mover::SessionMsg m{};
    if (!mover::decode(e, m) || !active_) return;
    if (static_cast<u8>(m.state) > static_cast<u8>(SessionState::Refused))
        return protocol_error("an unknown session state", static_cast<u8>(m.state));
    session_ = m;
    if (ev_len_ == kEvents) {  // the control is not draining: keep the newest
        ev_head_ = (ev_head_ + 1) % kEvents;
        --ev_len_;
    }
    events_[(ev_head_ + ev_len_++) % kEvents] = m;
}

bool MoverLink::take_session_event(mover::SessionMsg& out) {
    if (!ev_len_) return false;
    out = events_[ev_head_];
    ev_head_ = (ev_head_ + 1) % kEvents;
    --ev_len_;
    return true;
}

void MoverLink::handle_slot(const CrqEntry& e) {
    mover::SlotMsg m{};
    if (!mover::decode(e, m) || !active_) return;
    if (m.op == Opcode::SlotFree) {
        if (!mover::hv_slot(area_, m.slot) || owner_[m.slot] != Owner::PspTx)
            return protocol_error("SlotFree for a slot it does not hold", m.slot);
        owner_[m.slot] = Owner::Hv;
        free_[free_len_++] = m.slot;
        return;
    }
    // Received
    if (!mover::psp_slot(area_, m.slot) || owner_[m.slot] != Owner::PspRx)
        return protocol_error("Received in a slot it does not hold", m.slot);
    if (m.len == 0 || m.len > mover::kMaxMessageBytes) return protocol_error("Received with a bad length", m.len);
    owner_[m.slot] = Owner::HvRx;
    rx_[(rx_head_ + rx_len_++) % kMaxHalf] = {m.slot, m.len};
}

bool MoverLink::take_received(Message& out) {
    if (!rx_len_) return false;
    out = rx_[rx_head_];
    rx_head_ = (rx_head_ + 1) % kMaxHalf;
    --rx_len_;
    return true;
}

void MoverLink::rx_free(u16 s) {
    if (!active_ || !mover::psp_slot(area_, s) || owner_[s] != Owner::HvRx) return;
    owner_[s] = Owner::PspRx;
    send_entry(mover::encode(mover::SlotMsg{Opcode::RxFree, s, 0}));
}

void MoverLink::handle_io_done(const CrqEntry& e) {
    mover::IoDoneMsg m{};
    if (!mover::decode(e, m) || !active_) return;
    if (!mover::hv_slot(area_, m.slot) || owner_[m.slot] != Owner::PspTx)
        return protocol_error("IoDone for a slot it does not hold", m.slot);
    owner_[m.slot] = Owner::HvInUse;  // the data is ours to use; the caller frees the slot
    io_[(io_head_ + io_len_++) % kMaxHalf] = {m.slot, m.status};
}

bool MoverLink::take_io_done(IoResult& out) {
    if (!io_len_) return false;
    out = io_[io_head_];
    io_head_ = (io_head_ + 1) % kMaxHalf;
    --io_len_;
    return true;
}

std::optional<u16> MoverLink::alloc_slot() {
    if (!active_ || !free_len_) return std::nullopt;
    u16 s = free_[--free_len_];
    owner_[s] = Owner::HvInUse;
    return s;
}

std::optional<u16> MoverLink::fill_slot(const u8* data, u32 len) {
    if (len > mover::kSlotBytes) return std::nullopt;
    auto s = alloc_slot();
    if (!s) return std::nullopt;
    u8* p = slot(*s);
    if (!p) {
        free_slot(*s);
        return std::nullopt;
    }
    std::memcpy(p, data, len);
    return s;
}

bool MoverLink::hv_slot_in_use(u16 s) const {
    return active_ && mover::hv_slot(area_, s) && owner_[s] == Owner::HvInUse;
}

void MoverLink::free_slot(u16 s) {
    if (!hv_slot_in_use(s)) return;
    owner_[s] = Owner::Hv;
    free_[free_len_++] = s;
}

u8* MoverLink::slot(u16 s) {
    if (!active_ || s >= area_.slots) return nullptr;
    if (owner_[s] != Owner::HvInUse && owner_[s] != Owner::HvRx) return nullptr;
    return static_cast<u8*>(mem_.ptr(mem_.ctx, area_.addr + u64{s} * mover::kSlotBytes, mover::kSlotBytes));
}

bool MoverLink::connect() {
    if (!active_) return false;
    send_entry(mover::encode_bare(Opcode::Connect));
    return true;
}

bool MoverLink::close() {
    if (!active_) return false;
    send_entry(mover::encode_bare(Opcode::Close));
    return true;
}

bool MoverLink::abort() {
    if (!active_) return false;
    send_entry(mover::encode_bare(Opcode::Abort));
    return true;
}

bool MoverLink::send(u16 s, u16 len) {
    if (!hv_slot_in_use(s) || len == 0 || len > mover::kMaxMessageBytes) return false;
    owner_[s] = Owner::PspTx;
    send_entry(mover::encode(mover::SlotMsg{Opcode::Send, s, len}));
    return true;
}

bool MoverLink::io(Opcode op, u16 s, u64 block, u16 blocks) {
    if (!hv_slot_in_use(s) || blocks == 0 || blocks > mover::kPageBlocks) return false;
    owner_[s] = Owner::PspTx;
    send_entry(mover::encode(mover::IoMsg{op, s, blocks, block}));
    return true;
}

bool MoverLink::read(u16 s, u64 block, u16 blocks) { return io(Opcode::Read, s, block, blocks); }
bool MoverLink::write(u16 s, u64 block, u16 blocks) { return io(Opcode::Write, s, block, blocks); }

}  // namespace pv
