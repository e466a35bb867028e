// A PAPR command/response queue (CRQ) between a partition and the hypervisor
// itself: the partition registers a queue in its own memory (H_REG_CRQ) that
// the hypervisor writes 16-byte entries into, and sends 16-byte entries the
// other way with H_SEND_CRQ. The paging service partition talks to the
// hypervisor this way (vio/paging_protocol.h). See docs/crq.md.
//
// Portable: partition memory is reached through PartitionMemory, so the unit
// tests use a host buffer. The hcall handlers at the bottom return PAPR codes;
// the hypervisor's hcall table wires them to the channel of the unit address.
#pragma once
#include "base/endian.h"
#include "base/spinlock.h"
#include "base/types.h"

namespace pv {

namespace crq {
// Hcall numbers and the return codes base/papr.h does not have yet (Linux
// arch/powerpc/include/asm/hvcall.h).
inline constexpr u64 H_REG_CRQ = 0xFC;
inline constexpr u64 H_FREE_CRQ = 0x100;
inline constexpr u64 H_SEND_CRQ = 0x108;
inline constexpr u64 H_ENABLE_CRQ = 0x2B0;
inline constexpr i64 H_CLOSED = 2;     // the partner's end is not open
inline constexpr i64 H_DROPPED = -12;  // the receiving queue is full

// The first byte of an entry (Linux ibmvscsi/ibmvfc viosrp_crq_headers).
inline constexpr u8 kFree = 0x00;       // slot empty: the receiver clears it after reading
inline constexpr u8 kCmdRsp = 0x80;     // a command or response; byte 1 is its format/opcode
inline constexpr u8 kInit = 0xC0;       // initialization handshake; byte 1 below
inline constexpr u8 kTransport = 0xFF;  // transport event from the hypervisor; byte 1 below
// Byte 1 of kInit entries.
inline constexpr u8 kInitRequest = 0x01;
inline constexpr u8 kInitComplete = 0x02;
// Byte 1 of kTransport entries.
inline constexpr u8 kPartnerFailed = 0x01;
inline constexpr u8 kPartnerDeregistered = 0x02;
inline constexpr u8 kPartitionMigrated = 0x06;

inline constexpr u64 kEntryBytes = 16;
inline constexpr u64 kQueuePage = 4096;
inline constexpr u64 kMaxQueueBytes = 64 * 1024;
inline constexpr u32 kInboundEntries = 64;  // hypervisor-side ring for what partitions send
}  // namespace crq

// One queue entry exactly as it lies in memory: byte 0 first. H_SEND_CRQ's
// two registers hold it big-endian (byte 0 = the top byte of msg_hi).
struct CrqEntry {
    u8 bytes[crq::kEntryBytes]{};

    // The two registers of H_SEND_CRQ: bytes 0-7 and 8-15, big-endian.
    struct Words {
        Be64 w[2];
    };

    static constexpr CrqEntry from_words(u64 hi, u64 lo) {
        return __builtin_bit_cast(CrqEntry, Words{big_endian(hi), big_endian(lo)});
    }
    constexpr u64 word(unsigned w) const { return __builtin_bit_cast(Words, *this).w[w].get(); }
    constexpr u64 hi() const { return word(0); }
    constexpr u64 lo() const { return word(1); }
    constexpr u8 valid() const { return bytes[0]; }
    constexpr u8 format() const { return bytes[1]; }
};
static_assert(sizeof(CrqEntry) == crq::kEntryBytes && sizeof(CrqEntry::Words) == crq::kEntryBytes);

constexpr CrqEntry crq_header(u8 valid, u8 format) {
    CrqEntry e;
    e.bytes[0] = valid;
    e.bytes[1] = format;
    return e;
}
constexpr CrqEntry crq_init_request() { return crq_header(crq::kInit, crq::kInitRequest); }
constexpr CrqEntry crq_init_complete() { return crq_header(crq::kInit, crq::kInitComplete); }
constexpr CrqEntry crq_transport_event(u8 format) { return crq_header(crq::kTransport, format); }

// A partition's memory as the hypervisor reaches it: a host pointer to
// [logical, logical + len), or nullptr if any of it is outside the partition
// or not resident. Asked for at most one page at a time.
struct PartitionMemory {
    void* (*ptr)(void* ctx, u64 logical, u64 len) = nullptr;
    void* ctx = nullptr;
};

struct CrqStats {
    u64 delivered = 0;       // entries written into the partition's queue
    u64 deliver_full = 0;    // deliver() found the next slot still in use
    u64 deliver_closed = 0;  // deliver() with no queue registered (or its memory gone)
    u64 sent = 0;            // H_SEND_CRQ entries accepted
    u64 send_dropped = 0;    // H_SEND_CRQ with the inbound ring full
    u64 received = 0;        // entries the hypervisor took from the inbound ring
    u32 registrations = 0;   // successful H_REG_CRQ: a change says the partition restarted its end
};

class CrqChannel {
public:
    // --- the hypervisor's end ---
    // Ready to talk: H_SEND_CRQ is accepted; a registered partition gets an
    // initialization request (the partner that comes up second sends it).
    void open();
    // No longer talking: pending inbound entries are dropped and a registered
    // partition gets a transport event (partner deregistered).
    void close();
    // Writes e into the partition's queue at the cursor, the valid byte last.
    // False if no queue is registered or the slot is still in use (full): retry later.
    [[nodiscard]] bool deliver(const CrqEntry& e);
    // The oldest entry the partition sent; false if none.
    [[nodiscard]] bool receive(CrqEntry& out);

    // --- the partition's end (the hcalls) ---
    i64 reg(PartitionMemory mem, u64 queue_addr, u64 queue_len);
    i64 free_queue();
    i64 send(u64 msg_hi, u64 msg_lo);
    i64 enable();

    bool is_open() const;
    bool registered() const;
    u64 queue_addr() const;
    u64 queue_len() const;
    u32 inbound_count() const;
    CrqStats stats() const;

private:
    bool deliver_locked(const CrqEntry& e);
    u8* slot_at_cursor();

    mutable SpinLock lock_{LockRank::Crq};  // hcalls on the partition's threads vs the hypervisor's service
    bool open_ = false;
    bool registered_ = false;
    PartitionMemory mem_{};
    u64 qaddr_ = 0, qlen_ = 0, cursor_ = 0;
    CrqEntry inbound_[crq::kInboundEntries];
    u32 in_head_ = 0, in_len_ = 0;
    CrqStats stats_{};
};

// The hcall handlers; `ch` is the channel of the unit address in r4, or
// nullptr if the partition has no such unit (→ H_PARAMETER).
// H_REG_CRQ(unit, queue logical address, queue length): page-aligned, length a
// multiple of 4 KiB up to 64 KiB, inside the partition; H_RESOURCE if already
// registered; H_CLOSED (registered nevertheless) if the hypervisor's end is not open.
i64 h_reg_crq(CrqChannel* ch, PartitionMemory mem, u64 queue_addr, u64 queue_len);
i64 h_free_crq(CrqChannel* ch);
// H_SEND_CRQ(unit, msg_hi, msg_lo): H_CLOSED unless both ends are up,
// H_PARAMETER for an entry whose valid byte is 0, H_DROPPED if the ring is full.
i64 h_send_crq(CrqChannel* ch, u64 msg_hi, u64 msg_lo);
i64 h_enable_crq(CrqChannel* ch);

}  // namespace pv
