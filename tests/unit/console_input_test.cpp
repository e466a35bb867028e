// The console input router (hv/console_input.h): routing to the focus, the
// Ctrl-A keys, the rings, H_GET_TERM_CHAR's packing, waking a ceded vCPU, and
// the focus's unfinished line on the console. The "machine console" is
// arch/fake's g_fake_console_input.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "arch/arch.h"
#include "base/papr.h"
#include "hv/console.h"
#include "hv/console_input.h"
#include "hv/hcall.h"
#include "hv/hv.h"

namespace pv::arch {
extern std::string g_fake_console;
extern std::string g_fake_console_input;
extern u64 g_fake_console_reads;
}  // namespace pv::arch

using namespace pv;

namespace {

constexpr u64 kInterval = ConsoleInput::kPollUs * 512;  // arch/fake: 512 MHz timebase

class ConsoleInputTest : public ::testing::Test {
protected:
    void SetUp() override {
        Hypervisor& h = hv();
        h.partition_count = 3;
        h.live_partitions = 3;
        h.thread_count = 0;
        const char* names[] = {"a", "b", "c"};
        for (u32 i = 0; i < 3; ++i) {
            Partition& p = h.partitions[i];
            p = Partition{};
            std::strcpy(p.name, names[i]);
            p.lpid = Lpid{i + 1};
            p.slot = i;
            p.vcpu_count = 2;
            for (u32 j = 0; j < 2; ++j) {
                p.vcpus[j].part = &p;
                p.vcpus[j].id = VcpuId{j};
                p.vcpus[j].state = VcpuState::Running;
            }
        }
        console_input() = ConsoleInput{};
        arch::g_fake_console.clear();
        arch::g_fake_console_input.clear();
        arch::g_fake_console_reads = 0;
    }
    void TearDown() override {
        while (hv().runq.pop()) {
        }
        hv().partition_count = 0;
    }

    Partition& part(u32 i) { return hv().partitions[i]; }
    // Types s on the machine console and lets the next poll read it.
    void type(const std::string& s) {
        arch::g_fake_console_input += s;
        now_ += kInterval;
        console_input().poll(now_);
    }
    std::string take(u32 i) {
        char buf[kInputRingBytes];
        u32 n = console_input().take(part(i), buf, sizeof buf, now_);
        return std::string(buf, n);
    }
    bool printed(const std::string& s) const { return arch::g_fake_console.find(s) != std::string::npos; }

