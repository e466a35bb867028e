// Write tracking and page snapshots for pre-copy (hv/mig_tracking.cpp) over
// the real pager on the host: stores set C as QEMU does (the hardware writes
// the PTE) or as POWER9 does (an HDSI that storage_fault answers with
// set_rc), evictions go through the pager's own reclaim, and a fake paging
// service serves a byte-array disk. Both models must give the same answers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <set>
#include <vector>

#include "arch/arch.h"
#include "base/papr.h"
#include "hv/hv.h"
#include "hv/mig_page_state.h"
#include "hv/pager.h"
#include "tests/unit/host_tables.h"
#include "tests/unit/rng.h"
#include "vio/paging_protocol.h"

namespace pv {
namespace {

constexpr u64 kPages = 64;
constexpr u64 kFrames = 8;
constexpr u64 kRegion = 0x1000;  // the partition's paging region starts at this block

struct Disk {
    std::vector<u8> bytes = std::vector<u8>(kPages * kPageSize);
    std::deque<PagingRequest> queue;
    std::set<u64> bad_read_blocks;
    std::vector<u64> writes;
    u64 sent = 0;

    static bool send(void* ctx, const PagingRequest& r, const Partition&) {
        auto* d = static_cast<Disk*>(ctx);
        d->queue.push_back(r);
        ++d->sent;
        return true;
    }
    static bool failed(const void*) { return false; }
    u8* at(u64 block) { return bytes.data() + (block - kRegion) * paging::kBlockBytes; }
};

struct MigTrackingTest : ::testing::Test {
    std::unique_ptr<Pager> pager = std::make_unique<Pager>();
    Disk disk;
    u8* frames = nullptr;
    std::vector<FrameInfo> frame_info = std::vector<FrameInfo>(kFrames);
    std::vector<PagingRequest> requests = std::vector<PagingRequest>(8);
    std::vector<PageInfo> page_info = std::vector<PageInfo>(kPages);
    std::vector<u8> states = std::vector<u8>(kPages);
    MigSourcePages src;
    test::HostTables tables;
    Partition* p = nullptr;
    std::vector<u8> buf = std::vector<u8>(kMigSnapshotMaxPages * kPageSize);

    void SetUp() override {
        frames = static_cast<u8*>(std::aligned_alloc(kPageSize, kFrames * kPageSize));
        Hypervisor& h = hv();
        h.partition_count = 1;
        h.live_partitions = 1;
        h.thread_count = 0;
        run_queued();
        p = &h.partitions[0];
        *p = Partition{};
        std::strcpy(p->name, "m");
        p->lpid = Lpid{1};
        p->slot = 0;
        p->mem_mode = MemMode::Shared;
        p->mem_bytes = kPages * kPageSize;
        p->paging_block = kRegion;
        p->vcpu_count = 2;
        for (u32 i = 0; i < 2; ++i) p->vcpus[i].part = p, p->vcpus[i].id = VcpuId{i}, p->vcpus[i].state = VcpuState::Running;
        ASSERT_EQ(p->radix.init(tables.pool()), Err::Ok);
        PagingTransport t{Disk::send, Disk::failed, &disk};
        ASSERT_TRUE(pager->init(frame_of(arch::host_real(frames)), frame_info, requests,
                                std::span<Partition>(h.partitions, kMaxPartitions), t));
        ASSERT_EQ(pager->add_partition(*p, page_info, 0, 128, 2), Err::Ok);
        ASSERT_EQ(src.init(states), Err::Ok);
    }
    void TearDown() override {
        run_queued();
        std::free(frames);
    }

