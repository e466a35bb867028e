// The portable 82574 driver against the fake controller of fake_e1000e.h:
// reset and MAC discovery, ring setup, transmit until the ring is full,
// receive, wrap-around, oversize and bad frames, link down, scattered DMA.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tests/unit/fake_e1000e.h"
#include "tests/unit/rng.h"
#include "vio/e1000e.h"

using namespace pv;
using namespace pv::e1000e;
using pv::test::DmaArena;
using pv::test::FakeE1000e;
using pv::test::StepClock;

namespace {

constexpr MacAddress kMac{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};

std::vector<u8> frame_to(const MacAddress& dst, u32 len, u64 seed) {
    test::Rng r{seed};
    std::vector<u8> f(len);
    for (auto& b : f) b = static_cast<u8>(r.next());
    std::memcpy(f.data(), dst.b, 6);
    return f;
}

struct Bench {
    DmaArena arena;
    FakeE1000e nic;
    StepClock clk;
    E1000eConfig cfg;
    Driver drv;

    explicit Bench(E1000eConfig c = {}, bool scatter = false)
        : arena(scatter), nic(arena, kMac), cfg(c),
          drv(nic.hw(), E1000eDma{arena.mem, sizeof arena.mem, &DmaArena::to_iova, &arena}, clk.clock(), c) {}

