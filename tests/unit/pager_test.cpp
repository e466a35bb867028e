// The AMS loop on the host: the real pager (hv/pager.cpp, hv/reclaim.cpp,
// hv/pinning.cpp, hv/page_init.cpp) over host memory, with a fake paging
// service partition that serves requests from a byte-array "disk":
// fault → request → completion → resume, shared requests, read-ahead,
// reclaim under pressure, failed reads and writes, a dead or silent service.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <memory>
#include <set>
#include <vector>

#include "arch/arch.h"
#include "base/papr.h"
#include "hv/hv.h"
#include "hv/pager.h"
#include "tests/unit/host_tables.h"
#include "vio/paging_protocol.h"

namespace pv {

// The paging service: requests queue here until serve() does them.
struct FakePsp {
    std::vector<u8> disk;
    std::deque<PagingRequest> queue;
    std::set<u64> bad_read_blocks, bad_write_blocks;
    std::vector<u64> writes;  // device blocks written (attempts)
    bool dead = false;
    u64 sent = 0;

    static bool send(void* ctx, const PagingRequest& r, const Partition&) {
        auto* f = static_cast<FakePsp*>(ctx);
        if (f->dead) return false;  // as PspLink::send: a failed service takes nothing
        f->queue.push_back(r);
        ++f->sent;
        return true;
    }
    static bool failed(const void* ctx) { return static_cast<const FakePsp*>(ctx)->dead; }
    PagingTransport transport() { return PagingTransport{send, failed, this}; }
};

struct PagerTest : ::testing::Test {
    static constexpr u64 kPages = 64;
    static constexpr u64 kFrames = 8;

    std::unique_ptr<Pager> pager = std::make_unique<Pager>();
    FakePsp psp;
    u8* frames = nullptr;
    std::vector<FrameInfo> frame_info;
    std::vector<PagingRequest> requests;
    std::vector<PageInfo> page_info;
    test::HostTables tables;
    Partition* p = nullptr;
    u64 errors_before = 0;
    u64 served = 0;

    void set_up(u64 pool_frames = kFrames, u32 nreq = 8, u32 vcpus = 2) {
        frames = static_cast<u8*>(std::aligned_alloc(kPageSize, pool_frames * kPageSize));
        frame_info.resize(pool_frames);
        requests.assign(nreq, PagingRequest{});
        psp.disk.assign(kPages * kPageSize, 0);
        Hypervisor& h = hv();
        h.partition_count = 1;
        h.live_partitions = 1;
        h.thread_count = 0;
        run_queued();
        errors_before = h.paging_errors.count_for(0);
        p = &h.partitions[0];
        *p = Partition{};
        std::strcpy(p->name, "s");
        p->lpid = Lpid{1};
        p->slot = 0;
        p->mem_mode = MemMode::Shared;
        p->mem_bytes = kPages * kPageSize;
        p->vcpu_count = vcpus;
        for (u32 i = 0; i < vcpus; ++i) p->vcpus[i].part = p, p->vcpus[i].id = VcpuId{i}, p->vcpus[i].state = VcpuState::Running;
        ASSERT_EQ(p->radix.init(tables.pool()), Err::Ok);
        ASSERT_TRUE(pager->init(frame_of(arch::host_real(frames)), frame_info, requests,
                                std::span<Partition>(h.partitions, kMaxPartitions), psp.transport()));
        page_info.resize(kPages);
        ASSERT_EQ(pager->add_partition(*p, page_info, 0, 128, 2), Err::Ok);
    }

    void TearDown() override {
        run_queued();
        std::free(frames);
    }

    Vcpu& vcpu(u32 i) { return p->vcpus[i]; }
    const PageInfo& info(u64 page) { return *pager->pool().page(0, LogicalPage{page}); }
    u8 pins(u64 page) { return pager->pool().pins(0, LogicalPage{page}); }
    u64 block_of(u64 page) { return page * paging::kBlocksPerPage; }

