// The migration target's engine (hv/mig_target.cpp) over the real pager on
// the host: a record stream made with the real encoders for a partition
// whose pages are Zero, ResidentClean, ResidentDirty, PagedOut and Failed,
// written to a fake paging device, installed, then faulted in through the
// normal AMS path. Corrupt and out-of-order records change nothing; abort
// leaks no frame and no paging space.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "arch/arch.h"
#include "base/endian.h"
#include "hv/ams.h"
#include "hv/hv.h"
#include "hv/machine_check.h"
#include "hv/mig_encode.h"
#include "hv/mig_target.h"
#include "hv/pager.h"
#include "tests/unit/host_tables.h"
#include "vio/paging_protocol.h"

namespace pv {
namespace {

using Rec = std::vector<u8>;
constexpr u64 kPages = 4096;  // 16 MiB, the smallest partition
constexpr u64 kFrames = 16;
constexpr u64 kRegion = 0x2000;  // the target partition's paging region (block)
constexpr u64 kNow = 0x5555000000;
constexpr u64 kLater = kNow + 123456;
constexpr u32 kSrc = 0, kTgt = 1;
constexpr MigPageKind Z = MigPageKind::Zero, C = MigPageKind::ResidentClean, D = MigPageKind::ResidentDirty,
                      O = MigPageKind::PagedOut, F = MigPageKind::Failed;

std::vector<u8> pattern(u64 lp, u32 round) {
    std::vector<u8> b(kPageSize);
    for (u64 i = 0; i < kPageSize; ++i) b[i] = static_cast<u8>(lp * 13 + round * 101 + i * 7 + 1);
    return b;
}

struct MigTargetTest : ::testing::Test {
    // The fake paging device: page-ins of the pager and the engine's writes.
    std::vector<u8> disk = std::vector<u8>(kPages * kPageSize);
    std::deque<PagingRequest> queue;
    struct Write {
        LogicalPage lp;
        std::vector<u8> data;
    };
    std::deque<Write> writes;
    bool refuse_writes = false;
    bool region_taken = false, destroyed = false, refuse_create = false;
    u32 creates = 0;

    std::unique_ptr<Pager> pager = std::make_unique<Pager>();
    u8* frames = nullptr;
    std::vector<FrameInfo> frame_info = std::vector<FrameInfo>(kFrames);
    std::vector<PagingRequest> requests = std::vector<PagingRequest>(8);
    std::vector<PageInfo> page_info = std::vector<PageInfo>(kPages);
    std::vector<u8> states = std::vector<u8>(kPages);
    std::vector<PartitionTableEntry> ptable = std::vector<PartitionTableEntry>(16);
    test::HostTables tables;
    PagingErrorLog src_log, tgt_log;
    PartitionConfig cfg{};
    Partition* src = nullptr;
    MigTarget target;

    // The partition the stream describes: kind of each page in round 0, and
    // round 1's changes.
    MigPageKind kind0[kPages]{};
    std::map<u64, MigPageKind> round1{{17, D}, {20, Z}, {25, D}};

    static bool send(void* ctx, const PagingRequest& r, const Partition&) {
        static_cast<MigTargetTest*>(ctx)->queue.push_back(r);
        return true;
    }
    static bool failed(const void*) { return false; }
    u8* at_block(u64 block) { return disk.data() + (block - kRegion) * paging::kBlockBytes; }

