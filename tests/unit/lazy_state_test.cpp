// The lazy vCPU state decisions (hv/lazy_state.h) against a model of threads'
// registers: whatever the schedule, a vCPU finds its own values on entry.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "hv/lazy_state.h"

using namespace pv;

namespace {

struct FakeVcpu {
    LazyOwner lazy;
    u64 memory = 0;  // its saved state
    u64 want = 0;    // what it last left in its registers
    int on = -1;     // the thread it runs on
};

struct FakeThread {
    LazyHolder<FakeVcpu> lazy;
    u64 regs = 0;
    u32 loads = 0, saves = 0, slow = 0;
};

struct Machine {
    std::vector<FakeThread> threads;
    explicit Machine(u32 n) : threads(n) {}

    // What arch/ppc64/vcpu_switch.cpp and cpu.cpp do at an entry.
    void enter(u32 t, FakeVcpu& v) {
        FakeThread& th = threads[t];
        v.on = static_cast<int>(t);
        if (lazy_fast_resident(th.lazy, v)) return;
        ++th.slow;
        if (!lazy_resident(th.lazy, t, v)) {
            th.regs = v.memory;
            ++th.loads;
        }
        lazy_loaded(th.lazy, t, v);
    }
    void run(FakeVcpu& v, u64 value) {
        threads[static_cast<u32>(v.on)].regs = value;
        v.want = value;
    }
    // kept = false: saving changed the registers (a PMU the hypervisor takes back).
    void leave(FakeVcpu& v, bool kept = true) {
        u32 t = static_cast<u32>(v.on);
        if (lazy_must_save(threads[t].lazy, t, v)) {
            v.memory = threads[t].regs;
            ++threads[t].saves;
            if (!kept) threads[t].regs = 0xdead;
            lazy_saved(v.lazy, kept);
        }
        v.on = -1;
    }
    u64 regs_of(const FakeVcpu& v) const { return threads[static_cast<u32>(v.on)].regs; }
};

}  // namespace

TEST(LazyState, ExitsOfTheSameVcpuNeitherSaveNorLoad) {
    Machine m(2);
    FakeVcpu a;
    m.enter(0, a);
    m.run(a, 1);
    for (int i = 0; i < 5; ++i) {  // hcalls and preemptions that resume it: no leave
        m.enter(0, a);
        EXPECT_EQ(m.regs_of(a), 1u);
    }
    EXPECT_EQ(m.threads[0].loads, 1u);
    EXPECT_EQ(m.threads[0].saves, 0u);
}

TEST(LazyState, BackOnTheSameThreadWithNothingBetweenLoadsNothing) {
    Machine m(2);
    FakeVcpu a;
    m.enter(0, a);
    m.run(a, 7);
    m.leave(a);  // cede: saved, the registers still hold it
    EXPECT_EQ(a.memory, 7u);
    m.enter(0, a);
    EXPECT_EQ(m.threads[0].loads, 1u);
    EXPECT_EQ(m.threads[0].slow, 1u);  // back through the one-compare path
    m.run(a, 8);
    m.leave(a);
    EXPECT_EQ(a.memory, 8u);
}

TEST(LazyState, AnotherVcpuBetweenOrAnotherThreadMeansALoad) {
    Machine m(2);
    FakeVcpu a, b;
    m.enter(0, a);
    m.run(a, 1);
    m.leave(a);
    m.enter(0, b);  // the thread changes vCPU
    m.run(b, 2);
    m.leave(b);
    m.enter(0, a);
    EXPECT_EQ(m.regs_of(a), 1u);
    m.run(a, 3);
    m.leave(a);
    m.enter(1, a);  // moves: thread 1 never held it
    EXPECT_EQ(m.regs_of(a), 3u);
    m.run(a, 4);
    m.leave(a);
    // Back on thread 0, which still names a as its holder but with older values.
    m.enter(0, a);
    EXPECT_EQ(m.regs_of(a), 4u);
}

TEST(LazyState, ASaveThatChangedTheRegistersForcesALoad) {
    Machine m(1);
    FakeVcpu a;
    m.enter(0, a);
    m.run(a, 5);
    m.leave(a, /*kept=*/false);
    EXPECT_EQ(a.lazy.thread, kNoThread);
    m.enter(0, a);
    EXPECT_EQ(m.regs_of(a), 5u);
    EXPECT_EQ(m.threads[0].loads, 2u);
}

TEST(LazyState, RecheckTakesTheSlowPathWithoutALoad) {
    Machine m(1);
    FakeVcpu a;
    m.enter(0, a);
    m.run(a, 9);
    lazy_recheck(a.lazy);  // H_SET_MODE: the registers are newer than memory
    m.enter(0, a);
    EXPECT_EQ(m.regs_of(a), 9u);
    EXPECT_EQ(m.threads[0].loads, 1u);
    EXPECT_EQ(m.threads[0].slow, 2u);
    m.enter(0, a);
    EXPECT_EQ(m.threads[0].slow, 2u);  // fast again
}

TEST(LazyState, KeysNeverMatchBeforeALoad) {
    LazyHolder<FakeVcpu> t;
    FakeVcpu a;
    EXPECT_FALSE(lazy_fast_resident(t, a));
    EXPECT_FALSE(lazy_resident(t, 0, a));
    lazy_loaded(t, 5, a);
    EXPECT_TRUE(lazy_fast_resident(t, a));
    EXPECT_NE(t.key, 0u);
    EXPECT_NE(t.key, ~u64{0});
}

// Random schedules on a few threads: every entry finds the vCPU's own values.
TEST(LazyState, RandomSchedulesKeepEveryVcpusValues) {
    std::mt19937_64 rng(12345);
    constexpr u32 kThreads = 3, kVcpus = 7;
    Machine m(kThreads);
    std::vector<FakeVcpu> v(kVcpus);
    std::vector<FakeVcpu*> running(kThreads, nullptr);
    u64 next_value = 100;
    for (int step = 0; step < 20000; ++step) {
        u32 t = static_cast<u32>(rng() % kThreads);
        FakeVcpu*& cur = running[t];
        if (cur && rng() % 3) {  // an exit that resumes it
            if (rng() % 8 == 0) lazy_recheck(cur->lazy);
            m.enter(t, *cur);
            ASSERT_EQ(m.regs_of(*cur), cur->want) << "step " << step;
            if (rng() % 2) m.run(*cur, next_value++);
            continue;
        }
        if (cur) {
            m.leave(*cur, rng() % 4 != 0);
            cur = nullptr;
        }
        std::vector<FakeVcpu*> idle;
        for (FakeVcpu& x : v)
            if (x.on < 0) idle.push_back(&x);
        if (idle.empty()) continue;
        cur = idle[rng() % idle.size()];
        m.enter(t, *cur);
        ASSERT_EQ(m.regs_of(*cur), cur->want) << "step " << step;
        m.run(*cur, next_value++);
    }
}
