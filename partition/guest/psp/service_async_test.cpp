// Host test of the PSP's service with an asynchronous device (BlockDevice::
// submit/poll): many requests in the device at once, answered as their
// transfers finish (any order), never more in the device than it takes, each
// answered exactly once, DMA only to the frames of requests not yet answered;
// retries, controller resets with others in flight, merged runs, fail_delay.
// Part of psp_service_test (cmake/host.cmake; host_log.h is service_test.cpp's).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/papr.h"
#include "partition/guest/psp/service.h"
#include "vio/nvme.h"

namespace psp_test {
extern std::vector<std::string> g_log;
}

using namespace pv;
using namespace pv::paging;
using psp::PagingService;

namespace {

constexpr u64 kMemBytes = 16 * 4096;
constexpr u64 kQueueAddr = 0x1000, kTableAddr = 0x2000;
constexpr u16 kEntries = 100;
constexpr u64 kReqBase = 0x80000000;
constexpr u64 kDiskBlocks = 4096;
constexpr u16 kLpid = 9;

struct AsyncEnv {
    alignas(4096) u8 mem[kMemBytes]{};
    CrqChannel ch;
    psp::CrqQueue queue{mem + kQueueAddr, 4096};
    std::vector<u8> disk = std::vector<u8>(kDiskBlocks * 512);
    std::vector<std::vector<u8>> frames = std::vector<std::vector<u8>>(kEntries, std::vector<u8>(4096));
    // The device: transfers submitted and not finished, and finished ones not polled yet.
    struct Xfer {
        bool write;
        u64 block;
        u32 count;
        u64 dma;
        std::vector<u64> pages;
        u64 cookie;
    };
    std::vector<Xfer> device;
    std::vector<psp::DeviceCompletion> done;
    u32 depth = 4;
    u64 bad_block = ~u64{0};  // transfers covering it fail with bad_status, bad_times times
    u32 bad_status = 0x281, bad_times = 0;
    u32 reset_status = 0, resets = 0, submits = 0, most_in_device = 0;
    u32 resets_at_send = 0;
    std::set<u16> outstanding;  // doorbells delivered, not answered yet: the frames the device may touch
    u32 stray_dma = 0;
    std::vector<CompletionMsg> completions;
    std::vector<FailureMsg> failures;
    // The completion ring, as the hypervisor reads it when a CompletionsPosted
    // arrives (unless hold_ring: then its records stay).
    bool grant_ring = true, hold_ring = false;
    CompletionRing hv_ring;
    u32 posted = 0, completion_messages = 0;
    std::unique_ptr<PagingService> svc;

    PartitionMemory pmem() {
        PartitionMemory m;
        m.ptr = [](void* c, u64 a, u64 len) -> void* {
            auto* e = static_cast<AsyncEnv*>(c);
            return a + len <= kMemBytes && a + len >= a ? e->mem + a : nullptr;
        };
        m.ctx = this;
        return m;
    }
    u8* bus(u64 dma, u64 len) {
        if (dma < kReqBase || dma + len > kReqBase + u64{kEntries} * 4096) return nullptr;
        u64 off = dma - kReqBase;
        if (off % 4096 + len > 4096) return nullptr;
        if (!outstanding.count(static_cast<u16>(off / 4096))) ++stray_dma;
        return frames[off / 4096].data() + off % 4096;
    }
    // The device finishes transfer i (an index into device).
    void finish(size_t i) {
        Xfer x = device[i];
        device.erase(device.begin() + static_cast<long>(i));
        u64 blocks = x.pages.empty() ? x.count : x.pages.size() * 8;
        u32 st = 0;
        if (bad_times && bad_block >= x.block && bad_block < x.block + blocks) {
            --bad_times;
            st = bad_status;
        } else if (x.pages.empty()) {
            u8* p = bus(x.dma, u64{x.count} * 512);
            u8* d = disk.data() + x.block * 512;
            if (!p) st = 0x04;
            else if (x.write) std::memcpy(d, p, x.count * 512);
            else std::memcpy(p, d, x.count * 512);
        } else {
            for (size_t k = 0; k < x.pages.size(); ++k) {
                u8* p = bus(x.pages[k], 4096);
                u8* d = disk.data() + (x.block + k * 8) * 512;
                if (!p) st = 0x04;
                else if (x.write) std::memcpy(d, p, 4096);
                else std::memcpy(p, d, 4096);
            }
        }
        done.push_back({x.cookie, st});
    }
    void finish_with(size_t i, u32 status) {
        done.push_back({device[i].cookie, status});
        device.erase(device.begin() + static_cast<long>(i));
    }