    static Partition* create(void* ctx, const MigStagedStart& s, char* why, u32 n) {
        auto* t = static_cast<MigTargetTest*>(ctx);
        ++t->creates;
        if (t->refuse_create) {
            std::snprintf(why, n, "no free paging space");
            return nullptr;
        }
        Partition& p = hv().partitions[kTgt];
        p = Partition{};
        std::memcpy(p.name, s.name, sizeof p.name);
        p.lpid = Lpid{9};  // not the source's
        p.slot = kTgt;
        p.mem_mode = MemMode::Shared;
        p.mem_bytes = s.mem_bytes;
        p.paging_block = kRegion;
        p.vcpu_count = s.vcpu_count;
        p.lpcr = lpcr::kGuestBase;
        for (u32 i = 0; i < s.vcpu_count; ++i) p.vcpus[i].part = &p, p.vcpus[i].id = VcpuId{i};
        if (p.radix.init(t->tables.pool()) != Err::Ok) return nullptr;
        if (t->pager->add_partition(p, t->page_info, 0, s.mem_weight, 2) != Err::Ok) return nullptr;
        t->region_taken = true;
        return &p;
    }
    static bool write_page(void* ctx, Partition& p, LogicalPage lp, const u8* data) {
        auto* t = static_cast<MigTargetTest*>(ctx);
        EXPECT_EQ(&p, &hv().partitions[kTgt]);
        if (t->refuse_writes) return false;
        t->writes.push_back({lp, std::vector<u8>(data, data + kPageSize)});
        return true;
    }
    // The pages an area needs are read in without parking v.
    static PinResult pin(void*, Vcpu& v, u64 addr, u64 len) {
        Err e = hv_pager->mig_pin_incoming(*v.part, addr, len);
        return e == Err::Ok ? PinResult::Pinned : e == Err::Busy ? PinResult::Blocked
               : e == Err::NoMemory ? PinResult::OverLimit : PinResult::Invalid;
    }
    static inline Pager* hv_pager = nullptr;
    static void unpin(void* ctx, Partition& p, u64 addr, u64 len) {
        static_cast<MigTargetTest*>(ctx)->pager->unpin_area(p, addr, len);
    }
    static void destroy(void* ctx, Partition& p) {
        auto* t = static_cast<MigTargetTest*>(ctx);
        EXPECT_EQ(t->pager->remove_partition(p), Err::Ok);
        t->region_taken = false;
        t->destroyed = true;
    }

    void SetUp() override {
        frames = static_cast<u8*>(std::aligned_alloc(kPageSize, kFrames * kPageSize));
        Hypervisor& h = hv();
        h.partition_count = 2;
        h.live_partitions = 2;
        h.thread_count = 0;
        h.partition_table = ptable.data();
        run_queued();
        hv_pager = pager.get();
        PagingTransport tr{send, failed, this};
        ASSERT_TRUE(pager->init(frame_of(arch::host_real(frames)), frame_info, requests,
                                std::span<Partition>(h.partitions, kMaxPartitions), tr));
        MigTargetIo io;
        io.create = create, io.write_page = write_page, io.pin = pin, io.unpin = unpin, io.destroy = destroy;
        io.ctx = this, io.pager = pager.get(), io.errors = &tgt_log;
        ASSERT_EQ(target.init(io, states), Err::Ok);
        make_source();
    }
    void TearDown() override {
        run_queued();
        Hypervisor& h = hv();
        h.partition_count = h.live_partitions = 0;
        h.partition_table = nullptr;
        std::free(frames);
    }
    static void run_queued() {
        while (Vcpu* v = hv().runq.pop()) {
            v->state = VcpuState::Running;
            RunQueue::release(*v);
        }
    }

