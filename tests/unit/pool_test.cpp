#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "mm/pool.h"
#include "tests/unit/rng.h"

using namespace pv;

namespace {

constexpr Frame kFirst{0x40000};  // pool at host-real 0x40000000

// A pool with its storage, partitions added by the test.
struct PoolFixture {
    std::vector<FrameInfo> frames;
    std::vector<PageInfo> pages[SharedPool::kSlots];
    SharedPool pool;

    explicit PoolFixture(u32 n) : frames(n) { EXPECT_EQ(pool.init(kFirst, frames), Err::Ok); }
    Err add(u32 slot, u32 logical, u64 entitled, u8 weight = 128) {
        if (slot >= SharedPool::kSlots) {  // no storage for it: hand over a scratch span
            std::vector<PageInfo> scratch(logical);
            return pool.add_partition(slot, scratch, entitled, weight);
        }
        pages[slot].resize(logical);
        return pool.add_partition(slot, pages[slot], entitled, weight);
    }
    // Zero-fill fault: NotResident → Resident.
    Frame fault_in(u32 slot, u64 lp) {
        Result<Frame> f = pool.alloc_frame(slot, LogicalPage{lp});
        EXPECT_TRUE(f.ok());
        EXPECT_EQ(pool.mark_resident(slot, LogicalPage{lp}, f.value), Err::Ok);
        return f.value;
    }
    // Resident → NotResident through a (pretend) write-out.
    void page_out(u32 slot, u64 lp) {
        EXPECT_EQ(pool.begin_page_out(slot, LogicalPage{lp}), Err::Ok);
        EXPECT_EQ(pool.finish_page_out(slot, LogicalPage{lp}, true), Err::Ok);
    }
    const PageInfo& pg(u32 slot, u64 lp) { return *pool.page(slot, LogicalPage{lp}); }
};

using test::Rng;

}  // namespace

TEST(Pool, InitAndAddPartitionValidateArguments) {
    std::vector<FrameInfo> none;
    SharedPool p;
    EXPECT_EQ(p.init(kFirst, none), Err::Invalid);

    PoolFixture f(32);
    EXPECT_EQ(f.pool.frames(), 32u);
    EXPECT_EQ(f.pool.free_frames(), 32u);
    EXPECT_EQ(f.add(SharedPool::kSlots, 10, 0), Err::Invalid);  // no such slot
    EXPECT_EQ(f.add(0, 10, 11), Err::Invalid);                    // entitled above its logical size
    EXPECT_EQ(f.add(0, 100, 29), Err::NoMemory);                  // 29 + reserve 4 > 32
    EXPECT_EQ(f.add(0, 100, 20), Err::Ok);
    EXPECT_EQ(f.add(0, 100, 0), Err::Invalid);                    // slot taken
    EXPECT_EQ(f.add(1, 100, 9), Err::NoMemory);                   // 20 + 9 + 4 > 32
    EXPECT_EQ(f.add(1, 100, 8), Err::Ok);
    EXPECT_EQ(f.pool.guaranteed(), 28u);
    EXPECT_EQ(f.pool.set_entitlement(1, 9), Err::NoMemory);
    EXPECT_EQ(f.pool.set_entitlement(0, 10), Err::Ok);
    EXPECT_EQ(f.pool.set_entitlement(1, 18), Err::Ok);
    EXPECT_TRUE(f.pool.check_invariants());
}