    explicit AsyncEnv(u32 retries = psp::kDefaultRetries, u64 fail_delay_us = 0, void (*pause)(u64) = nullptr,
                      bool ring = false) {
        PagingService::Setup s;
        s.completion_ring = ring;
        s.fail_delay_us = fail_delay_us;
        s.pause = pause;
        s.send = [](void* c, const CrqEntry& e) {
            auto* env = static_cast<AsyncEnv*>(c);
            env->resets_at_send = env->resets;
            CompletionMsg cm;
            FailureMsg fm;
            CompletionsPostedMsg pm;
            if (decode(e, pm)) {
                ++env->posted;
                if (!env->hold_ring) env->take_ring();
            } else if (decode(e, cm)) {
                ++env->completion_messages;
                EXPECT_TRUE(env->outstanding.erase(cm.req_id)) << "answered twice or never asked: " << cm.req_id;
                env->completions.push_back(cm);
            } else if (decode(e, fm)) {
                EXPECT_TRUE(env->outstanding.erase(fm.req_id)) << "answered twice or never asked: " << fm.req_id;
                env->failures.push_back(fm);
            }
            return env->ch.send(e.hi(), e.lo());
        };
        s.send_ctx = this;
        s.dev.io = [](void* c, bool write, u64 block, u32 count, u64 dma) -> u32 {
            // The synchronous path (the mover's transfers): at once.
            auto* e = static_cast<AsyncEnv*>(c);
            e->device.push_back({write, block, count, dma, {}, 0});
            e->finish(e->device.size() - 1);
            u32 st = e->done.back().status;
            e->done.pop_back();
            return st;
        };
        s.dev.submit = [](void* c, bool write, u64 block, u32 count, u64 dma, const u64* pages, u32 n,
                          u64 cookie) -> u32 {
            auto* e = static_cast<AsyncEnv*>(c);
            if (e->device.size() + e->done.size() >= e->depth) return nvme::kBusy;
            ++e->submits;
            e->device.push_back({write, block, count, dma, pages ? std::vector<u64>(pages, pages + n) : std::vector<u64>{},
                                 cookie});
            e->most_in_device = std::max<u32>(e->most_in_device, static_cast<u32>(e->device.size() + e->done.size()));
            return 0;
        };
        s.dev.poll = [](void* c, psp::DeviceCompletion* out, u32 max) -> u32 {
            auto* e = static_cast<AsyncEnv*>(c);
            u32 n = 0;
            while (n < max && !e->done.empty()) {
                out[n++] = e->done.front();
                e->done.erase(e->done.begin());
            }
            return n;
        };
        s.dev.max_in_flight = [](void* c) { return static_cast<AsyncEnv*>(c)->depth; };
        s.dev.reset = [](void* c) {
            auto* e = static_cast<AsyncEnv*>(c);
            ++e->resets;
            e->device.clear();  // a controller reset ends every command
            e->done.clear();
            return e->reset_status;
        };
        s.dev.blocks = [](void*) { return kDiskBlocks; };
        s.dev.max_blocks = [](void*) -> u32 { return 512; };
        s.dev.ctx = this;
        s.table = mem + kTableAddr;
        s.table_addr = kTableAddr;
        s.entries = kEntries;
        s.dma_request_base = kReqBase;
        s.log_every = 0;
        s.retries = retries;
        svc = std::make_unique<PagingService>(s);
    }