    // The source: 2 vCPUs with every pinned area, a process table, an RTAS
    // area, errors in its log.
    void make_source() {
        src = &hv().partitions[kSrc];
        *src = Partition{};
        std::strcpy(src->name, "wanderer");
        src->lpid = Lpid{4};
        src->slot = kSrc;
        src->mem_mode = MemMode::Shared;
        src->mem_bytes = kPages * kPageSize;
        src->paging_block = 0x9000;
        src->vcpu_count = 2;
        src->lpcr = lpcr::kGuestBase | lpcr::ILE | lpcr::ail(3);
        src->process_table = 0x8000000000008001ull;  // GR, base 0x8000, PRTS 1: pages 8, 9
        src->prtb_pin_base = 0x8000, src->prtb_pin_len = 0x2000;
        src->rtas_base = 0x3e000, src->rtas_size = 0x1000;  // page 62, a Zero page: zero-filled to pin
        src->restarts = 1;
        std::strcpy(src->console.text, "login: ");
        src->console.len = 7;
        for (u32 i = 0; i < 2; ++i) {
            Vcpu& v = src->vcpus[i];
            v.part = src, v.id = VcpuId{i};
            for (u32 g = 0; g < 32; ++g) v.regs.gpr[g] = 0x1000 * i + g;
            v.regs.pc = 0xc000000000010000ull + i * 4, v.regs.msr = msr::SF | msr::ME | msr::EE;
            v.sprs.dec = 5000 + i, v.sprs.dec_tb = kNow - 100;
            v.fp.fpscr = 0x1234 + i;
            v.state = i == 0 ? VcpuState::Runnable : VcpuState::Ceded;
            v.wake_tb = kNow + 9000;
            v.icp.cppr = 0xff, v.icp.mfrr = 0xff, v.icp.pending_pri = 0xff;
            v.vpa.vpa = {0x10000 + i * 0x400, 0x400, nullptr};  // page 16
            v.vpa.dtl = {0x20000 + i * 0x1000, 4080, nullptr};  // pages 32, 33
            if (i == 0) v.vpa.slb = {0x30000, 0x100, nullptr};  // page 48
            v.vpa.yield_count = 7 + 2 * i, v.vpa.dtl_index = 3;
            v.vpa.ever_dispatched = true;
        }
        std::strcpy(cfg.name, "wanderer");
        cfg.mem_weight = 100;
        cfg.io_entitled_bytes = 1 << 20;
        std::strcpy(cfg.bootargs, "console=hvc0");
        for (u32 i = 0; i < 3; ++i) {
            PagingError e;
            e.partition_slot = kSrc, e.lpid = src->lpid, e.lp = LogicalPage{24 + i}, e.vcpu = i % 2;
            e.status = 0x8003, e.timebase = 100 + i, e.effective_addr = 0xc000000000000000ull + i;
            src_log.record(e);
        }
        // Pages 8..15, 63 clean; 16..23, 48..55 dirty; 32..39 paged out; 24..27, 56..59 failed.
        for (u64 k = 0; k < kPages; ++k) {
            kind0[k] = k >= 8 && k < 16 ? C
                       : (k >= 16 && k < 24) || (k >= 48 && k < 56) ? D
                       : k >= 32 && k < 40 ? O
                       : (k >= 24 && k < 28) || (k >= 56 && k < 60) ? F
                       : k == 63 ? C
                                 : Z;
        }
    }
    MigPageKind final_kind(u64 k) const { return round1.count(k) ? round1.at(k) : kind0[k]; }
    u32 final_round(u64 k) const { return round1.count(k) ? 1 : 0; }

    template <typename Fn>
    static Rec rec(Fn f) {
        Rec b(kMigMaxRecordBytes);
        Result<u32> r = f(std::span<u8>(b));
        EXPECT_TRUE(r.ok());
        b.resize(r.ok() ? r.value : 0);
        return b;
    }
    Rec start_rec() { return rec([&](std::span<u8> o) { return mig_encode_start(*src, cfg, o); }); }
    Rec core_rec(const Vcpu& v, u64 now) { return rec([&](std::span<u8> o) { return mig_encode_vcpu_core(v, now, o); }); }
    Rec fp_rec(const Vcpu& v) { return rec([&](std::span<u8> o) { return mig_encode_vcpu_fp(v, o); }); }
    Rec part_rec(const Partition& p, const PagingErrorLog& log) {
        return rec([&](std::span<u8> o) { return mig_encode_partition_state(p, log, 0x777000, 7, o); });
    }
    // One round's page states, then each data page's 4 chunks.
    std::vector<Rec> round_recs(u32 round, const std::map<u64, MigPageKind>& kinds) {
        std::vector<Rec> v;
        MigRunBuilder b(round);
        for (auto [k, kind] : kinds) EXPECT_EQ(b.add(LogicalPage{k}, kind), MigRunBuilder::Add::Added);
        v.push_back(rec([&](std::span<u8> o) { return b.encode(o); }));
        for (auto [k, kind] : kinds) {
            if (!mig_kind_has_data(kind)) continue;
            std::vector<u8> d = pattern(k, round);
            for (u32 c = 0; c < kMigChunksPerPage; ++c)
                v.push_back(rec([&](std::span<u8> o) { return mig_encode_page_chunk(LogicalPage{k}, round, kind, d.data(), c, o); }));
        }
        return v;
    }
    std::vector<Rec> round0() {
        std::map<u64, MigPageKind> all;
        for (u64 k = 0; k < kPages; ++k) all[k] = kind0[k];
        return round_recs(0, all);
    }
    // After the suspend: the vCPUs, the partition state, the error log.
    std::vector<Rec> final_state() {
        std::vector<Rec> v;
        for (u32 i = 0; i < 2; ++i) v.push_back(core_rec(src->vcpus[i], kNow)), v.push_back(fp_rec(src->vcpus[i]));
        v.push_back(part_rec(*src, src_log));
        v.push_back(rec([&](std::span<u8> o) { return mig_encode_error_log(src_log, kSrc, 0, o); }));
        return v;
    }
    MigTotals totals() const {
        MigTotals t{};
        t.rounds = 2, t.vcpu_count = 2;
        for (u64 k = 0; k < kPages; ++k) ++t.pages[static_cast<u32>(final_kind(k))];
        for (u64 k = 0; k < kPages; ++k) t.data_pages_sent += mig_kind_has_data(kind0[k]);
        for (auto [k, kind] : round1) t.data_pages_sent += mig_kind_has_data(kind);
        return t;
    }
    Rec complete_rec(const MigTotals& t) { return rec([&](std::span<u8> o) { return mig_encode_complete(t, o); }); }