    // Do what the PSP was asked, in order (n = all).
    void serve(size_t n = ~size_t{0}) {
        while (n-- && !psp.queue.empty()) {
            if (++served > 50000) {  // a pager that loops on its I/O fails here instead of hanging
                ADD_FAILURE() << "more than 50000 paging requests";
                psp.queue.clear();
                return;
            }
            PagingRequest r = psp.queue.front();
            psp.queue.pop_front();
            u8* frame = static_cast<u8*>(arch::host_ptr(base_of(r.frame)));
            u8* disk = psp.disk.data() + r.device_block * paging::kBlockBytes;
            u16 status = 0;
            if (r.kind == PagingRequest::Kind::PageIn) {
                if (psp.bad_read_blocks.count(r.device_block)) status = 0x281;
                else std::memcpy(frame, disk, kPageSize);
            } else {
                psp.writes.push_back(r.device_block);
                if (psp.bad_write_blocks.count(r.device_block)) status = 0x280;
                else std::memcpy(disk, frame, kPageSize);
            }
            Guard lk(pager->lock());
            pager->complete_locked(r.id, r.tag, status);
        }
    }
    // Serve until nothing is queued (completions may start more I/O).
    void drain() {
        for (int i = 0; i < 1000 && !psp.queue.empty(); ++i) serve();
    }

