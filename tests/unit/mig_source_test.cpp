// The source's pre-copy engine (hv/mig_source.cpp) over the real pager on
// the host, as mig_tracking_test does it: stores set C as QEMU does or as
// POWER9 does (storage_fault's set_rc), evictions go through the pager's own
// reclaim, a byte-array disk serves the pager and a fake PSP reads the same
// disk for the engine. A fake target decodes every record (MigStaging,
// decode_page_states, decode_chunk) into a MigTargetPages, a
// MigPageAssembler and an image of the pages; at the end the image equals
// the partition's memory and the totals match.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "arch/arch.h"
#include "base/papr.h"
#include "hv/hv.h"
#include "hv/mig_source.h"
#include "hv/pager.h"
#include "hv/ppc_defs.h"
#include "tests/unit/host_pager.h"
#include "tests/unit/rng.h"

namespace pv {
namespace {

constexpr u64 kPages = 4096;  // 16 MiB: the smallest partition a Start record may describe
constexpr u64 kFrames = 32;
constexpr u64 kRegion = 0x1000;

// The target: every record decoded and applied as the target's mover would.
struct Sink {
    MigStaging staging;
    std::vector<u8> states = std::vector<u8>(kPages);
    MigTargetPages tgt;
    MigPageAssembler assembler;
    std::vector<std::vector<u8>> image = std::vector<std::vector<u8>>(kPages, std::vector<u8>(kPageSize));
    std::set<std::vector<u8>> seen;  // every record accepted: none may come twice
    std::vector<std::string> errors;
    std::function<bool(u64)> refuse = [](u64) { return false; };
    u64 calls = 0, accepted = 0, chunks = 0;
    bool complete = false;

    Sink() { EXPECT_EQ(tgt.init(states), Err::Ok); }
    void error(const std::string& e) {
        if (errors.size() < 10) errors.push_back(e);
    }
    static bool send(void* ctx, const u8* rec, u32 len) {
        auto* s = static_cast<Sink*>(ctx);
        if (s->refuse(s->calls++)) return false;
        s->take(rec, len);
        return true;
    }
    void take(const u8* rec, u32 len) {
        ++accepted;
        if (complete) return error("a record after Complete");
        if (!seen.insert(std::vector<u8>(rec, rec + len)).second) return error("a record twice");
        MigRecordType type;
        if (MigError e = mig_check_header(rec, len, type); e != MigError::Ok)
            return error(std::string("header: ") + mig_error_name(e));
        if (type != MigRecordType::PageChunk && assembler.active()) error("a record between the chunks of one page");
        if (type == MigRecordType::PageStates) {
            MigPageStatesView v;
            if (MigError e = staging.decode_page_states(rec, len, v); e != MigError::Ok)
                return error(std::string("states: ") + mig_error_name(e));
            if (tgt.on_states(v) != Err::Ok) return error("on_states refused");
            for (u32 r = 0; r < v.run_count; ++r)
                if (v.runs[r].kind == MigPageKind::Zero)
                    for (u32 i = 0; i < v.runs[r].count; ++i)
                        std::fill(image[v.runs[r].first_page + i].begin(), image[v.runs[r].first_page + i].end(), 0);
        } else if (type == MigRecordType::PageChunk) {
            MigChunkView c;
            if (MigError e = staging.decode_chunk(rec, len, c); e != MigError::Ok)
                return error(std::string("chunk: ") + mig_error_name(e));
            ++chunks;
            MigPageAssembler::Step st = assembler.add(c);
            if (st == MigPageAssembler::Step::Rejected) return error("chunk refused by the assembler");
            if (st == MigPageAssembler::Step::Complete) {
                Result<MigDest> d = tgt.on_data(assembler.page(), true);
                if (!d.ok()) return error("data for page " + std::to_string(assembler.page().value) + " not awaited");
                std::memcpy(image[assembler.page().value].data(), assembler.data(), kPageSize);
                EXPECT_EQ(tgt.write_done(assembler.page(), true), Err::Ok);
            }
        } else {
            if (type == MigRecordType::VcpuCore) tgt.source_suspended();
            if (MigError e = staging.apply(rec, len); e != MigError::Ok)
                return error(std::string("apply: ") + mig_error_name(e));
            if (type == MigRecordType::Complete) complete = true;
        }
    }
};

// The source PSP: reads of the disk, answered at once, later, or failed.
struct Psp {
    test::HostDisk* disk = nullptr;
    MigSource* mig = nullptr;
    std::deque<std::pair<LogicalPage, u64>> pending;
    std::set<u64> fail_once;  // pages whose next read fails
    std::function<bool(u64)> refuse = [](u64) { return false; };
    bool immediate = false;
    u64 calls = 0, answered = 0, failed = 0;