    Err feed(const Rec& r) { return target.on_record(r.data(), static_cast<u32>(r.size())); }
    void feed_all(const std::vector<Rec>& v) {
        for (const Rec& r : v) ASSERT_EQ(feed(r), Err::Ok) << target.why();
    }
    // The device finishes every write in flight.
    void finish_writes(bool ok = true) {
        while (!writes.empty()) {
            Write w = writes.front();
            writes.pop_front();
            if (ok) std::memcpy(at_block(kRegion + w.lp.value * paging::kBlocksPerPage), w.data.data(), kPageSize);
            target.write_done(w.lp, ok);
        }
    }
    // The pager's page-ins, served from the disk.
    void serve() {
        for (int guard = 0; guard < 10000 && !queue.empty(); ++guard) {
            PagingRequest r = queue.front();
            queue.pop_front();
            u8* frame = static_cast<u8*>(arch::host_ptr(base_of(r.frame)));
            if (r.kind == PagingRequest::Kind::PageIn) std::memcpy(frame, at_block(r.device_block), kPageSize);
            else std::memcpy(at_block(r.device_block), frame, kPageSize);
            Guard lk(pager->lock());
            pager->complete_locked(r.id, r.tag, 0);
        }
    }
    Err install() {
        Err e = Err::Busy;
        for (int i = 0; i < 50 && e == Err::Busy; ++i) {
            e = target.install(kLater);
            serve();
            EXPECT_EQ(hv().runq.pop(), nullptr) << "no vCPU waits for these page-ins";
        }
        return e;
    }
    void whole_stream() {
        ASSERT_EQ(feed(start_rec()), Err::Ok) << target.why();
        feed_all(round0());
        finish_writes();
        feed_all(round_recs(1, round1));
        finish_writes();
        feed_all(final_state());
        ASSERT_EQ(feed(complete_rec(totals())), Err::Ok) << target.why();
    }
    const PageInfo& info(u64 k) { return *pager->pool().page(kTgt, LogicalPage{k}); }
    u8 pins(u64 k) { return pager->pool().pins(kTgt, LogicalPage{k}); }
    Partition& tgt() { return hv().partitions[kTgt]; }
    // What a rejected record must leave alone.
    struct Snapshot {
        std::vector<u8> states;
        std::vector<u8> pool;
        u64 records;
        bool operator==(const Snapshot&) const = default;
    };
    Snapshot snap() {
        Snapshot s{states, std::vector<u8>(kPages * sizeof(PageInfo)), target.stats().records};
        std::memcpy(s.pool.data(), page_info.data(), s.pool.size());
        return s;
    }
};

TEST_F(MigTargetTest, WholeStreamInstallsAPartitionThatFaultsInThroughAms) {
    ASSERT_EQ(feed(start_rec()), Err::Ok) << target.why();
    EXPECT_EQ(creates, 1u);
    feed_all(round0());
    EXPECT_FALSE(writes.empty());
    EXPECT_FALSE(target.ready());
    finish_writes();
    feed_all(round_recs(1, round1));
    finish_writes();
    feed_all(final_state());
    EXPECT_FALSE(target.ready()) << "no Complete yet";
    ASSERT_EQ(feed(complete_rec(totals())), Err::Ok) << target.why();
    ASSERT_TRUE(target.ready()) << target.why();
    EXPECT_EQ(target.stats().stored_dropped, 1u);  // page 20: Stored, then Zero
    EXPECT_EQ(pager->pool().free_frames(), kFrames) << "no frame before the suspend: pages went to the device";
    EXPECT_TRUE(pager->pool().check_invariants());

    // Before install every page is NotResident: on the device, zero-fill or lost.
    for (u64 k = 0; k < kPages; ++k) {
        SCOPED_TRACE(k);
        MigPageKind kind = final_kind(k);
        EXPECT_EQ(info(k).state, PageState::NotResident);
        EXPECT_EQ(info(k).on_device, mig_kind_has_data(kind));
        EXPECT_EQ(info(k).lost, kind == F);
        EXPECT_EQ(info(k).error, kind == F);
        if (mig_kind_has_data(kind))
            EXPECT_EQ(0, std::memcmp(at_block(kRegion + k * 8), pattern(k, final_round(k)).data(), kPageSize));
    }

    ASSERT_EQ(install(), Err::Ok) << target.why();
    EXPECT_EQ(target.phase(), MigTarget::Phase::Installed);
    EXPECT_EQ(target.pages().phase(), MigPhase::Done);
    EXPECT_EQ(hv().runq.pop(), nullptr) << "install makes nothing runnable";
    Partition& p = tgt();
    EXPECT_STREQ(p.name, "wanderer");
    EXPECT_EQ(p.vcpus[0].state, VcpuState::Runnable);
    EXPECT_EQ(p.vcpus[1].state, VcpuState::Ceded);
    // The installed state encodes back to the records the source sent.
    for (u32 i = 0; i < 2; ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(core_rec(p.vcpus[i], kLater), core_rec(src->vcpus[i], kNow));
        EXPECT_EQ(fp_rec(p.vcpus[i]), fp_rec(src->vcpus[i]));
        EXPECT_NE(p.vcpus[i].vpa.vpa.host, nullptr) << "the VPA is mapped";
    }
    EXPECT_EQ(part_rec(p, tgt_log), part_rec(*src, src_log));
    EXPECT_EQ(rec([&](std::span<u8> o) { return mig_encode_error_log(tgt_log, kTgt, 0, o); }),
              rec([&](std::span<u8> o) { return mig_encode_error_log(src_log, kSrc, 0, o); }));
    EXPECT_EQ(ptable[9].dw1.get(), src->process_table);

    // The registered areas' pages were faulted in from the device and pinned.
    for (u64 k : {8, 9, 16, 32, 33, 48, 62}) {
        SCOPED_TRACE(k);
        EXPECT_EQ(info(k).state, PageState::Resident);
        EXPECT_GT(pins(k), 0);
        std::vector<u8> want = final_kind(k) == Z ? std::vector<u8>(kPageSize) : pattern(k, final_round(k));
        EXPECT_EQ(0, std::memcmp(arch::host_ptr(pager->frame_base(info(k))), want.data(), kPageSize));
    }
    EXPECT_EQ(pager->pool().stats(kTgt).pinned, 7u);
    EXPECT_EQ(p.rtas_base, 0x3e000u);
    // Any other stored page faults in through the normal path with its data;
    // a zero page zero-fills.
    p.vcpus[0].state = VcpuState::Running;
    for (u64 k : {17, 25, 36, 0}) {
        SCOPED_TRACE(k);
        EXPECT_EQ(pager->storage_fault(p.vcpus[0], k * kPageSize, k * kPageSize), Next::Block);
        serve();
        run_queued();
        ASSERT_EQ(info(k).state, PageState::Resident);
        std::vector<u8> want = final_kind(k) == Z ? std::vector<u8>(kPageSize) : pattern(k, final_round(k));
        EXPECT_EQ(0, std::memcmp(arch::host_ptr(pager->frame_base(info(k))), want.data(), kPageSize));
    }
    // A Failed page: its first touch takes the machine check the source owed, then it zero-fills.
    Vcpu& v = p.vcpus[0];
    v.regs.pc = 0x700000, v.regs.msr |= msr::ME | msr::RI;
    (void)pager->storage_fault(v, 24 * kPageSize, 24 * kPageSize);
    EXPECT_FALSE(info(24).lost);
    EXPECT_FALSE(info(24).error);
    EXPECT_EQ(v.sprs.srr0, 0x700000u) << "the machine check was delivered";
    EXPECT_EQ(v.regs.pc, 0x200u);
    EXPECT_TRUE(info(25).error == false && info(26).lost) << "the others still owe theirs";
    EXPECT_TRUE(pager->pool().check_invariants());
    EXPECT_EQ(feed(start_rec()), Err::Invalid) << "nothing after install";
}

// FWNMI registered at the source: a Failed page's first touch at the target
// enters the registered handler with the RTAS error log of *this* access
// (its EA and logical address) in the vCPU's buffer of the RTAS area, which
// install pinned; the partition keeps the source's paging errors.
TEST_F(MigTargetTest, AFailedPageMachineChecksThroughFwnmiAtTheTarget) {
    src->fwnmi_registered = true, src->fwnmi_sreset_addr = 0x5000, src->fwnmi_mc_addr = 0x5100;
    whole_stream();
    ASSERT_EQ(install(), Err::Ok) << target.why();
    Partition& p = tgt();
    ASSERT_TRUE(p.fwnmi_registered);
    EXPECT_EQ(p.fwnmi_mc_addr, 0x5100u);
    EXPECT_EQ(tgt_log.count_for(kTgt), 3u);
    ASSERT_EQ(final_kind(27), F);
    ASSERT_TRUE(info(27).lost);
    Vcpu& v = p.vcpus[1];
    v.regs.pc = 0x700040, v.regs.gpr[3] = 0x1234;
    const u64 ea = 0xc00000000001b018ull, la = 27 * kPageSize + 0x18;
    EXPECT_EQ(pager->storage_fault(v, la, ea), Next::Resume);
    EXPECT_FALSE(info(27).lost || info(27).error) << "zero-fill from now on";
    EXPECT_EQ(v.regs.pc, 0x5100u) << "the registered handler";
    EXPECT_EQ(v.sprs.srr0, 0x700040u);
    EXPECT_EQ(v.sprs.dar, ea);
    EXPECT_TRUE(v.mc_in_progress);
    const u64 buf = fwnmi_buffer_addr(p, v);
    EXPECT_EQ(v.regs.gpr[3], buf);
    ASSERT_EQ(buf >> 12, 62u) << "inside the RTAS area's page";
    ASSERT_EQ(info(62).state, PageState::Resident);
    const u8* b = static_cast<const u8*>(arch::host_ptr(pager->frame_base(info(62)))) + (buf & 0xfff);
    EXPECT_EQ(load_be<u64>(b), 0x1234u) << "the interrupted r3";
    EXPECT_EQ(b[8], 6u) << "RTAS error log version 6";
    EXPECT_EQ(load_be<u64>(b + 8 + 48), ea) << "its effective address";
    EXPECT_EQ(load_be<u64>(b + 8 + 56), 27 * kPageSize) << "its logical address";
    EXPECT_TRUE(info(24).lost && info(26).lost) << "the other Failed pages still owe theirs";
    EXPECT_TRUE(pager->pool().check_invariants());
}

TEST_F(MigTargetTest, StatesForAPageBeingWrittenAreBusyUntilItsWriteEnds) {
    ASSERT_EQ(feed(start_rec()), Err::Ok);
    feed_all(round0());
    ASSERT_FALSE(writes.empty());
    std::vector<Rec> r1 = round_recs(1, round1);
    Snapshot before = snap();
    EXPECT_EQ(feed(r1[0]), Err::Busy);  // page 17 is being written
    EXPECT_EQ(snap(), before);
    EXPECT_EQ(target.pages().state(LogicalPage{17}), MigTgtPage::WritingStorage);
    finish_writes();
    EXPECT_EQ(target.pages().state(LogicalPage{17}), MigTgtPage::Stored);
    EXPECT_EQ(feed(r1[0]), Err::Ok);  // the same record again
    EXPECT_EQ(target.pages().state(LogicalPage{17}), MigTgtPage::AwaitData);
    EXPECT_EQ(target.pages().state(LogicalPage{20}), MigTgtPage::Zero);
    EXPECT_FALSE(info(20).on_device) << "its stored copy is dropped";
    EXPECT_EQ(target.stats().busy, 1u);
}

TEST_F(MigTargetTest, ARefusedWriteHoldsThePageUntilTheSameChunkComesAgain) {
    ASSERT_EQ(feed(start_rec()), Err::Ok);
    std::vector<Rec> r0 = round0();
    ASSERT_EQ(feed(r0[0]), Err::Ok);
    refuse_writes = true;
    for (u32 c = 1; c < 4; ++c) ASSERT_EQ(feed(r0[c]), Err::Ok);
    EXPECT_EQ(feed(r0[4]), Err::Busy);  // page 8 whole, no room
    EXPECT_EQ(feed(r0[4]), Err::Busy);
    EXPECT_EQ(target.pages().state(LogicalPage{8}), MigTgtPage::AwaitData);
    Snapshot before = snap();
    EXPECT_EQ(feed(r0[5]), Err::Invalid) << "another record while the page waits";
    EXPECT_EQ(target.error(), MigError::OutOfOrder);
    EXPECT_EQ(snap(), before);
    refuse_writes = false;
    EXPECT_EQ(feed(r0[4]), Err::Ok);
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].lp, LogicalPage{8});
    EXPECT_EQ(writes[0].data, pattern(8, 0));
    EXPECT_EQ(target.stats().writes_refused, 2u);
    EXPECT_EQ(target.stats().pages_received, 1u);
    EXPECT_EQ(feed(r0[5]), Err::Ok);
}

