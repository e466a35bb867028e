// The ABI layouts, pinned byte by byte: each field written through its struct
// must land at the offset the other side's header gives it, big-endian.
// Offsets below are written from:
//   Linux arch/powerpc/include/asm/rtas-types.h   struct rtas_args
//   Linux arch/powerpc/include/asm/lppaca.h       struct lppaca, struct dtl_entry
//   docs/crq.md                                   the paging descriptor and messages
// (the RTAS error log has its own test, rtas_error_log_test.cpp).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/lppaca.h"
#include "base/rtas_args.h"
#include "base/rtas_error_log.h"
#include "vio/paging_protocol.h"

using namespace pv;

namespace {

u64 rd(const void* base, std::size_t off, int bytes) {
    auto* p = static_cast<const u8*>(base) + off;
    u64 x = 0;
    for (int i = 0; i < bytes; ++i) x = x << 8 | p[i];
    return x;
}

}  // namespace

TEST(AbiLayout, RtasArgsIsLinuxStructRtasArgs) {
    RtasArgs a{};
    a.token.set(0x2001);
    a.nargs.set(2);
    a.nret.set(3);
    for (u32 i = 0; i < RtasArgs::kMaxCells; ++i) a.args[i].set(0xa0 + i);
    EXPECT_EQ(sizeof a, 12u + 16 * 4);
    EXPECT_EQ(rd(&a, 0, 4), 0x2001u);  // token
    EXPECT_EQ(rd(&a, 4, 4), 2u);       // nargs
    EXPECT_EQ(rd(&a, 8, 4), 3u);       // nret
    for (u32 i = 0; i < 16; ++i) EXPECT_EQ(rd(&a, 12 + 4 * i, 4), 0xa0u + i) << i;  // args[i]
}

TEST(AbiLayout, LppacaFieldsAreAtLinuxOffsets) {
    alignas(8) u8 mem[sizeof(Lppaca)] = {};
    auto* l = reinterpret_cast<Lppaca*>(mem);
    EXPECT_EQ(sizeof(Lppaca), 640u);
    l->desc.set(kLppacaEyeCatcher);
    l->size.set(0x400);
    l->old_status = kLppacaOldSharedProc;
    l->dtl_enable_mask = 0x7;
    l->yield_count.store(0x11111111);
    l->dispersion_count.store(0x22222222);
    l->cmo_faults.store(0x3333333333333333ULL);
    l->cmo_fault_time.store(0x4444444444444444ULL);
    l->enqueue_dispatch_tb.store(0x5555555555555555ULL);
    l->ready_enqueue_tb.store(0x6666666666666666ULL);
    l->wait_ready_tb.store(0x7777777777777777ULL);
    l->dtl_idx.store(0x8888888888888888ULL);
    EXPECT_EQ(rd(mem, 0x000, 4), 0xd397d781u);  // "LpPa"
    EXPECT_EQ(rd(mem, 0x004, 2), 0x400u);
    EXPECT_EQ(mem[0x009], 2);                   // __old_status, LPPACA_OLD_SHARED_PROC
    EXPECT_EQ(mem[0x0b8], 7);                   // dtl_enable_mask
    EXPECT_EQ(rd(mem, 0x100, 4), 0x11111111u);  // yield_count
    EXPECT_EQ(rd(mem, 0x104, 4), 0x22222222u);  // dispersion_count
    EXPECT_EQ(rd(mem, 0x108, 8), 0x3333333333333333ULL);  // cmo_faults
    EXPECT_EQ(rd(mem, 0x110, 8), 0x4444444444444444ULL);  // cmo_fault_time
    EXPECT_EQ(rd(mem, 0x158, 8), 0x5555555555555555ULL);  // enqueue_dispatch_tb
    EXPECT_EQ(rd(mem, 0x160, 8), 0x6666666666666666ULL);  // ready_enqueue_tb
    EXPECT_EQ(rd(mem, 0x168, 8), 0x7777777777777777ULL);  // wait_ready_tb
    EXPECT_EQ(rd(mem, 0x218, 8), 0x8888888888888888ULL);  // dtl_idx
    // Nothing else was touched.
    u32 nonzero = 0;
    for (u8 b : mem) nonzero += b != 0;
    EXPECT_EQ(nonzero, 4u + 1 /* 0x04 of 0x0400 */ + 1 + 1 + 4 + 4 + 8 * 6);
}