    // What a thread would do with the vCPUs made runnable: run them, and
    // (here, at once) let them go again.
    static void run_queued() {
        while (Vcpu* v = hv().runq.pop()) {
            v->state = VcpuState::Running;
            RunQueue::release(*v);
        }
    }
    // v touches page: faults it in if needed (serving the PSP), as the
    // partition would after each HDSI. True when it became resident.
    bool touch(Vcpu& v, u64 page) {
        for (int tries = 0; tries < 100; ++tries) {
            if (p->radix.lookup(LogicalPage{page})) return true;
            v.state = VcpuState::Running;
            (void)pager->storage_fault(v, page * kPageSize, page * kPageSize);
            drain();
            run_queued();
        }
        return false;
    }
    // Store a pattern into a page (resident first), as the partition would: the PTE's C bit is set.
    void write_page(u64 page, u8 seed) {
        bool in = touch(vcpu(0), page);
        ASSERT_TRUE(in || !p->is_running()) << "page " << page;
        if (!in) return;
        std::vector<u8> buf(kPageSize);
        for (u64 i = 0; i < kPageSize; ++i) buf[i] = static_cast<u8>(seed + i * 7);
        ASSERT_TRUE(p->copy_to(page * kPageSize, buf.data(), kPageSize));
        pager->note_written(*p, page * kPageSize, kPageSize);
    }
    bool page_holds(u64 page, u8 seed) {
        if (!touch(vcpu(0), page)) return false;
        std::vector<u8> buf(kPageSize);
        if (!p->copy_from(page * kPageSize, buf.data(), kPageSize)) return false;
        for (u64 i = 0; i < kPageSize; ++i)
            if (buf[i] != static_cast<u8>(seed + i * 7)) return false;
        return true;
    }
    // Evict every page that can be evicted (writes go to the fake disk).
    void evict_all() {
        for (int i = 0; i < 8; ++i) {
            {
                Guard lk(pager->lock());
                for (u64 k = 0; k < kPages; ++k) {
                    LogicalPage lp{k};
                    if (info(k).state != PageState::Resident || pins(k)) continue;
                    auto rc = p->radix.unmap_rc(lp);
                    if (rc && rc->changed) pager->pool().note_changed(0, lp);
                    if (pager->pool().begin_page_out(0, lp) != Err::Ok) continue;
                    if (info(k).on_device_valid) {
                        (void)pager->pool().finish_page_out(0, lp, true);
                        continue;
                    }
                    PagingRequest* r = start_page_out(pager->requests(), 0, lp, arch::timebase());
                    if (!r) {
                        (void)pager->pool().cancel_page_out(0, lp, false);
                        (void)p->radix.map(lp, frame_of(pager->frame_base(info(k))), Perm::RWX);
                        continue;
                    }
                    start_io(pager->requests(), *r, frame_of(pager->frame_base(info(k))),
                             block_of(k));
                    PagingTransport t = psp.transport();
                    t.send(t.ctx, *r, *p);
                }
            }
            drain();
        }
    }
};

TEST_F(PagerTest, FirstTouchIsZeroFilledWithoutIo) {
    set_up();
    Vcpu& v = vcpu(0);
    EXPECT_EQ(pager->storage_fault(v, 5 * kPageSize, 5 * kPageSize), Next::Block);
    EXPECT_EQ(psp.sent, 0u);
    EXPECT_EQ(info(5).state, PageState::Resident);
    EXPECT_EQ(v.state, VcpuState::Runnable);  // resumed at once
    EXPECT_EQ(hv().runq.pop(), &v);
    RunQueue::release(v);
}

TEST_F(PagerTest, FaultRequestCompletionResume) {
    set_up();
    for (u64 k = 0; k < 16; ++k) write_page(k, static_cast<u8>(k));
    evict_all();
    ASSERT_EQ(info(3).state, PageState::NotResident);
    ASSERT_TRUE(info(3).on_device);
    Vcpu& v = vcpu(0);
    u64 sent = psp.sent;
    EXPECT_EQ(pager->storage_fault(v, 3 * kPageSize + 8, 0x7000), Next::Block);
    EXPECT_EQ(v.state, VcpuState::PageWait);  // parked on its page-in
    ASSERT_EQ(psp.sent, sent + 1);
    EXPECT_EQ(psp.queue.front().kind, PagingRequest::Kind::PageIn);
    EXPECT_EQ(psp.queue.front().device_block, block_of(3));
    serve(1);
    EXPECT_EQ(v.state, VcpuState::Runnable);
    EXPECT_EQ(hv().runq.pop(), &v);
    RunQueue::release(v);
    EXPECT_TRUE(page_holds(3, 3));
    EXPECT_GE(v.fault.faults, 1u);
}

TEST_F(PagerTest, TwoVcpusOnOnePageShareOneRequest) {
    set_up();
    for (u64 k = 0; k < 16; ++k) write_page(k, static_cast<u8>(k));
    evict_all();
    u64 sent = psp.sent;
    EXPECT_EQ(pager->storage_fault(vcpu(0), 9 * kPageSize, 0), Next::Block);
    EXPECT_EQ(pager->storage_fault(vcpu(1), 9 * kPageSize, 0), Next::Block);
    u64 page_ins = 0;
    for (const PagingRequest& r : psp.queue) page_ins += r.kind == PagingRequest::Kind::PageIn && r.lp.value == 9;
    EXPECT_EQ(page_ins, 1u);
    EXPECT_GE(psp.sent, sent + 1);
    drain();
    EXPECT_EQ(vcpu(0).state, VcpuState::Runnable);
    EXPECT_EQ(vcpu(1).state, VcpuState::Runnable);
    EXPECT_TRUE(page_holds(9, 9));
}

TEST_F(PagerTest, SequentialFaultsReadAhead) {
    set_up(48, 32);
    for (u64 k = 0; k < 40; ++k) write_page(k, static_cast<u8>(k));
    evict_all();
    ASSERT_TRUE(touch(vcpu(0), 10));
    psp.queue.clear();
    u64 sent = psp.sent;
    EXPECT_EQ(pager->storage_fault(vcpu(0), 11 * kPageSize, 0), Next::Block);
    EXPECT_GT(psp.sent, sent + 1);  // page 11 and pages after it
    bool ahead = false;
    for (const PagingRequest& r : psp.queue) ahead |= r.lp.value == 12;
    EXPECT_TRUE(ahead);
}

// A sequential stream through more pages than the pool holds: read-ahead
// reclaims the stream's own read pages when free frames reach the low
// watermark, so the window keeps going (before, it stopped there and only a
// fault's reclaim let it go on: a fault every few pages). Every page holds
// what was written.
TEST_F(PagerTest, StreamReadAheadMakesRoomForItself) {
    set_up(16, 32);
    for (u64 k = 0; k < 48; ++k) write_page(k, static_cast<u8>(k + 1));
    evict_all();
    u64 faults = 0;
    for (u64 k = 0; k < 48; ++k) {
        if (!p->radix.lookup(LogicalPage{k})) ++faults;
        ASSERT_TRUE(page_holds(k, static_cast<u8>(k + 1))) << "page " << k;
    }
    EXPECT_LE(faults, 5u);  // 8 when read-ahead stopped at the watermark
    Guard lk(pager->lock());
    EXPECT_TRUE(pager->pool().check_invariants());
}

TEST_F(PagerTest, ReclaimUnderPressureKeepsEveryPage) {
    set_up();
    for (u64 k = 0; k < 32; ++k) write_page(k, static_cast<u8>(k * 3));
    u64 seed = 12345;
    for (int i = 0; i < 200; ++i) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        u64 k = (seed >> 33) % 32;
        ASSERT_TRUE(page_holds(k, static_cast<u8>(k * 3))) << "page " << k << " round " << i;
        if (i % 7 == 0) write_page(k, static_cast<u8>(k * 3));
    }
    Guard lk(pager->lock());
    EXPECT_TRUE(pager->pool().check_invariants());
    EXPECT_GT(pager->pool().stats(0).page_outs, 0u);
    EXPECT_GT(pager->pool().stats(0).page_ins, 0u);
}