    std::vector<std::vector<u8>> drain(u32 budget = ~u32{0}) {
        std::vector<std::vector<u8>> got;
        drv.poll([](void* ctx, const u8* f, u32 len) {
            static_cast<std::vector<std::vector<u8>>*>(ctx)->emplace_back(f, f + len);
        }, &got, budget);
        return got;
    }
    // Descriptors the device may fill now.
    u32 rx_owned() const {
        u32 n = nic.ring_size(FakeE1000e::RDLEN);
        return (nic.regs[FakeE1000e::RDT / 4] + n - nic.regs[FakeE1000e::RDH / 4]) % n;
    }
};

TEST(E1000e, InitResetsAndProgramsTheController) {
    Bench b;
    for (u32 i = 0; i < 128; ++i) b.nic.regs[FakeE1000e::MTA / 4 + i] = 0xdeadbeef;  // undefined at power-up
    b.nic.regs[FakeE1000e::RFCTL / 4] = 1u << 15;                                   // EXSTEN left by someone
    ASSERT_EQ(b.drv.init(), kOk);
    EXPECT_TRUE(b.drv.started());
    EXPECT_EQ(b.nic.resets, 1u);
    EXPECT_EQ(b.drv.mac(), kMac);
    const auto& r = b.nic.regs;
    u32 rctl = r[FakeE1000e::RCTL / 4];
    EXPECT_EQ(rctl & (FakeE1000e::kRctlEn | FakeE1000e::kRctlBam | FakeE1000e::kRctlSecrc),
              FakeE1000e::kRctlEn | FakeE1000e::kRctlBam | FakeE1000e::kRctlSecrc);
    EXPECT_EQ(rctl & (FakeE1000e::kRctlUpe | 1u << 4 | 3u << 16 | 1u << 25 | 3u << 10), 0u)
        << "no promiscuous/multicast promiscuous, 2 KiB buffers, legacy descriptors";
    EXPECT_EQ(r[FakeE1000e::RFCTL / 4], 0u);
    EXPECT_TRUE(r[FakeE1000e::TCTL / 4] & FakeE1000e::kTctlEn);
    EXPECT_TRUE(r[FakeE1000e::CTRL / 4] & FakeE1000e::kSlu);
    EXPECT_FALSE(r[FakeE1000e::CTRL / 4] & (FakeE1000e::kRst | FakeE1000e::kGioMasterDisable));
    EXPECT_EQ(r[FakeE1000e::IMS / 4], 0u);
    EXPECT_TRUE(r[FakeE1000e::RAH0 / 4] >> 31);
    for (u32 i = 0; i < 128; ++i) ASSERT_EQ(r[FakeE1000e::MTA / 4 + i], 0u) << i;
    EXPECT_EQ(r[FakeE1000e::RDLEN / 4], 32u * 16);
    EXPECT_EQ(r[FakeE1000e::TDLEN / 4], 32u * 16);
    EXPECT_EQ(b.nic.ring_base(FakeE1000e::RDBAL), b.arena.iova(b.arena.mem));
    EXPECT_EQ(b.nic.ring_base(FakeE1000e::TDBAL), b.arena.iova(b.arena.mem + 4096));
    EXPECT_EQ(r[FakeE1000e::RDH / 4], 0u);
    EXPECT_EQ(r[FakeE1000e::RDT / 4], 31u);
    EXPECT_EQ(r[FakeE1000e::TDH / 4], 0u);
    EXPECT_EQ(r[FakeE1000e::TDT / 4], 0u);
    // Every RX descriptor points at its own buffer, inside one bus page.
    std::vector<u64> seen;
    for (u32 i = 0; i < 32; ++i) {
        u8* d = b.nic.desc(FakeE1000e::RDBAL, i);
        ASSERT_NE(d, nullptr);
        u64 a = test::ld(d, 8);
        EXPECT_NE(b.arena.at(a, kBufferBytes), nullptr) << i;
        EXPECT_EQ(d[12], 0) << "status clear";
        for (u64 s : seen) EXPECT_NE(s, a);
        seen.push_back(a);
    }
    EXPECT_EQ(b.arena.faults, 0u);
    EXPECT_TRUE(b.drv.link_up());
}

TEST(E1000e, MacFromEepromWhenReceiveAddressZeroIsNotValid) {
    Bench b;
    b.nic.mac_in_ral = false;
    b.nic.load_mac();
    ASSERT_EQ(b.drv.init(), kOk);
    EXPECT_EQ(b.drv.mac(), kMac);
    // ... and the filter now matches it.
    EXPECT_EQ(b.nic.regs[FakeE1000e::RAL0 / 4], 0x12005452u);
    EXPECT_EQ(b.nic.regs[FakeE1000e::RAH0 / 4], 0x80005634u);
    EXPECT_TRUE(b.nic.deliver(frame_to(kMac, 64, 1)));
}

TEST(E1000e, InitFailures) {
    {
        Bench b;
        b.nic.absent = true;
        EXPECT_EQ(b.drv.init(), kNoDevice);
    }
    {
        Bench b;
        b.nic.stuck_reset = true;
        EXPECT_EQ(b.drv.init(), kTimeout);
        EXPECT_FALSE(b.drv.started());
    }
    {
        Bench b;
        // The NVM auto-read never finishes (EECD.AUTO_RD stays clear).
        struct Hw {
            FakeE1000e* n;
            static u32 r(void* c, u32 off) {
                auto* h = static_cast<Hw*>(c);
                return off == FakeE1000e::EECD ? 0 : h->n->read32(off);
            }
            static void w(void* c, u32 off, u32 v) { static_cast<Hw*>(c)->n->write32(off, v); }
        } hw{&b.nic};
        Driver d(E1000eHw{&Hw::r, &Hw::w, &hw}, E1000eDma{b.arena.mem, sizeof b.arena.mem, &DmaArena::to_iova, &b.arena},
                 b.clk.clock());
        EXPECT_EQ(d.init(), kTimeout);
    }
    {
        Bench b;
        b.nic.mac_in_ral = false;
        b.nic.eeprom[0] = 0x5453;  // 53:54:...: a group address
        EXPECT_EQ(b.drv.init(), kNoMac);
        b.nic.eeprom[0] = b.nic.eeprom[1] = b.nic.eeprom[2] = 0xffff;  // erased
        EXPECT_EQ(b.drv.init(), kNoMac);
    }
    for (u32 n : {0u, 4u, 12u, 264u}) {
        Bench b(E1000eConfig{n, 8});
        EXPECT_EQ(b.drv.init(), kInvalid) << n;
        EXPECT_EQ(b.nic.resets, 0u) << "refused before touching the device";
    }
    {
        Bench b;
        Driver d(b.nic.hw(), E1000eDma{b.arena.mem + 64, sizeof b.arena.mem - 64, &DmaArena::to_iova, &b.arena},
                 b.clk.clock());
        EXPECT_EQ(d.init(), kInvalid) << "unaligned area";
        Driver e(b.nic.hw(), E1000eDma{b.arena.mem, dma_area_bytes({}) - 1, &DmaArena::to_iova, &b.arena},
                 b.clk.clock());
        EXPECT_EQ(e.init(), kInvalid) << "area too small";
    }
}

TEST(E1000e, SendUntilTheRingIsFull) {
    Bench b(E1000eConfig{8, 8});
    b.nic.tx_manual = true;
    ASSERT_EQ(b.drv.init(), kOk);
    EXPECT_EQ(b.drv.tx_free(), 7u);
    std::vector<std::vector<u8>> sent;
    for (u32 i = 0; i < 7; ++i) {
        sent.push_back(frame_to(kMac, 100 + i, i));
        ASSERT_EQ(b.drv.send(sent.back().data(), static_cast<u32>(sent.back().size())), Err::Ok) << i;
    }
    EXPECT_EQ(b.drv.tx_free(), 0u);
    auto extra = frame_to(kMac, 200, 99);
    EXPECT_EQ(b.drv.send(extra.data(), 200), Err::Busy);
    EXPECT_EQ(b.drv.stats().tx_ring_full, 1u);
    EXPECT_TRUE(b.nic.wire.empty()) << "nothing sent before the device ran";
    EXPECT_FALSE(b.drv.tx_idle());

    EXPECT_EQ(b.nic.run_tx(3), 3u);
    EXPECT_EQ(b.drv.tx_free(), 3u);
    for (u32 i = 7; i < 10; ++i) {
        sent.push_back(frame_to(kMac, 300 + i, i));
        ASSERT_EQ(b.drv.send(sent.back().data(), static_cast<u32>(sent.back().size())), Err::Ok) << i;
    }
    EXPECT_EQ(b.drv.send(extra.data(), 200), Err::Busy);
    b.nic.run_tx();
    EXPECT_TRUE(b.drv.tx_idle());
    EXPECT_EQ(b.drv.tx_free(), 7u);
    EXPECT_EQ(b.nic.wire, sent);
    EXPECT_EQ(b.drv.stats().tx_frames, 10u);
    EXPECT_EQ(b.nic.bad_desc + b.nic.bad_tail + b.arena.faults, 0u);
}

TEST(E1000e, FrameLengthsOnTransmit) {
    Bench b;
    ASSERT_EQ(b.drv.init(), kOk);
    auto arp = frame_to(kMac, 42, 1);
    ASSERT_EQ(b.drv.send(arp.data(), 42), Err::Ok);
    ASSERT_EQ(b.nic.wire.size(), 1u);
    ASSERT_EQ(b.nic.wire[0].size(), kMinFrameBytes) << "short frames padded";
    EXPECT_TRUE(std::equal(arp.begin(), arp.end(), b.nic.wire[0].begin()));
    for (u32 i = 42; i < kMinFrameBytes; ++i) EXPECT_EQ(b.nic.wire[0][i], 0) << i;

    auto big = frame_to(kMac, kMaxFrameBytes + 1, 2);
    EXPECT_EQ(b.drv.send(big.data(), kMaxFrameBytes + 1), Err::Invalid) << "longer than the buffer";
    EXPECT_EQ(b.drv.send(big.data(), 13), Err::Invalid) << "shorter than a header";
    EXPECT_EQ(b.drv.stats().tx_rejected, 2u);
    ASSERT_EQ(b.drv.send(big.data(), kMaxFrameBytes), Err::Ok);
    ASSERT_EQ(b.nic.wire.size(), 2u);
    EXPECT_EQ(b.nic.wire[1], std::vector<u8>(big.begin(), big.begin() + kMaxFrameBytes));
}

TEST(E1000e, ReceiveHandsFramesOverInOrder) {
    Bench b;
    ASSERT_EQ(b.drv.init(), kOk);
    EXPECT_TRUE(b.drain().empty());
    EXPECT_EQ(b.nic.tail_writes, 2u) << "init's RDT and TDT only: no tail write when nothing was consumed";
    std::vector<std::vector<u8>> in;
    for (u32 i = 0; i < 5; ++i) {
        in.push_back(frame_to(kMac, 60 + 300 * i, 10 + i));
        ASSERT_TRUE(b.nic.deliver(in.back()));
    }
    std::vector<u8> bcast(64, 0xff);
    ASSERT_TRUE(b.nic.deliver(bcast)) << "broadcast accepted";
    in.push_back(bcast);
    EXPECT_FALSE(b.nic.deliver(frame_to(MacAddress{{0x52, 0x54, 0, 0, 0, 1}}, 64, 3))) << "other MAC filtered";
    auto got = b.drain(2);
    EXPECT_EQ(got.size(), 2u);
    auto rest = b.drain();
    got.insert(got.end(), rest.begin(), rest.end());
    EXPECT_EQ(got, in);
    EXPECT_EQ(b.drv.stats().rx_frames, 6u);
    EXPECT_EQ(b.rx_owned(), 31u) << "every descriptor given back";

    // receive(): one at a time, copied.
    auto f = frame_to(kMac, 1514, 77);
    ASSERT_TRUE(b.nic.deliver(f));
    u8 buf[2048];
    EXPECT_EQ(b.drv.receive(buf, sizeof buf), 1514u);
    EXPECT_EQ(std::vector<u8>(buf, buf + 1514), f);
    EXPECT_EQ(b.drv.receive(buf, sizeof buf), 0u);
}

TEST(E1000e, RingsWrapManyTimes) {
    Bench b(E1000eConfig{8, 8});
    ASSERT_EQ(b.drv.init(), kOk);
    test::Rng r{5};
    u64 sent = 0, got = 0;
    for (u32 round = 0; round < 100; ++round) {
        u32 burst = 1 + static_cast<u32>(r.below(7));  // up to the 7 descriptors the device owns
        std::vector<std::vector<u8>> in;
        for (u32 i = 0; i < burst; ++i) {
            in.push_back(frame_to(kMac, 14 + static_cast<u32>(r.below(1500)), sent++));
            ASSERT_TRUE(b.nic.deliver(in.back())) << "round " << round;
            // Echo it back out through the TX ring.
            ASSERT_EQ(b.drv.send(in.back().data(), static_cast<u32>(in.back().size())), Err::Ok);
        }
        auto out = b.drain();
        ASSERT_EQ(out, in) << "round " << round;
        got += out.size();
        ASSERT_EQ(b.rx_owned(), 7u);
    }
    EXPECT_EQ(got, sent);
    EXPECT_GT(sent, 8u * 20);
    ASSERT_EQ(b.nic.wire.size(), sent);
    EXPECT_EQ(b.nic.bad_desc + b.nic.bad_tail + b.arena.faults, 0u);
}

TEST(E1000e, FullReceiveRingDropsInTheDeviceAndRecovers) {
    Bench b(E1000eConfig{8, 8});
    ASSERT_EQ(b.drv.init(), kOk);
    for (u32 i = 0; i < 7; ++i) ASSERT_TRUE(b.nic.deliver(frame_to(kMac, 64, i)));
    EXPECT_FALSE(b.nic.deliver(frame_to(kMac, 64, 7)));
    EXPECT_EQ(b.nic.rx_no_descriptor, 1u);
    EXPECT_EQ(b.drain(3).size(), 3u);
    EXPECT_EQ(b.rx_owned(), 3u);
    for (u32 i = 0; i < 3; ++i) ASSERT_TRUE(b.nic.deliver(frame_to(kMac, 64, 10 + i)));
    EXPECT_FALSE(b.nic.deliver(frame_to(kMac, 64, 20)));
    EXPECT_EQ(b.drain().size(), 7u);
}

TEST(E1000e, FramesTooLongAreDropped) {
    Bench b;
    b.nic.long_frames = true;
    ASSERT_EQ(b.drv.init(), kOk);
    ASSERT_TRUE(b.nic.deliver(frame_to(kMac, 3000, 1)));  // two descriptors, EOP on the second
    ASSERT_TRUE(b.nic.deliver(frame_to(kMac, 5000, 2)));  // three
    auto ok = frame_to(kMac, 100, 3);
    ASSERT_TRUE(b.nic.deliver(ok));
    auto got = b.drain();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], ok);
    EXPECT_EQ(b.drv.stats().rx_oversize, 2u);
    EXPECT_EQ(b.rx_owned(), 31u);

    // Longer than the caller's buffer: dropped, the next one returned.
    ASSERT_TRUE(b.nic.deliver(frame_to(kMac, 200, 4)));
    ASSERT_TRUE(b.nic.deliver(frame_to(kMac, 50, 5)));
    u8 buf[100];
    EXPECT_EQ(b.drv.receive(buf, sizeof buf), 50u);
    EXPECT_EQ(b.drv.stats().rx_oversize, 3u);
    EXPECT_EQ(b.rx_owned(), 31u);
}

