// The paging protocol between the hypervisor and the paging service partition
// (PSP), carried in 16-byte CRQ entries (vio/crq.h). All multi-byte fields are
// big-endian; byte 0 is the CRQ valid byte (0x80), byte 1 the opcode, whose
// top bit says the PSP sent it. Layouts in docs/crq.md.
//
// A page-in/page-out needs more than 16 bytes (device block and DMA address
// alone fill them), so its parameters live in a descriptor table in PSP
// memory, one 32-byte descriptor per request id, registered by the PSP with
// SetDescTable; the CRQ entry only names the descriptor (request id + tag).
#pragma once
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
    SetDescTable = 0x90,
};

inline constexpr u64 kDescriptorBytes = 32;
inline constexpr u64 kBlockBytes = 512;  // paging devices use 512-byte blocks (as PowerVM)
inline constexpr u16 kBlocksPerPage = static_cast<u16>(kPageSize / kBlockBytes);
inline constexpr u32 kMaxDescriptors = 65536;  // request ids are 16 bits

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
};
struct DescTableRespMsg {
    u16 entries;
    TableStatus status;
};
struct Descriptor {
    Opcode op;                 // PageIn or PageOut, as in the CRQ entry
    u16 tag, lpid;
    u16 blocks;                // 512-byte blocks to move (kBlocksPerPage)
    u64 logical_page;          // in the shared-memory partition (for the PSP's logs)
    u64 device_block;          // first block on that partition's paging device
    u64 dma_addr;              // bus address of the pool frame, TCE-mapped by the hypervisor for this request
};

// Big-endian field access.
constexpr void put16(u8* p, u16 v) { p[0] = static_cast<u8>(v >> 8), p[1] = static_cast<u8>(v); }
constexpr void put32(u8* p, u32 v) { put16(p, static_cast<u16>(v >> 16)), put16(p + 2, static_cast<u16>(v)); }
constexpr void put64(u8* p, u64 v) { put32(p, static_cast<u32>(v >> 32)), put32(p + 4, static_cast<u32>(v)); }
constexpr u16 get16(const u8* p) { return static_cast<u16>(p[0] << 8 | p[1]); }
constexpr u32 get32(const u8* p) { return u32{get16(p)} << 16 | get16(p + 2); }
constexpr u64 get64(const u8* p) { return u64{get32(p)} << 32 | get32(p + 4); }

constexpr bool is_paging_message(const CrqEntry& e) { return e.valid() == crq::kCmdRsp; }
constexpr Opcode opcode_of(const CrqEntry& e) { return static_cast<Opcode>(e.bytes[1]); }
constexpr bool from_psp(Opcode op) { return static_cast<u8>(op) & 0x80; }

// Bytes 0..7 of request-bound messages: valid, opcode, req id, tag, lpid.
constexpr CrqEntry header(Opcode op, u16 req_id, u16 tag, u16 lpid) {
    CrqEntry e = crq_header(crq::kCmdRsp, static_cast<u8>(op));
    put16(e.bytes + 2, req_id);
    put16(e.bytes + 4, tag);
    put16(e.bytes + 6, lpid);
    return e;
}
constexpr bool is(const CrqEntry& e, Opcode op) { return is_paging_message(e) && opcode_of(e) == op; }

constexpr CrqEntry encode(const IoRequestMsg& m) { return header(m.op, m.req_id, m.tag, m.lpid); }
constexpr bool decode(const CrqEntry& e, IoRequestMsg& m) {
    if (!is(e, Opcode::PageIn) && !is(e, Opcode::PageOut)) return false;
    m = {opcode_of(e), get16(e.bytes + 2), get16(e.bytes + 4), get16(e.bytes + 6)};
    return true;
}

constexpr CrqEntry encode(const CompletionMsg& m) {
    CrqEntry e = header(Opcode::Completion, m.req_id, m.tag, m.lpid);
    put16(e.bytes + 8, m.status);
    e.bytes[10] = m.more ? 1 : 0;
    return e;
}
constexpr bool decode(const CrqEntry& e, CompletionMsg& m) {
    if (!is(e, Opcode::Completion)) return false;
    m = {get16(e.bytes + 2), get16(e.bytes + 4), get16(e.bytes + 6), get16(e.bytes + 8), (e.bytes[10] & 1) != 0};
    return true;
}

constexpr CrqEntry encode(const FailureMsg& m) {
    CrqEntry e = header(Opcode::Failure, m.req_id, m.tag, m.lpid);
    put16(e.bytes + 8, static_cast<u16>(m.reason));
    put32(e.bytes + 12, m.detail);
    return e;
}
constexpr bool decode(const CrqEntry& e, FailureMsg& m) {
    if (!is(e, Opcode::Failure)) return false;
    m = {get16(e.bytes + 2), get16(e.bytes + 4), get16(e.bytes + 6), static_cast<FailureReason>(get16(e.bytes + 8)),
         get32(e.bytes + 12)};
    return true;
}

constexpr CrqEntry encode(const SetDescTableMsg& m) {
    CrqEntry e = crq_header(crq::kCmdRsp, static_cast<u8>(Opcode::SetDescTable));
    put16(e.bytes + 2, m.entries);
    put64(e.bytes + 8, m.table_addr);
    return e;
}
constexpr bool decode(const CrqEntry& e, SetDescTableMsg& m) {
    if (!is(e, Opcode::SetDescTable)) return false;
    m = {get16(e.bytes + 2), get64(e.bytes + 8)};
    return true;
}

constexpr CrqEntry encode(const DescTableRespMsg& m) {
    CrqEntry e = crq_header(crq::kCmdRsp, static_cast<u8>(Opcode::DescTableResp));
    put16(e.bytes + 2, m.entries);
    put16(e.bytes + 8, static_cast<u16>(m.status));
    return e;
}
constexpr bool decode(const CrqEntry& e, DescTableRespMsg& m) {
    if (!is(e, Opcode::DescTableResp)) return false;
    m = {get16(e.bytes + 2), static_cast<TableStatus>(get16(e.bytes + 8))};
    return true;
}

// The status the hypervisor records for the request (mm/fault.h on_completion):
// 0 ok, an NVMe status (at most 0x7ff), or 0x8000 | reason for a Failure.
inline constexpr u16 kFailureStatusBit = 0x8000;
constexpr u16 request_status(const CompletionMsg& m) { return m.status; }
constexpr u16 request_status(const FailureMsg& m) {
    return static_cast<u16>(kFailureStatusBit | static_cast<u16>(m.reason));
}

// Descriptor layout: see docs/crq.md.
constexpr void encode(const Descriptor& d, u8* out) {
    out[0] = static_cast<u8>(d.op);
    out[1] = 0;
    put16(out + 2, d.tag);
    put16(out + 4, d.lpid);
    put16(out + 6, d.blocks);
    put64(out + 8, d.logical_page);
    put64(out + 16, d.device_block);
    put64(out + 24, d.dma_addr);
}
constexpr Descriptor decode_descriptor(const u8* in) {
    return {static_cast<Opcode>(in[0]), get16(in + 2), get16(in + 4), get16(in + 6),
            get64(in + 8), get64(in + 16), get64(in + 24)};
}

// Checks a SetDescTable against the PSP's memory: 4 KiB aligned, every page
// reachable, at least `needed` descriptors (the request pool's size).
inline TableStatus check_desc_table(PartitionMemory mem, const SetDescTableMsg& m, u32 needed) {
    if (m.entries < needed || m.entries == 0) return TableStatus::TooSmall;
    u64 bytes = u64{m.entries} * kDescriptorBytes;
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
