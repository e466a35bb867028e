// Host test of the PSP's service (service.cpp) against the hypervisor's own
// end of the channel (vio/crq.cpp's CrqChannel, the descriptor helpers of
// vio/paging_protocol.h) and a fake block device: handshakes both ways,
// SetDescTable, page-outs and page-ins moving data, the checks that turn a
// doorbell into a Failure, device errors and their retries, resets, queue
// wrap-around, close. Built as its own executable psp_service_test (label
// unit, cmake/host.cmake); by hand, from the top of the tree (one line):
//   g++ -std=c++20 -I. -Wall -Wextra partition/guest/psp/service_test.cpp
//       partition/guest/psp/service.cpp vio/crq.cpp vio/nvme.cpp
//       -lgtest -lgtest_main -pthread -o /tmp/psp_service_test && /tmp/psp_service_test
#include <gtest/gtest.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "base/papr.h"
#include "partition/guest/psp/service.h"
#include "vio/nvme.h"

#include "partition/guest/psp/host_log.h"

using psp_test::g_log;

using namespace pv;
using namespace pv::paging;
using psp::PagingService;

namespace {

constexpr u64 kMemBytes = 16 * 4096;  // the PSP's memory, logical 0..
constexpr u64 kQueueAddr = 0x1000, kTableAddr = 0x2000;
constexpr u16 kEntries = 100;  // 3200 bytes: one page
constexpr u64 kReqBase = 0x80000000;  // dma-request-base
constexpr u64 kDiskBlocks = 4096;
constexpr u16 kLpid = 7;

struct Env {
    alignas(4096) u8 mem[kMemBytes]{};
    CrqChannel ch;
    psp::CrqQueue queue{mem + kQueueAddr, 4096};
    // The fake device.
    std::vector<u8> disk = std::vector<u8>(kDiskBlocks * 512);
    std::vector<std::vector<u8>> frames = std::vector<std::vector<u8>>(kEntries, std::vector<u8>(4096));
    u32 next_status = 0;     // injected into the next fail_times attempts
    u32 fail_times = 0;
    u32 reset_status = 0;    // what a reset returns
    u32 resets = 0, ios = 0;
    u32 resets_at_send = 0;  // resets seen when the last answer was sent
    u32 answers = 0;         // entries the service sent
    std::unique_ptr<PagingService> svc;

    PartitionMemory pmem() {
        PartitionMemory m;
        m.ptr = [](void* c, u64 a, u64 len) -> void* {
            auto* e = static_cast<Env*>(c);
            return a + len <= kMemBytes && a + len >= a ? e->mem + a : nullptr;
        };
        m.ctx = this;
        return m;
    }
    u8* bus(u64 dma, u64 len) {
        if (dma < kReqBase || dma + len > kReqBase + u64{kEntries} * 4096) return nullptr;
        u64 off = dma - kReqBase;
        if (off % 4096 + len > 4096) return nullptr;  // one frame per request
        return frames[off / 4096].data() + off % 4096;
    }

    explicit Env(u32 dev_status = 0, u32 retries = psp::kDefaultRetries, u64 fail_delay_us = 0,
                 void (*pause)(u64) = nullptr) {
        PagingService::Setup s;
        s.fail_delay_us = fail_delay_us;
        s.pause = pause;
        s.send = [](void* c, const CrqEntry& e) {
            auto* env = static_cast<Env*>(c);
            env->resets_at_send = env->resets;
            ++env->answers;
            return env->ch.send(e.hi(), e.lo());
        };
        s.send_ctx = this;
        s.dev.io = [](void* c, bool write, u64 block, u32 count, u64 dma) -> u32 {
            auto* e = static_cast<Env*>(c);
            ++e->ios;
            if (e->fail_times) {
                --e->fail_times;
                return e->next_status;
            }
            u8* p = e->bus(dma, u64{count} * 512);
            if (!p) return 0x04;  // data transfer error
            u8* d = e->disk.data() + block * 512;
            if (write)
                std::memcpy(d, p, count * 512);
            else
                std::memcpy(p, d, count * 512);
            return 0;
        };
        s.dev.reset = [](void* c) {
            auto* e = static_cast<Env*>(c);
            ++e->resets;
            return e->reset_status;
        };
        s.dev.blocks = [](void*) { return kDiskBlocks; };
        s.dev.max_blocks = [](void*) -> u32 { return 512; };
        s.dev.ctx = this;
        s.dev_status = dev_status;
        s.table = mem + kTableAddr;
        s.table_addr = kTableAddr;
        s.entries = kEntries;
        s.dma_request_base = kReqBase;
        s.log_every = 100;
        s.retries = retries;
        svc = std::make_unique<PagingService>(s);
    }