TEST(E1000e, FramesWithReceiveErrorsAreDropped) {
    Bench b;
    ASSERT_EQ(b.drv.init(), kOk);
    for (u8 err : {u8{0x01}, u8{0x02}, u8{0x04}, u8{0x10}, u8{0x80}}) {
        b.nic.inject_errors = err;
        ASSERT_TRUE(b.nic.deliver(frame_to(kMac, 80, err)));
    }
    b.nic.inject_errors = 0x20 | 0x40;  // TCP/UDP and IP checksum results: not ours to judge (offload off)
    auto kept = frame_to(kMac, 80, 9);
    ASSERT_TRUE(b.nic.deliver(kept));
    ASSERT_TRUE(b.nic.deliver(std::vector<u8>(14, 0xff)));
    auto got = b.drain();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], kept);
    EXPECT_EQ(got[1], std::vector<u8>(14, 0xff));
    EXPECT_EQ(b.drv.stats().rx_errors, 5u);
}

TEST(E1000e, LinkDown) {
    Bench b;
    b.nic.link = false;
    ASSERT_EQ(b.drv.init(), kOk) << "init does not wait for the link";
    EXPECT_FALSE(b.drv.link_up());
    EXPECT_FALSE(b.nic.deliver(frame_to(kMac, 64, 1)));
    auto f = frame_to(kMac, 64, 2);
    EXPECT_EQ(b.drv.send(f.data(), 64), Err::Ok) << "queued; the device drops it";
    EXPECT_TRUE(b.drv.tx_idle());
    EXPECT_EQ(b.nic.tx_while_down, 1u);
    EXPECT_TRUE(b.drain().empty());
    b.nic.link = true;
    EXPECT_TRUE(b.drv.link_up());
    ASSERT_TRUE(b.nic.deliver(f));
    EXPECT_EQ(b.drain().size(), 1u);
    b.nic.absent = true;  // surprise removal: all ones is not "link up"
    EXPECT_FALSE(b.drv.link_up());
}

