// The hypervisor's end of the mover protocol (hv/mover_link.h) against a
// PSP whose memory is a host buffer: area checks, slot ownership (a PSP
// that names slots it does not hold changes nothing), the FIFOs, a reset.
// Also the protocol's byte layout, the offer request and the free paging
// region an incoming partition could use.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hv/config.h"
#include "hv/mig_validate.h"
#include "hv/mover_link.h"
#include "hv/paging_space.h"

using namespace pv;
using namespace pv::mover;

namespace {

constexpr u64 kAreaAt = 0x10000;
constexpr u64 kHole = 0x30000;  // unreachable page

struct FakePsp {
    std::vector<u8> mem = std::vector<u8>(0x80000, 0);
    std::vector<CrqEntry> sent;
    static void* ptr(void* ctx, u64 logical, u64 len) {
        auto& p = *static_cast<FakePsp*>(ctx);
        if (logical >= p.mem.size() || len > p.mem.size() - logical) return nullptr;
        if (logical < kHole + kPageSize && logical + len > kHole) return nullptr;
        return p.mem.data() + logical;
    }
    static void deliver(void* ctx, const CrqEntry& e) { static_cast<FakePsp*>(ctx)->sent.push_back(e); }
};

class MoverLinkTest : public ::testing::Test {
protected:
    void SetUp() override { link_.init(&FakePsp::deliver, &psp_, PartitionMemory{&FakePsp::ptr, &psp_}); }
    void register_area(u16 slots = 16, u64 addr = kAreaAt) { link_.handle(encode(AreaMsg{slots, addr})); }
    AreaStatus last_area_status() {
        AreaRespMsg r{};
        EXPECT_TRUE(decode(psp_.sent.back(), r));
        return r.status;
    }
    FakePsp psp_;
    MoverLink link_;
};

TEST(MoverProtocol, EntriesAreBigEndianAtTheirOffsets) {
    CrqEntry e = encode(IoMsg{Opcode::Read, 0x0102, 8, 0x1122334455667788});
    const u8 want[16] = {0x80, 0x24, 0x01, 0x02, 0x00, 0x08, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    EXPECT_EQ(0, memcmp(e.bytes, want, 16));
    IoMsg m{};
    ASSERT_TRUE(decode(e, m));
    EXPECT_EQ(m.block, 0x1122334455667788u);
    SessionMsg s{};
    ASSERT_TRUE(decode(encode(SessionMsg{SessionState::Open, 0, true, 0xabcdef}), s));
    EXPECT_TRUE(s.peer_initiated);
    EXPECT_EQ(s.session, 0xabcdefu);
    EXPECT_TRUE(is_mover_message(encode_bare(Opcode::Connect)));
    EXPECT_FALSE(is_mover_message(crq_header(crq::kCmdRsp, 0x81)));  // a paging Completion
    SlotMsg sm{};
    EXPECT_FALSE(decode(encode_bare(Opcode::Connect), sm));
}

TEST_F(MoverLinkTest, AreaMustBeAlignedEvenSizedAndReachable) {
    register_area(15);
    EXPECT_EQ(last_area_status(), AreaStatus::BadSlots);
    register_area(16, kAreaAt + 8);
    EXPECT_EQ(last_area_status(), AreaStatus::BadAddress);
    register_area(64, kHole - 8 * kSlotBytes);  // the hole is inside
    EXPECT_EQ(last_area_status(), AreaStatus::BadAddress);
    EXPECT_FALSE(link_.active());
    EXPECT_FALSE(link_.alloc_slot());
    EXPECT_FALSE(link_.connect());
    register_area(16);
    EXPECT_EQ(last_area_status(), AreaStatus::Ok);
    EXPECT_TRUE(link_.active());
    EXPECT_EQ(link_.free_slots(), 8u);
}

TEST_F(MoverLinkTest, SendGivesTheSlotAwayUntilSlotFree) {
    register_area();
    auto s = link_.alloc_slot();
    ASSERT_TRUE(s);
    EXPECT_LT(*s, 8);
    u8* p = link_.slot(*s);
    ASSERT_EQ(p, psp_.mem.data() + kAreaAt + *s * kSlotBytes);
    EXPECT_FALSE(link_.send(*s, 0));
    EXPECT_FALSE(link_.send(*s, kMaxMessageBytes + 1));
    ASSERT_TRUE(link_.send(*s, 100));
    SlotMsg m{};
    ASSERT_TRUE(decode(psp_.sent.back(), m));
    EXPECT_EQ(m.op, Opcode::Send);
    EXPECT_EQ(m.slot, *s);
    EXPECT_EQ(m.len, 100);
    EXPECT_EQ(link_.slot(*s), nullptr);  // the PSP's now
    EXPECT_FALSE(link_.send(*s, 100));   // and not twice
    EXPECT_EQ(link_.free_slots(), 7u);
    link_.handle(encode(SlotMsg{Opcode::SlotFree, static_cast<u16>(*s + 1), 0}));  // a slot it does not hold
    EXPECT_EQ(link_.protocol_errors(), 1u);
    EXPECT_EQ(link_.free_slots(), 7u);
    link_.handle(encode(SlotMsg{Opcode::SlotFree, *s, 0}));
    EXPECT_EQ(link_.free_slots(), 8u);
    link_.handle(encode(SlotMsg{Opcode::SlotFree, *s, 0}));  // twice
    EXPECT_EQ(link_.protocol_errors(), 2u);
    EXPECT_EQ(link_.free_slots(), 8u);
}

TEST_F(MoverLinkTest, ReceivedMessagesComeInOrderAndGoBackWithRxFree) {
    register_area();
    link_.handle(encode(SlotMsg{Opcode::Received, 3, 10}));  // a hypervisor slot: refused
    link_.handle(encode(SlotMsg{Opcode::Received, 16, 10}));  // beyond the area
    link_.handle(encode(SlotMsg{Opcode::Received, 9, 0}));   // no bytes
    link_.handle(encode(SlotMsg{Opcode::Received, 9, kMaxMessageBytes + 1}));
    EXPECT_EQ(link_.protocol_errors(), 4u);
    MoverLink::Message msg{};
    EXPECT_FALSE(link_.take_received(msg));
    EXPECT_EQ(link_.slot(9), nullptr);
    link_.handle(encode(SlotMsg{Opcode::Received, 9, 10}));
    link_.handle(encode(SlotMsg{Opcode::Received, 12, 20}));
    link_.handle(encode(SlotMsg{Opcode::Received, 9, 10}));  // ours already
    EXPECT_EQ(link_.protocol_errors(), 5u);
    ASSERT_TRUE(link_.take_received(msg));
    EXPECT_EQ(msg.slot, 9);
    EXPECT_EQ(msg.len, 10);
    EXPECT_NE(link_.slot(9), nullptr);
    ASSERT_TRUE(link_.take_received(msg));
    EXPECT_EQ(msg.slot, 12);
    EXPECT_FALSE(link_.take_received(msg));
    size_t before = psp_.sent.size();
    link_.rx_free(9);
    link_.rx_free(9);  // once only
    ASSERT_EQ(psp_.sent.size(), before + 1);
    SlotMsg m{};
    ASSERT_TRUE(decode(psp_.sent.back(), m));
    EXPECT_EQ(m.op, Opcode::RxFree);
    EXPECT_EQ(m.slot, 9);
    EXPECT_EQ(link_.slot(9), nullptr);
}

TEST_F(MoverLinkTest, ReadsAndWritesHoldTheSlotUntilIoDone) {
    register_area();
    auto s = link_.alloc_slot();
    ASSERT_TRUE(s);
    EXPECT_FALSE(link_.read(*s, 100, 0));
    EXPECT_FALSE(link_.read(*s, 100, kPageBlocks + 1));
    ASSERT_TRUE(link_.read(*s, 100, kPageBlocks));
    IoMsg io{};
    ASSERT_TRUE(decode(psp_.sent.back(), io));
    EXPECT_EQ(io.op, Opcode::Read);
    EXPECT_EQ(io.block, 100u);
    EXPECT_EQ(link_.slot(*s), nullptr);
    link_.handle(encode(IoDoneMsg{static_cast<u16>(*s ^ 1), 0}));
    EXPECT_EQ(link_.protocol_errors(), 1u);
    link_.handle(encode(IoDoneMsg{*s, 0x0281}));
    MoverLink::IoResult r{};
    ASSERT_TRUE(link_.take_io_done(r));
    EXPECT_EQ(r.slot, *s);
    EXPECT_EQ(r.status, 0x0281);
    EXPECT_NE(link_.slot(*s), nullptr);  // ours again: the data is there
    ASSERT_TRUE(link_.write(*s, 200, kPageBlocks));
    link_.handle(encode(IoDoneMsg{*s, 0}));
    ASSERT_TRUE(link_.take_io_done(r));
    link_.free_slot(*s);
    EXPECT_EQ(link_.free_slots(), 8u);
}

TEST_F(MoverLinkTest, SessionEventsQueueAndAResetEndsAnOpenSession) {
    link_.handle(encode(SessionMsg{SessionState::Open, 0, false, 1}));  // before an area: not a mover
    SessionMsg s{};
    EXPECT_FALSE(link_.take_session_event(s));
    register_area();
    link_.handle(encode(SessionMsg{SessionState::Open, 0, true, 7}));
    EXPECT_EQ(link_.session(), SessionState::Open);
    ASSERT_TRUE(link_.take_session_event(s));
    EXPECT_EQ(s.session, 7u);
    auto slot = link_.alloc_slot();
    ASSERT_TRUE(slot);
    ASSERT_TRUE(link_.send(*slot, 5));
    link_.reset();  // the PSP died
    EXPECT_FALSE(link_.active());
    ASSERT_TRUE(link_.take_session_event(s));
    EXPECT_EQ(s.state, SessionState::Aborted);
    link_.handle(encode(SlotMsg{Opcode::SlotFree, *slot, 0}));  // from the dead PSP
    EXPECT_EQ(link_.free_slots(), 0u);
    register_area();  // it came back
    EXPECT_EQ(link_.free_slots(), 8u);
    EXPECT_EQ(link_.session(), SessionState::Listening);
}

TEST(MigOfferRequest, RoundTripsAndRejectsDamage) {
    MigOfferRequest q;
    std::strcpy(q.system, "sysa");
    std::strcpy(q.partition, "shared1");
    u8 buf[kMigOfferRequestBytes];
    ASSERT_EQ(mig_encode_offer_request(q, buf), kMigOfferRequestBytes);
    EXPECT_EQ(mig_message_magic(buf, sizeof buf), kMigOfferRequestMagic);
    MigOfferRequest out;
    ASSERT_EQ(mig_decode_offer_request(buf, sizeof buf, out), Err::Ok);
    EXPECT_STREQ(out.system, "sysa");
    EXPECT_STREQ(out.partition, "shared1");
    EXPECT_EQ(mig_decode_offer_request(buf, sizeof buf - 1, out), Err::Invalid);
    for (u32 i : {0u, 5u, 7u, 8u, 24u}) {
        u8 bad[kMigOfferRequestBytes];
        std::memcpy(bad, buf, sizeof bad);
        bad[i] = i == 8 || i == 24 ? 'A' : bad[i] ^ 1;  // magic, version, length, names
        MigOfferRequest o2;
        std::strcpy(o2.system, "keep");
        EXPECT_EQ(mig_decode_offer_request(bad, sizeof bad, o2), Err::Invalid) << i;
        EXPECT_STREQ(o2.system, "keep");
    }
    EXPECT_EQ(mig_message_magic(buf, 3), 0u);
}

TEST(FreePagingRegion, IsTheLargestGapBetweenConfiguredRegions) {
    constexpr u64 M = u64{1} << 20;
    SystemConfig cfg{};
    EXPECT_EQ(largest_free_paging_region(cfg, 256 * M), 256 * M);
    auto add = [&](MemMode mode, u64 off, u64 bytes) {
        PartitionConfig& p = cfg.partitions[cfg.partition_count++];
        p.mem_mode = mode;
        p.paging_offset = off;
        p.mem_bytes = bytes;
    };
    add(MemMode::Shared, 16 * M, 16 * M);
    add(MemMode::Dedicated, 0, 200 * M);  // no paging region
    add(MemMode::Shared, 100 * M, 32 * M);
    u64 at = 0;
    EXPECT_EQ(largest_free_paging_region(cfg, 256 * M, &at), 124 * M);  // 132M..256M
    EXPECT_EQ(at, 132 * M);
    EXPECT_EQ(largest_free_paging_region(cfg, 140 * M, &at), 68 * M);  // 32M..100M
    EXPECT_EQ(at, 32 * M);
    EXPECT_EQ(largest_free_paging_region(cfg, 20 * M, &at), 16 * M);  // 0..16M; the region runs past the end
    EXPECT_EQ(at, 0u);
    // A partition that migrated away and whose slot was reclaimed holds no region.
    cfg.partitions[2].reclaimed = true;
    EXPECT_EQ(largest_free_paging_region(cfg, 256 * M, &at), 224 * M);  // 32M..256M
    EXPECT_EQ(at, 32 * M);
}

TEST(MigSwitch, EachStepRoundTripsAndNothingElseDecodes) {
    for (MigSwitch step : {MigSwitch::Ready, MigSwitch::Go, MigSwitch::Running}) {
        u8 buf[kMigSwitchBytes];
        mig_encode_switch(step, buf);
        EXPECT_EQ(mig_message_magic(buf, sizeof buf), kMigSwitchMagic);
        MigSwitch out{};
        ASSERT_EQ(mig_decode_switch(buf, sizeof buf, out), Err::Ok);
        EXPECT_EQ(out, step);
        EXPECT_EQ(mig_decode_switch(buf, sizeof buf - 1, out), Err::Invalid);
        for (u32 i = 0; i < sizeof buf; ++i) {  // any byte changed: not a step
            u8 bad[kMigSwitchBytes];
            std::memcpy(bad, buf, sizeof bad);
            bad[i] ^= i == 8 ? 0x04 : 0x01;
            MigSwitch o2{};
            EXPECT_EQ(mig_decode_switch(bad, sizeof bad, o2), Err::Invalid) << i;
        }
    }
    u8 zero[kMigSwitchBytes]{};
    MigSwitch out{};
    EXPECT_EQ(mig_decode_switch(zero, sizeof zero, out), Err::Invalid);
}

}  // namespace