    // The next `times` device attempts fail with `status`.
    void inject(u32 status, u32 times = 1) {
        next_status = status;
        fail_times = times;
    }

    // The PSP's loop, minus the cede: handle what is queued.
    PagingService::Action pump() {
        CrqEntry e;
        while (queue.poll(e)) {
            PagingService::Action a = svc->handle(e);
            if (a != PagingService::Action::Continue) return a;
        }
        return PagingService::Action::Continue;
    }
    std::vector<CrqEntry> sent() {
        std::vector<CrqEntry> out;
        CrqEntry e;
        while (ch.receive(e)) out.push_back(e);
        return out;
    }
    // The hypervisor's answer to SetDescTable, as its service would give it.
    void answer_table(u32 needed = kEntries) {
        auto v = sent();
        ASSERT_EQ(v.size(), 1u);
        SetDescTableMsg m;
        ASSERT_TRUE(decode(v[0], m));
        EXPECT_EQ(m.entries, kEntries);
        EXPECT_EQ(m.table_addr, kTableAddr);
        TableStatus st = check_desc_table(pmem(), m, needed);
        ASSERT_TRUE(ch.deliver(encode(DescTableRespMsg{m.entries, st})));
    }
    void up() {
        ch.open();
        ASSERT_EQ(h_reg_crq(&ch, pmem(), kQueueAddr, 4096), papr::H_SUCCESS);
        svc->start(true);
        auto v = sent();
        ASSERT_EQ(v.size(), 1u);
        EXPECT_EQ(v[0].valid(), crq::kInit);
        EXPECT_EQ(v[0].format(), crq::kInitRequest);
        ASSERT_TRUE(ch.deliver(crq_init_complete()));
        ASSERT_EQ(pump(), PagingService::Action::Continue);
        answer_table();
        ASSERT_EQ(pump(), PagingService::Action::Continue);
        ASSERT_EQ(svc->state(), PagingService::State::Serving);
    }
    // One request through the channel; returns the PSP's answer.
    CrqEntry request(Opcode op, u16 id, u16 tag, u64 block, u16 blocks = kBlocksPerPage, u64 dma = 0,
                     u16 desc_tag = 0xffff) {
        Descriptor d{op, desc_tag == 0xffff ? tag : desc_tag, kLpid, blocks, u64{0x1000} + id, block,
                     dma ? dma : kReqBase + u64{id} * 4096};
        if (id < kEntries) {
            EXPECT_TRUE(write_descriptor(pmem(), kTableAddr, id, d));
        }
        EXPECT_TRUE(ch.deliver(encode(IoRequestMsg{op, id, tag, kLpid})));
        EXPECT_EQ(pump(), PagingService::Action::Continue);
        auto v = sent();
        EXPECT_EQ(v.size(), 1u);
        return v.empty() ? CrqEntry{} : v[0];
    }
};

void expect_completion(const CrqEntry& e, u16 id, u16 tag, u16 status) {
    CompletionMsg m;
    ASSERT_TRUE(decode(e, m));
    EXPECT_EQ(m.req_id, id);
    EXPECT_EQ(m.tag, tag);
    EXPECT_EQ(m.lpid, kLpid);
    EXPECT_EQ(m.status, status);
}

void expect_failure(const CrqEntry& e, u16 id, u16 tag, FailureReason r, u32 detail) {
    FailureMsg m;
    ASSERT_TRUE(decode(e, m));
    EXPECT_EQ(m.req_id, id);
    EXPECT_EQ(m.tag, tag);
    EXPECT_EQ(m.lpid, kLpid);
    EXPECT_EQ(m.reason, r);
    EXPECT_EQ(m.detail, detail);
}

TEST(PspService, HandshakeHypervisorFirst) {
    Env env;
    env.up();
}

TEST(PspService, HandshakePspFirst) {
    Env env;
    ASSERT_EQ(h_reg_crq(&env.ch, env.pmem(), kQueueAddr, 4096), crq::H_CLOSED);
    env.svc->start(false);
    EXPECT_EQ(env.ch.inbound_count(), 0u);
    env.ch.open();  // delivers C0 01
    ASSERT_EQ(env.pump(), PagingService::Action::Continue);
    auto v = env.sent();
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].valid(), crq::kInit);
    EXPECT_EQ(v[0].format(), crq::kInitComplete);
    SetDescTableMsg m;
    ASSERT_TRUE(decode(v[1], m));
    ASSERT_TRUE(env.ch.deliver(encode(DescTableRespMsg{m.entries, TableStatus::Ok})));
    ASSERT_EQ(env.pump(), PagingService::Action::Continue);
    EXPECT_EQ(env.svc->state(), PagingService::State::Serving);
}