TEST_F(MigTargetTest, AFailedWriteAsksForThePageAgain) {
    ASSERT_EQ(feed(start_rec()), Err::Ok);
    std::vector<Rec> r0 = round0();
    feed_all(r0);
    // Page 9's write fails, the others land.
    for (auto& w : writes)
        if (w.lp == LogicalPage{9}) w.lp = LogicalPage{~u64{0}};  // marker
    while (!writes.empty()) {
        Write w = writes.front();
        writes.pop_front();
        bool fail = w.lp == LogicalPage{~u64{0}};
        LogicalPage lp = fail ? LogicalPage{9} : w.lp;
        if (!fail) std::memcpy(at_block(kRegion + lp.value * 8), w.data.data(), kPageSize);
        target.write_done(lp, !fail);
    }
    EXPECT_EQ(target.pages().state(LogicalPage{9}), MigTgtPage::AwaitData);
    EXPECT_EQ(target.stats().write_failures, 1u);
    EXPECT_FALSE(info(9).on_device);
    feed_all(round_recs(1, round1));
    finish_writes();
    feed_all(final_state());
    ASSERT_EQ(feed(complete_rec(totals())), Err::Ok) << target.why();
    EXPECT_FALSE(target.ready()) << "page 9 has no data";
    EXPECT_EQ(target.install(kLater), Err::Busy);
    ASSERT_EQ(target.awaiting_data(), LogicalPage{9});
    EXPECT_EQ(target.awaiting_data(LogicalPage{10}), std::nullopt);
    // The source sends it again.
    std::vector<u8> d = pattern(9, 0);
    for (u32 c = 0; c < 4; ++c)
        ASSERT_EQ(feed(rec([&](std::span<u8> o) { return mig_encode_page_chunk(LogicalPage{9}, 0, C, d.data(), c, o); })), Err::Ok);
    finish_writes();
    EXPECT_TRUE(info(9).on_device);
    EXPECT_TRUE(target.ready());
    EXPECT_EQ(install(), Err::Ok) << target.why();
}