TEST(Pool, PageLifecycleAndCounters) {
    PoolFixture f(16);
    ASSERT_EQ(f.add(2, 64, 0), Err::Ok);
    const PageInfo& p = f.pg(2, 5);
    EXPECT_EQ(p.state, PageState::NotResident);
    EXPECT_FALSE(p.on_device);

    Result<Frame> fr = f.pool.alloc_frame(2, LogicalPage{5});
    ASSERT_TRUE(fr.ok());
    EXPECT_TRUE(f.pool.contains(fr.value));
    EXPECT_EQ(p.state, PageState::PageInPending);
    EXPECT_EQ(f.pool.alloc_frame(2, LogicalPage{5}).err, Err::Busy);
    EXPECT_EQ(f.pool.mark_resident(2, LogicalPage{5}, Frame{fr.value.value + 1}), Err::Invalid);  // not its frame
    EXPECT_EQ(f.pool.mark_resident(2, LogicalPage{5}, fr.value), Err::Ok);
    EXPECT_EQ(f.pool.owner_slot(fr.value), 2u);
    EXPECT_EQ(f.pool.owner_page(fr.value), LogicalPage{5});
    EXPECT_EQ(f.pool.stats(2).page_ins, 0u);  // zero-fill is not a page-in
    EXPECT_TRUE(p.on_device_valid);           // still equals its (zero) backing

    // Clean zero-fill page: evicted without a write and stays zero-fill.
    f.page_out(2, 5);
    EXPECT_EQ(p.state, PageState::NotResident);
    EXPECT_FALSE(p.on_device);
    EXPECT_EQ(f.pool.stats(2).page_outs, 0u);

    // Changed: written out, then it comes back from the device.
    f.fault_in(2, 5);
    f.pool.note_changed(2, LogicalPage{5});
    EXPECT_FALSE(p.on_device_valid);
    ASSERT_EQ(f.pool.begin_page_out(2, LogicalPage{5}), Err::Ok);
    EXPECT_EQ(f.pool.out_pending(), 1u);
    EXPECT_EQ(f.pool.finish_page_out(2, LogicalPage{5}, false), Err::Ok);  // write failed: kept, still dirty
    EXPECT_EQ(p.state, PageState::Resident);
    EXPECT_FALSE(p.on_device_valid);
    f.page_out(2, 5);
    EXPECT_TRUE(p.on_device);
    EXPECT_TRUE(p.on_device_valid);
    f.fault_in(2, 5);
    PoolPartitionStats s = f.pool.stats(2);
    EXPECT_EQ(s.page_outs, 1u);
    EXPECT_EQ(s.page_ins, 1u);
    EXPECT_EQ(s.faults, 3u);
    EXPECT_EQ(s.evictions, 2u);
    // Clean with a valid device copy: never written again.
    f.page_out(2, 5);
    EXPECT_EQ(f.pool.stats(2).page_outs, 1u);
    EXPECT_TRUE(p.on_device);
    EXPECT_TRUE(f.pool.check_invariants());
}

TEST(Pool, PageOutCancelledByAFault) {
    PoolFixture f(16);
    ASSERT_EQ(f.add(0, 64, 0), Err::Ok);
    Frame fr = f.fault_in(0, 1);
    f.pool.note_changed(0, LogicalPage{1});
    ASSERT_EQ(f.pool.begin_page_out(0, LogicalPage{1}), Err::Ok);
    // Faulted on while the write was in flight; the write then completed.
    EXPECT_EQ(f.pool.cancel_page_out(0, LogicalPage{1}, true), Err::Ok);
    const PageInfo& p = f.pg(0, 1);
    EXPECT_EQ(p.state, PageState::Resident);
    EXPECT_EQ(f.pool.page(0, LogicalPage{1})->frame, fr.value - kFirst.value);  // same frame, no page-in
    EXPECT_TRUE(p.on_device);
    EXPECT_TRUE(p.on_device_valid);
    EXPECT_EQ(f.pool.stats(0).page_outs, 1u);
    EXPECT_EQ(f.pool.stats(0).evictions, 0u);
    EXPECT_EQ(f.pool.out_pending(), 0u);
    // Again, the write did not complete: still dirty.
    f.pool.note_changed(0, LogicalPage{1});
    ASSERT_EQ(f.pool.begin_page_out(0, LogicalPage{1}), Err::Ok);
    EXPECT_EQ(f.pool.cancel_page_out(0, LogicalPage{1}, false), Err::Ok);
    EXPECT_FALSE(p.on_device_valid);
    EXPECT_EQ(f.pool.cancel_page_out(0, LogicalPage{1}, false), Err::Invalid);  // not pending
    EXPECT_TRUE(f.pool.check_invariants());
}

