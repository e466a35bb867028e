#include "vio/crq.h"

#include "base/papr.h"

namespace pv {

using namespace papr;

void CrqChannel::open() {
    Guard g(lock_);
    open_ = true;
    if (registered_) deliver_locked(crq_init_request());
}

void CrqChannel::close() {
    Guard g(lock_);
    open_ = false;
    in_head_ = in_len_ = 0;
    if (registered_) deliver_locked(crq_transport_event(crq::kPartnerDeregistered));
}

bool CrqChannel::deliver(const CrqEntry& e) {
    Guard g(lock_);
    return deliver_locked(e);
}

// Asked for each time: the partition's memory behind the queue may move (a
// shared-memory partition's queue pages are pinned, but that is the caller's).
u8* CrqChannel::slot_at_cursor() {
    if (!mem_.ptr) return nullptr;
    return static_cast<u8*>(mem_.ptr(mem_.ctx, qaddr_ + cursor_, crq::kEntryBytes));
}

// The partition polls the valid byte, so it must see the payload no later
// than the valid byte: payload first, then a release store of byte 0. The
// acquire load orders our writes after the partition's last read of the slot
// (it clears the valid byte once it is done with the entry).
bool CrqChannel::deliver_locked(const CrqEntry& e) {
    if (e.valid() == crq::kFree) return false;  // would read as an empty slot
    u8* slot = registered_ ? slot_at_cursor() : nullptr;
    if (!slot) {
        stats_.deliver_closed++;
        return false;
    }
    if (__atomic_load_n(&slot[0], __ATOMIC_ACQUIRE) != crq::kFree) {
        stats_.deliver_full++;
        return false;
    }
    __builtin_memcpy(slot + 1, e.bytes + 1, crq::kEntryBytes - 1);  // a few stores, not 15
    __atomic_store_n(&slot[0], e.bytes[0], __ATOMIC_RELEASE);
    cursor_ = (cursor_ + crq::kEntryBytes) % qlen_;
    stats_.delivered++;
    return true;
}

bool CrqChannel::receive(CrqEntry& out) {
    Guard g(lock_);
    if (in_len_ == 0) return false;
    out = inbound_[in_head_];
    in_head_ = (in_head_ + 1) % crq::kInboundEntries;
    --in_len_;
    stats_.received++;
    return true;
}

namespace {

// Every page of the queue must be partition memory the hypervisor can reach.
bool queue_reachable(PartitionMemory mem, u64 addr, u64 len) {
    if (!mem.ptr) return false;
    for (u64 off = 0; off < len; off += crq::kQueuePage)
        if (!mem.ptr(mem.ctx, addr + off, crq::kQueuePage)) return false;
    return true;
}

bool queue_shape_ok(u64 addr, u64 len) {
    return is_aligned(addr, crq::kQueuePage) && len != 0 && is_aligned(len, crq::kQueuePage) &&
           len <= crq::kMaxQueueBytes && addr + len > addr;
}

}  // namespace

i64 CrqChannel::reg(PartitionMemory mem, u64 queue_addr, u64 queue_len) {
    if (!queue_shape_ok(queue_addr, queue_len) || !queue_reachable(mem, queue_addr, queue_len)) return H_PARAMETER;
    Guard g(lock_);
    if (registered_) return H_RESOURCE;  // e.g. a kexec'd kernel: it frees and registers again
    mem_ = mem;
    qaddr_ = queue_addr;
    qlen_ = queue_len;
    cursor_ = 0;  // the partition cleared the queue; entries start at its first slot
    registered_ = true;
    stats_.registrations++;
    return open_ ? H_SUCCESS : crq::H_CLOSED;
}

// Entries the partition already sent stay in the ring: they were accepted.
i64 CrqChannel::free_queue() {
    Guard g(lock_);
    registered_ = false;
    mem_ = PartitionMemory{};
    qaddr_ = qlen_ = cursor_ = 0;
    return H_SUCCESS;
}

i64 CrqChannel::send(u64 msg_hi, u64 msg_lo) {
    CrqEntry e = CrqEntry::from_words(msg_hi, msg_lo);
    Guard g(lock_);
    if (!registered_ || !open_) return crq::H_CLOSED;
    if (e.valid() == crq::kFree) return H_PARAMETER;
    if (in_len_ == crq::kInboundEntries) {
        stats_.send_dropped++;
        return crq::H_DROPPED;
    }
    inbound_[(in_head_ + in_len_) % crq::kInboundEntries] = e;
    ++in_len_;
    stats_.sent++;
    return H_SUCCESS;
}

// Nothing to re-enable: the hypervisor's end never disables a queue (no
// migration). Linux calls it after a transport event; it must succeed.
i64 CrqChannel::enable() { return H_SUCCESS; }

bool CrqChannel::is_open() const {
    Guard g(lock_);
    return open_;
}

bool CrqChannel::registered() const {
    Guard g(lock_);
    return registered_;
}

u64 CrqChannel::queue_addr() const {
    Guard g(lock_);
    return qaddr_;
}

u64 CrqChannel::queue_len() const {
    Guard g(lock_);
    return qlen_;
}

u32 CrqChannel::inbound_count() const {
    Guard g(lock_);
    return in_len_;
}

CrqStats CrqChannel::stats() const {
    Guard g(lock_);
    return stats_;
}

i64 h_reg_crq(CrqChannel* ch, PartitionMemory mem, u64 queue_addr, u64 queue_len) {
    return ch ? ch->reg(mem, queue_addr, queue_len) : H_PARAMETER;
}

i64 h_free_crq(CrqChannel* ch) { return ch ? ch->free_queue() : H_PARAMETER; }

i64 h_send_crq(CrqChannel* ch, u64 msg_hi, u64 msg_lo) { return ch ? ch->send(msg_hi, msg_lo) : H_PARAMETER; }

i64 h_enable_crq(CrqChannel* ch) { return ch ? ch->enable() : H_PARAMETER; }

}  // namespace pv