TEST_F(MigTargetTest, CorruptAndOutOfOrderRecordsChangeNothing) {
    std::vector<Rec> r0 = round0();
    EXPECT_EQ(feed(r0[0]), Err::Invalid) << "page states before Start";
    EXPECT_EQ(target.error(), MigError::OutOfOrder);
    EXPECT_EQ(feed(core_rec(src->vcpus[0], kNow)), Err::Invalid);
    EXPECT_EQ(creates, 0u);
    ASSERT_EQ(feed(start_rec()), Err::Ok);
    ASSERT_EQ(feed(r0[0]), Err::Ok);

    Snapshot before = snap();
    auto expect_rejected = [&](const Rec& r, MigError e, const char* what) {
        SCOPED_TRACE(what);
        EXPECT_EQ(feed(r), Err::Invalid);
        EXPECT_EQ(target.error(), e) << target.why();
        EXPECT_EQ(snap(), before);
    };
    expect_rejected(start_rec(), MigError::Duplicate, "Start twice");
    Rec bad = r0[1];
    bad[0] ^= 1;
    expect_rejected(bad, MigError::BadMagic, "magic");
    bad = r0[1];
    bad.pop_back();
    expect_rejected(bad, MigError::Truncated, "truncated");
    bad = r0[1];
    bad[16 + 10] = static_cast<u8>(MigPageKind::Failed);  // the chunk's kind: no data
    expect_rejected(bad, MigError::Inconsistent, "kind without data");
    std::vector<u8> d = pattern(0, 0);
    expect_rejected(rec([&](std::span<u8> o) { return mig_encode_page_chunk(LogicalPage{0}, 0, C, d.data(), 0, o); }),
                    MigError::OutOfOrder, "data for a Zero page");
    expect_rejected(rec([&](std::span<u8> o) { return mig_encode_page_chunk(LogicalPage{24}, 0, C, d.data(), 0, o); }),
                    MigError::OutOfOrder, "data for a Failed page");
    expect_rejected(rec([&](std::span<u8> o) { return mig_encode_page_chunk(LogicalPage{kPages}, 0, C, d.data(), 0, o); }),
                    MigError::BadIndex, "data outside the partition");
    Rec states = r0[0];
    store_be<u32>(&states[16 + 8 + 12 * 2 + 4], 100000);  // a run past the end
    expect_rejected(states, MigError::BadIndex, "run outside the partition");
    expect_rejected(complete_rec(totals()), MigError::OutOfOrder, "Complete before the final state");

    ASSERT_EQ(feed(r0[1]), Err::Ok);  // page 8, chunk 0
    before = snap();
    expect_rejected(r0[1], MigError::Duplicate, "a chunk twice");
    expect_rejected(r0[0], MigError::OutOfOrder, "states inside a page's chunks");
    expect_rejected(r0[5], MigError::Duplicate, "another page's chunk inside a page");

    // The rest of the stream; then Complete with totals that do not match.
    for (std::size_t i = 2; i < r0.size(); ++i) ASSERT_EQ(feed(r0[i]), Err::Ok) << i;
    finish_writes();
    feed_all(round_recs(1, round1));
    finish_writes();
    feed_all(final_state());
    before = snap();
    MigTotals t = totals();
    --t.pages[0], ++t.pages[4];  // one Zero page more as Failed
    expect_rejected(complete_rec(t), MigError::Inconsistent, "Complete: page totals");
    t = totals();
    ++t.data_pages_sent;
    expect_rejected(complete_rec(t), MigError::Inconsistent, "Complete: data pages");
    EXPECT_FALSE(target.ready());
    ASSERT_EQ(feed(complete_rec(totals())), Err::Ok) << target.why();
    before = snap();
    expect_rejected(core_rec(src->vcpus[0], kNow), MigError::OutOfOrder, "state after Complete");
    expect_rejected(round_recs(2, {{3, Z}})[0], MigError::OutOfOrder, "page states after Complete");
    EXPECT_TRUE(target.ready());
    EXPECT_TRUE(pager->pool().check_invariants());
}