TEST(Pool, RecentRefaultIsJudgedAtTheFault) {
    PoolFixture f(16);
    ASSERT_EQ(f.add(0, 64, 0), Err::Ok);
    for (u64 lp = 0; lp < 10; ++lp) f.fault_in(0, lp);
    EXPECT_FALSE(f.pool.refaulted_recently(f.fault_in(0, 10)));  // never evicted
    f.page_out(0, 0);
    f.page_out(0, 1);
    EXPECT_TRUE(f.pg(0, 0).shadow());
    // Page 0 again after 1 more eviction, 9 resident: within reach.
    Result<Frame> again = f.pool.alloc_frame(0, LogicalPage{0});
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(f.pool.refaulted_recently(again.value));
    EXPECT_FALSE(f.pg(0, 0).shadow());
    ASSERT_EQ(f.pool.mark_resident(0, LogicalPage{0}, again.value), Err::Ok);
    // Page 1 after 9 more evictions with 2 resident: too far back.
    for (u64 lp = 2; lp <= 10; ++lp) f.page_out(0, lp);
    Result<Frame> far = f.pool.alloc_frame(0, LogicalPage{1});
    ASSERT_TRUE(far.ok());
    EXPECT_FALSE(f.pool.refaulted_recently(far.value));
    // A discarded page is zero-fill: no refault history.
    EXPECT_EQ(f.pool.free_frame(0, LogicalPage{2}), Err::Ok);
    EXPECT_FALSE(f.pg(0, 2).shadow());
    Result<Frame> fresh = f.pool.alloc_frame(0, LogicalPage{2});
    ASSERT_TRUE(fresh.ok());
    EXPECT_FALSE(f.pool.refaulted_recently(fresh.value));
    EXPECT_TRUE(f.pool.check_invariants());
}

TEST(Pool, PageInErrorAndDiscard) {
    PoolFixture f(16);
    ASSERT_EQ(f.add(0, 64, 0), Err::Ok);
    f.fault_in(0, 1);
    f.pool.note_changed(0, LogicalPage{1});
    f.page_out(0, 1);
    ASSERT_TRUE(f.pool.alloc_frame(0, LogicalPage{1}).ok());
    EXPECT_EQ(f.pool.fail_page_in(0, LogicalPage{1}), Err::Ok);
    const PageInfo& p = f.pg(0, 1);
    EXPECT_TRUE(p.error);
    EXPECT_EQ(p.state, PageState::NotResident);
    EXPECT_EQ(f.pool.free_frames(), 16u);
    EXPECT_EQ(f.pool.stats(0).page_in_errors, 1u);
    // The partition reinitialised the page: zero-fill from now on.
    EXPECT_EQ(f.pool.clear_error(0, LogicalPage{1}), Err::Ok);
    EXPECT_FALSE(p.error);
    EXPECT_FALSE(p.on_device);
    // The failed block is remembered through reinitialisation (the hypervisor
    // pins the page when it is next resident, so it is never written there).
    f.pool.mark_bad_block(0, LogicalPage{1});
    EXPECT_EQ(f.pool.free_frame(0, LogicalPage{1}), Err::Ok);
    EXPECT_TRUE(p.bad_block);
    f.fault_in(0, 1);
    EXPECT_EQ(f.pool.pin(0, LogicalPage{1}), Err::Ok);
    EXPECT_EQ(f.pool.begin_page_out(0, LogicalPage{1}), Err::Busy);
    EXPECT_EQ(f.pool.unpin(0, LogicalPage{1}), Err::Ok);
    EXPECT_EQ(f.pool.begin_page_out(0, LogicalPage{1}), Err::Ok);
    EXPECT_EQ(f.pool.finish_page_out(0, LogicalPage{1}, true), Err::Ok);

    // Discard (loaned page): frame freed, reads as zero again.
    f.fault_in(0, 2);
    f.pool.note_changed(0, LogicalPage{2});
    EXPECT_EQ(f.pool.free_frame(0, LogicalPage{2}), Err::Ok);
    EXPECT_EQ(f.pg(0, 2).state, PageState::NotResident);
    EXPECT_FALSE(f.pg(0, 2).on_device);
    EXPECT_TRUE(f.pg(0, 2).on_device_valid);
    EXPECT_EQ(f.pool.free_frames(), 16u);
    EXPECT_TRUE(f.pool.check_invariants());
}