TEST(PspService, TableRefusedIsFatal) {
    Env env;
    env.ch.open();
    ASSERT_EQ(h_reg_crq(&env.ch, env.pmem(), kQueueAddr, 4096), papr::H_SUCCESS);
    env.svc->start(true);
    (void)env.sent();
    ASSERT_TRUE(env.ch.deliver(crq_init_complete()));
    ASSERT_EQ(env.pump(), PagingService::Action::Continue);
    env.answer_table(kEntries + 1);  // TooSmall
    EXPECT_EQ(env.pump(), PagingService::Action::Fatal);
}

TEST(PspService, DoorbellBeforeTableFails) {
    Env env;
    env.ch.open();
    ASSERT_EQ(h_reg_crq(&env.ch, env.pmem(), kQueueAddr, 4096), papr::H_SUCCESS);
    env.svc->start(false);
    (void)env.sent();
    expect_failure(env.request(Opcode::PageIn, 1, 2, 0), 1, 2, FailureReason::BadDescriptor, psp::kDetailNoTable);
}

TEST(PspService, PageOutThenPageInMovesTheData) {
    Env env;
    env.up();
    for (u32 i = 0; i < 4096; ++i) env.frames[3][i] = static_cast<u8>(i * 7 + 1);
    expect_completion(env.request(Opcode::PageOut, 3, 0x77, 64), 3, 0x77, 0);
    EXPECT_EQ(std::memcmp(env.disk.data() + 64 * 512, env.frames[3].data(), 4096), 0);
    expect_completion(env.request(Opcode::PageIn, 5, 0x78, 64), 5, 0x78, 0);
    EXPECT_EQ(env.frames[5], env.frames[3]);
    EXPECT_EQ(env.svc->counters().page_ins, 1u);
    EXPECT_EQ(env.svc->counters().page_outs, 1u);
    EXPECT_EQ(env.svc->counters().errors, 0u);
}