TEST(AbiLayout, RegisteredBufferLengthIsTheSecondWord) {
    RegisteredBufferHeader h{};
    h.length.set(4096);
    EXPECT_EQ(rd(&h, 0, 4), 0u);
    EXPECT_EQ(rd(&h, 4, 4), 4096u);
}

TEST(AbiLayout, DtlEntryIsLinuxStructDtlEntry) {
    DtlEntry e{};
    e.dispatch_reason = 8;
    e.preempt_reason = 6;
    e.processor_id.set(0x0102);
    e.enqueue_to_dispatch_time.set(0x03030303);
    e.ready_to_enqueue_time.set(0x04040404);
    e.waiting_to_ready_time.set(0x05050505);
    e.timebase.set(0x0606060606060606ULL);
    e.fault_addr.set(0x0707070707070707ULL);
    e.srr0.set(0x0808080808080808ULL);
    e.srr1.set(0x0909090909090909ULL);
    ASSERT_EQ(sizeof e, 48u);
    EXPECT_EQ(rd(&e, 0, 1), 8u);
    EXPECT_EQ(rd(&e, 1, 1), 6u);
    EXPECT_EQ(rd(&e, 2, 2), 0x0102u);
    EXPECT_EQ(rd(&e, 4, 4), 0x03030303u);
    EXPECT_EQ(rd(&e, 8, 4), 0x04040404u);
    EXPECT_EQ(rd(&e, 12, 4), 0x05050505u);
    EXPECT_EQ(rd(&e, 16, 8), 0x0606060606060606ULL);
    EXPECT_EQ(rd(&e, 24, 8), 0x0707070707070707ULL);
    EXPECT_EQ(rd(&e, 32, 8), 0x0808080808080808ULL);
    EXPECT_EQ(rd(&e, 40, 8), 0x0909090909090909ULL);
}

TEST(AbiLayout, PagingDescriptorIsTheDocumentedThirtyTwoBytes) {
    paging::wire::Descriptor w{};
    w.opcode = 0x02;
    w.tag.set(0x1112);
    w.lpid.set(0x2122);
    w.blocks.set(8);
    w.logical_page.set(0x3132333435363738ULL);
    w.device_block.set(0x4142434445464748ULL);
    w.dma_addr.set(0x5152535455565758ULL);
    ASSERT_EQ(sizeof w, paging::kDescriptorBytes);
    EXPECT_EQ(rd(&w, 0, 1), 0x02u);
    EXPECT_EQ(rd(&w, 1, 1), 0u);
    EXPECT_EQ(rd(&w, 2, 2), 0x1112u);
    EXPECT_EQ(rd(&w, 4, 2), 0x2122u);
    EXPECT_EQ(rd(&w, 6, 2), 8u);
    EXPECT_EQ(rd(&w, 8, 8), 0x3132333435363738ULL);
    EXPECT_EQ(rd(&w, 16, 8), 0x4142434445464748ULL);
    EXPECT_EQ(rd(&w, 24, 8), 0x5152535455565758ULL);

    // encode() writes exactly this layout, at any alignment.
    paging::Descriptor d{paging::Opcode::PageOut, 0x1112, 0x2122, 8, 0x3132333435363738ULL, 0x4142434445464748ULL,
                         0x5152535455565758ULL};
    u8 buf[1 + 32];
    paging::encode(d, buf + 1);
    EXPECT_EQ(std::memcmp(buf + 1, &w, sizeof w), 0);
    paging::Descriptor back = paging::decode_descriptor(buf + 1);
    EXPECT_EQ(back.op, d.op);
    EXPECT_EQ(back.tag, d.tag);
    EXPECT_EQ(back.lpid, d.lpid);
    EXPECT_EQ(back.blocks, d.blocks);
    EXPECT_EQ(back.logical_page, d.logical_page);
    EXPECT_EQ(back.device_block, d.device_block);
    EXPECT_EQ(back.dma_addr, d.dma_addr);
}