TEST(Pool, WrongStatesAreRefused) {
    PoolFixture f(16);
    ASSERT_EQ(f.add(0, 8, 0), Err::Ok);
    EXPECT_EQ(f.pool.alloc_frame(0, LogicalPage{8}).err, Err::Invalid);  // beyond the partition
    EXPECT_EQ(f.pool.alloc_frame(1, LogicalPage{0}).err, Err::Invalid);  // no partition
    EXPECT_EQ(f.pool.begin_page_out(0, LogicalPage{0}), Err::NotFound);
    EXPECT_EQ(f.pool.finish_page_out(0, LogicalPage{0}, true), Err::Invalid);
    EXPECT_EQ(f.pool.fail_page_in(0, LogicalPage{0}), Err::Invalid);
    ASSERT_TRUE(f.pool.alloc_frame(0, LogicalPage{0}).ok());
    EXPECT_EQ(f.pool.begin_page_out(0, LogicalPage{0}), Err::Busy);
    EXPECT_EQ(f.pool.free_frame(0, LogicalPage{0}), Err::Busy);
    EXPECT_EQ(f.pool.pin(0, LogicalPage{0}), Err::Busy);
    EXPECT_EQ(f.pool.remove_partition(0), Err::Busy);  // I/O in flight
    EXPECT_EQ(f.pool.fail_page_in(0, LogicalPage{0}), Err::Ok);
    f.fault_in(0, 3);
    f.fault_in(0, 4);
    EXPECT_EQ(f.pool.remove_partition(0), Err::Ok);
    EXPECT_EQ(f.pool.free_frames(), 16u);
    EXPECT_FALSE(f.pool.has_partition(0));
    EXPECT_TRUE(f.pool.check_invariants());
}

TEST(Pool, AllocUntilExhausted) {
    PoolFixture f(8);
    ASSERT_EQ(f.add(0, 32, 0), Err::Ok);
    for (u64 lp = 0; lp < 8; ++lp) f.fault_in(0, lp);
    EXPECT_EQ(f.pool.free_frames(), 0u);
    EXPECT_EQ(f.pool.alloc_frame(0, LogicalPage{8}).err, Err::NoMemory);
    // Every frame handed out once.
    std::vector<bool> seen(8);
    for (u64 lp = 0; lp < 8; ++lp) {
        u64 i = f.pg(0, lp).frame;
        ASSERT_LT(i, 8u);
        EXPECT_FALSE(seen[i]);
        seen[i] = true;
    }
    EXPECT_TRUE(f.pool.check_invariants());
}

TEST(Pool, PinLimitIsWhatThePoolCanGuarantee) {
    PoolFixture f(16);
    ASSERT_EQ(f.add(0, 64, 6), Err::Ok);
    ASSERT_EQ(f.add(1, 64, 4), Err::Ok);  // guaranteed 10 + reserve 4: 2 frames left to pin
    for (u64 lp = 0; lp < 4; ++lp) f.fault_in(0, lp);
    EXPECT_EQ(f.pool.pin(0, LogicalPage{9}), Err::NotFound);  // not resident
    EXPECT_EQ(f.pool.pin(0, LogicalPage{0}), Err::Ok);
    EXPECT_EQ(f.pool.pin(0, LogicalPage{0}), Err::Ok);  // nested pin: same page, no new guarantee
    EXPECT_EQ(f.pool.pin(0, LogicalPage{1}), Err::Ok);
    EXPECT_EQ(f.pool.pin(0, LogicalPage{2}), Err::NoMemory);
    EXPECT_EQ(f.pool.stats(0).pinned, 2u);
    EXPECT_EQ(f.pool.guaranteed(), 12u);
    // Entitlements now compete with pins.
    EXPECT_EQ(f.pool.set_entitlement(1, 5), Err::NoMemory);
    EXPECT_EQ(f.pool.begin_page_out(0, LogicalPage{1}), Err::Busy);
    EXPECT_EQ(f.pool.free_frame(0, LogicalPage{1}), Err::Busy);

    EXPECT_EQ(f.pool.unpin(0, LogicalPage{1}), Err::Ok);
    EXPECT_EQ(f.pool.unpin(0, LogicalPage{1}), Err::Invalid);
    EXPECT_EQ(f.pool.pin(0, LogicalPage{2}), Err::Ok);
    EXPECT_EQ(f.pool.unpin(0, LogicalPage{0}), Err::Ok);
    EXPECT_EQ(f.pool.stats(0).pinned, 2u);  // page 0 still holds one pin
    EXPECT_EQ(f.pool.unpin(0, LogicalPage{0}), Err::Ok);
    EXPECT_EQ(f.pool.stats(0).pinned, 1u);
    EXPECT_TRUE(f.pool.check_invariants());
}