    static bool read_block(void* ctx, LogicalPage lp, u64 block) {
        auto* s = static_cast<Psp*>(ctx);
        if (s->refuse(s->calls++)) return false;
        EXPECT_EQ(block, kRegion + lp.value * paging::kBlocksPerPage) << "source_paging_block + lp * 8";
        s->pending.emplace_back(lp, block);
        if (s->immediate) s->answer(1);
        return true;
    }
    void answer(u64 n) {
        for (; n && !pending.empty(); --n) {
            auto [lp, block] = pending.front();
            pending.pop_front();
            ++answered;
            if (fail_once.erase(lp.value)) {
                ++failed;
                mig->read_done(lp, nullptr);
            } else {
                mig->read_done(lp, disk->at(block));
            }
        }
    }
};

struct Io {
    Sink* sink;
    Psp* psp;
    static bool send(void* c, const u8* r, u32 l) { return Sink::send(static_cast<Io*>(c)->sink, r, l); }
    static bool read(void* c, LogicalPage lp, u64 b) { return Psp::read_block(static_cast<Io*>(c)->psp, lp, b); }
};

struct MigSourceTest : test::HostPagerTest {
    std::vector<u8> states = std::vector<u8>(kPages);
    PartitionConfig cfg{};
    std::unique_ptr<MigSource> mig = std::make_unique<MigSource>();
    std::unique_ptr<Sink> sink = std::make_unique<Sink>();
    Psp psp;
    Io io{nullptr, nullptr};
    std::vector<std::vector<u8>> shadow = std::vector<std::vector<u8>>(kPages);  // what the guest stored
    std::set<u64> lost;
    MigPolicy policy{};
    u64 now = 1000;

    void SetUp() override {
        hv().paging_errors.clear();
        set_up_pager(kPages, kFrames, 2, kRegion);
        std::strcpy(p->name, "mig");
        for (u32 i = 0; i < 2; ++i) p->vcpus[i].regs.msr = msr::SF | msr::LE, p->vcpus[i].regs.gpr[3] = 0x1000 + i;
        std::strcpy(cfg.name, "mig");
        std::strcpy(cfg.bootargs, "console=hvc0");
        psp.disk = &disk();
        psp.mig = mig.get();
        io = Io{sink.get(), &psp};
    }
    void TearDown() override {
        HostPagerTest::TearDown();
        hv().paging_errors.clear();
    }

