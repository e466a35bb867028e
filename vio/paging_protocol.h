// The paging protocol between the hypervisor and the paging service partition
// (PSP), carried in 16-byte CRQ entries (vio/crq.h). All multi-byte fields are
// big-endian; byte 0 is the CRQ valid byte (0x80), byte 1 the opcode, whose
// top bit says the PSP sent it. Layouts in docs/crq.md.
//
// A page-in/page-out needs more than 16 bytes (device block and DMA address
// alone fill them), so its parameters live in a descriptor table in PSP
// memory, one 32-byte descriptor per request id, registered by the PSP with
// SetDescTable; the CRQ entry only names the descriptor (request id + tag).
// With kTableCompletionRing the table is followed by the PSP's completion
// ring (vio/completion_ring.h): a pass's completions then cost one hcall.
#pragma once
#include <cstddef>

#include "base/endian.h"
#include "vio/completion_ring.h"
#include "vio/crq.h"

namespace pv::paging {

enum class Opcode : u8 {
    // hypervisor → PSP
    PageIn = 0x01,
    PageOut = 0x02,
    DescTableResp = 0x10,
    // PSP → hypervisor
    Completion = 0x81,
    Failure = 0x82,
    CompletionsPosted = 0x83,  // records wait in the completion ring
    SetDescTable = 0x90,
};

inline constexpr u64 kDescriptorBytes = 32;
inline constexpr u64 kBlockBytes = 512;  // paging devices use 512-byte blocks (as PowerVM)
inline constexpr u16 kBlocksPerPage = static_cast<u16>(kPageSize / kBlockBytes);
inline constexpr u32 kMaxDescriptors = 65536;  // request ids are 16 bits
// SetDescTable flags (byte 4); DescTableResp names those the hypervisor took.
inline constexpr u8 kTableCompletionRing = 0x01;  // entries completion records follow the descriptors

// Why the PSP could not do a request at all (a Failure, not an I/O status).
enum class FailureReason : u16 {
    Unspecified = 0,
    BadDescriptor = 1,   // no table, tag mismatch, or fields it cannot use
    NoDevice = 2,        // no paging device for that partition
    DeviceTimeout = 3,   // the device did not answer
    DeviceFatal = 4,     // the device failed (e.g. NVMe CSTS.CFS)
    DmaRefused = 5,      // the DMA address is not reachable by the device
};

enum class TableStatus : u16 { Ok = 0, BadAddress = 1, TooSmall = 2 };

// Messages, decoded.
struct IoRequestMsg {
    Opcode op;  // PageIn or PageOut
    u16 req_id, tag, lpid;
};
struct CompletionMsg {
    u16 req_id, tag, lpid;
    u16 status;  // 0 ok; otherwise the NVMe completion status (SCT << 8) | SC
    // More completions of the same burst follow at once (a merged read): the
    // hypervisor may gather them and revoke their DMA mappings with one TCE
    // kill when the last (more = 0) arrives.
    bool more = false;
};
struct FailureMsg {
    u16 req_id, tag, lpid;
    FailureReason reason;
    u32 detail;  // the PSP's own code (e.g. its NVMe driver's status), for logs
};
struct SetDescTableMsg {
    u16 entries;     // descriptors in the table (request ids 0 .. entries-1)
    u64 table_addr;  // PSP logical address, 4 KiB aligned
    u8 flags = 0;    // kTableCompletionRing
};
struct DescTableRespMsg {
    u16 entries;
    TableStatus status;
    u8 flags = 0;  // the SetDescTable flags taken
};
struct CompletionsPostedMsg {};
struct Descriptor {
    Opcode op;                 // PageIn or PageOut, as in the CRQ entry
    u16 tag, lpid;
    u16 blocks;                // 512-byte blocks to move (kBlocksPerPage)
    u64 logical_page;          // in the shared-memory partition (for the PSP's logs)
    u64 device_block;          // first block on that partition's paging device
    u64 dma_addr;              // bus address of the pool frame, TCE-mapped by the hypervisor for this request
};

// The wire layouts (docs/crq.md): each message is one 16-byte struct of
// big-endian fields, bit-cast to and from the CRQ entry; the descriptor is
// a 32-byte struct in the PSP's table. Reserved bytes are sent as 0.
namespace wire {

// Bytes 0..7 of request-bound messages: valid, opcode, req id, tag, lpid.
struct RequestHeader {
    u8 valid, opcode;
    Be16 req_id, tag, lpid;
};
static_assert(sizeof(RequestHeader) == 8);
static_assert(offsetof(RequestHeader, valid) == 0 && offsetof(RequestHeader, opcode) == 1);
static_assert(offsetof(RequestHeader, req_id) == 2 && offsetof(RequestHeader, tag) == 4 &&
              offsetof(RequestHeader, lpid) == 6);

struct IoRequest {  // PageIn, PageOut
    RequestHeader h;
    u8 reserved[8];
};
static_assert(sizeof(IoRequest) == crq::kEntryBytes && offsetof(IoRequest, reserved) == 8);

struct Completion {
    RequestHeader h;
    Be16 status;
    u8 flags;  // bit 0: more
    u8 reserved[5];
};
inline constexpr u8 kCompletionMore = 0x01;
static_assert(sizeof(Completion) == crq::kEntryBytes);
static_assert(offsetof(Completion, status) == 8 && offsetof(Completion, flags) == 10 &&
              offsetof(Completion, reserved) == 11);

struct Failure {
    RequestHeader h;
    Be16 reason;
    u8 reserved[2];
    Be32 detail;
};
static_assert(sizeof(Failure) == crq::kEntryBytes);
static_assert(offsetof(Failure, reason) == 8 && offsetof(Failure, reserved) == 10 && offsetof(Failure, detail) == 12);

struct SetDescTable {
    u8 valid, opcode;
    Be16 entries;
    u8 flags;
    u8 reserved[3];
    Be64 table_addr;
};
static_assert(sizeof(SetDescTable) == crq::kEntryBytes);
static_assert(offsetof(SetDescTable, entries) == 2 && offsetof(SetDescTable, flags) == 4 &&
              offsetof(SetDescTable, reserved) == 5 && offsetof(SetDescTable, table_addr) == 8);

struct DescTableResp {
    u8 valid, opcode;
    Be16 entries;
    u8 flags;
    u8 reserved1[3];
    Be16 status;
    u8 reserved2[6];
};
static_assert(sizeof(DescTableResp) == crq::kEntryBytes);
static_assert(offsetof(DescTableResp, entries) == 2 && offsetof(DescTableResp, flags) == 4 &&
              offsetof(DescTableResp, reserved1) == 5 && offsetof(DescTableResp, status) == 8 &&
              offsetof(DescTableResp, reserved2) == 10);

struct CompletionsPosted {
    RequestHeader h;  // req id, tag and lpid 0
    u8 reserved[8];
};
static_assert(sizeof(CompletionsPosted) == crq::kEntryBytes);

// One entry of the descriptor table in PSP memory (table + req_id * 32).
struct Descriptor {
    u8 opcode;  // PageIn or PageOut, as in the doorbell
    u8 reserved;
    Be16 tag, lpid;
    Be16 blocks;
    Be64 logical_page;
    Be64 device_block;
    Be64 dma_addr;
};
static_assert(sizeof(Descriptor) == kDescriptorBytes);
static_assert(offsetof(Descriptor, opcode) == 0 && offsetof(Descriptor, reserved) == 1 &&
              offsetof(Descriptor, tag) == 2 && offsetof(Descriptor, lpid) == 4 && offsetof(Descriptor, blocks) == 6);
static_assert(offsetof(Descriptor, logical_page) == 8 && offsetof(Descriptor, device_block) == 16 &&
              offsetof(Descriptor, dma_addr) == 24);

template <typename Msg>
constexpr CrqEntry to_entry(const Msg& m) {
    static_assert(sizeof(Msg) == sizeof(CrqEntry));
    return __builtin_bit_cast(CrqEntry, m);
}
template <typename Msg>
constexpr Msg from_entry(const CrqEntry& e) {
    static_assert(sizeof(Msg) == sizeof(CrqEntry));
    return __builtin_bit_cast(Msg, e);
}
}  // namespace wire

constexpr bool is_paging_message(const CrqEntry& e) { return e.valid() == crq::kCmdRsp; }
constexpr Opcode opcode_of(const CrqEntry& e) { return static_cast<Opcode>(e.format()); }
constexpr bool from_psp(Opcode op) { return static_cast<u8>(op) & 0x80; }

constexpr wire::RequestHeader header(Opcode op, u16 req_id, u16 tag, u16 lpid) {
    return {crq::kCmdRsp, static_cast<u8>(op), big_endian(req_id), big_endian(tag), big_endian(lpid)};
}
constexpr bool is(const CrqEntry& e, Opcode op) { return is_paging_message(e) && opcode_of(e) == op; }

constexpr CrqEntry encode(const IoRequestMsg& m) {
    return wire::to_entry(wire::IoRequest{header(m.op, m.req_id, m.tag, m.lpid), {}});
}
constexpr bool decode(const CrqEntry& e, IoRequestMsg& m) {
    if (!is(e, Opcode::PageIn) && !is(e, Opcode::PageOut)) return false;
    auto w = wire::from_entry<wire::IoRequest>(e);
    m = {opcode_of(e), w.h.req_id.get(), w.h.tag.get(), w.h.lpid.get()};
    return true;
}

constexpr CrqEntry encode(const CompletionMsg& m) {
    return wire::to_entry(wire::Completion{header(Opcode::Completion, m.req_id, m.tag, m.lpid), big_endian(m.status),
                                           m.more ? wire::kCompletionMore : u8{0}, {}});
}
constexpr bool decode(const CrqEntry& e, CompletionMsg& m) {
    if (!is(e, Opcode::Completion)) return false;
    auto w = wire::from_entry<wire::Completion>(e);
    m = {w.h.req_id.get(), w.h.tag.get(), w.h.lpid.get(), w.status.get(), (w.flags & wire::kCompletionMore) != 0};
    return true;
}

constexpr CrqEntry encode(const FailureMsg& m) {
    return wire::to_entry(wire::Failure{header(Opcode::Failure, m.req_id, m.tag, m.lpid),
                                        big_endian(static_cast<u16>(m.reason)), {}, big_endian(m.detail)});
}
constexpr bool decode(const CrqEntry& e, FailureMsg& m) {
    if (!is(e, Opcode::Failure)) return false;
    auto w = wire::from_entry<wire::Failure>(e);
    m = {w.h.req_id.get(), w.h.tag.get(), w.h.lpid.get(), static_cast<FailureReason>(w.reason.get()),
         w.detail.get()};
    return true;
}

constexpr CrqEntry encode(const SetDescTableMsg& m) {
    return wire::to_entry(wire::SetDescTable{crq::kCmdRsp, static_cast<u8>(Opcode::SetDescTable),
                                             big_endian(m.entries), m.flags, {}, big_endian(m.table_addr)});
}
constexpr bool decode(const CrqEntry& e, SetDescTableMsg& m) {
    if (!is(e, Opcode::SetDescTable)) return false;
    auto w = wire::from_entry<wire::SetDescTable>(e);
    m = {w.entries.get(), w.table_addr.get(), w.flags};
    return true;
}

constexpr CrqEntry encode(const DescTableRespMsg& m) {
    return wire::to_entry(wire::DescTableResp{crq::kCmdRsp, static_cast<u8>(Opcode::DescTableResp),
                                              big_endian(m.entries), m.flags, {},
                                              big_endian(static_cast<u16>(m.status)), {}});
}
constexpr bool decode(const CrqEntry& e, DescTableRespMsg& m) {
    if (!is(e, Opcode::DescTableResp)) return false;
    auto w = wire::from_entry<wire::DescTableResp>(e);
    m = {w.entries.get(), static_cast<TableStatus>(w.status.get()), w.flags};
    return true;
}

constexpr CrqEntry encode(const CompletionsPostedMsg&) {
    return wire::to_entry(wire::CompletionsPosted{header(Opcode::CompletionsPosted, 0, 0, 0), {}});
}
constexpr bool decode(const CrqEntry& e, CompletionsPostedMsg&) { return is(e, Opcode::CompletionsPosted); }

// The status the hypervisor records for the request (mm/fault.h on_completion):
// 0 ok, an NVMe status (at most 0x7ff), or 0x8000 | reason for a Failure.
inline constexpr u16 kFailureStatusBit = 0x8000;
constexpr u16 request_status(const CompletionMsg& m) { return m.status; }
constexpr u16 request_status(const FailureMsg& m) {
    return static_cast<u16>(kFailureStatusBit | static_cast<u16>(m.reason));
}

// A descriptor to and from its 32 bytes (any alignment).
constexpr void encode(const Descriptor& d, u8* out) {
    store_layout(out, wire::Descriptor{static_cast<u8>(d.op), 0, big_endian(d.tag), big_endian(d.lpid),
                                       big_endian(d.blocks), big_endian(d.logical_page), big_endian(d.device_block),
                                       big_endian(d.dma_addr)});
}
constexpr Descriptor decode_descriptor(const u8* in) {
    auto w = load_layout<wire::Descriptor>(in);
    return {static_cast<Opcode>(w.opcode), w.tag.get(), w.lpid.get(), w.blocks.get(),
            w.logical_page.get(), w.device_block.get(), w.dma_addr.get()};
}

// The bytes a table takes: its descriptors, then its completion ring if it has one.
constexpr u64 desc_table_bytes(const SetDescTableMsg& m) {
    u64 per = kDescriptorBytes + (m.flags & kTableCompletionRing ? kCompletionRecordBytes : 0);
    return u64{m.entries} * per;
}
// Where the completion ring starts, from the table's start.
constexpr u64 completion_ring_offset(const SetDescTableMsg& m) { return u64{m.entries} * kDescriptorBytes; }

// Checks a SetDescTable against the PSP's memory: 4 KiB aligned, every page
// reachable, at least `needed` descriptors (the request pool's size). Flags
// it does not know are not an error: the answer names those taken.
inline TableStatus check_desc_table(PartitionMemory mem, const SetDescTableMsg& m, u32 needed) {
    if (m.entries < needed || m.entries == 0) return TableStatus::TooSmall;
    u64 bytes = desc_table_bytes(m);
    if (!is_aligned(m.table_addr, crq::kQueuePage) || m.table_addr + bytes < m.table_addr || !mem.ptr)
        return TableStatus::BadAddress;
    for (u64 off = 0; off < bytes; off += crq::kQueuePage) {
        u64 chunk = bytes - off < crq::kQueuePage ? bytes - off : crq::kQueuePage;
        if (!mem.ptr(mem.ctx, m.table_addr + off, chunk)) return TableStatus::BadAddress;
    }
    return TableStatus::Ok;
}

// Writes descriptor `index` of a checked table. Descriptors never straddle a
// page (32 divides 4096). Write it before deliver()ing the CRQ entry naming
// it: deliver's release store of the valid byte publishes both.
inline bool write_descriptor(PartitionMemory mem, u64 table_addr, u32 index, const Descriptor& d) {
    if (!mem.ptr) return false;
    auto* p = static_cast<u8*>(mem.ptr(mem.ctx, table_addr + u64{index} * kDescriptorBytes, kDescriptorBytes));
    if (!p) return false;
    encode(d, p);
    return true;
}

}  // namespace pv::paging