TEST_F(PagerTest, FailedPageInMachineChecksTheWaiterAndZeroesThePage) {
    set_up();
    for (u64 k = 0; k < 16; ++k) write_page(k, static_cast<u8>(k));
    evict_all();
    psp.bad_read_blocks.insert(block_of(4));
    Vcpu& v = vcpu(1);
    v.regs.pc = 0x4000;
    v.regs.msr = msr::SF | msr::LE;
    EXPECT_EQ(pager->storage_fault(v, 4 * kPageSize, 0x1234), Next::Block);
    serve();
    EXPECT_EQ(v.regs.pc, 0x200u);  // no FWNMI: the architected machine check
    EXPECT_EQ(hv().paging_errors.count_for(0), errors_before + 1);
    EXPECT_EQ(info(4).state, PageState::NotResident);
    EXPECT_FALSE(info(4).on_device);  // zero-fill now: never read from the failed block
    EXPECT_TRUE(info(4).bad_block);
    EXPECT_TRUE(p->is_running());
}

// Every waiter was woken to take an interrupt before the page-in failed: the
// check is owed by the page, to its next access (whichever vCPU makes it,
// with that access's address), not to the waiter's next fault, which may be
// another page in another context (Linux: a kernel allocation on that vCPU
// got a user page's check and the kernel died).
TEST_F(PagerTest, AFailedPageInNobodyWasParkedForChecksThePagesNextAccess) {
    set_up();
    for (u64 k = 0; k < 16; ++k) write_page(k, static_cast<u8>(k));
    evict_all();
    psp.bad_read_blocks.insert(block_of(4));
    Vcpu& a = vcpu(1);
    a.regs.pc = 0x4000;
    a.regs.msr = msr::SF | msr::LE | msr::EE;
    EXPECT_EQ(pager->storage_fault(a, 4 * kPageSize, 0x1234), Next::Block);
    ASSERT_EQ(a.state, VcpuState::PageWait);
    a.sprs.dec = 0, a.sprs.dec_tb = 0;  // its decrementer has fired
    pager->poll_interrupts(1000);
    ASSERT_EQ(a.state, VcpuState::Runnable) << "woken to take its interrupt";
    EXPECT_EQ(hv().runq.pop(), &a);
    RunQueue::release(a);
    a.state = VcpuState::Running;
    serve();  // the page-in fails; nobody is parked on it
    EXPECT_EQ(a.regs.pc, 0x4000u) << "no machine check for a vCPU that runs elsewhere now";
    EXPECT_TRUE(info(4).lost);
    EXPECT_EQ(hv().paging_errors.count_for(0), errors_before + 1);
    // a's next fault is another page: an ordinary page-in.
    a.regs.pc = 0x8000;
    EXPECT_EQ(pager->storage_fault(a, 6 * kPageSize, 0x6000), Next::Block);
    serve();
    EXPECT_EQ(a.regs.pc, 0x8000u);
    EXPECT_EQ(info(6).state, PageState::Resident);
    // The process that wanted page 4 comes back on the other vCPU.
    Vcpu& b = vcpu(0);
    b.regs.pc = 0x9000;
    b.regs.msr = msr::SF | msr::LE;
    EXPECT_EQ(pager->storage_fault(b, 4 * kPageSize + 8, 0x5008), Next::Resume);
    EXPECT_EQ(b.regs.pc, 0x200u);
    EXPECT_EQ(b.sprs.srr0, 0x9000u);
    EXPECT_EQ(b.sprs.dar, 0x5008u);
    EXPECT_FALSE(info(4).lost);
    EXPECT_FALSE(info(4).on_device) << "zero-fill from now on";
    Guard lk(pager->lock());
    EXPECT_TRUE(pager->pool().check_invariants());
}