TEST(PspService, BadDescriptorsFailWithoutIo) {
    Env env;
    env.up();
    // Tag of the descriptor differs from the doorbell's (a stale doorbell).
    expect_failure(env.request(Opcode::PageIn, 1, 5, 0, 8, 0, 4), 1, 5, FailureReason::BadDescriptor,
                   psp::kDetailMismatch);
    // Opcode differs.
    {
        Descriptor d{Opcode::PageOut, 9, kLpid, 8, 0, 0, kReqBase + 2 * 4096};
        ASSERT_TRUE(write_descriptor(env.pmem(), kTableAddr, 2, d));
        ASSERT_TRUE(env.ch.deliver(encode(IoRequestMsg{Opcode::PageIn, 2, 9, kLpid})));
        ASSERT_EQ(env.pump(), PagingService::Action::Continue);
        auto v = env.sent();
        ASSERT_EQ(v.size(), 1u);
        expect_failure(v[0], 2, 9, FailureReason::BadDescriptor, psp::kDetailMismatch);
    }
    // Request id beyond the table.
    expect_failure(env.request(Opcode::PageIn, kEntries, 1, 0), kEntries, 1, FailureReason::BadDescriptor,
                   psp::kDetailReqId);
    // Blocks beyond the device, zero blocks, too many blocks.
    expect_failure(env.request(Opcode::PageIn, 3, 1, kDiskBlocks - 4), 3, 1, FailureReason::BadDescriptor,
                   psp::kDetailRange);
    expect_failure(env.request(Opcode::PageIn, 3, 2, 0, 0), 3, 2, FailureReason::BadDescriptor, psp::kDetailBlocks);
    expect_failure(env.request(Opcode::PageIn, 3, 3, 0, 513), 3, 3, FailureReason::BadDescriptor,
                   psp::kDetailBlocks);
    // Another request's frame, a frame straddling two pages, misaligned.
    expect_failure(env.request(Opcode::PageIn, 3, 4, 0, 8, kReqBase + 4 * 4096), 3, 4, FailureReason::DmaRefused,
                   psp::kDetailDmaWindow);
    expect_failure(env.request(Opcode::PageIn, 3, 5, 0, 8, kReqBase + 3 * 4096 + 512), 3, 5,
                   FailureReason::DmaRefused, psp::kDetailDmaWindow);
    expect_failure(env.request(Opcode::PageIn, 3, 6, 0, 1, kReqBase + 3 * 4096 + 2), 3, 6,
                   FailureReason::BadDescriptor, psp::kDetailDmaAlign);
    // Half a page at the end of its own page is fine.
    expect_completion(env.request(Opcode::PageIn, 3, 7, 0, 4, kReqBase + 3 * 4096 + 2048), 3, 7, 0);
    EXPECT_EQ(env.ios, 1u);
    EXPECT_EQ(env.svc->counters().errors, 9u);
}

TEST(PspService, DeviceStatusIsCompletion) {
    Env env;
    env.up();
    env.inject(0x281, 1 + psp::kDefaultRetries);  // media error, unrecovered read, every attempt
    expect_completion(env.request(Opcode::PageIn, 4, 1, 8), 4, 1, 0x281);
    EXPECT_EQ(env.ios, 1u + psp::kDefaultRetries);
    EXPECT_EQ(env.svc->counters().errors, 1u);
    EXPECT_EQ(env.svc->counters().retries, psp::kDefaultRetries);
    EXPECT_EQ(env.svc->counters().retried_ok, 0u);
    EXPECT_EQ(env.resets, 0u);
}

TEST(PspService, TimeoutResetsBeforeAnswering) {
    Env env(0, 0);  // no retries: the timeout is the answer
    env.up();
    env.inject(nvme::kTimeout);
    expect_failure(env.request(Opcode::PageOut, 4, 1, 8), 4, 1, FailureReason::DeviceTimeout, nvme::kTimeout);
    EXPECT_EQ(env.resets, 1u);
    EXPECT_EQ(env.resets_at_send, 1u);  // the controller was reset before the Failure went out
    expect_completion(env.request(Opcode::PageOut, 4, 2, 8), 4, 2, 0);
}

TEST(PspService, FailedResetGivesTheDeviceUp) {
    Env env;
    env.up();
    env.inject(nvme::kFatal);
    env.reset_status = nvme::kFatal;
    // No retry on a controller that did not come back.
    expect_failure(env.request(Opcode::PageIn, 4, 1, 8), 4, 1, FailureReason::DeviceFatal, nvme::kFatal);
    expect_failure(env.request(Opcode::PageIn, 4, 2, 8), 4, 2, FailureReason::DeviceFatal, psp::kDetailDeviceDown);
    EXPECT_EQ(env.ios, 1u);
    EXPECT_EQ(env.svc->counters().retries, 0u);
    EXPECT_FALSE(env.svc->device_usable());
}

// --- retries ---