TEST(Pool, ValidatePool) {
    char msg[200];
    PoolNeed ok[] = {{1000, 100, 10}, {2000, 200, 20}};
    EXPECT_EQ(validate_pool(334, ok, msg, sizeof msg), Err::Ok);
    EXPECT_STREQ(msg, "");

    EXPECT_EQ(validate_pool(333, ok, msg, sizeof msg), Err::NoMemory);
    EXPECT_NE(std::strstr(msg, "333 frames"), nullptr) << msg;
    EXPECT_NE(std::strstr(msg, "334"), nullptr) << msg;

    EXPECT_EQ(validate_pool(0, ok, msg, sizeof msg), Err::Invalid);
    EXPECT_NE(std::strstr(msg, "size"), nullptr) << msg;

    PoolNeed over[] = {{1000, 100, 10}, {100, 90, 20}};
    EXPECT_EQ(validate_pool(100000, over, msg, sizeof msg), Err::Invalid);
    EXPECT_NE(std::strstr(msg, "partition 1"), nullptr) << msg;

    PoolNeed empty[] = {{0, 0, 0}};
    EXPECT_EQ(validate_pool(100, empty, msg, sizeof msg), Err::Invalid);

    PoolNeed huge[] = {{~u64{0}, ~u64{0} - 1, 1}, {~u64{0}, ~u64{0} - 1, 1}};  // sums must not wrap
    EXPECT_EQ(validate_pool(1000, huge, msg, sizeof msg), Err::NoMemory);

    PoolNeed nine[SharedPool::kSlots + 1] = {};
    for (PoolNeed& n : nine) n = {10, 0, 0};
    EXPECT_EQ(validate_pool(100, nine, msg, sizeof msg), Err::Invalid);
    EXPECT_EQ(validate_pool(334, ok, nullptr, 0), Err::Ok);  // no message buffer is fine

    // A frame index is kPageFrameBits wide (PageInfo is 4 bytes).
    PoolNeed one[] = {{10, 0, 0}};
    EXPECT_EQ(validate_pool(kMaxPoolFrames, one, msg, sizeof msg), Err::Ok);
    EXPECT_EQ(validate_pool(kMaxPoolFrames + 1, one, msg, sizeof msg), Err::Invalid);
    EXPECT_NE(std::strstr(msg, "128 GiB"), nullptr) << msg;
}

// The eviction stamp shares the frame bits of a NotResident page: it keeps
// the low kStampBits of the count, and the distance wraps with them.
TEST(Pool, EvictionStampWrapsAtItsWidth) {
    PageInfo pg;
    EXPECT_FALSE(pg.shadow());
    pg.set_shadow(PageInfo::kStampMask + 5, true);
    EXPECT_TRUE(pg.shadow());
    EXPECT_TRUE(pg.shadow_mark());
    EXPECT_EQ(pg.stamp(), 4u);
    pg.set_shadow(7, false);
    EXPECT_FALSE(pg.shadow_mark());
    EXPECT_EQ(pg.stamp(), 7u);
    EXPECT_FALSE(pg.lost || pg.error || pg.on_device) << "the stamp stays in its bits";
    pg.state = PageState::PageInPending;  // a frame-holding state: the bits are a frame index
    EXPECT_FALSE(pg.shadow());
}

TEST(Pool, PinCountHasALimit) {
    PoolFixture f(16);
    ASSERT_EQ(f.add(0, 64, 0), Err::Ok);
    f.fault_in(0, 0);
    for (u32 i = 0; i < kMaxPins; ++i) ASSERT_EQ(f.pool.pin(0, LogicalPage{0}), Err::Ok) << i;
    EXPECT_EQ(f.pool.pin(0, LogicalPage{0}), Err::Invalid);  // the count would overflow
    EXPECT_EQ(f.pool.pins(0, LogicalPage{0}), kMaxPins);
    EXPECT_EQ(f.pool.pins(0, LogicalPage{1}), 0);  // not resident
    for (u32 i = 0; i < kMaxPins; ++i) ASSERT_EQ(f.pool.unpin(0, LogicalPage{0}), Err::Ok) << i;
    EXPECT_EQ(f.pool.unpin(0, LogicalPage{0}), Err::Invalid);
    EXPECT_EQ(f.pool.stats(0).pinned, 0u);
    EXPECT_TRUE(f.pool.check_invariants());
}