// The same, but the woken waiter is parked again on another page's page-in
// when the failure comes: it is not this page's waiter any more, so it gets no
// machine check (with its other fault's address) and waits on; the page owes it.
TEST_F(PagerTest, AWaiterParkedOnAnotherPageIsNotToldOfTheFailure) {
    set_up();
    for (u64 k = 0; k < 16; ++k) write_page(k, static_cast<u8>(k));
    evict_all();
    psp.bad_read_blocks.insert(block_of(4));
    Vcpu& a = vcpu(1);
    a.regs.pc = 0x4000;
    a.regs.msr = msr::SF | msr::LE | msr::EE;
    EXPECT_EQ(pager->storage_fault(a, 4 * kPageSize, 0x1234), Next::Block);
    ASSERT_EQ(a.state, VcpuState::PageWait);
    a.sprs.dec = 0, a.sprs.dec_tb = 0;
    pager->poll_interrupts(1000);
    ASSERT_EQ(a.state, VcpuState::Runnable);
    EXPECT_EQ(hv().runq.pop(), &a);
    RunQueue::release(a);
    a.state = VcpuState::Running;
    a.regs.pc = 0x8000;
    size_t queued = psp.queue.size();  // page 4 and its read-ahead
    EXPECT_EQ(pager->storage_fault(a, 12 * kPageSize, 0xc000), Next::Block);
    ASSERT_EQ(a.state, VcpuState::PageWait);
    serve(queued);  // page 4's read fails; a waits for page 12
    EXPECT_EQ(a.state, VcpuState::PageWait) << "still waiting for page 12";
    EXPECT_EQ(a.regs.pc, 0x8000u) << "no machine check for page 4";
    EXPECT_TRUE(info(4).lost);
    EXPECT_EQ(hv().paging_errors.count_for(0), errors_before + 1);
    drain();
    EXPECT_EQ(info(12).state, PageState::Resident);
    EXPECT_EQ(a.regs.pc, 0x8000u);
    EXPECT_TRUE(info(4).lost) << "its next access takes the check";
    Guard lk(pager->lock());
    EXPECT_TRUE(pager->pool().check_invariants());
}

TEST_F(PagerTest, DeadServiceFailsEveryRequestAndNewOnesAtOnce) {
    set_up();
    for (u64 k = 0; k < 16; ++k) write_page(k, static_cast<u8>(k));
    evict_all();
    EXPECT_EQ(pager->storage_fault(vcpu(0), 2 * kPageSize, 0), Next::Block);
    EXPECT_EQ(pager->storage_fault(vcpu(1), 3 * kPageSize, 0), Next::Block);
    psp.queue.clear();  // the PSP died holding them
    psp.dead = true;
    {
        Guard lk(pager->lock());
        pager->fail_all_locked(kStatusNoService);
    }
    EXPECT_EQ(pager->requests_allocated(), 0u);
    EXPECT_EQ(vcpu(0).regs.pc, 0x200u);
    EXPECT_EQ(vcpu(1).regs.pc, 0x200u);
    vcpu(0).regs.pc = 0;
    vcpu(0).mc_in_progress = false;
    u64 sent = psp.sent;
    (void)pager->storage_fault(vcpu(0), 5 * kPageSize, 0);
    EXPECT_EQ(psp.sent, sent);  // nothing goes to a dead service
    EXPECT_EQ(vcpu(0).regs.pc, 0x200u);
}

TEST_F(PagerTest, FailedWritesAreNotRetriedForever) {
    set_up(32, 16);
    for (u64 k = 0; k < 48; ++k) psp.bad_write_blocks.insert(block_of(k));  // every write of the first 48 pages fails
    for (u64 k = 0; k < 64 && p->is_running(); ++k) write_page(k, static_cast<u8>(k));
    for (int round = 0; round < 3; ++round)
        for (u64 k = 0; k < 64 && p->is_running(); ++k) (void)touch(vcpu(0), k);
    // Each failing block was written at most once: the page then stays resident.
    std::map<u64, int> per_block;
    for (u64 b : psp.writes) ++per_block[b];
    for (auto [block, n] : per_block) EXPECT_LE(n, 1) << "block " << block;
    // The pool cannot keep 48 failed pages of a 32-frame pool: the partition
    // stops with the reason; it does not loop on its writes.
    EXPECT_FALSE(p->is_running());
    EXPECT_NE(std::string(p->reason).find("paging device write errors"), std::string::npos) << p->reason;
    Guard lk(pager->lock());
    EXPECT_TRUE(pager->pool().check_invariants());
}