// A media error on the first k attempts, k ≤ retries: one Completion, status 0,
// the data moved, no error; k > retries: the status reaches the hypervisor.
TEST(PspService, TransientMediaErrorIsRetried) {
    for (u32 retries : {1u, 2u, 3u}) {
        for (u32 k = 1; k <= retries + 1; ++k) {
            SCOPED_TRACE(testing::Message() << "retries " << retries << ", failing attempts " << k);
            Env env(0, retries);
            env.up();
            for (u32 i = 0; i < 4096; ++i) env.disk[8 * 512 + i] = static_cast<u8>(i * 3 + k);
            env.inject(0x281, k);
            CrqEntry e = env.request(Opcode::PageIn, 6, 0x40, 8);  // exactly one answer
            const psp::Counters& c = env.svc->counters();
            if (k <= retries) {
                expect_completion(e, 6, 0x40, 0);
                EXPECT_EQ(std::memcmp(env.frames[6].data(), env.disk.data() + 8 * 512, 4096), 0);
                EXPECT_EQ(env.ios, k + 1);
                EXPECT_EQ(c.retries, k);
                EXPECT_EQ(c.retried_ok, 1u);
                EXPECT_EQ(c.errors, 0u);
                EXPECT_EQ(c.page_ins, 1u);
            } else {
                expect_completion(e, 6, 0x40, 0x281);
                EXPECT_EQ(env.ios, retries + 1);
                EXPECT_EQ(c.retries, retries);
                EXPECT_EQ(c.retried_ok, 0u);
                EXPECT_EQ(c.errors, 1u);
                EXPECT_EQ(c.page_ins, 0u);
            }
            EXPECT_EQ(env.resets, 0u);  // a media error needs no controller reset
        }
    }
}

// fail_delay_ms (fault injection): a page-in that failed for good is answered
// only after the pause, as by a slow failing drive; a recovered page-in and a
// failed page-out are answered at once.
Env* g_pause_env = nullptr;
std::vector<std::pair<u64, u32>> g_pauses;  // (us, answers sent before it)
TEST(PspService, FailDelayHoldsOnlyAFailedPageInsAnswer) {
    g_pauses.clear();
    Env env(0, psp::kDefaultRetries, 2'000'000, [](u64 us) { g_pauses.push_back({us, g_pause_env->answers}); });
    g_pause_env = &env;
    env.up();
    u32 before = env.answers;
    env.inject(0x281, 1 + psp::kDefaultRetries);
    expect_completion(env.request(Opcode::PageIn, 4, 1, 8), 4, 1, 0x281);
    ASSERT_EQ(g_pauses.size(), 1u);
    EXPECT_EQ(g_pauses[0].first, 2'000'000u);
    EXPECT_EQ(g_pauses[0].second, before) << "the answer comes after the pause";
    env.inject(0x281, psp::kDefaultRetries);  // recovered by the last retry
    expect_completion(env.request(Opcode::PageIn, 4, 2, 8), 4, 2, 0);
    env.inject(0x280, 1 + psp::kDefaultRetries);  // a page-out's write fault
    expect_completion(env.request(Opcode::PageOut, 5, 3, 16), 5, 3, 0x280);
    EXPECT_EQ(g_pauses.size(), 1u);
    g_pause_env = nullptr;
}

TEST(PspService, WriteFaultIsRetried) {
    Env env;
    env.up();
    for (u32 i = 0; i < 4096; ++i) env.frames[2][i] = static_cast<u8>(i ^ 0x5a);
    env.inject(0x280);  // write fault
    expect_completion(env.request(Opcode::PageOut, 2, 9, 100), 2, 9, 0);
    EXPECT_EQ(std::memcmp(env.disk.data() + 100 * 512, env.frames[2].data(), 4096), 0);
    EXPECT_EQ(env.svc->counters().page_outs, 1u);
    EXPECT_EQ(env.svc->counters().retried_ok, 1u);
}

TEST(PspService, DoNotRetryStatusIsNotRetried) {
    Env env;
    env.up();
    env.inject(0x281 | psp::kStatusDnr, 3);
    // One attempt; the Completion carries SCT/SC without DNR.
    expect_completion(env.request(Opcode::PageIn, 4, 1, 8), 4, 1, 0x281);
    EXPECT_EQ(env.ios, 1u);
    EXPECT_EQ(env.svc->counters().retries, 0u);
    EXPECT_EQ(env.svc->counters().errors, 1u);
}