    static void run_queued() {
        while (Vcpu* v = hv().runq.pop()) {
            v->state = VcpuState::Running;
            RunQueue::release(*v);
        }
    }
    const PageInfo& info(u64 k) { return *pager->pool().page(0, LogicalPage{k}); }
    void serve() {
        for (int guard = 0; guard < 10000 && !disk.queue.empty(); ++guard) {
            PagingRequest r = disk.queue.front();
            disk.queue.pop_front();
            u8* frame = static_cast<u8*>(arch::host_ptr(base_of(r.frame)));
            u16 status = 0;
            if (r.kind == PagingRequest::Kind::PageIn) {
                if (disk.bad_read_blocks.count(r.device_block)) status = 0x281;
                else std::memcpy(frame, disk.at(r.device_block), kPageSize);
            } else {
                disk.writes.push_back(r.device_block);
                std::memcpy(disk.at(r.device_block), frame, kPageSize);
            }
            Guard lk(pager->lock());
            pager->complete_locked(r.id, r.tag, status);
        }
    }
    bool touch(u64 k, u32 vcpu = 0) {
        for (int tries = 0; tries < 100; ++tries) {
            if (p->radix.lookup(LogicalPage{k})) return true;
            p->vcpus[vcpu].state = VcpuState::Running;
            (void)pager->storage_fault(p->vcpus[vcpu], k * kPageSize, k * kPageSize);
            serve();
            run_queued();
        }
        return false;
    }
    static std::vector<u8> pattern(u8 seed) {
        std::vector<u8> b(kPageSize);
        for (u64 i = 0; i < kPageSize; ++i) b[i] = static_cast<u8>(seed + i * 7);
        return b;
    }
    // A store of the whole page, as QEMU does it: the hardware sets C in the PTE.
    void store_qemu(u64 k, u8 seed) {
        ASSERT_TRUE(touch(k));
        ASSERT_TRUE(p->copy_to(k * kPageSize, pattern(seed).data(), kPageSize));
        Guard lk(pager->lock());
        ASSERT_TRUE(p->radix.set_changed(LogicalPage{k}));
    }
    // As POWER9 does it: the store finds C clear and takes an HDSI (R/C
    // update); storage_fault sets R and C and the store runs again.
    void store_power9(u64 k, u8 seed) {
        ASSERT_TRUE(touch(k));
        ASSERT_EQ(pager->storage_fault(p->vcpus[0], k * kPageSize, k * kPageSize), Next::Resume);
        ASSERT_TRUE(p->copy_to(k * kPageSize, pattern(seed).data(), kPageSize));
    }
    std::vector<u8> contents(u64 k) {
        std::vector<u8> b(kPageSize);
        EXPECT_TRUE(touch(k));
        EXPECT_TRUE(p->copy_from(k * kPageSize, b.data(), kPageSize));
        return b;
    }
    // The pager's own reclaim evicts every page it can (dirty ones written).
    void evict_all() {
        for (int i = 0; i < 4; ++i) {
            (void)pager->make_room(kFrames);
            serve();
        }
    }
    // The PTE's R and C bits, put back.
    RadixTable::RefChange pte_rc(u64 k) {
        Guard lk(pager->lock());
        auto rc = p->radix.test_and_clear_rc(LogicalPage{k});
        if (!rc) return {false, false};
        if (rc->referenced) (void)p->radix.set_rc(LogicalPage{k}, rc->changed);
        else if (rc->changed) (void)p->radix.set_changed(LogicalPage{k});
        return *rc;
    }
    bool pte_changed(u64 k) { return pte_rc(k).changed; }
    MigSnapPage snap(u64 k) {
        MigSnapPage out[1];
        LogicalPage lp{k};
        EXPECT_EQ(pager->mig_snapshot(*p, std::span<const LogicalPage>(&lp, 1), out, buf), Err::Ok);
        return out[0];
    }
    // Snapshot and send k as the pre-copy loop would (a PagedOut page is read by the source PSP).
    MigSnapPage send(u64 k) {
        MigSnapPage s = snap(k);
        EXPECT_FALSE(s.busy);
        if (s.kind == MigPageKind::PagedOut) {
            EXPECT_EQ(src.start_read(LogicalPage{k}), Err::Ok);
            EXPECT_EQ(src.read_done(LogicalPage{k}, true), Err::Ok);
        } else {
            EXPECT_EQ(src.sent(LogicalPage{k}, s.kind), Err::Ok);
        }
        return s;
    }
    MigSrcPage state(u64 k) { return src.state(LogicalPage{k}); }
    bool invariants() {
        Guard lk(pager->lock());
        return pager->pool().check_invariants() && src.check_invariants();
    }
    void begin() { ASSERT_EQ(pager->mig_track_begin(*p, src), Err::Ok); }
};

TEST_F(MigTrackingTest, BeginChecksThePartitionAndTheTracker) {
    std::vector<u8> short_states(kPages - 1);
    MigSourcePages other;
    ASSERT_EQ(other.init(short_states), Err::Ok);
    EXPECT_EQ(pager->mig_track_begin(*p, other), Err::Invalid) << "one state per logical page";
    MigSnapPage out[1];
    LogicalPage lp{1};
    EXPECT_EQ(pager->mig_snapshot(*p, std::span<const LogicalPage>(&lp, 1), out, buf), Err::Invalid)
        << "no snapshot without tracking: a store after it would be missed";
    begin();
    EXPECT_EQ(pager->mig_track_begin(*p, src), Err::Invalid) << "tracked already";
    LogicalPage outside{kPages};
    EXPECT_EQ(pager->mig_snapshot(*p, std::span<const LogicalPage>(&outside, 1), out, buf), Err::NotFound);
    EXPECT_EQ(pager->mig_snapshot(*p, std::span<const LogicalPage>(&lp, 1), out, std::span<u8>(buf.data(), 100)),
              Err::Invalid);
    pager->mig_track_end(*p);
    EXPECT_EQ(pager->mig_track_begin(*p, src), Err::Ok);
}

// A zero-filled page the partition wrote: the pool has not seen its C bit yet
// (nobody sampled it), so only the C bit says it holds data.
TEST_F(MigTrackingTest, SnapshotRecordsTheCBitBeforeClassifying) {
    store_qemu(3, 0x30);
    ASSERT_TRUE(info(3).on_device_valid) << "the pool does not know of the store yet";
    begin();
    MigSnapPage s = snap(3);
    EXPECT_EQ(s.kind, MigPageKind::ResidentDirty) << "not Zero: it was written";
    EXPECT_TRUE(s.data);
    EXPECT_EQ(std::memcmp(buf.data(), pattern(0x30).data(), kPageSize), 0);
    EXPECT_FALSE(info(3).on_device_valid) << "the C bit it cleared is recorded in the pool";
    EXPECT_FALSE(pte_changed(3));
    EXPECT_TRUE(pte_rc(3).referenced) << "R is reference sampling's: left as it was";
    EXPECT_NE(p->radix.lookup(LogicalPage{3}), std::nullopt) << "still mapped";
    MigTrackStats st = pager->mig_stats(*p);
    EXPECT_EQ(st.c_harvested, 1u);
    EXPECT_EQ(st.tlb_flushes, 1u);
    EXPECT_EQ(st.pages_copied, 1u);
    EXPECT_TRUE(invariants());
}

TEST_F(MigTrackingTest, StoreAfterSnapshotIsHarvestedQemuModel) {
    store_qemu(3, 0x30);
    begin();
    send(3);
    EXPECT_EQ(pager->mig_harvest(*p), 0u) << "nothing written since";
    EXPECT_EQ(state(3), MigSrcPage::Sent);
    store_qemu(3, 0x31);
    EXPECT_EQ(pager->mig_harvest(*p), 1u);
    EXPECT_EQ(state(3), MigSrcPage::Dirty);
    EXPECT_FALSE(pte_changed(3)) << "C cleared, so the next store is seen too";
    MigSnapPage s = send(3);
    EXPECT_EQ(s.kind, MigPageKind::ResidentDirty);
    EXPECT_EQ(std::memcmp(buf.data(), pattern(0x31).data(), kPageSize), 0);
    EXPECT_EQ(pager->mig_harvest(*p), 0u);
    EXPECT_EQ(state(3), MigSrcPage::Sent);
    EXPECT_TRUE(invariants());
}

// A page read back from the device is mapped Clean (C clear): on POWER9 the
// first store takes an HDSI, and storage_fault's set_rc is what the harvest finds.
TEST_F(MigTrackingTest, StoreAfterSnapshotIsHarvestedPower9Model) {
    store_qemu(5, 0x50);
    evict_all();
    ASSERT_EQ(info(5).state, PageState::NotResident);
    ASSERT_TRUE(touch(5));  // paged in: Clean
    ASSERT_FALSE(pte_changed(5));
    begin();
    MigSnapPage s = send(5);
    EXPECT_EQ(s.kind, MigPageKind::ResidentClean);
    EXPECT_EQ(pager->mig_stats(*p).tlb_flushes, 0u) << "no C was cleared: no flush needed";
    EXPECT_EQ(pager->mig_harvest(*p), 0u);
    EXPECT_EQ(state(5), MigSrcPage::Sent);
    store_power9(5, 0x51);
    EXPECT_EQ(pager->mig_harvest(*p), 1u);
    EXPECT_EQ(state(5), MigSrcPage::Dirty);
    EXPECT_EQ(pager->mig_stats(*p).tlb_flushes, 1u);
    EXPECT_EQ(send(5).kind, MigPageKind::ResidentDirty);
    EXPECT_EQ(std::memcmp(buf.data(), pattern(0x51).data(), kPageSize), 0);
    EXPECT_TRUE(invariants());
}

TEST_F(MigTrackingTest, PageOutOfAWrittenPageIsAChange) {
    store_qemu(2, 0x20);
    begin();
    send(2);
    store_qemu(2, 0x21);  // its C bit is set; the eviction is the first to see it
    evict_all();
    ASSERT_EQ(info(2).state, PageState::NotResident);
    EXPECT_EQ(state(2), MigSrcPage::Dirty);
    EXPECT_EQ(std::memcmp(disk.at(kRegion + 2 * paging::kBlocksPerPage), pattern(0x21).data(), kPageSize), 0);
    MigSnapPage s = send(2);
    EXPECT_EQ(s.kind, MigPageKind::PagedOut);
    EXPECT_TRUE(invariants());
}

// Page-outs change nothing; and the C bit the snapshot cleared still makes
// the pool write the page out (the device copy decision is the pager's as before).
TEST_F(MigTrackingTest, PageOutOfAnUnwrittenPageChangesNothing) {
    store_qemu(6, 0x60);  // zero-filled and written: dirty, only its C bit says so
    store_qemu(7, 0x70);
    evict_all();
    ASSERT_TRUE(touch(7));  // read back: clean
    begin();
    EXPECT_EQ(send(6).kind, MigPageKind::PagedOut);
    EXPECT_EQ(send(7).kind, MigPageKind::ResidentClean);
    store_qemu(6, 0x61);  // paged in and written: its C set...
    {
        MigSnapPage s = snap(6);  // ...harvested by the snapshot (Dirty first: nothing lost)
        EXPECT_EQ(s.kind, MigPageKind::ResidentDirty);
        EXPECT_EQ(state(6), MigSrcPage::Dirty);
        EXPECT_EQ(src.sent(LogicalPage{6}, s.kind), Err::Ok);
    }
    disk.writes.clear();
    evict_all();
    ASSERT_EQ(info(6).state, PageState::NotResident);
    ASSERT_EQ(info(7).state, PageState::NotResident);
    EXPECT_EQ(state(6), MigSrcPage::Sent) << "a page-out changes nothing";
    EXPECT_EQ(state(7), MigSrcPage::Sent);
    EXPECT_EQ(disk.writes, std::vector<u64>{kRegion + 6 * paging::kBlocksPerPage})
        << "6 (dirty, its C recorded by the snapshot) written; 7 (clean) not";
    EXPECT_EQ(contents(6), pattern(0x61));
    EXPECT_EQ(contents(7), pattern(0x70));
    EXPECT_TRUE(invariants());
}

TEST_F(MigTrackingTest, PagedOutPageGivesItsBlockWithoutAPageIn) {
    for (u64 k = 0; k < 12; ++k) store_qemu(k, static_cast<u8>(k));
    evict_all();
    ASSERT_EQ(info(9).state, PageState::NotResident);
    ASSERT_TRUE(info(9).on_device);
    begin();
    u64 sent = disk.sent, page_ins = pager->pool().stats(0).page_ins;
    LogicalPage lps[3] = {LogicalPage{9}, LogicalPage{10}, LogicalPage{40}};
    MigSnapPage out[3];
    ASSERT_EQ(pager->mig_snapshot(*p, lps, out, buf), Err::Ok);
    EXPECT_EQ(out[0].kind, MigPageKind::PagedOut);
    EXPECT_EQ(out[0].block, kRegion + 9 * 8) << "source_paging_block + lp * 8";
    EXPECT_EQ(out[1].block, kRegion + 10 * 8);
    EXPECT_FALSE(out[0].data || out[1].data);
    EXPECT_EQ(out[2].kind, MigPageKind::Zero) << "never touched";
    EXPECT_EQ(std::memcmp(disk.at(out[0].block), pattern(9).data(), kPageSize), 0);
    EXPECT_EQ(disk.sent, sent) << "nothing asked of the paging service";
    EXPECT_EQ(info(9).state, PageState::NotResident);
    EXPECT_EQ(pager->pool().stats(0).page_ins, page_ins);
    MigTrackStats st = pager->mig_stats(*p);
    EXPECT_EQ(st.source_page_ins, 0u);
    EXPECT_EQ(st.pages_snapshotted, 3u);
    EXPECT_EQ(st.pages_copied, 0u);
    EXPECT_TRUE(invariants());
}

TEST_F(MigTrackingTest, APageBeingPagedInIsBusy) {
    store_qemu(4, 0x40);
    evict_all();
    begin();
    ASSERT_EQ(pager->storage_fault(p->vcpus[1], 4 * kPageSize, 4 * kPageSize), Next::Block);
    ASSERT_EQ(info(4).state, PageState::PageInPending);
    MigSnapPage s = snap(4);
    EXPECT_TRUE(s.busy);
    EXPECT_FALSE(s.data);
    EXPECT_EQ(state(4), MigSrcPage::Unsent) << "left for the next round";
    serve();
    run_queued();
    s = snap(4);
    EXPECT_FALSE(s.busy);
    EXPECT_EQ(s.kind, MigPageKind::ResidentClean) << "a page-in changes nothing";
    EXPECT_EQ(std::memcmp(buf.data(), pattern(0x40).data(), kPageSize), 0);
    EXPECT_EQ(pager->mig_stats(*p).source_page_ins, 0u) << "the partition's own page-in is not the snapshot's";
    EXPECT_TRUE(invariants());
}

// A batch: one flush for every C bit it cleared.
TEST_F(MigTrackingTest, OneFlushPerBatch) {
    for (u64 k = 0; k < 4; ++k) store_qemu(k, static_cast<u8>(0x80 + k));
    begin();
    LogicalPage lps[4] = {LogicalPage{0}, LogicalPage{1}, LogicalPage{2}, LogicalPage{3}};
    MigSnapPage out[4];
    ASSERT_EQ(pager->mig_snapshot(*p, lps, out, buf), Err::Ok);
    for (u64 k = 0; k < 4; ++k) {
        EXPECT_EQ(out[k].kind, MigPageKind::ResidentDirty);
        EXPECT_EQ(std::memcmp(buf.data() + k * kPageSize, pattern(static_cast<u8>(0x80 + k)).data(), kPageSize), 0);
    }
    EXPECT_EQ(pager->mig_stats(*p).tlb_flushes, 1u);
    for (u64 k = 0; k < 4; ++k) ASSERT_EQ(src.sent(LogicalPage{k}, out[k].kind), Err::Ok);
    for (u64 k = 0; k < 4; ++k) store_qemu(k, static_cast<u8>(0x90 + k));
    EXPECT_EQ(pager->mig_harvest(*p), 4u);
    EXPECT_EQ(pager->mig_stats(*p).tlb_flushes, 2u);
    EXPECT_EQ(src.count(MigSrcPage::Dirty), 4u);
}

TEST_F(MigTrackingTest, PageInitAndDiscardAreChanges) {
    store_qemu(1, 0x11);
    store_qemu(8, 0x88);
    evict_all();
    ASSERT_TRUE(touch(1));
    begin();
    EXPECT_EQ(send(8).kind, MigPageKind::PagedOut);
    EXPECT_EQ(send(1).kind, MigPageKind::ResidentClean);
    EXPECT_EQ(send(20).kind, MigPageKind::Zero);
    bool blocked = false;
    // H_PAGE_INIT zero of a paged-out page: discarded, no I/O.
    EXPECT_EQ(pager->page_init(p->vcpus[0], true, 8 * kPageSize, 0, blocked), papr::H_SUCCESS);
    ASSERT_FALSE(blocked);
    EXPECT_EQ(state(8), MigSrcPage::Dirty);
    EXPECT_EQ(send(8).kind, MigPageKind::Zero);
    // H_PAGE_INIT copy into a resident page: the hypervisor's store.
    ASSERT_TRUE(touch(20));
    EXPECT_EQ(pager->page_init(p->vcpus[0], false, 1 * kPageSize, 20 * kPageSize, blocked), papr::H_SUCCESS);
    ASSERT_FALSE(blocked);
    EXPECT_EQ(state(1), MigSrcPage::Dirty);
    MigSnapPage s = send(1);
    EXPECT_EQ(s.kind, MigPageKind::ResidentDirty);
    EXPECT_EQ(std::count(buf.begin(), buf.begin() + kPageSize, 0), static_cast<long>(kPageSize));
    EXPECT_TRUE(invariants());
}

// A failed page-in nobody was parked for: lost (sent as Failed), then the
// next access takes the machine check and the page is zero-fill (Dirty again).
TEST_F(MigTrackingTest, ALostPageIsAChangeBothWays) {
    store_qemu(4, 0x44);
    evict_all();
    begin();
    EXPECT_EQ(send(4).kind, MigPageKind::PagedOut);
    disk.bad_read_blocks.insert(kRegion + 4 * paging::kBlocksPerPage);
    Vcpu& a = p->vcpus[1];
    a.regs.msr = msr::SF | msr::LE | msr::EE;
    ASSERT_EQ(pager->storage_fault(a, 4 * kPageSize, 0x1234), Next::Block);
    a.sprs.dec = 0, a.sprs.dec_tb = 0;
    pager->poll_interrupts(1000);
    ASSERT_EQ(a.state, VcpuState::Runnable);
    run_queued();
    serve();
    ASSERT_TRUE(info(4).lost);
    EXPECT_EQ(state(4), MigSrcPage::Dirty);
    EXPECT_EQ(send(4).kind, MigPageKind::Failed);
    EXPECT_EQ(state(4), MigSrcPage::Failed);
    Vcpu& b = p->vcpus[0];
    b.regs.msr = msr::SF | msr::LE;
    EXPECT_EQ(pager->storage_fault(b, 4 * kPageSize, 0x5008), Next::Resume);  // the machine check
    EXPECT_FALSE(info(4).lost);
    EXPECT_EQ(state(4), MigSrcPage::Dirty) << "lost cleared, zero-fill now";
    EXPECT_EQ(send(4).kind, MigPageKind::Zero);
    EXPECT_TRUE(invariants());
}

// A failed page-in a vCPU was parked for: the check is delivered, the page is zero-fill.
TEST_F(MigTrackingTest, AFailedPageInWithAWaiterIsAChange) {
    store_qemu(4, 0x44);
    evict_all();
    begin();
    send(4);
    disk.bad_read_blocks.insert(kRegion + 4 * paging::kBlocksPerPage);
    ASSERT_EQ(pager->storage_fault(p->vcpus[0], 4 * kPageSize, 0x4000), Next::Block);
    serve();
    EXPECT_FALSE(info(4).lost);
    EXPECT_FALSE(info(4).on_device);
    EXPECT_EQ(state(4), MigSrcPage::Dirty);
    EXPECT_EQ(send(4).kind, MigPageKind::Zero);
    EXPECT_TRUE(invariants());
}

// A zero page the partition touches for the first time: zero-filled and mapped with C preset.
TEST_F(MigTrackingTest, FirstTouchOfASentZeroPageIsAChange) {
    begin();
    EXPECT_EQ(send(30).kind, MigPageKind::Zero);
    ASSERT_TRUE(touch(30));
    EXPECT_EQ(state(30), MigSrcPage::Dirty);
    // Its preset C bit, cleared by the final round's snapshot, is no late
    // change: the snapshot holds whatever it stands for.
    src.suspend();
    EXPECT_EQ(send(30).kind, MigPageKind::ResidentDirty);
    EXPECT_EQ(src.late_changes(), 0u);
    EXPECT_TRUE(invariants());
}

// The hypervisor stores into pinned areas (VPA, DTL, RTAS logs) without a C bit.
TEST_F(MigTrackingTest, APinnedPageIsChangedEveryRound) {
    ASSERT_TRUE(touch(2));
    ASSERT_EQ(pager->pin_area(p->vcpus[0], 2 * kPageSize, 640), Pager::PinOutcome::Pinned);
    begin();
    send(2);
    EXPECT_EQ(pager->mig_harvest(*p), 0u) << "no C bit found";
    EXPECT_EQ(state(2), MigSrcPage::Dirty);
    EXPECT_EQ(pager->mig_stats(*p).pinned_changed, 1u);
    pager->unpin_area(*p, 2 * kPageSize, 640);
}

// The process table is pinned for the MMU, which only reads it; the
// partition's own stores set its C. So its pages are harvested by C, unless
// an area the hypervisor stores into shares the page.
TEST_F(MigTrackingTest, AProcessTablePageIsChangedOnlyByAStore) {
    for (u64 k = 4; k < 8; ++k) ASSERT_TRUE(touch(k));
    p->prtb_pin_base = 4 * kPageSize, p->prtb_pin_len = 4 * kPageSize;
    ASSERT_EQ(pager->pin_area(p->vcpus[0], p->prtb_pin_base, p->prtb_pin_len), Pager::PinOutcome::Pinned);
    // vCPU 1's VPA inside the table's last page: the hypervisor stores there.
    ASSERT_EQ(pager->pin_area(p->vcpus[1], 7 * kPageSize + 0x400, 640), Pager::PinOutcome::Pinned);
    p->vcpus[1].vpa.vpa = VpaArea{7 * kPageSize + 0x400, 640, nullptr};
    begin();
    for (u64 k = 4; k < 8; ++k) send(k);
    EXPECT_EQ(pager->mig_harvest(*p), 0u);
    EXPECT_EQ(state(4), MigSrcPage::Sent) << "no store, no change";
    EXPECT_EQ(state(5), MigSrcPage::Sent);
    EXPECT_EQ(state(7), MigSrcPage::Dirty) << "the VPA's page changes every round";
    EXPECT_EQ(pager->mig_stats(*p).pinned_changed, 1u);
    store_qemu(5, 0x55);
    EXPECT_EQ(pager->mig_harvest(*p), 1u);
    EXPECT_EQ(state(5), MigSrcPage::Dirty) << "the partition's store is found by its C";
    EXPECT_EQ(state(4), MigSrcPage::Sent);
    EXPECT_FALSE(pte_changed(5)) << "C cleared: the next store is seen too";
    EXPECT_EQ(send(5).kind, MigPageKind::ResidentDirty);
    EXPECT_EQ(contents(5), pattern(0x55));
    // Without the registration the same pages are plain pins: every round.
    p->prtb_pin_base = p->prtb_pin_len = 0;
    EXPECT_EQ(pager->mig_harvest(*p), 0u);
    EXPECT_EQ(state(4), MigSrcPage::Dirty);
    p->vcpus[1].vpa.vpa = VpaArea{};
    pager->unpin_area(*p, 7 * kPageSize + 0x400, 640);
    pager->unpin_area(*p, 4 * kPageSize, 4 * kPageSize);
    EXPECT_TRUE(invariants());
}

TEST_F(MigTrackingTest, ARestartChangesEveryPage) {
    store_qemu(1, 0x11);
    begin();
    for (u64 k = 0; k < kPages; ++k) send(k);
    ASSERT_TRUE(src.complete());
    p->state = PartitionState::Stopped;
    for (u32 i = 0; i < p->vcpu_count; ++i) p->vcpus[i].state = VcpuState::Stopped;
    pager->partition_ended(*p);
    EXPECT_TRUE(pager->reset_partition(*p));
    EXPECT_EQ(src.count(MigSrcPage::Dirty), kPages);
    p->state = PartitionState::Running;
    EXPECT_TRUE(invariants());
}

TEST_F(MigTrackingTest, NothingIsNotedAfterTrackingEnds) {
    store_qemu(3, 0x30);
    begin();
    send(3);
    pager->mig_track_end(*p);
    store_qemu(3, 0x31);
    EXPECT_EQ(pager->mig_harvest(*p), 0u);
    evict_all();
    EXPECT_EQ(state(3), MigSrcPage::Sent);
    EXPECT_EQ(contents(3), pattern(0x31)) << "the pager still wrote it out";
}

// Pre-copy end to end: rounds of snapshots while the partition stores (both
// models), pages come and go, then a final round after the "suspend". The
// target image built from what was sent equals the partition's memory.
struct MigPrecopyTest : MigTrackingTest, ::testing::WithParamInterface<u64> {};

TEST_P(MigPrecopyTest, StoresAndEvictionsLoseNothing) {
    test::Rng rng{GetParam()};
    for (u64 k = 0; k < 24; ++k) store_qemu(k, static_cast<u8>(k * 3));
    evict_all();
    begin();
    std::vector<std::vector<u8>> target(kPages, std::vector<u8>(kPageSize));
    bool running = true;
    auto guest_runs = [&](u64 stores) {
        for (u64 i = 0; running && i < stores; ++i) {
            u64 k = rng.below(kPages);
            u8 v = static_cast<u8>(rng.next());
            if (rng.below(2)) store_qemu(k, v);
            else store_power9(k, v);
            if (rng.below(4) == 0) evict_all();
        }
    };
    auto round = [&](u64 stores_between) {
        while (auto lp = src.next_to_send()) {
            MigSnapPage s = snap(lp->value);
            if (s.busy) continue;
            if (s.kind == MigPageKind::PagedOut) {
                ASSERT_EQ(src.start_read(*lp), Err::Ok);
                guest_runs(rng.below(2));  // the PSP's read is in flight while the guest runs
                std::memcpy(target[lp->value].data(), disk.at(s.block), kPageSize);
                ASSERT_EQ(src.read_done(*lp, true), Err::Ok);
            } else {
                if (s.data) std::memcpy(target[lp->value].data(), buf.data(), kPageSize);
                else std::fill(target[lp->value].begin(), target[lp->value].end(), 0);
                ASSERT_EQ(src.sent(*lp, s.kind), Err::Ok);
            }
            guest_runs(stores_between);
        }
        (void)pager->mig_harvest(*p);
        ASSERT_TRUE(invariants());
    };
    for (int r = 0; r < 4; ++r) {
        round(rng.below(3));
        src.next_round();
    }
    running = false;
    src.suspend();  // the final rounds send what is left
    for (int r = 0; r < 3 && !src.complete(); ++r) {
        round(0);
        src.next_round();
    }
    ASSERT_TRUE(src.complete());
    EXPECT_EQ(src.late_changes(), 0u);
    EXPECT_GT(src.data_pages_sent(), kPages / 2) << "pages were sent again";
    pager->mig_track_end(*p);
    for (u64 k = 0; k < kPages; ++k) EXPECT_EQ(contents(k), target[k]) << "page " << k;
    EXPECT_EQ(pager->mig_stats(*p).source_page_ins, 0u);
    EXPECT_TRUE(invariants());
}

INSTANTIATE_TEST_SUITE_P(Seeds, MigPrecopyTest, ::testing::Values(1u, 2u, 3u, 4u));

}  // namespace
}  // namespace pv
