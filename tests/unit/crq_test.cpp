// The CRQ channel and its hcalls against a partition whose memory is a host
// buffer, and the paging protocol's exact byte layout.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "base/papr.h"
#include "vio/crq.h"
#include "vio/paging_protocol.h"

using namespace pv;
using namespace pv::papr;
using pv::crq::H_CLOSED;
using pv::crq::H_DROPPED;

namespace {

// 256 KiB of "partition memory" with an unreachable page at 0x20000 (not resident).
struct FakePartition {
    static constexpr u64 kHole = 0x20000;
    std::vector<u8> mem = std::vector<u8>(0x40000, 0);
    bool gone = false;  // everything unreachable (e.g. partition ended)

    static void* ptr(void* ctx, u64 logical, u64 len) {
        auto& p = *static_cast<FakePartition*>(ctx);
        if (p.gone || logical >= p.mem.size() || len > p.mem.size() - logical) return nullptr;
        if (logical < kHole + kPageSize && logical + len > kHole) return nullptr;
        return p.mem.data() + logical;
    }
    PartitionMemory memory() { return {&FakePartition::ptr, this}; }
    u8* at(u64 a) { return mem.data() + a; }
};

class CrqTest : public ::testing::Test {
protected:
    FakePartition part_;
    CrqChannel ch_;
};

std::vector<u8> bytes_of(const CrqEntry& e) { return {e.bytes, e.bytes + 16}; }
std::vector<u8> bytes_at(const u8* p, std::size_t n) { return {p, p + n}; }

TEST_F(CrqTest, RegistrationChecksTheQueueShapeAndPlace) {
    PartitionMemory m = part_.memory();
    EXPECT_EQ(h_reg_crq(&ch_, m, 0x1800, 0x1000), H_PARAMETER);   // not page aligned
    EXPECT_EQ(h_reg_crq(&ch_, m, 0x1000, 0), H_PARAMETER);
    EXPECT_EQ(h_reg_crq(&ch_, m, 0x1000, 0x1800), H_PARAMETER);   // not a page multiple
    EXPECT_EQ(h_reg_crq(&ch_, m, 0x1000, 0x11000), H_PARAMETER);  // over 64 KiB
    EXPECT_EQ(h_reg_crq(&ch_, m, 0x3f000, 0x2000), H_PARAMETER);  // runs past the partition
    EXPECT_EQ(h_reg_crq(&ch_, m, 0x1f000, 0x3000), H_PARAMETER);  // a page in the middle is not reachable
    EXPECT_EQ(h_reg_crq(&ch_, m, ~u64{0} - 0xfff, 0x2000), H_PARAMETER);  // wraps
    EXPECT_EQ(h_reg_crq(&ch_, PartitionMemory{}, 0x1000, 0x1000), H_PARAMETER);
    EXPECT_EQ(h_reg_crq(nullptr, m, 0x1000, 0x1000), H_PARAMETER);  // no such unit
    EXPECT_FALSE(ch_.registered());
    EXPECT_EQ(ch_.stats().registrations, 0u);
}

TEST_F(CrqTest, RegisteringBeforeTheHypervisorEndIsOpenSaysClosedButRegisters) {
    EXPECT_EQ(h_reg_crq(&ch_, part_.memory(), 0x2000, 0x1000), H_CLOSED);
    EXPECT_TRUE(ch_.registered());
    EXPECT_EQ(ch_.queue_addr(), 0x2000u);
    EXPECT_EQ(ch_.queue_len(), 0x1000u);
    EXPECT_EQ(h_send_crq(&ch_, 0xC001000000000000, 0), H_CLOSED);

    // The hypervisor's end comes up second: it sends the initialization request.
    ch_.open();
    EXPECT_EQ(bytes_at(part_.at(0x2000), 16), bytes_of(crq_init_request()));
    EXPECT_EQ(part_.at(0x2000)[0], 0xC0);
    EXPECT_EQ(part_.at(0x2000)[1], 0x01);
    EXPECT_EQ(h_send_crq(&ch_, 0xC002000000000000, 0), H_SUCCESS);
}

TEST_F(CrqTest, RegisteringTwiceIsHResourceUntilFreed) {
    ch_.open();
    EXPECT_EQ(h_reg_crq(&ch_, part_.memory(), 0x2000, 0x1000), H_SUCCESS);
    EXPECT_EQ(part_.at(0x2000)[0], 0);  // open before: the partition sends the init itself
    EXPECT_EQ(h_reg_crq(&ch_, part_.memory(), 0x4000, 0x1000), H_RESOURCE);
    EXPECT_EQ(h_free_crq(&ch_), H_SUCCESS);
    EXPECT_FALSE(ch_.registered());
    EXPECT_EQ(h_reg_crq(&ch_, part_.memory(), 0x4000, 0x2000), H_SUCCESS);
    EXPECT_EQ(ch_.stats().registrations, 2u);
    EXPECT_EQ(h_enable_crq(&ch_), H_SUCCESS);
    EXPECT_EQ(h_enable_crq(nullptr), H_PARAMETER);
    EXPECT_EQ(h_free_crq(nullptr), H_PARAMETER);
    EXPECT_EQ(h_send_crq(nullptr, 0x8000000000000000, 0), H_PARAMETER);
}

TEST_F(CrqTest, DeliverFillsSlotsInOrderStopsWhenFullAndWraps) {
    ch_.open();
    ASSERT_EQ(h_reg_crq(&ch_, part_.memory(), 0x2000, 0x1000), H_SUCCESS);
    const u32 slots = 0x1000 / 16;
    for (u32 i = 0; i < slots; ++i) {
        CrqEntry e = CrqEntry::from_words(0x8000000000000000 | i, 0x1111111100000000 | i);
        ASSERT_TRUE(ch_.deliver(e)) << i;
    }
    EXPECT_EQ(bytes_at(part_.at(0x2000 + 16 * 5), 16),
              (std::vector<u8>{0x80, 0, 0, 0, 0, 0, 0, 5, 0x11, 0x11, 0x11, 0x11, 0, 0, 0, 5}));
    EXPECT_FALSE(ch_.deliver(crq_init_complete()));  // the partition has not read slot 0 yet
    EXPECT_EQ(ch_.stats().deliver_full, 1u);

    part_.at(0x2000)[0] = 0;  // the partition consumed slot 0 only
    ASSERT_TRUE(ch_.deliver(crq_init_complete()));
    EXPECT_EQ(bytes_at(part_.at(0x2000), 2), (std::vector<u8>{0xC0, 0x02}));
    EXPECT_FALSE(ch_.deliver(crq_init_complete()));  // slot 1 still in use
    EXPECT_EQ(ch_.stats().delivered, slots + 1u);
}

TEST_F(CrqTest, DeliverNeedsARegisteredReachableQueueAndAValidEntry) {
    ch_.open();
    EXPECT_FALSE(ch_.deliver(crq_init_request()));
    ASSERT_EQ(h_reg_crq(&ch_, part_.memory(), 0x2000, 0x1000), H_SUCCESS);
    EXPECT_FALSE(ch_.deliver(CrqEntry{}));  // valid byte 0 would read as an empty slot
    part_.gone = true;
    EXPECT_FALSE(ch_.deliver(crq_init_request()));
    part_.gone = false;
    ASSERT_EQ(h_free_crq(&ch_), H_SUCCESS);
    EXPECT_FALSE(ch_.deliver(crq_init_request()));
    EXPECT_EQ(ch_.stats().deliver_closed, 3u);
    EXPECT_EQ(ch_.stats().delivered, 0u);
}

TEST_F(CrqTest, SendQueuesBigEndianEntriesForTheHypervisorUntilTheRingIsFull) {
    ch_.open();
    ASSERT_EQ(h_reg_crq(&ch_, part_.memory(), 0x2000, 0x1000), H_SUCCESS);
    EXPECT_EQ(h_send_crq(&ch_, 0x0012345678000000, 1), H_PARAMETER);  // valid byte 0
    ASSERT_EQ(h_send_crq(&ch_, 0x8081000200030004, 0x0506070809101112), H_SUCCESS);
    CrqEntry e;
    ASSERT_TRUE(ch_.receive(e));
    EXPECT_EQ(bytes_of(e), (std::vector<u8>{0x80, 0x81, 0, 2, 0, 3, 0, 4, 5, 6, 7, 8, 9, 0x10, 0x11, 0x12}));
    EXPECT_EQ(e.hi(), 0x8081000200030004u);
    EXPECT_EQ(e.lo(), 0x0506070809101112u);
    EXPECT_FALSE(ch_.receive(e));

    for (u32 i = 0; i < crq::kInboundEntries; ++i) ASSERT_EQ(h_send_crq(&ch_, 0x8000000000000000 | i, 0), H_SUCCESS);
    EXPECT_EQ(h_send_crq(&ch_, 0x80FF000000000000, 0), H_DROPPED);
    EXPECT_EQ(ch_.stats().send_dropped, 1u);
    for (u32 i = 0; i < crq::kInboundEntries; ++i) {
        ASSERT_TRUE(ch_.receive(e));
        EXPECT_EQ(e.hi(), 0x8000000000000000u | i);  // FIFO
    }
    EXPECT_EQ(ch_.stats().sent, 1u + crq::kInboundEntries);
    EXPECT_EQ(ch_.stats().received, 1u + crq::kInboundEntries);
}

TEST_F(CrqTest, FreeingKeepsWhatWasSentClosingDropsItAndTellsThePartition) {
    ch_.open();
    ASSERT_EQ(h_reg_crq(&ch_, part_.memory(), 0x2000, 0x1000), H_SUCCESS);
    ASSERT_EQ(h_send_crq(&ch_, 0x8001000000000000, 0), H_SUCCESS);
    ASSERT_EQ(h_free_crq(&ch_), H_SUCCESS);
    EXPECT_EQ(h_send_crq(&ch_, 0x8001000000000000, 0), H_CLOSED);
    EXPECT_EQ(ch_.inbound_count(), 1u);  // accepted before the free: still the hypervisor's

    ASSERT_EQ(h_reg_crq(&ch_, part_.memory(), 0x3000, 0x1000), H_SUCCESS);
    ch_.close();
    EXPECT_FALSE(ch_.is_open());
    EXPECT_EQ(ch_.inbound_count(), 0u);
    EXPECT_EQ(bytes_at(part_.at(0x3000), 2), (std::vector<u8>{0xFF, 0x02}));  // partner deregistered
    EXPECT_EQ(h_send_crq(&ch_, 0x8001000000000000, 0), H_CLOSED);
}

// The partition polls the valid byte on another CPU: whenever it sees an
// entry valid, the payload must be complete, including across wrap-around.
TEST_F(CrqTest, APollingPartitionNeverSeesAHalfWrittenEntry) {
    ch_.open();
    ASSERT_EQ(h_reg_crq(&ch_, part_.memory(), 0x2000, 0x1000), H_SUCCESS);
    constexpr u32 kCount = 5000;
    std::atomic<u32> bad{0};
    std::thread psp([&] {
        u64 cursor = 0;
        for (u32 n = 0; n < kCount;) {
            u8* slot = part_.at(0x2000 + cursor);
            if (__atomic_load_n(&slot[0], __ATOMIC_ACQUIRE) == 0) continue;
            CrqEntry e;
            for (int i = 0; i < 16; ++i) e.bytes[i] = slot[i];
            if (e.hi() != (0x8000000000000000 | n) || e.lo() != ~u64{n}) bad++;
            __atomic_store_n(&slot[0], u8{0}, __ATOMIC_RELEASE);
            cursor = (cursor + 16) % 0x1000;
            ++n;
        }
    });
    for (u32 n = 0; n < kCount;)
        if (ch_.deliver(CrqEntry::from_words(0x8000000000000000 | n, ~u64{n}))) ++n;
    psp.join();
    EXPECT_EQ(bad.load(), 0u);
}

// ---- the paging protocol ----

using namespace pv::paging;

static_assert(encode(CompletionMsg{1, 2, 3, 4}).hi() == 0x8081000100020003);
static_assert(encode(CompletionMsg{1, 2, 3, 4}).lo() == 0x0004000000000000);
static_assert(encode(CompletionMsg{1, 2, 3, 4, true}).lo() == 0x0004010000000000);  // byte 10: more
static_assert(kBlocksPerPage == 8);

TEST(PagingProtocol, PageInAndPageOutAreDoorbellsNamingADescriptor) {
    CrqEntry e = encode(IoRequestMsg{Opcode::PageIn, 0x0102, 0x0304, 0x0005});
    EXPECT_EQ(bytes_of(e), (std::vector<u8>{0x80, 0x01, 0x01, 0x02, 0x03, 0x04, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0}));
    IoRequestMsg m{};
    ASSERT_TRUE(decode(e, m));
    EXPECT_EQ(m.op, Opcode::PageIn);
    EXPECT_EQ(m.req_id, 0x0102);
    EXPECT_EQ(m.tag, 0x0304);
    EXPECT_EQ(m.lpid, 5);
    EXPECT_FALSE(from_psp(m.op));

    e = encode(IoRequestMsg{Opcode::PageOut, 7, 8, 9});
    EXPECT_EQ(e.bytes[1], 0x02);
    ASSERT_TRUE(decode(e, m));
    EXPECT_EQ(m.op, Opcode::PageOut);
    CompletionMsg c{};
    EXPECT_FALSE(decode(e, c));  // not a completion
}

TEST(PagingProtocol, CompletionCarriesTheNvmeStatus) {
    CrqEntry e = encode(CompletionMsg{0x0a0b, 0x0c0d, 0x0001, 0x0281});
    EXPECT_EQ(bytes_of(e), (std::vector<u8>{0x80, 0x81, 0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x01, 0x02, 0x81, 0, 0, 0, 0, 0, 0}));
    CompletionMsg m{};
    ASSERT_TRUE(decode(e, m));
    EXPECT_EQ(m.req_id, 0x0a0b);
    EXPECT_EQ(m.tag, 0x0c0d);
    EXPECT_EQ(m.lpid, 1);
    EXPECT_EQ(m.status, 0x0281);
    EXPECT_EQ(request_status(m), 0x0281);
    EXPECT_FALSE(m.more);
    EXPECT_TRUE(from_psp(opcode_of(e)));
    CompletionMsg burst{};
    ASSERT_TRUE(decode(encode(CompletionMsg{1, 2, 3, 0, true}), burst));
    EXPECT_TRUE(burst.more);  // more completions of one merged transfer follow

    CrqEntry init = crq_init_request();
    EXPECT_FALSE(decode(init, m));  // 0xC0 entries are transport, not paging messages
    e.bytes[0] = 0xFF;
    EXPECT_FALSE(decode(e, m));
}

TEST(PagingProtocol, FailureCarriesAReasonAndTheDriversCode) {
    CrqEntry e = encode(FailureMsg{3, 4, 5, FailureReason::DeviceTimeout, 0x00010000});
    EXPECT_EQ(bytes_of(e), (std::vector<u8>{0x80, 0x82, 0, 3, 0, 4, 0, 5, 0x00, 0x03, 0, 0, 0x00, 0x01, 0x00, 0x00}));
    FailureMsg m{};
    ASSERT_TRUE(decode(e, m));
    EXPECT_EQ(m.reason, FailureReason::DeviceTimeout);
    EXPECT_EQ(m.detail, 0x00010000u);
    EXPECT_EQ(request_status(m), 0x8003);
    EXPECT_NE(request_status(FailureMsg{0, 0, 0, FailureReason::Unspecified, 0}), 0);  // never "ok"
}

TEST(PagingProtocol, DescriptorTableRegistrationAndResponse) {
    CrqEntry e = encode(SetDescTableMsg{0x0040, 0x12345000});
    EXPECT_EQ(bytes_of(e), (std::vector<u8>{0x80, 0x90, 0x00, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x50, 0x00}));
    SetDescTableMsg s{};
    ASSERT_TRUE(decode(e, s));
    EXPECT_EQ(s.entries, 0x40);
    EXPECT_EQ(s.table_addr, 0x12345000u);

    e = encode(DescTableRespMsg{0x0040, TableStatus::TooSmall});
    EXPECT_EQ(bytes_of(e), (std::vector<u8>{0x80, 0x10, 0x00, 0x40, 0, 0, 0, 0, 0x00, 0x02, 0, 0, 0, 0, 0, 0}));
    DescTableRespMsg r{};
    ASSERT_TRUE(decode(e, r));
    EXPECT_EQ(r.status, TableStatus::TooSmall);
}

TEST(PagingProtocol, TheCompletionRingIsAskedForAndGrantedInTheTableMessages) {
    CrqEntry e = encode(SetDescTableMsg{0x0040, 0x12345000, kTableCompletionRing});
    EXPECT_EQ(bytes_of(e), (std::vector<u8>{0x80, 0x90, 0x00, 0x40, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x50, 0x00}));
    SetDescTableMsg s{};
    ASSERT_TRUE(decode(e, s));
    EXPECT_EQ(s.flags, kTableCompletionRing);
    EXPECT_EQ(desc_table_bytes(s), 0x40u * 40);
    EXPECT_EQ(completion_ring_offset(s), 0x40u * 32);
    EXPECT_EQ(desc_table_bytes(SetDescTableMsg{0x40, 0, 0x80}), 0x40u * 32);  // a flag we do not know takes no room

    e = encode(DescTableRespMsg{0x0040, TableStatus::Ok, kTableCompletionRing});
    EXPECT_EQ(bytes_of(e), (std::vector<u8>{0x80, 0x10, 0x00, 0x40, 0x01, 0, 0, 0, 0x00, 0x00, 0, 0, 0, 0, 0, 0}));
    DescTableRespMsg r{};
    ASSERT_TRUE(decode(e, r));
    EXPECT_EQ(r.flags, kTableCompletionRing);

    e = encode(CompletionsPostedMsg{});
    EXPECT_EQ(bytes_of(e), (std::vector<u8>{0x80, 0x83, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    CompletionsPostedMsg posted;
    EXPECT_TRUE(decode(e, posted));
    EXPECT_FALSE(decode(encode(CompletionMsg{1, 2, 3, 0}), posted));
}

// The ring with the table must be reachable too: a table that fits its last
// page without a ring may not with one.
TEST(PagingProtocol, TheCompletionRingMustBeReachable) {
    FakePartition psp;
    PartitionMemory m = psp.memory();
    EXPECT_EQ(check_desc_table(m, {64, 0x3f000, 0}, 64), TableStatus::Ok);  // 2 KiB
    EXPECT_EQ(check_desc_table(m, {64, 0x3f000, kTableCompletionRing}, 64), TableStatus::Ok);  // 2.5 KiB
    EXPECT_EQ(check_desc_table(m, {128, 0x3f000, 0}, 64), TableStatus::Ok);                 // 4 KiB
    EXPECT_EQ(check_desc_table(m, {128, 0x3f000, kTableCompletionRing}, 64), TableStatus::BadAddress);  // 5 KiB
}

TEST(CompletionRing, RecordsGoRoundInOrderAndEachSlotIsFreedByTheReader) {
    u8 mem[4 * kCompletionRecordBytes]{};
    CompletionRing writer, reader;
    writer.reset(mem, 4);
    reader.reset(mem, 4);
    CompletionRecord c;
    bool ok = false;
    EXPECT_FALSE(reader.pending());
    EXPECT_FALSE(reader.take(c, ok));
    ASSERT_TRUE(writer.post({0x0102, 0x0304, 0x0281}));
    EXPECT_EQ(bytes_at(mem, 8), (std::vector<u8>{0x80, 0, 0x01, 0x02, 0x03, 0x04, 0x02, 0x81}));
    for (u16 i = 1; i < 4; ++i) ASSERT_TRUE(writer.post({i, static_cast<u16>(i + 10), 0}));
    EXPECT_FALSE(writer.post({9, 9, 0}));  // full: every slot still holds a record
    ASSERT_TRUE(reader.pending());
    ASSERT_TRUE(reader.take(c, ok));
    EXPECT_TRUE(ok);
    EXPECT_EQ(c.req_id, 0x0102);
    EXPECT_EQ(c.tag, 0x0304);
    EXPECT_EQ(c.status, 0x0281);
    EXPECT_EQ(mem[0], 0);  // freed
    ASSERT_TRUE(writer.post({4, 14, 0}));  // into the freed slot, past the end
    for (u16 want : {1, 2, 3, 4}) {
        ASSERT_TRUE(reader.take(c, ok));
        EXPECT_EQ(c.req_id, want);
        EXPECT_EQ(c.tag, want + 10);
    }
    EXPECT_FALSE(reader.take(c, ok));
}

TEST(CompletionRing, AMalformedRecordIsSkippedNotStuck) {
    u8 mem[2 * kCompletionRecordBytes]{};
    CompletionRing reader, writer;
    reader.reset(mem, 2);
    mem[0] = 0x42;  // neither free nor valid
    writer.reset(mem, 2);
    ASSERT_FALSE(writer.post({1, 1, 0}));  // the writer sees it as in use
    CompletionRecord c;
    bool ok = true;
    ASSERT_TRUE(reader.take(c, ok));
    EXPECT_FALSE(ok);
    EXPECT_EQ(mem[0], 0);
    ASSERT_TRUE(writer.post({1, 1, 0}));
    EXPECT_FALSE(reader.take(c, ok));  // the reader is past slot 0 already
    CompletionRing none;
    EXPECT_FALSE(none.active());
    EXPECT_FALSE(none.post({1, 1, 0}));
    EXPECT_FALSE(none.take(c, ok));
}

TEST(PagingProtocol, DescriptorLayout) {
    Descriptor d{Opcode::PageIn, 0x0304, 0x0005, kBlocksPerPage, 0x0000000000012345, 0x0000000000091a28,
                 0x0000000123456000};
    u8 out[kDescriptorBytes];
    encode(d, out);
    EXPECT_EQ(bytes_at(out, 32), (std::vector<u8>{0x01, 0x00, 0x03, 0x04, 0x00, 0x05, 0x00, 0x08,  //
                                                  0, 0, 0, 0, 0, 0x01, 0x23, 0x45,                  //
                                                  0, 0, 0, 0, 0, 0x09, 0x1a, 0x28,                  //
                                                  0, 0, 0, 0x01, 0x23, 0x45, 0x60, 0x00}));
    Descriptor back = decode_descriptor(out);
    EXPECT_EQ(back.op, Opcode::PageIn);
    EXPECT_EQ(back.tag, 0x0304);
    EXPECT_EQ(back.lpid, 5);
    EXPECT_EQ(back.blocks, 8);
    EXPECT_EQ(back.logical_page, 0x12345u);
    EXPECT_EQ(back.device_block, 0x91a28u);
    EXPECT_EQ(back.dma_addr, 0x123456000u);
}

TEST(PagingProtocol, TheDescriptorTableMustBeAlignedLargeEnoughAndReachable) {
    FakePartition psp;
    PartitionMemory m = psp.memory();
    EXPECT_EQ(check_desc_table(m, {64, 0x10000}, 64), TableStatus::Ok);
    EXPECT_EQ(check_desc_table(m, {32, 0x10000}, 64), TableStatus::TooSmall);
    EXPECT_EQ(check_desc_table(m, {0, 0x10000}, 0), TableStatus::TooSmall);
    EXPECT_EQ(check_desc_table(m, {64, 0x10020}, 64), TableStatus::BadAddress);
    EXPECT_EQ(check_desc_table(m, {256, 0x1f000}, 64), TableStatus::BadAddress);  // 8 KiB over the hole
    EXPECT_EQ(check_desc_table(m, {64, 0x3f000}, 64), TableStatus::Ok);         // 2 KiB: fits the last page
    EXPECT_EQ(check_desc_table(m, {256, 0x3f000}, 64), TableStatus::BadAddress);
    EXPECT_EQ(check_desc_table(PartitionMemory{}, {64, 0x10000}, 64), TableStatus::BadAddress);

    Descriptor d{Opcode::PageOut, 1, 2, kBlocksPerPage, 3, 4, 0x5000};
    ASSERT_TRUE(write_descriptor(m, 0x10000, 3, d));
    EXPECT_EQ(psp.at(0x10000 + 3 * 32)[0], 0x02);
    EXPECT_EQ(decode_descriptor(psp.at(0x10000 + 3 * 32)).dma_addr, 0x5000u);
    EXPECT_FALSE(write_descriptor(m, kPageSize * 0x20, 0, d));  // the hole
}

// A whole round trip: the hypervisor writes a descriptor and delivers the
// doorbell; the PSP reads both and answers with H_SEND_CRQ.
TEST(PagingProtocol, RoundTripThroughTheChannel) {
    FakePartition psp;
    CrqChannel ch;
    ch.open();
    ASSERT_EQ(h_reg_crq(&ch, psp.memory(), 0x1000, 0x1000), H_SUCCESS);
    ASSERT_EQ(check_desc_table(psp.memory(), {16, 0x8000}, 16), TableStatus::Ok);

    Descriptor d{Opcode::PageIn, 0x77, 4, kBlocksPerPage, 0x1234, 0x91a0, 0xabc000};
    ASSERT_TRUE(write_descriptor(psp.memory(), 0x8000, 9, d));
    ASSERT_TRUE(ch.deliver(encode(IoRequestMsg{Opcode::PageIn, 9, 0x77, 4})));

    // PSP side.
    CrqEntry got;
    for (int i = 0; i < 16; ++i) got.bytes[i] = psp.at(0x1000)[i];
    IoRequestMsg req{};
    ASSERT_TRUE(decode(got, req));
    Descriptor seen = decode_descriptor(psp.at(0x8000 + req.req_id * kDescriptorBytes));
    EXPECT_EQ(seen.tag, req.tag);
    EXPECT_EQ(seen.device_block, 0x91a0u);
    CrqEntry answer = encode(CompletionMsg{req.req_id, req.tag, req.lpid, 0});
    ASSERT_EQ(h_send_crq(&ch, answer.hi(), answer.lo()), H_SUCCESS);

    CrqEntry in;
    ASSERT_TRUE(ch.receive(in));
    CompletionMsg c{};
    ASSERT_TRUE(decode(in, c));
    EXPECT_EQ(c.req_id, 9);
    EXPECT_EQ(c.tag, 0x77);
    EXPECT_EQ(request_status(c), 0);
}

}  // namespace