TEST(PspService, ZeroRetriesDisablesRetrying) {
    Env env(0, 0);
    env.up();
    env.inject(0x281);
    expect_completion(env.request(Opcode::PageIn, 4, 1, 8), 4, 1, 0x281);
    EXPECT_EQ(env.ios, 1u);
    EXPECT_EQ(env.svc->counters().retries, 0u);
    expect_completion(env.request(Opcode::PageIn, 4, 2, 8), 4, 2, 0);  // the next request is fine
}

TEST(PspService, RetriesAreCappedAtTheMaximum) {
    Env env(0, 1000);
    env.up();
    env.inject(0x281, 1000);
    expect_completion(env.request(Opcode::PageIn, 4, 1, 8), 4, 1, 0x281);
    EXPECT_EQ(env.ios, 1u + psp::kMaxRetries);
}

TEST(PspService, TimeoutIsRetriedAfterTheReset) {
    Env env;
    env.up();
    env.inject(nvme::kTimeout);
    expect_completion(env.request(Opcode::PageOut, 4, 1, 8), 4, 1, 0);
    EXPECT_EQ(env.resets, 1u);  // reset, then the second attempt
    EXPECT_EQ(env.ios, 2u);
    EXPECT_EQ(env.svc->counters().retried_ok, 1u);
    EXPECT_EQ(env.svc->counters().errors, 0u);
}

TEST(PspService, PersistentTimeoutFailsAfterTheLastRetry) {
    Env env;
    env.up();
    env.inject(nvme::kTimeout, 1 + psp::kDefaultRetries);
    expect_failure(env.request(Opcode::PageIn, 4, 1, 8), 4, 1, FailureReason::DeviceTimeout, nvme::kTimeout);
    EXPECT_EQ(env.ios, 1u + psp::kDefaultRetries);
    EXPECT_EQ(env.resets, 1u + psp::kDefaultRetries);  // one per timeout, the last before the Failure
    EXPECT_EQ(env.resets_at_send, env.resets);
    EXPECT_EQ(env.svc->counters().retries, psp::kDefaultRetries);
    EXPECT_TRUE(env.svc->device_usable());
}

TEST(PspService, DriverRefusalIsNotRetried) {
    Env env;
    env.up();
    env.inject(nvme::kInvalid, 3);
    expect_failure(env.request(Opcode::PageIn, 4, 1, 8), 4, 1, FailureReason::BadDescriptor, nvme::kInvalid);
    EXPECT_EQ(env.ios, 1u);
    EXPECT_EQ(env.svc->counters().retries, 0u);
}

TEST(PspService, DmaWindowRefusalIsNotRetried) {
    Env env;
    env.up();
    expect_failure(env.request(Opcode::PageIn, 3, 4, 0, 8, kReqBase + 4 * 4096), 3, 4, FailureReason::DmaRefused,
                   psp::kDetailDmaWindow);
    EXPECT_EQ(env.ios, 0u);
    EXPECT_EQ(env.svc->counters().retries, 0u);
}

TEST(PspService, RetriedRequestsAreLoggedOnceEachAndBounded) {
    Env env;
    env.up();
    auto count = [](const char* what) {
        u32 n = 0;
        for (const std::string& l : g_log) n += l.find(what) != std::string::npos;
        return n;
    };
    g_log.clear();
    env.inject(0x281, 2);  // two retries, one line
    expect_completion(env.request(Opcode::PageIn, 4, 1, 8), 4, 1, 0);
    EXPECT_EQ(g_log.size(), 1u);
    EXPECT_EQ(count("unrecovered read error (status 0x281): ok after 2 retries"), 1u);
    for (u32 i = 0; i < 40; ++i) {
        env.inject(0x281);
        expect_completion(env.request(Opcode::PageIn, 4, static_cast<u16>(i + 2), 8), 4, static_cast<u16>(i + 2), 0);
    }
    EXPECT_EQ(count("): ok after"), 16u);  // Setup::logged_errors
    EXPECT_EQ(count("more requests ok after a retry"), 1u);
    EXPECT_EQ(env.svc->counters().retried_ok, 41u);
    EXPECT_EQ(env.svc->counters().retries, 42u);
}