    void take_ring() {
        CompletionRecord r;
        bool ok = false;
        while (hv_ring.take(r, ok)) {
            EXPECT_TRUE(ok);
            EXPECT_TRUE(outstanding.erase(r.req_id)) << "answered twice or never asked: " << r.req_id;
            completions.push_back(CompletionMsg{r.req_id, r.tag, kLpid, r.status, false});
        }
    }
    std::vector<CrqEntry> sent() {
        std::vector<CrqEntry> out;
        CrqEntry e;
        while (ch.receive(e)) out.push_back(e);
        return out;
    }
    void up() {
        ch.open();
        ASSERT_EQ(h_reg_crq(&ch, pmem(), kQueueAddr, 4096), papr::H_SUCCESS);
        svc->start(true);
        (void)sent();
        ASSERT_TRUE(ch.deliver(crq_init_complete()));
        take();
        auto v = sent();
        ASSERT_EQ(v.size(), 1u);
        SetDescTableMsg m;
        ASSERT_TRUE(decode(v[0], m));
        u8 flags = grant_ring ? static_cast<u8>(m.flags & kTableCompletionRing) : u8{0};
        if (flags) hv_ring.reset(mem + kTableAddr + completion_ring_offset(m), m.entries);
        ASSERT_TRUE(ch.deliver(encode(DescTableRespMsg{m.entries, check_desc_table(pmem(), m, kEntries), flags})));
        take();
        ASSERT_EQ(svc->state(), PagingService::State::Serving);
        completions.clear();
    }
    // A doorbell for request id, page at `block`.
    void doorbell(Opcode op, u16 id, u16 tag, u64 block) {
        Descriptor d{op, tag, kLpid, kBlocksPerPage, u64{0x1000} + id, block, kReqBase + u64{id} * 4096};
        ASSERT_TRUE(write_descriptor(pmem(), kTableAddr, id, d));
        outstanding.insert(id);
        ASSERT_TRUE(ch.deliver(encode(IoRequestMsg{op, id, tag, kLpid})));
    }
    // The PSP's loop: take what is queued as one batch.
    void take() {
        CrqEntry batch[PagingService::kMaxMerge];
        u32 n = 0;
        while (n < PagingService::kMaxMerge && queue.poll(batch[n])) ++n;
        if (n) {
            ASSERT_EQ(svc->handle_batch(batch, n), PagingService::Action::Continue);
        }
    }
    // Finish everything, any order (last first), until every request is answered.
    void drain() {
        for (u32 guard = 0; svc->in_flight() && guard < 10000; ++guard) {
            if (!device.empty()) finish(device.size() - 1);
            (void)svc->progress();
        }
        ASSERT_EQ(svc->in_flight(), 0u);
    }
};

void seed(AsyncEnv& env) {
    for (u64 i = 0; i < env.disk.size(); ++i) env.disk[i] = static_cast<u8>(i * 13 + (i >> 12));
}

TEST(PspAsync, ManyInFlightAnsweredAsTheyFinish) {
    AsyncEnv env;
    env.up();
    seed(env);
    // Ten page-ins of scattered pages: four reach the device, six wait.
    for (u16 i = 0; i < 10; ++i) env.doorbell(Opcode::PageIn, static_cast<u16>(10 + i), i, (i * 3 + 1) * 8);
    env.take();
    EXPECT_EQ(env.device.size(), 4u);
    EXPECT_EQ(env.svc->in_flight(), 10u);
    EXPECT_TRUE(env.completions.empty());
    // The third one finishes first: it alone is answered, and a waiting one takes its place.
    env.finish(2);
    EXPECT_TRUE(env.svc->progress());
    ASSERT_EQ(env.completions.size(), 1u);
    EXPECT_EQ(env.completions[0].req_id, 12u);
    EXPECT_EQ(env.completions[0].status, 0u);
    EXPECT_FALSE(env.completions[0].more);
    EXPECT_EQ(env.device.size(), 4u);
    EXPECT_FALSE(env.svc->progress());  // nothing finished: nothing answered
    EXPECT_EQ(env.completions.size(), 1u);
    env.drain();
    EXPECT_EQ(env.completions.size(), 10u);
    EXPECT_TRUE(env.outstanding.empty());
    EXPECT_EQ(env.most_in_device, 4u);
    EXPECT_EQ(env.svc->counters().max_in_device, 4u);
    EXPECT_EQ(env.svc->counters().page_ins, 10u);
    EXPECT_EQ(env.stray_dma, 0u);
    for (u16 i = 0; i < 10; ++i)
        EXPECT_EQ(std::memcmp(env.frames[10 + i].data(), env.disk.data() + (i * 3 + 1) * 8 * 512, 4096), 0) << i;
}

TEST(PspAsync, CompletionsOfOnePassAreOneBurst) {
    AsyncEnv env;
    env.up();
    for (u16 i = 0; i < 3; ++i) env.doorbell(Opcode::PageOut, i, i, 100 + i * 16);
    env.take();
    env.finish(1), env.finish(0), env.finish(0);
    ASSERT_TRUE(env.svc->progress());
    ASSERT_EQ(env.completions.size(), 3u);
    EXPECT_EQ(env.completions[0].req_id, 1u);
    EXPECT_TRUE(env.completions[0].more);
    EXPECT_TRUE(env.completions[1].more);
    EXPECT_FALSE(env.completions[2].more);  // the hypervisor revokes the burst's TCEs now
    EXPECT_EQ(env.svc->counters().page_outs, 3u);
}

// With the completion ring, a pass's answers are records and one
// CompletionsPosted: no H_SEND_CRQ per completion.
TEST(PspAsync, WithTheRingAPassIsRecordsAndOneDoorbell) {
    AsyncEnv env(psp::kDefaultRetries, 0, nullptr, true);
    env.up();
    seed(env);
    for (u16 i = 0; i < 4; ++i) env.doorbell(Opcode::PageIn, static_cast<u16>(20 + i), i, (i * 5 + 2) * 8);
    env.take();
    for (int k = 0; k < 4; ++k) env.finish(0);
    ASSERT_TRUE(env.svc->progress());
    EXPECT_EQ(env.posted, 1u);
    EXPECT_EQ(env.completion_messages, 0u);
    ASSERT_EQ(env.completions.size(), 4u);
    EXPECT_TRUE(env.outstanding.empty());
    for (u16 i = 0; i < 4; ++i)
        EXPECT_EQ(std::memcmp(env.frames[20 + i].data(), env.disk.data() + (i * 5 + 2) * 8 * 512, 4096), 0) << i;
}

// A hypervisor that does not take the ring: Completion messages, as before.
TEST(PspAsync, WithoutTheRingGrantedCompletionsAreMessages) {
    AsyncEnv env(psp::kDefaultRetries, 0, nullptr, true);
    env.grant_ring = false;
    env.up();
    for (u16 i = 0; i < 3; ++i) env.doorbell(Opcode::PageOut, i, i, 100 + i * 16);
    env.take();
    env.drain();
    EXPECT_EQ(env.posted, 0u);
    EXPECT_EQ(env.completion_messages, 3u);
    EXPECT_TRUE(env.outstanding.empty());
}

// Slots the hypervisor has not freed (it never lets that happen: a ring has
// a record for each request id) are not written over: what does not fit goes
// as messages, nothing is lost or answered twice.
TEST(PspAsync, ARingWithoutRoomOverflowsIntoMessages) {
    AsyncEnv env(psp::kDefaultRetries, 0, nullptr, true);
    env.up();
    env.hold_ring = true;
    env.depth = 8;  // all five in the device: one pass answers them
    u8* ring = env.mem + kTableAddr + u64{kEntries} * kDescriptorBytes;
    for (u32 slot = 2; slot < kEntries; ++slot) ring[slot * kCompletionRecordBytes] = kRecordValid;
    for (u16 i = 0; i < 5; ++i) env.doorbell(Opcode::PageOut, i, 7, 200 + i * 16);
    env.take();
    ASSERT_EQ(env.device.size(), 5u);
    while (!env.device.empty()) env.finish(0);
    ASSERT_TRUE(env.svc->progress());
    EXPECT_EQ(env.posted, 1u);
    EXPECT_EQ(env.completion_messages, 3u);
    CompletionRecord r;
    bool ok = false;
    for (int k = 0; k < 2; ++k) {
        ASSERT_TRUE(env.hv_ring.take(r, ok));
        EXPECT_TRUE(env.outstanding.erase(r.req_id)) << r.req_id;
        EXPECT_EQ(r.tag, 7);
    }
    EXPECT_TRUE(env.outstanding.empty());
}

TEST(PspAsync, NeverMoreInTheDeviceThanItTakes) {
    AsyncEnv env;
    env.depth = 7;
    env.up();
    u32 rng = 12345;
    u16 next = 0;
    for (u32 round = 0; round < 60; ++round) {
        for (u32 k = 0; k < 1 + round % 5; ++k, ++next) {
            u16 id = next % kEntries;
            if (env.outstanding.count(id)) break;
            env.doorbell(round % 3 ? Opcode::PageIn : Opcode::PageOut, id, static_cast<u16>(round), (id * 2) * 8);
        }
        env.take();
        for (u32 k = 0; k < round % 4 && !env.device.empty(); ++k) {
            rng = rng * 1103515245 + 12345;
            env.finish((rng >> 16) % env.device.size());
        }
        (void)env.svc->progress();
        EXPECT_LE(env.device.size() + env.done.size(), 7u);
    }
    env.drain();
    EXPECT_TRUE(env.outstanding.empty());
    EXPECT_EQ(env.most_in_device, 7u);
    EXPECT_EQ(env.stray_dma, 0u);
}

TEST(PspAsync, MediaErrorIsRetriedWhileOthersGoOn) {
    AsyncEnv env;
    env.up();
    env.bad_block = 8 * 8;
    env.bad_times = 1;
    for (u16 i = 0; i < 4; ++i) env.doorbell(Opcode::PageIn, i, 7, (i * 4) * 8);  // request 2 reads block 64
    env.take();
    env.finish(2);  // the bad one first: retried at once, nothing answered
    (void)env.svc->progress();
    EXPECT_TRUE(env.completions.empty());
    EXPECT_EQ(env.svc->counters().retries, 1u);
    EXPECT_EQ(env.submits, 5u);
    env.drain();
    ASSERT_EQ(env.completions.size(), 4u);
    for (auto& c : env.completions) EXPECT_EQ(c.status, 0u);
    EXPECT_EQ(env.svc->counters().retried_ok, 1u);
    EXPECT_EQ(env.svc->counters().errors, 0u);
    bool logged = false;
    for (auto& l : psp_test::g_log) logged = logged || l.find("block 64: unrecovered read error (status 0x281): ok after 1 retries") != std::string::npos;
    EXPECT_TRUE(logged);
}

TEST(PspAsync, DoNotRetryStatusIsTheAnswer) {
    AsyncEnv env;
    env.up();
    env.doorbell(Opcode::PageIn, 3, 1, 80);
    env.take();
    env.finish_with(0, 0x281 | psp::kStatusDnr);
    (void)env.svc->progress();
    ASSERT_EQ(env.completions.size(), 1u);
    EXPECT_EQ(env.completions[0].status, 0x281u);
    EXPECT_EQ(env.svc->counters().retries, 0u);
    EXPECT_EQ(env.svc->counters().errors, 1u);
}

TEST(PspAsync, TimeoutResetsTheControllerAndRestartsTheOthers) {
    AsyncEnv env(0);  // no retries: the timed-out request's answer is the timeout
    env.up();
    for (u16 i = 0; i < 3; ++i) env.doorbell(Opcode::PageOut, i, 2, 200 + i * 8 * 4);
    env.take();
    ASSERT_EQ(env.device.size(), 3u);
    env.finish_with(0, nvme::kTimeout);
    (void)env.svc->progress();
    EXPECT_EQ(env.resets, 1u);
    ASSERT_EQ(env.failures.size(), 1u);
    EXPECT_EQ(env.failures[0].req_id, 0u);
    EXPECT_EQ(env.failures[0].reason, FailureReason::DeviceTimeout);
    EXPECT_EQ(env.resets_at_send, 1u);  // reset before the answer: the device no longer reaches its frame
    // The other two were lost by the reset: in the device again, not answered.
    EXPECT_EQ(env.device.size(), 2u);
    EXPECT_TRUE(env.completions.empty());
    env.drain();
    EXPECT_EQ(env.completions.size(), 2u);
    EXPECT_EQ(env.svc->counters().retries, 0u);  // a restart after the reset is not a retry
}

TEST(PspAsync, TimeoutIsRetriedAfterTheReset) {
    AsyncEnv env;
    env.up();
    env.doorbell(Opcode::PageIn, 5, 1, 8);
    env.take();
    env.finish_with(0, nvme::kTimeout);
    (void)env.svc->progress();
    EXPECT_EQ(env.resets, 1u);
    EXPECT_EQ(env.device.size(), 1u);
    env.drain();
    ASSERT_EQ(env.completions.size(), 1u);
    EXPECT_EQ(env.completions[0].status, 0u);
    EXPECT_EQ(env.svc->counters().retried_ok, 1u);
}

TEST(PspAsync, GivenUpDeviceFailsWhatWaits) {
    AsyncEnv env;
    env.depth = 1;
    env.reset_status = nvme::kFatal;  // the reset fails: the device is given up
    env.up();
    for (u16 i = 0; i < 3; ++i) env.doorbell(Opcode::PageIn, i, 4, i * 64);
    env.take();
    env.finish_with(0, nvme::kTimeout);
    (void)env.svc->progress();
    ASSERT_EQ(env.failures.size(), 3u);
    EXPECT_EQ(env.failures[0].reason, FailureReason::DeviceTimeout);
    EXPECT_EQ(env.failures[1].reason, FailureReason::DeviceFatal);
    EXPECT_EQ(env.failures[1].detail, psp::kDetailDeviceDown);
    EXPECT_EQ(env.svc->in_flight(), 0u);
    EXPECT_TRUE(env.outstanding.empty());
}

TEST(PspAsync, MergedRunIsOneTransferAndFallsBackOnError) {
    for (bool fail : {false, true}) {
        AsyncEnv env;
        env.up();
        seed(env);
        const u16 ids[] = {5, 2, 9};
        for (u32 i = 0; i < 3; ++i) env.doorbell(Opcode::PageIn, ids[i], static_cast<u16>(i), 80 + i * 8);
        env.doorbell(Opcode::PageIn, 4, 3, 400);
        env.take();
        ASSERT_EQ(env.device.size(), 2u);
        EXPECT_EQ(env.device[0].pages.size(), 3u);
        if (fail) {
            env.finish_with(0, 0x281);
            (void)env.svc->progress();
            EXPECT_EQ(env.device.size(), 4u);  // each of the run alone now, besides the lone page
            EXPECT_TRUE(env.completions.empty());
        }
        env.drain();
        ASSERT_EQ(env.completions.size(), 4u);
        for (auto& c : env.completions) EXPECT_EQ(c.status, 0u);
        for (u32 i = 0; i < 3; ++i)
            EXPECT_EQ(std::memcmp(env.frames[ids[i]].data(), env.disk.data() + (80 + i * 8) * 512, 4096), 0) << i;
        EXPECT_EQ(env.svc->counters().merged_reads, fail ? 0u : 1u);
        EXPECT_EQ(env.svc->counters().page_ins, 4u);
        EXPECT_EQ(env.stray_dma, 0u);
    }
}

u32 g_answers_at_pause = ~0u;
AsyncEnv* g_env = nullptr;

TEST(PspAsync, FailDelayHoldsOnlyTheFailedPageInsAnswer) {
    AsyncEnv env(0, 2000, [](u64) { g_answers_at_pause = static_cast<u32>(g_env->completions.size()); });
    g_env = &env;
    env.up();
    env.bad_block = 24;
    env.bad_times = 1;
    env.doorbell(Opcode::PageIn, 1, 1, 8);
    env.doorbell(Opcode::PageIn, 2, 1, 24);  // fails (pages apart: three transfers)
    env.doorbell(Opcode::PageIn, 3, 1, 48);
    env.take();
    env.finish(0), env.finish(0), env.finish(0);
    (void)env.svc->progress();
    EXPECT_EQ(g_answers_at_pause, 1u);  // the page-in before it went out first
    ASSERT_EQ(env.completions.size(), 3u);
    EXPECT_EQ(env.completions[1].req_id, 2u);
    EXPECT_EQ(env.completions[1].status, 0x281u);
    g_env = nullptr;
}

TEST(PspAsync, ChecksStillFailWithoutTouchingTheDevice) {
    AsyncEnv env;
    env.up();
    Descriptor d{Opcode::PageIn, 1, kLpid, kBlocksPerPage, 0x1000, 8, kReqBase + 7 * 4096};  // another id's window page
    ASSERT_TRUE(write_descriptor(env.pmem(), kTableAddr, 3, d));
    env.outstanding.insert(3);
    ASSERT_TRUE(env.ch.deliver(encode(IoRequestMsg{Opcode::PageIn, 3, 1, kLpid})));
    env.take();
    ASSERT_EQ(env.failures.size(), 1u);
    EXPECT_EQ(env.failures[0].reason, FailureReason::DmaRefused);
    EXPECT_EQ(env.submits, 0u);
}

}  // namespace