TEST_F(PagerTest, OneFailedWriteKeepsThePageResident) {
    set_up(16, 8);
    psp.bad_write_blocks.insert(block_of(2));
    for (u64 k = 0; k < 32; ++k) write_page(k, static_cast<u8>(k));
    for (u64 k = 0; k < 32; ++k) (void)touch(vcpu(0), k);
    EXPECT_TRUE(p->is_running());
    EXPECT_EQ(info(2).state, PageState::Resident);
    EXPECT_GT(pins(2), 0);
    EXPECT_TRUE(page_holds(2, 2));
    char buf[512];
    pager->format_partition_stats(*p, buf, sizeof buf);
    EXPECT_NE(std::string(buf).find("\"page_out_errors\":1"), std::string::npos) << buf;
}

TEST_F(PagerTest, AnUnansweredRequestIsOverdueAfterItsDeadline) {
    set_up();
    for (u64 k = 0; k < 16; ++k) write_page(k, static_cast<u8>(k));
    evict_all();
    EXPECT_EQ(pager->storage_fault(vcpu(0), 6 * kPageSize, 0), Next::Block);
    ASSERT_FALSE(psp.queue.empty());
    u64 now = arch::timebase();
    u64 ms = arch::timebase_hz() / 1000;
    EXPECT_EQ(pager->overdue_request(now), ~0u);
    EXPECT_EQ(pager->overdue_request(now + (Pager::kRequestTimeoutMs + 100) * ms), psp.queue.front().id);
    serve();
    EXPECT_EQ(pager->overdue_request(now + (Pager::kRequestTimeoutMs + 100) * ms), ~0u);
}

// H_PAGE_INIT copy onto a page that came in clean from the device: the copy
// must survive the page's next eviction (it is marked changed).
TEST_F(PagerTest, PageInitCopySurvivesEviction) {
    set_up();
    for (u64 k = 0; k < 16; ++k) write_page(k, static_cast<u8>(k));
    evict_all();
    ASSERT_TRUE(touch(vcpu(0), 7));  // dest: clean from the device
    ASSERT_TRUE(touch(vcpu(0), 1));  // src
    ASSERT_TRUE(info(7).on_device_valid);
    bool blocked = true;
    EXPECT_EQ(pager->page_init(vcpu(0), false, 7 * kPageSize, 1 * kPageSize, blocked), papr::H_SUCCESS);
    EXPECT_FALSE(blocked);
    EXPECT_EQ(pins(7), 0);  // held only for the copy
    evict_all();
    ASSERT_EQ(info(7).state, PageState::NotResident);
    EXPECT_TRUE(page_holds(7, 1));
}

TEST_F(PagerTest, PageInitOnANonResidentPageParksAndRetries) {
    set_up();
    for (u64 k = 0; k < 16; ++k) write_page(k, static_cast<u8>(k));
    evict_all();
    Vcpu& v = vcpu(0);
    v.regs.pc = 0x1004;
    bool blocked = false;
    (void)pager->page_init(v, false, 7 * kPageSize, 1 * kPageSize, blocked);
    EXPECT_TRUE(blocked);
    EXPECT_EQ(v.regs.pc, 0x1000u);  // the sc 1 runs again once the page is in
    drain();
    EXPECT_EQ(v.state, VcpuState::Runnable);
}