TEST(PspService, StatisticsLineKeepsItsPrefix) {
    Env env;
    env.up();
    expect_completion(env.request(Opcode::PageOut, 1, 1, 8), 1, 1, 0);
    env.inject(0x281);
    expect_completion(env.request(Opcode::PageIn, 1, 2, 8), 1, 2, 0);
    g_log.clear();
    env.svc->log_stats("final");
    ASSERT_EQ(g_log.size(), 2u);  // the line and its continuation (a console line holds 255 characters)
    // What the paging boot tests match (tests/boot/paging.cmake), then the retry fields.
    EXPECT_TRUE(std::regex_search(g_log[0], std::regex("^final: [0-9]+ requests, [1-9][0-9]* page-ins .*, "
                                                       "[1-9][0-9]* page-outs .*, 0 errors")))
        << g_log[0];
    EXPECT_TRUE(std::regex_search(g_log[0], std::regex(", 0 errors, 0 resets, 1 retries, 1 retried ok, 0 merged reads, 0 merged writes$"))) << g_log[0];
    EXPECT_TRUE(std::regex_search(g_log[1], std::regex("^final: 0 page-ins in merged reads, [0-9]+ us queued per page-in, "
                                                       "[0-9]+ transfers in the device at most$")))
        << g_log[1];
}

TEST(PspService, NoDeviceFailsEveryRequest) {
    Env env(nvme::kTimeout);
    env.up();
    expect_failure(env.request(Opcode::PageIn, 0, 1, 8), 0, 1, FailureReason::DeviceFatal, psp::kDetailDeviceDown);
    EXPECT_EQ(env.ios, 0u);
}

TEST(PspService, QueueWrapsAround) {
    Env env;
    env.up();
    // 256 slots per 4 KiB queue; the handshake used 2. Go round twice.
    for (u32 i = 0; i < 600; ++i) {
        u16 id = static_cast<u16>(i % kEntries);
        expect_completion(env.request(i % 2 ? Opcode::PageIn : Opcode::PageOut, id, static_cast<u16>(i), i % 500),
                          id, static_cast<u16>(i), 0);
    }
    EXPECT_EQ(env.svc->counters().requests, 600u);
    EXPECT_EQ(env.svc->counters().page_ins + env.svc->counters().page_outs, 600u);
    EXPECT_EQ(env.ch.stats().deliver_full, 0u);
}

TEST(PspService, ManyDoorbellsAtOnce) {
    Env env;
    env.up();
    // The hypervisor fills the queue; the PSP answers as it goes (the
    // hypervisor's ring takes 64: drain it as its service would).
    u32 answered = 0;
    for (u32 i = 0; i < 60; ++i) {
        Descriptor d{Opcode::PageOut, static_cast<u16>(i), kLpid, 8, 0, i, kReqBase + u64{i} * 4096};
        ASSERT_TRUE(write_descriptor(env.pmem(), kTableAddr, i, d));
        ASSERT_TRUE(env.ch.deliver(encode(IoRequestMsg{Opcode::PageOut, static_cast<u16>(i), static_cast<u16>(i), kLpid})));
    }
    ASSERT_EQ(env.pump(), PagingService::Action::Continue);
    for (const CrqEntry& e : env.sent()) {
        expect_completion(e, static_cast<u16>(answered), static_cast<u16>(answered), 0);
        ++answered;
    }
    EXPECT_EQ(answered, 60u);
}

TEST(PspService, CloseEndsTheService) {
    Env env;
    env.up();
    expect_completion(env.request(Opcode::PageOut, 1, 1, 8), 1, 1, 0);
    env.ch.close();  // FF 02
    EXPECT_EQ(env.pump(), PagingService::Action::Closed);
    EXPECT_EQ(env.svc->state(), PagingService::State::Closed);
}

TEST(PspService, ReopenResendsTheTable) {
    Env env;
    env.up();
    ASSERT_TRUE(env.ch.deliver(crq_init_request()));  // the hypervisor restarted its end
    ASSERT_EQ(env.pump(), PagingService::Action::Continue);
    auto v = env.sent();
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].format(), crq::kInitComplete);
    EXPECT_TRUE(is(v[1], Opcode::SetDescTable));
    EXPECT_EQ(env.svc->state(), PagingService::State::WaitTable);
}

}  // namespace