TEST(E1000e, ScatteredDevicePages) {
    Bench b(E1000eConfig{16, 16}, /*scatter=*/true);
    ASSERT_EQ(b.drv.init(), kOk);
    EXPECT_NE(b.nic.ring_base(FakeE1000e::RDBAL), DmaArena::kBase);
    for (u32 i = 0; i < 40; ++i) {
        auto f = frame_to(kMac, 1000 + i, i);
        ASSERT_TRUE(b.nic.deliver(f));
        auto got = b.drain();
        ASSERT_EQ(got.size(), 1u);
        ASSERT_EQ(got[0], f);
        ASSERT_EQ(b.drv.send(f.data(), static_cast<u32>(f.size())), Err::Ok);
        ASSERT_EQ(b.nic.wire.back(), f);
    }
    EXPECT_EQ(b.arena.faults + b.nic.bad_desc, 0u);
}

TEST(E1000e, StopAndRestart) {
    Bench b(E1000eConfig{8, 8});
    ASSERT_EQ(b.drv.init(), kOk);
    for (u32 i = 0; i < 5; ++i) ASSERT_TRUE(b.nic.deliver(frame_to(kMac, 64, i)));
    EXPECT_EQ(b.drain(2).size(), 2u);
    b.drv.stop();
    EXPECT_FALSE(b.drv.started());
    EXPECT_EQ(b.nic.resets, 2u);
    EXPECT_FALSE(b.nic.regs[FakeE1000e::RCTL / 4] & FakeE1000e::kRctlEn);
    EXPECT_FALSE(b.nic.regs[FakeE1000e::TCTL / 4] & FakeE1000e::kTctlEn);
    auto f = frame_to(kMac, 64, 9);
    EXPECT_EQ(b.drv.send(f.data(), 64), Err::Invalid);
    EXPECT_EQ(b.drv.poll([](void*, const u8*, u32) { FAIL(); }, nullptr), 0u);
    // Fresh rings: frames left over from before are gone, new ones flow.
    ASSERT_EQ(b.drv.init(), kOk);
    EXPECT_TRUE(b.drain().empty());
    ASSERT_TRUE(b.nic.deliver(f));
    auto got = b.drain();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], f);
}

}  // namespace