// RTAS system-reboot of a shared partition (hv/hv.cpp shared_restart_step):
// frames with paging I/O in flight stay held until the I/O completes (the
// PSP may still DMA into them); everything else goes back at once; at the
// end every page is never-touched (zero-fill, no device copy, no PTE).
TEST_F(PagerTest, RestartWithRequestsInFlightFreesNothingUntilTheyComplete) {
    set_up();
    for (u64 k = 0; k < 16; ++k) write_page(k, static_cast<u8>(k + 1));
    evict_all();
    ASSERT_TRUE(touch(vcpu(0), 1));
    write_page(2, 0x22);  // resident and dirty
    ASSERT_TRUE(info(9).on_device);
    // A page-in in flight (page 6), and a page-out of page 2 in flight.
    ASSERT_EQ(pager->storage_fault(vcpu(1), 6 * kPageSize, 0), Next::Block);
    {
        Guard lk(pager->lock());
        LogicalPage lp{2};
        auto rc = p->radix.unmap_rc(lp);
        if (rc && rc->changed) pager->pool().note_changed(0, lp);
        ASSERT_EQ(pager->pool().begin_page_out(0, lp), Err::Ok);
        PagingRequest* r = start_page_out(pager->requests(), 0, lp, arch::timebase());
        ASSERT_NE(r, nullptr);
        start_io(pager->requests(), *r, frame_of(pager->frame_base(info(2))), block_of(2));
        PagingTransport t = psp.transport();
        ASSERT_TRUE(t.send(t.ctx, *r, *p));
    }
    ASSERT_EQ(info(6).state, PageState::PageInPending);
    ASSERT_EQ(info(2).state, PageState::PageOutPending);
    ASSERT_FALSE(psp.queue.empty());

    // The partition stops for its restart.
    p->state = PartitionState::Stopped;
    for (u32 i = 0; i < p->vcpu_count; ++i) vcpu(i).state = VcpuState::Stopped;
    pager->partition_ended(*p);
    u64 copies = 0;
    EXPECT_FALSE(pager->reset_partition(*p, &copies)) << "requests are in flight";
    EXPECT_GT(copies, 0u);
    {
        Guard lk(pager->lock());
        PoolPartitionStats st = pager->pool().stats(0);
        EXPECT_EQ(st.resident, 0u);
        EXPECT_EQ(st.held, st.in_pending + st.out_pending) << "only frames with I/O in flight are held";
        EXPECT_GE(st.held, 2u);
        EXPECT_TRUE(pager->pool().check_invariants());
    }
    EXPECT_EQ(info(6).state, PageState::PageInPending) << "its frame is the PSP's until the read completes";
    EXPECT_EQ(info(2).state, PageState::PageOutPending) << "its frame is the PSP's until the write completes";
    EXPECT_EQ(info(1).state, PageState::NotResident);
    EXPECT_FALSE(p->radix.lookup(LogicalPage{1}));
    EXPECT_FALSE(info(9).on_device) << "the device copy of the last boot is dead";

    serve();  // the PSP completes both (and any read-ahead)
    EXPECT_TRUE(pager->reset_partition(*p, &copies));
    for (u64 k = 0; k < kPages; ++k) {
        EXPECT_EQ(info(k).state, PageState::NotResident) << "page " << k;
        EXPECT_FALSE(info(k).on_device) << "page " << k;
        EXPECT_FALSE(info(k).error || info(k).lost) << "page " << k;
        EXPECT_FALSE(p->radix.lookup(LogicalPage{k})) << "page " << k;
    }
    {
        Guard lk(pager->lock());
        EXPECT_EQ(pager->pool().free_frames(), pager->pool().frames());
        EXPECT_TRUE(pager->pool().check_invariants());
    }

    // Its next boot: the pages it wrote read as zero, without a read.
    p->state = PartitionState::Running;
    u64 sent = psp.sent;
    for (u64 k : {1, 2, 6, 9}) {
        ASSERT_TRUE(touch(vcpu(0), k));
        std::vector<u8> buf(kPageSize, 0xff);
        ASSERT_TRUE(p->copy_from(k * kPageSize, buf.data(), kPageSize));
        EXPECT_EQ(std::count(buf.begin(), buf.end(), 0), static_cast<long>(kPageSize)) << "page " << k;
    }
    EXPECT_EQ(psp.sent, sent) << "zero-fill: nothing read from the device";
}

// A failed page-in that completes while the partition restarts leaves no
// error behind: its next boot takes no machine check for it.
TEST_F(PagerTest, RestartLeavesNoErrorOfAFailedPageIn) {
    set_up(8, 8, 2);
    for (u64 k = 0; k < 16; ++k) write_page(k, static_cast<u8>(k + 1));
    evict_all();
    psp.bad_read_blocks.insert(block_of(4));
    ASSERT_EQ(pager->storage_fault(vcpu(0), 4 * kPageSize, 0), Next::Block);
    p->state = PartitionState::Stopped;
    for (u32 i = 0; i < p->vcpu_count; ++i) vcpu(i).state = VcpuState::Stopped;
    pager->partition_ended(*p);
    EXPECT_FALSE(pager->reset_partition(*p));
    serve();
    EXPECT_TRUE(pager->reset_partition(*p));
    EXPECT_FALSE(info(4).error || info(4).lost);
    EXPECT_EQ(pager->requests_allocated(), 0u);
    p->state = PartitionState::Running;
    vcpu(0).regs.pc = 0x4000;
    ASSERT_TRUE(touch(vcpu(0), 4));
    EXPECT_EQ(vcpu(0).regs.pc, 0x4000u) << "no machine check on the new boot";
}

}  // namespace pv