    u64 now_ = 1;
};

TEST_F(ConsoleInputTest, InputGoesToTheFirstPartitionAnnounced) {
    type("ls\r");
    EXPECT_EQ(console_input().focus(), &part(0));
    EXPECT_TRUE(printed("poolvisor: console: input to partition a (Ctrl-A n: next, l: list, h: help)\n"));
    EXPECT_EQ(take(0), "ls\r");
    EXPECT_EQ(take(0), "");
    EXPECT_EQ(take(1), "");
    EXPECT_EQ(take(2), "");
}

TEST_F(ConsoleInputTest, CtrlANMovesTheInputToTheNextPartition) {
    type("x\x01ny");
    EXPECT_EQ(console_input().focus(), &part(1));
    EXPECT_TRUE(printed("poolvisor: console: input to partition b "));
    EXPECT_EQ(take(0), "x");
    EXPECT_EQ(take(1), "y");
    type("\x01n\x01nz");  // c, then around to a
    EXPECT_EQ(take(0), "z");
    EXPECT_EQ(take(2), "");
}

TEST_F(ConsoleInputTest, AnEscapeSplitAcrossReadsStillCounts) {
    type("\x01");
    EXPECT_EQ(console_input().focus(), &part(0));
    type("nq");
    EXPECT_EQ(console_input().focus(), &part(1));
    EXPECT_EQ(take(0), "");
    EXPECT_EQ(take(1), "q");
}

TEST_F(ConsoleInputTest, CtrlACtrlASendsOneCtrlA) {
    type("\x01\x01" "a");
    EXPECT_EQ(take(0), "\x01" "a");
    EXPECT_EQ(console_input().focus(), &part(0));
}

TEST_F(ConsoleInputTest, CtrlAListsThePartitionsWithTheirState) {
    part(2).state = PartitionState::Killed;
    type("hi");
    type("\x01l");
    EXPECT_TRUE(printed("poolvisor: console: 3 partitions (* has the input), 0 bytes typed with no partition"));
    EXPECT_TRUE(printed("poolvisor: console: * a               lpid 1    running  2 bytes waiting, 0 dropped\n"));
    EXPECT_TRUE(printed("poolvisor: console:   b               lpid 2    running  0 bytes waiting, 0 dropped\n"));
    EXPECT_TRUE(printed("poolvisor: console:   c               lpid 3    killed   0 bytes waiting, 0 dropped\n"));
    EXPECT_EQ(take(0), "hi");  // keys are not input
}

// lsvcpu: where every vCPU is (what a stuck machine's boot test prints before its timeout).
TEST_F(ConsoleInputTest, LsvcpuShowsEachVcpusState) {
    Vcpu& v = part(1).vcpus[1];
    v.state = VcpuState::Ceded;
    v.wake_tb = arch::timebase() + u64{100'000} * 512'000;  // 100 s on (arch/fake: a 512 MHz timebase that runs)
    v.fault.outstanding = 1;
    v.regs.pc = 0x1234;
    type("\x01" "clsvcpu\r");
    EXPECT_TRUE(printed("poolvisor: command: threads=0,run_queue=empty,"));
    EXPECT_TRUE(printed("poolvisor: command: vcpu=a/0,state=running,thread=-,queued=0,parked=0,prodded=0,wake_in_ms=-1,"));
    EXPECT_TRUE(printed("poolvisor: command: vcpu=b/1,state=ceded,thread=-,queued=0,parked=0,prodded=0,wake_in_ms=999"))
        << arch::g_fake_console;
    EXPECT_TRUE(printed(",paging_outstanding=1,pc=0x1234,"));
    EXPECT_TRUE(printed("poolvisor: command: vcpu=c/1,"));
}

TEST_F(ConsoleInputTest, CtrlACRunsOneHypervisorCommandAndInputReturns) {
    part(1).mem_mode = MemMode::Shared;
    part(1).mem_bytes = 64ull << 20;
    type("\x01" "clssyscfg -r lparx\x7f\r" "ok");
    EXPECT_TRUE(printed("poolvisor: console: poolvisor> lssyscfg -r lpar\n"));
    EXPECT_TRUE(printed("poolvisor: command: name=b,lpar_id=2,state=Running,mem_mode=shared,curr_mem=64,curr_procs=2\n"));
    EXPECT_EQ(take(0), "ok") << "the command line is not the partition's input; what follows is";
    type("\x01" "cmigrlpar -o v -p b -t sysb\r");
    EXPECT_TRUE(printed("poolvisor: command: migrlpar: b cannot move to sysb; nothing changed:\n"));
    EXPECT_TRUE(printed("poolvisor: command:   no migration link to system sysb (this system's config names no peer)\n"));
    type("\x01" "cbogus\r");
    EXPECT_TRUE(printed("poolvisor: command: unknown command 'bogus' (help: the commands)\n"));
    type("\x01" "cmigr\x03" "z");
    EXPECT_TRUE(printed("poolvisor: console: command dropped; input to partition a again\n"));
    EXPECT_EQ(take(0), "z");
}

TEST_F(ConsoleInputTest, CtrlAHHelpsAndAnUnknownKeyIsSaid) {
    type("\x01h");
    EXPECT_TRUE(printed("poolvisor: console: Ctrl-A n: input to the next running partition; Ctrl-A l:"));
    type("\x01x");
    EXPECT_TRUE(printed("poolvisor: console: Ctrl-A 0x78: no such key (Ctrl-A h: help)\n"));
    EXPECT_EQ(take(0), "");
}

TEST_F(ConsoleInputTest, TheFocusSkipsEndedPartitions) {
    part(1).state = PartitionState::Stopped;
    type("\x01n" "1");
    EXPECT_EQ(console_input().focus(), &part(2));
    EXPECT_EQ(take(2), "1");
    // The focus ends: the next poll passes it on and says so.
    part(2).state = PartitionState::Killed;
    type("2");
    EXPECT_TRUE(printed("poolvisor: console: partition c has ended\n"));
    EXPECT_EQ(console_input().focus(), &part(0));
    EXPECT_EQ(take(0), "2");
    // The only running one: Ctrl-A n keeps it.
    type("\x01n");
    EXPECT_TRUE(printed("poolvisor: console: no other running partition; input stays with a\n"));
    EXPECT_EQ(console_input().focus(), &part(0));
    // None running: nothing takes input, nothing breaks.
    part(0).state = PartitionState::Stopped;
    type("3");
    EXPECT_EQ(console_input().focus(), nullptr);
    EXPECT_EQ(take(0) + take(1) + take(2), "");
}

TEST_F(ConsoleInputTest, AFullRingDropsTheOldestAndCountsIt) {
    std::string typed;
    for (u32 i = 0; i < kInputRingBytes + 44; ++i) typed += static_cast<char>('A' + i % 26);
    console_input().feed(typed.data(), static_cast<u32>(typed.size()));
    EXPECT_EQ(console_input().waiting(part(0)), kInputRingBytes);
    EXPECT_EQ(console_input().dropped(part(0)), 44u);
    EXPECT_EQ(take(0), typed.substr(44));
    EXPECT_EQ(console_input().waiting(part(0)), 0u);
}

TEST_F(ConsoleInputTest, TheMachineConsoleIsReadAtABoundedRate) {
    u64 next = console_input().poll(now_);
    EXPECT_EQ(arch::g_fake_console_reads, 1u);
    EXPECT_EQ(next, now_ + kInterval);
    EXPECT_EQ(console_input().poll(now_ + 1), next);
    arch::g_fake_console_input = "k";
    EXPECT_EQ(take(0), "");  // H_GET_TERM_CHAR before the next poll is due: no OPAL call
    EXPECT_EQ(arch::g_fake_console_reads, 1u);
    now_ = next;
    EXPECT_EQ(take(0), "k");  // due: the empty ring polls
    EXPECT_EQ(arch::g_fake_console_reads, 2u);
}

TEST_F(ConsoleInputTest, ALongBurstIsReadInChunksUpToAPollsLimit) {
    std::string burst(ConsoleInput::kReadChunk * ConsoleInput::kMaxReadsPerPoll + 10, 'x');
    type(burst);
    EXPECT_EQ(console_input().waiting(part(0)), kInputRingBytes);
    EXPECT_EQ(arch::g_fake_console_input.size(), 10u);  // left in firmware's buffer for the next poll
}

TEST_F(ConsoleInputTest, PackTermCharsIsBigEndianInR5ThenR6) {
    const char* s = "0123456789abcdef";
    for (u32 n = 0; n <= kTermCharsMax; ++n) {
        u64 hi = ~u64{0}, lo = ~u64{0};
        pack_term_chars(s, n, hi, lo);
        // Linux's hvc_get_chars: two be64 stores, then the first r4 bytes.
        char out[16];
        for (u32 i = 0; i < 8; ++i) out[i] = static_cast<char>(hi >> (56 - 8 * i));
        for (u32 i = 0; i < 8; ++i) out[8 + i] = static_cast<char>(lo >> (56 - 8 * i));
        EXPECT_EQ(std::string(out, n), std::string(s, n)) << n;
        for (u32 i = n; i < 16; ++i) EXPECT_EQ(out[i], 0) << "n " << n << " byte " << i;
    }
}

TEST_F(ConsoleInputTest, HGetTermCharReturnsUpTo16Bytes) {
    Vcpu& v = part(0).vcpus[0];
    auto get = [&](u64 vtermno) {
        v.regs.gpr[3] = papr::H_GET_TERM_CHAR;
        v.regs.gpr[4] = vtermno;
        EXPECT_EQ(dispatch_hcall(v), Next::Resume);
        return static_cast<i64>(v.regs.gpr[3]);
    };
    type("abcdefghijklmnopqrs");  // 19 bytes
    EXPECT_EQ(get(papr::kVtermno), papr::H_SUCCESS);
    EXPECT_EQ(v.regs.gpr[4], 16u);
    EXPECT_EQ(v.regs.gpr[5], 0x6162636465666768ULL);  // "abcdefgh"
    EXPECT_EQ(v.regs.gpr[6], 0x696a6b6c6d6e6f70ULL);  // "ijklmnop"
    EXPECT_EQ(get(papr::kVtermno), papr::H_SUCCESS);
    EXPECT_EQ(v.regs.gpr[4], 3u);
    EXPECT_EQ(v.regs.gpr[5], 0x7172730000000000ULL);  // "qrs"
    EXPECT_EQ(v.regs.gpr[6], 0u);
    EXPECT_EQ(get(papr::kVtermno), papr::H_SUCCESS);
    EXPECT_EQ(v.regs.gpr[4], 0u);
    EXPECT_EQ(get(0x1234), papr::H_PARAMETER);
}

TEST_F(ConsoleInputTest, InputWakesTheFocusesCededVcpus) {
    Partition& a = part(0);
    a.vcpus[0].state = VcpuState::Ceded;
    a.vcpus[0].wake_tb = ~u64{0};
    part(1).vcpus[0].state = VcpuState::Ceded;
    type("x");
    EXPECT_EQ(a.vcpus[0].state, VcpuState::Runnable);
    EXPECT_TRUE(a.vcpus[1].prodded);  // running: its next H_CEDE returns at once
    EXPECT_EQ(hv().runq.pop(), &a.vcpus[0]);
    EXPECT_EQ(hv().runq.pop(), nullptr);
    EXPECT_EQ(part(1).vcpus[0].state, VcpuState::Ceded);  // no input for b
    EXPECT_FALSE(part(1).vcpus[1].prodded);
}

TEST_F(ConsoleInputTest, TheFocusesUnfinishedLineIsShownAndOtherLinesStayWhole) {
    Partition& a = part(0);
    type("");  // the focus is announced
    arch::g_fake_console.clear();
    {
        Guard g(a.lock);
        partition_console_write(a, "# ", 2);
    }
    type("");  // first seen unfinished
    EXPECT_EQ(arch::g_fake_console, "");
    type("");  // still unfinished a poll later: shown
    EXPECT_EQ(arch::g_fake_console, "[a] # ");
    {
        Guard g(a.lock);
        partition_console_write(a, "l", 1);  // the echo of what is typed
    }
    type("");
    type("");
    EXPECT_EQ(arch::g_fake_console, "[a] # l");
    log("a line of the hypervisor's");
    {
        Guard g(a.lock);
        partition_console_write(a, "s\n", 2);
    }
    EXPECT_EQ(arch::g_fake_console, "[a] # l\npoolvisor: a line of the hypervisor's\n[a] # ls\n");
    arch::g_fake_console.clear();
    {
        Guard g(a.lock);
        partition_console_write(a, "$ ", 2);
    }
    type("");
    type("");
    {
        Guard g(a.lock);
        partition_console_write(a, "done\n", 5);
    }
    EXPECT_EQ(arch::g_fake_console, "[a] $ done\n");  // nothing in between: one line
}

TEST_F(ConsoleInputTest, OnlyTheFocusesUnfinishedLineIsShown) {
    Partition& b = part(1);
    type("");
    arch::g_fake_console.clear();
    {
        Guard g(b.lock);
        partition_console_write(b, "half", 4);
    }
    type("");
    type("");
    EXPECT_EQ(arch::g_fake_console, "");
    Guard g(b.lock);
    partition_console_flush(b);
    EXPECT_EQ(arch::g_fake_console, "[b] half\n");
}

}  // namespace