TEST(Pool, Watermarks) {
    {
        PoolFixture f(1024);
        EXPECT_EQ(f.pool.low_watermark(), 64u);  // 1/16
        EXPECT_EQ(f.pool.high_watermark(), 128u);
    }
    {
        PoolFixture f(32);
        EXPECT_EQ(f.pool.low_watermark(), 4u);  // at least 4
        EXPECT_EQ(f.pool.high_watermark(), 8u);
    }
    {
        PoolFixture f(6);
        EXPECT_EQ(f.pool.low_watermark(), 3u);  // tiny pool: half
        EXPECT_EQ(f.pool.high_watermark(), 6u);
    }
    PoolFixture f(256);
    ASSERT_EQ(f.add(0, 1024, 0), Err::Ok);
    for (u64 lp = 0; lp < 240; ++lp) f.fault_in(0, lp);  // free 16 == low
    EXPECT_FALSE(f.pool.needs_reclaim());
    f.fault_in(0, 240);  // 15 < 16
    EXPECT_TRUE(f.pool.needs_reclaim());
    EXPECT_EQ(f.pool.reclaim_target(), 32u - 15u);
    // Page-outs in flight count as on their way to the free list.
    for (u64 lp = 0; lp < 10; ++lp) ASSERT_EQ(f.pool.begin_page_out(0, LogicalPage{lp}), Err::Ok);
    EXPECT_FALSE(f.pool.needs_reclaim());
    EXPECT_EQ(f.pool.reclaim_target(), 32u - 25u);
    for (u64 lp = 0; lp < 10; ++lp) ASSERT_EQ(f.pool.finish_page_out(0, LogicalPage{lp}, true), Err::Ok);
    EXPECT_EQ(f.pool.free_frames(), 25u);
    EXPECT_EQ(f.pool.reclaim_target(), 7u);
    EXPECT_TRUE(f.pool.check_invariants());
}

// Random operations on three partitions; after each one every frame is free
// or owned by exactly one page whose state holds a frame, and the counters
// agree with a recount.
TEST(Pool, InvariantsHoldUnderRandomOperations) {
    PoolFixture f(48);
    ASSERT_EQ(f.add(0, 100, 8), Err::Ok);
    ASSERT_EQ(f.add(3, 60, 4), Err::Ok);
    ASSERT_EQ(f.add(7, 150, 0), Err::Ok);
    const u32 slots[] = {0, 3, 7};
    Rng rng{42};
    u64 ok_ops = 0;
    for (int step = 0; step < 20000; ++step) {
        u32 slot = slots[rng.below(3)];
        LogicalPage lp{rng.below(f.pool.logical_pages(slot))};
        const PageInfo& p = *f.pool.page(slot, lp);
        Err e = Err::Ok;
        switch (rng.below(10)) {
        case 0: {
            Result<Frame> r = f.pool.alloc_frame(slot, lp);
            e = r.err;
            if (r.ok()) {
                EXPECT_EQ(f.pool.owner_page(r.value), lp);
            }
            break;
        }
        case 1: e = f.pool.mark_resident(slot, lp, f.pool.contains(Frame{kFirst.value + p.frame}) ? Frame{kFirst.value + p.frame} : kFirst); break;
        case 2: e = f.pool.fail_page_in(slot, lp); break;
        case 3: e = f.pool.begin_page_out(slot, lp); break;
        case 4: e = f.pool.finish_page_out(slot, lp, rng.below(4) != 0); break;
        case 5: e = f.pool.free_frame(slot, lp); break;
        case 6: e = f.pool.pin(slot, lp); break;
        case 7: e = f.pool.unpin(slot, lp); break;
        case 8: f.pool.note_changed(slot, lp); break;
        case 9: e = f.pool.cancel_page_out(slot, lp, rng.below(2) != 0); break;
        }
        ok_ops += e == Err::Ok;
        ASSERT_TRUE(f.pool.check_invariants()) << "step " << step;
        ASSERT_LE(f.pool.guaranteed() + kPoolPagingReserve, f.pool.frames());
    }
    EXPECT_GT(ok_ops, 4000u);  // the walk really moved pages around
    u64 held = 0;
    for (u32 s : slots) held += f.pool.stats(s).held;
    EXPECT_EQ(held + f.pool.free_frames(), 48u);
}