    static std::vector<u8> pattern(u64 k, u8 seed) {
        std::vector<u8> b(kPageSize);
        for (u64 i = 0; i < kPageSize; ++i) b[i] = static_cast<u8>(seed + k * 13 + i * 7);
        return b;
    }
    // A store of the whole page: QEMU's model sets C in the PTE, POWER9's
    // takes the HDSI that storage_fault answers with set_rc.
    void store(u64 k, u8 seed, bool power9 = false) {
        ASSERT_TRUE(touch(k));
        if (power9) {
            ASSERT_EQ(pager->storage_fault(p->vcpus[0], k * kPageSize, k * kPageSize), Next::Resume);
        }
        shadow[k] = pattern(k, seed);
        ASSERT_TRUE(p->copy_to(k * kPageSize, shadow[k].data(), kPageSize));
        if (!power9) {
            Guard lk(pager->lock());
            ASSERT_TRUE(p->radix.set_changed(LogicalPage{k}));
        }
    }
    // A page-in nobody waits for fails: the page is lost (its next access machine-checks).
    void make_lost(u64 k) {
        store(k, 0x44);
        evict_all();
        ASSERT_EQ(info(k).state, PageState::NotResident);
        disk().bad_read_blocks.insert(kRegion + k * paging::kBlocksPerPage);
        Vcpu& a = p->vcpus[1];
        a.regs.msr = msr::SF | msr::LE | msr::EE;
        ASSERT_EQ(pager->storage_fault(a, k * kPageSize, 0x1234), Next::Block);
        a.sprs.dec = 0, a.sprs.dec_tb = 0;
        pager->poll_interrupts(1000);
        run_queued();
        serve();
        ASSERT_TRUE(info(k).lost);
        a.state = VcpuState::Running;
        a.regs.msr = msr::SF | msr::LE;
        lost.insert(k);
    }
    std::vector<u8> contents(u64 k) {
        std::vector<u8> b(kPageSize);
        EXPECT_TRUE(touch(k));
        EXPECT_TRUE(p->copy_from(k * kPageSize, b.data(), kPageSize));
        return b;
    }
    // Every kind: paged out, resident clean, resident dirty, zero, failed.
    void populate() {
        for (u64 k = 0; k < 120; ++k) store(k * 3, static_cast<u8>(k), k % 2);
        make_lost(500);
        make_lost(777);
        evict_all();
        for (u64 k = 0; k < 10; ++k) ASSERT_TRUE(touch(k * 3));                  // clean
        for (u64 k = 10; k < 16; ++k) store(k * 3, static_cast<u8>(0x80 + k));  // dirty
        ASSERT_EQ(info(0).state, PageState::Resident);
        ASSERT_TRUE(info(100 * 3).on_device);
    }
    void begin() {
        ASSERT_EQ(mig->begin(*p, cfg, *pager, states, policy, MigSourceIo{Io::send, Io::read, &io}), Err::Ok);
    }
    // Pumps until Done or Failed; guest(pump) runs between pumps until the suspend.
    MigSource::Step run(const std::function<void(u64)>& guest = {}, u64 answer_per_pump = 4, u64 max_pumps = 200000) {
        bool suspended = false;
        for (u64 i = 0; i < max_pumps; ++i) {
            MigSource::Step s = mig->pump(now += 100);
            if (s == MigSource::Step::Done || s == MigSource::Step::Failed) return s;
            if (s == MigSource::Step::SuspendNow && !suspended) {
                for (u32 v = 0; v < p->vcpu_count; ++v) p->vcpus[v].state = VcpuState::Stopped;
                suspended = true;
                mig->suspended(now, now + 5);
                continue;
            }
            EXPECT_EQ(s, suspended ? MigSource::Step::Working : s);
            psp.answer(answer_per_pump);
            if (guest && !suspended) guest(i);
        }
        ADD_FAILURE() << "no end after " << max_pumps << " pumps";
        return MigSource::Step::Working;
    }
    // The target holds what the partition holds, and the totals match.
    void expect_migrated() {
        for (const std::string& e : sink->errors) ADD_FAILURE() << e;
        ASSERT_TRUE(sink->complete);
        EXPECT_TRUE(sink->staging.complete());
        EXPECT_TRUE(sink->tgt.ready_to_resume());
        EXPECT_TRUE(sink->tgt.check_invariants());
        const MigTotals& t = sink->staging.totals;
        EXPECT_EQ(t.pages[static_cast<u32>(MigPageKind::Failed)], lost.size());
        EXPECT_EQ(sink->tgt.count(MigTgtPage::Failed), lost.size());
        EXPECT_EQ(t.pages[static_cast<u32>(MigPageKind::Zero)], sink->tgt.count(MigTgtPage::Zero));
        u64 with_data = t.pages[1] + t.pages[2] + t.pages[3];
        EXPECT_EQ(with_data, sink->tgt.count(MigTgtPage::Stored) + sink->tgt.count(MigTgtPage::InMemory));
        EXPECT_EQ(t.data_pages_sent, mig->stats().data_pages);
        EXPECT_EQ(sink->chunks, mig->stats().data_pages * kMigChunksPerPage);
        EXPECT_EQ(sink->accepted, mig->stats().records);
        EXPECT_EQ(t.rounds, mig->stats().rounds);
        u32 retained = 0;
        for (PagingError e; hv().paging_errors.nth_newest_for(0, retained, e);) ++retained;
        EXPECT_GT(retained, 0u);
        EXPECT_EQ(sink->staging.error_count, retained) << "every retained paging error";
        EXPECT_EQ(mig->stats().source_page_ins, 0u);
        EXPECT_EQ(pager->mig_stats(*p).source_page_ins, 0u);
        EXPECT_EQ(mig->stats().late_changes, 0u);
        EXPECT_FALSE(mig->active());
        // Tracking ended: it can begin again.
        MigSourcePages again;
        std::vector<u8> st(kPages);
        ASSERT_EQ(again.init(st), Err::Ok);
        EXPECT_EQ(pager->mig_track_begin(*p, again), Err::Ok);
        pager->mig_track_end(*p);
        for (u64 k = 0; k < kPages; ++k) {
            if (lost.count(k)) {
                EXPECT_EQ(sink->tgt.state(LogicalPage{k}), MigTgtPage::Failed) << "page " << k;
                continue;
            }
            ASSERT_EQ(sink->image[k], contents(k)) << "page " << k;
            if (!shadow[k].empty()) {
                ASSERT_EQ(contents(k), shadow[k]) << "page " << k;
            }
        }
    }
};

// The engine snapshots outside the pager lock: a change between taking a
// page and marking it sent (here an eviction that moves its C bit into the
// pool, so no harvest finds it later) must not be lost.
TEST_F(MigSourceTest, AChangeBetweenTakingAndMarkingIsNotLost) {
    store(5, 0x50);
    MigSourcePages src;
    ASSERT_EQ(src.init(states), Err::Ok);
    ASSERT_EQ(pager->mig_track_begin(*p, src), Err::Ok);
    LogicalPage lp{5};
    {
        Guard lk(pager->lock());
        ASSERT_EQ(src.next_to_send(), std::optional<LogicalPage>(LogicalPage{0}));
        ASSERT_EQ(src.start_send(lp), Err::Ok);
    }
    MigSnapPage out[1];
    std::vector<u8> buf(kPageSize);
    ASSERT_EQ(pager->mig_snapshot(*p, std::span<const LogicalPage>(&lp, 1), out, buf), Err::Ok);
    EXPECT_EQ(src.state(lp), MigSrcPage::Sending) << "the snapshot's own C clear is no change";
    store(5, 0x51);
    evict_all();
    ASSERT_EQ(info(5).state, PageState::NotResident);
    EXPECT_EQ(src.state(lp), MigSrcPage::SendStale);
    {
        Guard lk(pager->lock());
        ASSERT_EQ(src.sent(lp, out[0].kind), Err::Ok);
    }
    EXPECT_EQ(src.state(lp), MigSrcPage::Dirty) << "sent, and sent again next round";
    EXPECT_EQ(pager->mig_harvest(*p), 0u) << "no C bit would have told";
    // Busy pages go back as they were; a taken page can be read instead.
    {
        Guard lk(pager->lock());
        ASSERT_EQ(src.start_send(LogicalPage{7}), Err::Ok);
        EXPECT_EQ(src.start_send(LogicalPage{7}), Err::Invalid);
        ASSERT_EQ(src.cancel_send(LogicalPage{7}), Err::Ok);
        EXPECT_EQ(src.state(LogicalPage{7}), MigSrcPage::Unsent);
        ASSERT_EQ(src.start_send(lp), Err::Ok);
        ASSERT_EQ(src.note_changed(lp), Err::Ok);
        ASSERT_EQ(src.start_read(lp), Err::Ok);
        EXPECT_EQ(src.state(lp), MigSrcPage::ReadStale);
        EXPECT_EQ(src.remaining(), kPages);
        EXPECT_TRUE(src.check_invariants());
    }
    pager->mig_track_end(*p);
}

TEST_F(MigSourceTest, BeginChecksItsArguments) {
    std::vector<u8> short_states(kPages - 1);
    MigSourceIo good{Io::send, Io::read, &io};
    EXPECT_EQ(mig->begin(*p, cfg, *pager, short_states, policy, good), Err::Invalid);
    EXPECT_EQ(mig->begin(*p, cfg, *pager, states, policy, MigSourceIo{nullptr, Io::read, &io}), Err::Invalid);
    EXPECT_EQ(mig->pump(1), MigSource::Step::Failed);
    EXPECT_EQ(mig->failure(), MigSourceFail::NotStarted);
    begin();
    EXPECT_EQ(mig->begin(*p, cfg, *pager, states, policy, good), Err::Busy);
    EXPECT_EQ(sink->accepted, 0u) << "nothing before the first pump";
    EXPECT_EQ(mig->pump(now), MigSource::Step::Working);
    ASSERT_GE(sink->accepted, 1u);
    ASSERT_TRUE(sink->staging.have_start) << "Start first";
    mig->abort();
    EXPECT_EQ(mig->failure(), MigSourceFail::Aborted);
    EXPECT_EQ(mig->pump(now), MigSource::Step::Failed);
}

TEST_F(MigSourceTest, EveryKindMigratesIdle) {
    populate();
    u64 page_ins = pager->pool().stats(0).page_ins, faults = pager->pool().stats(0).faults;
    begin();
    ASSERT_EQ(run(), MigSource::Step::Done) << mig_source_fail_name(mig->failure());
    EXPECT_EQ(pager->pool().stats(0).page_ins, page_ins) << "no migration read is a page-in";
    EXPECT_EQ(pager->pool().stats(0).faults, faults);
    const MigSourceStats& s = mig->stats();
    EXPECT_EQ(s.pages[static_cast<u32>(MigPageKind::Failed)], 2u);
    EXPECT_GT(s.pages[static_cast<u32>(MigPageKind::PagedOut)], 90u);
    EXPECT_GE(s.pages[static_cast<u32>(MigPageKind::ResidentClean)], 10u);
    EXPECT_GE(s.pages[static_cast<u32>(MigPageKind::ResidentDirty)], 6u);
    EXPECT_EQ(s.reads, s.pages[static_cast<u32>(MigPageKind::PagedOut)]);
    EXPECT_EQ(s.read_failures, 0u);
    EXPECT_EQ(s.data_pages, 120u) << "each page with data once: nothing was written";
    EXPECT_EQ(s.rounds, 2u) << "one pass, then the final one";
    expect_migrated();
}

TEST_F(MigSourceTest, ReadsAnsweredInsideTheCall) {
    populate();
    psp.immediate = true;
    begin();
    ASSERT_EQ(run({}, 0), MigSource::Step::Done) << mig_source_fail_name(mig->failure());
    expect_migrated();
}

// Stores between pumps in both models, with evictions: pages are sent again
// and the target ends with the final memory.
struct MigSourceWritesTest : MigSourceTest, ::testing::WithParamInterface<u64> {};

TEST_P(MigSourceWritesTest, WritesBetweenPumpsAreSentAgain) {
    populate();
    test::Rng rng{GetParam()};
    policy.switch_pages = 8;
    begin();
    u64 stores = 0;
    ASSERT_EQ(run([&](u64 i) {
                  if (i > 150) return;  // the guest calms down: pre-copy converges
                  for (u64 n = rng.below(6); n; --n, ++stores) {
                      u64 k = rng.below(200);
                      if (!lost.count(k)) store(k, static_cast<u8>(rng.next()), rng.below(2));
                  }
                  if (rng.below(8) == 0) evict_all();
              }),
              MigSource::Step::Done)
        << mig_source_fail_name(mig->failure());
    EXPECT_GT(stores, 100u);
    EXPECT_GT(mig->stats().data_pages, 120u) << "pages sent again";
    EXPECT_GT(mig->stats().rounds, 2u);
    expect_migrated();
}

INSTANTIATE_TEST_SUITE_P(Seeds, MigSourceWritesTest, ::testing::Values(1u, 2u, 3u));

// A page being paged in is busy: left for a later pass, sent once its page-in is done.
TEST_F(MigSourceTest, ABusyPageIsLeftForTheNextRound) {
    populate();
    ASSERT_EQ(info(100 * 3).state, PageState::NotResident);
    ASSERT_EQ(pager->storage_fault(p->vcpus[1], 300 * kPageSize, 300 * kPageSize), Next::Block);
    ASSERT_EQ(info(300).state, PageState::PageInPending);
    policy.switch_pages = 0;
    begin();
    u64 busy_pumps = 0;
    ASSERT_EQ(run([&](u64) {
                  if (info(300).state == PageState::PageInPending && mig->stats().rounds >= 1) {
                      serve();  // the page-in completes after the first round
                      run_queued();
                  } else if (info(300).state == PageState::PageInPending) {
                      ++busy_pumps;
                  }
              }),
              MigSource::Step::Done)
        << mig_source_fail_name(mig->failure());
    EXPECT_GT(busy_pumps, 0u);
    EXPECT_GE(mig->stats().busy, 1u);
    EXPECT_GE(mig->stats().rounds, 3u) << "the busy page went to round 1";
    p->vcpus[1].state = VcpuState::Running;
    expect_migrated();
}

TEST_F(MigSourceTest, BackPressureLosesAndDuplicatesNothing) {
    populate();
    sink->refuse = [](u64 call) { return call % 2 == 1 || (call / 100) % 5 == 3; };
    psp.refuse = [](u64 call) { return call % 3 == 0 || (call >= 20 && call < 60); };
    test::Rng rng{9};
    begin();
    ASSERT_EQ(run([&](u64 i) {
                  if (i < 300 && rng.below(2)) store(rng.below(300), static_cast<u8>(rng.next()));
              }, 1),
              MigSource::Step::Done)
        << mig_source_fail_name(mig->failure());
    EXPECT_GT(mig->stats().refused, 1000u);
    EXPECT_EQ(mig->stats().refused + mig->stats().records, sink->calls);
    expect_migrated();
}

TEST_F(MigSourceTest, FailedReadsAreRetriedInTheNextRound) {
    populate();
    for (u64 k : {60u, 63u, 111u, 300u}) psp.fail_once.insert(k);
    psp.fail_once.insert(999);  // a page that is never read: stays in the set
    policy.switch_pages = 0;    // no suspend after the first round: the failures go to the second
    begin();
    ASSERT_EQ(run({}, 2), MigSource::Step::Done) << mig_source_fail_name(mig->failure());
    EXPECT_EQ(mig->stats().read_failures, 4u);
    EXPECT_EQ(psp.failed, 4u);
    EXPECT_EQ(mig->stats().reads, mig->stats().pages[static_cast<u32>(MigPageKind::PagedOut)]);
    EXPECT_EQ(mig->stats().data_pages, 120u) << "each failed page read once more";
    EXPECT_EQ(mig->stats().rounds, 3u) << "the failures went to round 1, then the final pass";
    EXPECT_EQ(psp.fail_once, std::set<u64>{999});
    expect_migrated();
}

TEST_F(MigSourceTest, TooManyReadFailuresFail) {
    populate();
    for (u64 k = 30; k < 300; k += 3) psp.fail_once.insert(k);
    ASSERT_EQ(mig->begin(*p, cfg, *pager, states, policy, MigSourceIo{Io::send, Io::read, &io}, 5), Err::Ok);
    EXPECT_EQ(run(), MigSource::Step::Failed);
    EXPECT_EQ(mig->failure(), MigSourceFail::ReadFailures);
    EXPECT_EQ(mig->stats().read_failures, 6u);
    EXPECT_FALSE(sink->complete);
    psp.answer(1000);  // late answers change nothing
    EXPECT_EQ(mig->stats().read_failures, 6u);
}

// The guest writes more than a round can send: Abort, and the partition runs
// on as it was (its memory is what it stored, tracking ended).
TEST_F(MigSourceTest, ConvergenceAbortLeavesThePartitionRunning) {
    populate();
    policy.switch_pages = 0, policy.max_rounds = 4, policy.max_final_pages = 10;
    test::Rng rng{5};
    begin();
    EXPECT_EQ(run([&](u64) {
                  for (int n = 0; n < 8; ++n) {
                      u64 k = rng.below(400);
                      if (!lost.count(k)) store(k, static_cast<u8>(rng.next()), rng.below(2));
                  }
              }),
              MigSource::Step::Failed);
    EXPECT_EQ(mig->failure(), MigSourceFail::Converge);
    EXPECT_EQ(mig->stats().rounds, 4u);
    EXPECT_FALSE(sink->complete);
    EXPECT_EQ(sink->staging.have_partition, false) << "no final state was sent";
    EXPECT_TRUE(p->state == PartitionState::Running);
    for (u32 v = 0; v < p->vcpu_count; ++v) EXPECT_NE(p->vcpus[v].state, VcpuState::Stopped);
    EXPECT_EQ(pager->mig_harvest(*p), 0u) << "tracking ended";
    MigSourcePages again;
    std::vector<u8> st(kPages);
    ASSERT_EQ(again.init(st), Err::Ok);
    EXPECT_EQ(pager->mig_track_begin(*p, again), Err::Ok);
    pager->mig_track_end(*p);
    for (u64 k = 0; k < 400; ++k) {
        if (lost.count(k)) {
            EXPECT_TRUE(info(k).lost);
            continue;
        }
        if (!shadow[k].empty()) {
            ASSERT_EQ(contents(k), shadow[k]) << "page " << k;
        }
    }
    EXPECT_EQ(pager->mig_stats(*p).source_page_ins, 0u);
}

}  // namespace
}  // namespace pv
