// The hypervisor's end of the mover protocol (vio/mover_protocol.h,
// docs/mover.md): the paging service partition doubles as the migration
// mover, and this tracks what it told us and what we asked of it. The
// messages come in through the PSP's CRQ (hv/psp_link.cpp routes them here);
// the migration control (hv/mig_control.h) takes the results out in its own
// time, so nothing here calls back upwards.
//
// Every slot number and length the PSP gives is checked against who owns the
// slot: a confused or hostile PSP can lose its own migration, never make us
// touch memory outside its mover area or reuse a slot twice.
//
// Locking: everything runs under the pager's lock, as the PSP link does.
#pragma once
#include <optional>

#include "vio/crq.h"
#include "vio/mover_protocol.h"

namespace pv {

class MoverLink {
public:
    using DeliverFn = void (*)(void* ctx, const CrqEntry& e);
    // Boot: how to reach the PSP (its link's deliver) and its memory.
    void init(DeliverFn deliver, void* ctx, PartitionMemory psp_memory);
    // From the PSP link: a mover message (mover::is_mover_message).
    void handle(const CrqEntry& e);
    // The PSP ended, restarted or was declared failed: no mover until it
    // registers an area again; a session it had is gone (Aborted).
    void reset();

    bool active() const { return active_; }
    mover::SessionState session() const { return session_.state; }
    const mover::SessionMsg& session_info() const { return session_; }
    // Session changes in the order they came (and a reset's Aborted).
    bool take_session_event(mover::SessionMsg& out);

    // A hypervisor slot to fill (4 KiB at slot()); nullopt when all are out.
    std::optional<u16> alloc_slot();
    void free_slot(u16 slot);  // an allocated slot not used after all
    // A slot of ours holding a copy of data[0, len) (len <= kSlotBytes), ready
    // to give away with send() or write(); nullopt when none is free.
    std::optional<u16> fill_slot(const u8* data, u32 len);
    u8* slot(u16 slot);        // nullptr unless the slot is ours to touch now
    u32 free_slots() const { return free_len_; }

    // Requests; false (nothing sent, the slot stays ours) when there is no
    // mover or the argument is wrong.
    bool connect();
    bool close();
    bool abort();
    bool send(u16 slot, u16 len);
    bool read(u16 slot, u64 block, u16 blocks);
    bool write(u16 slot, u64 block, u16 blocks);

    struct Message {
        u16 slot, len;
    };
    // A message from the peer, in order; its bytes at slot() until rx_free.
    bool take_received(Message& out);
    void rx_free(u16 slot);
    struct IoResult {
        u16 slot, status;
    };
    bool take_io_done(IoResult& out);

    u64 protocol_errors() const { return protocol_errors_; }
    // Something for take_session_event/take_received/take_io_done, read
    // without the pager's lock (every scheduler pass asks): a stale no is
    // seen again at the next pass, a yes is checked under the lock.
    bool has_news() const {
        return __atomic_load_n(&ev_len_, __ATOMIC_RELAXED) || __atomic_load_n(&rx_len_, __ATOMIC_RELAXED) ||
               __atomic_load_n(&io_len_, __ATOMIC_RELAXED);
    }
    // Something came from the PSP since the last call: the migration
    // control should run now rather than at the next timer tick.
    bool take_activity() {
        bool a = activity_;
        activity_ = false;
        return a;
    }

private:
    enum class Owner : u8 { Hv, HvInUse, PspTx, PspRx, HvRx };
    void send_entry(const CrqEntry& e) { deliver_(ctx_, e); }
    void protocol_error(const char* what, u32 value);
    void handle_area(const CrqEntry& e);
    void handle_session(const CrqEntry& e);
    void handle_slot(const CrqEntry& e);
    void handle_io_done(const CrqEntry& e);
    bool io(mover::Opcode op, u16 slot, u64 block, u16 blocks);
    bool hv_slot_in_use(u16 slot) const;

    static constexpr u32 kEvents = 16;
    static constexpr u32 kMaxHalf = mover::kMaxSlots / 2;

    DeliverFn deliver_ = nullptr;
    void* ctx_ = nullptr;
    PartitionMemory mem_{};
    bool active_ = false;
    mover::AreaMsg area_{};
    Owner owner_[mover::kMaxSlots]{};
    u16 free_[kMaxHalf]{};  // free hypervisor slots (a stack)
    u32 free_len_ = 0;
    // Received messages and finished I/O, oldest first (rings as deep as a half).
    Message rx_[kMaxHalf]{};
    u32 rx_head_ = 0, rx_len_ = 0;
    IoResult io_[kMaxHalf]{};
    u32 io_head_ = 0, io_len_ = 0;
    mover::SessionMsg session_{};
    mover::SessionMsg events_[kEvents]{};
    u32 ev_head_ = 0, ev_len_ = 0;
    u64 protocol_errors_ = 0;
    bool activity_ = false;
};

}  // namespace pv
