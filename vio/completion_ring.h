// The paging service partition's completions without an hcall each: 8-byte
// records in a ring in the PSP's memory, right after its descriptor table
// (SetDescTable flag kTableCompletionRing, vio/paging_protocol.h). The PSP
// writes the records of a pass and rings once (a CompletionsPosted message);
// the hypervisor takes every record it finds. docs/crq.md has the layout.
//
// The slot discipline is the CRQ's (vio/crq.h), the other way round: the
// writer fills bytes 1..7 and then stores the valid byte with release; the
// reader loads the valid byte with acquire, copies the record and frees the
// slot with a release store of 0, so that its reads are done before the
// writer may fill the slot again. A ring of as many records as request ids
// cannot overflow (a request is answered once before its id is reused), but
// the writer checks anyway and falls back to CRQ messages.
//
// Portable: both ends run in the host's unit tests over a plain buffer.
#pragma once
#include <cstddef>

#include "base/endian.h"
#include "base/types.h"

namespace pv::paging {

inline constexpr u64 kCompletionRecordBytes = 8;
inline constexpr u8 kRecordValid = 0x80;

struct CompletionRecord {
    u16 req_id = 0, tag = 0;
    u16 status = 0;  // as a Completion's (0 ok, else the NVMe status)
};

namespace wire {
struct CompletionRecord {
    u8 valid, reserved;
    Be16 req_id, tag, status;
};
static_assert(sizeof(CompletionRecord) == kCompletionRecordBytes);
static_assert(offsetof(CompletionRecord, req_id) == 2 && offsetof(CompletionRecord, tag) == 4 &&
              offsetof(CompletionRecord, status) == 6);
}  // namespace wire

// One end's cursor over `entries` records at `base`.
class CompletionRing {
public:
    void reset(u8* base, u32 entries) {
        base_ = base;
        entries_ = entries;
        cursor_ = 0;
    }
    bool active() const { return base_ && entries_; }
    u32 entries() const { return entries_; }

    // Writer: false if the slot at the cursor is still in use (or no ring).
    [[nodiscard]] bool post(const CompletionRecord& r) {
        u8* slot = slot_at_cursor();
        if (!slot || __atomic_load_n(&slot[0], __ATOMIC_ACQUIRE) != 0) return false;
        wire::CompletionRecord w{0, 0, big_endian(r.req_id), big_endian(r.tag), big_endian(r.status)};
        auto bytes = __builtin_bit_cast(Bytes, w);
        for (u64 i = 1; i < kCompletionRecordBytes; ++i) slot[i] = bytes.b[i];
        __atomic_store_n(&slot[0], kRecordValid, __ATOMIC_RELEASE);
        advance();
        return true;
    }

    // Reader: whether a record waits at the cursor (no side effect).
    bool pending() const {
        const u8* slot = slot_at_cursor();
        return slot && __atomic_load_n(&slot[0], __ATOMIC_ACQUIRE) != 0;
    }
    // Reader: the record at the cursor, taken. A slot whose valid byte is
    // neither 0 nor kRecordValid is freed and skipped (well_formed = false):
    // a confused writer must not stall the ring.
    [[nodiscard]] bool take(CompletionRecord& out, bool& well_formed) {
        u8* slot = slot_at_cursor();
        if (!slot) return false;
        u8 valid = __atomic_load_n(&slot[0], __ATOMIC_ACQUIRE);
        if (valid == 0) return false;
        Bytes bytes{};
        for (u64 i = 1; i < kCompletionRecordBytes; ++i) bytes.b[i] = slot[i];
        __atomic_store_n(&slot[0], u8{0}, __ATOMIC_RELEASE);
        advance();
        auto w = __builtin_bit_cast(wire::CompletionRecord, bytes);
        well_formed = valid == kRecordValid;
        out = {w.req_id.get(), w.tag.get(), w.status.get()};
        return true;
    }

private:
    struct Bytes {
        u8 b[kCompletionRecordBytes];
    };
    u8* slot_at_cursor() const { return active() ? base_ + u64{cursor_} * kCompletionRecordBytes : nullptr; }
    void advance() { cursor_ = cursor_ + 1 == entries_ ? 0 : cursor_ + 1; }

    u8* base_ = nullptr;
    u32 entries_ = 0, cursor_ = 0;
};

}  // namespace pv::paging