TEST(AbiLayout, PagingMessagesFillOneCrqEntry) {
    // Each message, encoded, against the byte tables of docs/crq.md.
    using namespace paging;
    auto bytes = [](const CrqEntry& e) { return std::vector<u8>(e.bytes, e.bytes + 16); };
    EXPECT_EQ(bytes(encode(IoRequestMsg{Opcode::PageIn, 0x0102, 0x0304, 0x0506})),
              (std::vector<u8>{0x80, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(bytes(encode(CompletionMsg{0x0102, 0x0304, 0x0506, 0x0708, true})),
              (std::vector<u8>{0x80, 0x81, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x01, 0, 0, 0, 0, 0}));
    EXPECT_EQ(bytes(encode(FailureMsg{0x0102, 0x0304, 0x0506, FailureReason::DmaRefused, 0x0a0b0c0d})),
              (std::vector<u8>{0x80, 0x82, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x00, 0x05, 0, 0, 0x0a, 0x0b, 0x0c,
                               0x0d}));
    EXPECT_EQ(bytes(encode(SetDescTableMsg{0x0102, 0x1112131415161718ULL})),
              (std::vector<u8>{0x80, 0x90, 0x01, 0x02, 0, 0, 0, 0, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18}));
    EXPECT_EQ(bytes(encode(DescTableRespMsg{0x0102, TableStatus::TooSmall})),
              (std::vector<u8>{0x80, 0x10, 0x01, 0x02, 0, 0, 0, 0, 0x00, 0x02, 0, 0, 0, 0, 0, 0}));
}

TEST(AbiLayout, CrqEntryWordsAreBigEndianRegisters) {
    CrqEntry e = CrqEntry::from_words(0x0001020304050607ULL, 0x08090a0b0c0d0e0fULL);
    for (u8 i = 0; i < 16; ++i) EXPECT_EQ(e.bytes[i], i);
    EXPECT_EQ(e.hi(), 0x0001020304050607ULL);
    EXPECT_EQ(e.lo(), 0x08090a0b0c0d0e0fULL);
}

TEST(AbiLayout, McLogPiecesAreBackToBack) {
    rtaslog::McLog log{};
    log.header.extended_log_length.set(56);
    log.v6.company_id.set(0x49424d00);
    log.section.id.set(0x4d43);
    log.section.length.set(40);
    log.mc.proc_id.set(3);
    log.mc.effective_address.set(0x1122334455667788ULL);
    log.mc.logical_address.set(0x99aabbccddeeff00ULL);
    u8 buf[3 + 64];
    store_layout(buf + 3, log);
    const u8* b = buf + 3;
    EXPECT_EQ(rd(b, 4, 4), 56u);                     // rtas_error_log.extended_log_length
    EXPECT_EQ(rd(b, 8 + 12, 4), 0x49424d00u);        // rtas_ext_event_log_v6.company_id
    EXPECT_EQ(rd(b, 24, 2), 0x4d43u);                // pseries_errorlog.id ("MC")
    EXPECT_EQ(rd(b, 26, 2), 40u);                    // pseries_errorlog.length
    EXPECT_EQ(rd(b, 32 + 4, 4), 3u);                 // pseries_mc_errorlog.proc_id
    EXPECT_EQ(rd(b, 32 + 16, 8), 0x1122334455667788ULL);  // effective_address
    EXPECT_EQ(rd(b, 32 + 24, 8), 0x99aabbccddeeff00ULL);  // logical_address
}