TEST_F(MigTargetTest, AbortDestroysTheShellAndLeaksNothing) {
    whole_stream();
    ASSERT_TRUE(target.ready());
    // Install stops at the first page-in a pin needs; abort then.
    ASSERT_EQ(target.install(kLater), Err::Busy);
    serve();
    run_queued();
    for (int i = 0; i < 3; ++i) {
        (void)target.install(kLater);
        serve();
        run_queued();
    }
    EXPECT_LT(pager->pool().free_frames(), kFrames);
    EXPECT_GT(pager->pool().stats(kTgt).pinned, 0u);
    target.abort();
    EXPECT_TRUE(destroyed);
    EXPECT_FALSE(region_taken) << "paging space given back";
    EXPECT_EQ(target.phase(), MigTarget::Phase::Idle);
    EXPECT_EQ(target.partition(), nullptr);
    EXPECT_EQ(pager->pool().free_frames(), kFrames) << "every frame back";
    EXPECT_FALSE(pager->pool().has_partition(kTgt)) << "the pool slot is free";
    EXPECT_EQ(tgt_log.count_for(kTgt), 0u);
    EXPECT_TRUE(pager->pool().check_invariants());
    // The engine takes the next stream.
    destroyed = false;
    whole_stream();
    EXPECT_TRUE(target.ready());
    EXPECT_EQ(install(), Err::Ok) << target.why();
    target.abort();
    EXPECT_FALSE(destroyed) << "an installed partition is the caller's";
}

TEST_F(MigTargetTest, ATargetThatCannotCreateThePartitionSaysWhy) {
    refuse_create = true;
    EXPECT_EQ(feed(start_rec()), Err::Invalid);
    EXPECT_NE(std::strstr(target.why(), "no free paging space"), nullptr) << target.why();
    EXPECT_EQ(target.phase(), MigTarget::Phase::Idle);
    refuse_create = false;
    EXPECT_EQ(feed(start_rec()), Err::Ok) << "nothing was staged";
    src->mem_mode = MemMode::Dedicated;
    MigTarget other;
    MigTargetIo io;
    EXPECT_EQ(other.init(io, states), Err::Invalid) << "hooks missing";
}

}  // namespace
}  // namespace pv