// Page-ins of consecutive device pages queued together become one device read
// into their scattered request windows; a failed merged read falls back to one
// read per request (each with its own retries and answer).
TEST(PspService, AdjacentPageInsAreMergedIntoOneRead) {
    for (bool fail : {false, true}) {
        Env env;
        static u32 merged, merged_pages;
        static bool fail_merged;
        merged = merged_pages = 0;
        fail_merged = fail;
        // Rebuild the service with a read_pages device op.
        PagingService::Setup s;
        s.send = [](void* c, const CrqEntry& e) { return static_cast<Env*>(c)->ch.send(e.hi(), e.lo()); };
        s.send_ctx = &env;
        s.dev.io = [](void* c, bool write, u64 block, u32 count, u64 dma) -> u32 {
            auto* e = static_cast<Env*>(c);
            ++e->ios;
            u8* p = e->bus(dma, u64{count} * 512);
            if (!p) return 0x04;
            if (write) std::memcpy(e->disk.data() + block * 512, p, count * 512);
            else std::memcpy(p, e->disk.data() + block * 512, count * 512);
            return 0;
        };
        s.dev.io_pages = [](void* c, bool write, u64 block, const u64* pages, u32 n) -> u32 {
            auto* e = static_cast<Env*>(c);
            ++merged;
            merged_pages += n;
            if (fail_merged) return 0x281;
            for (u32 i = 0; i < n; ++i) {
                u8* d = e->disk.data() + (block + i * 8) * 512;
                if (write) std::memcpy(d, e->bus(pages[i], 4096), 4096);
                else std::memcpy(e->bus(pages[i], 4096), d, 4096);
            }
            return 0;
        };
        s.dev.reset = [](void*) -> u32 { return 0; };
        s.dev.blocks = [](void*) { return kDiskBlocks; };
        s.dev.max_blocks = [](void*) -> u32 { return 512; };
        s.dev.ctx = &env;
        s.table = env.mem + kTableAddr;
        s.table_addr = kTableAddr;
        s.entries = kEntries;
        s.dma_request_base = kReqBase;
        env.svc = std::make_unique<PagingService>(s);
        env.up();
        for (u32 i = 0; i < 3 * 4096; ++i) env.disk[80 * 512 + i] = static_cast<u8>(i * 7 + 1);
        // Requests 5, 2, 9 for device pages 80, 88, 96 (consecutive), then one elsewhere.
        const u16 ids[] = {5, 2, 9, 4};
        const u64 blocks[] = {80, 88, 96, 200};
        CrqEntry batch[4];
        for (u32 i = 0; i < 4; ++i) {
            Descriptor d{Opcode::PageIn, static_cast<u16>(i + 1), kLpid, kBlocksPerPage, u64{0x1000} + ids[i], blocks[i],
                         kReqBase + u64{ids[i]} * 4096};
            ASSERT_TRUE(write_descriptor(env.pmem(), kTableAddr, ids[i], d));
            ASSERT_TRUE(env.ch.deliver(encode(IoRequestMsg{Opcode::PageIn, ids[i], static_cast<u16>(i + 1), kLpid})));
        }
        for (u32 i = 0; i < 4; ++i) ASSERT_TRUE(env.queue.poll(batch[i]));
        ASSERT_EQ(env.svc->handle_batch(batch, 4), PagingService::Action::Continue);
        auto v = env.sent();
        ASSERT_EQ(v.size(), 4u);
        for (u32 i = 0; i < 4; ++i) expect_completion(v[i], ids[i], static_cast<u16>(i + 1), 0);
        EXPECT_EQ(merged, 1u);
        EXPECT_EQ(merged_pages, 3u);
        EXPECT_EQ(env.ios, fail ? 4u : 1u);  // fallback: one read each; the lone page always alone
        for (u32 i = 0; i < 3; ++i)
            EXPECT_EQ(std::memcmp(env.frames[ids[i]].data(), env.disk.data() + blocks[i] * 512, 4096), 0) << i;
        EXPECT_EQ(env.svc->counters().page_ins, 4u);
        EXPECT_EQ(env.svc->counters().merged_reads, fail ? 0u : 1u);
    }
}
