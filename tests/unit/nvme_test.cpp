// The portable NVMe driver against a small fake controller that lives in host
// memory: registers, doorbells, admin and I/O queues with phase bits, PRP
// walking, a disk in a host buffer, injected errors and lost commands.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "vio/nvme.h"

using namespace pv;
using namespace pv::nvme;

namespace {

constexpr u64 kIovaBase = 0x40000000;  // device addresses the fake sees

u32 ld32(const u8* p) { return u32{p[0]} | u32{p[1]} << 8 | u32{p[2]} << 16 | u32{p[3]} << 24; }
u64 ld64(const u8* p) { return ld32(p) | u64{ld32(p + 4)} << 32; }
void st32(u8* p, u32 v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<u8>(v >> (8 * i));
}
void st64(u8* p, u64 v) {
    st32(p, static_cast<u32>(v));
    st32(p + 4, static_cast<u32>(v >> 32));
}

// Host memory the "device" can reach: the driver's area and data buffers.
struct Arena {
    alignas(4096) u8 mem[96 * 4096];
    u8* at(u64 iova, u64 len) {
        if (iova < kIovaBase || iova - kIovaBase + len > sizeof mem) return nullptr;
        return mem + (iova - kIovaBase);
    }
    u64 iova(const void* p) const { return kIovaBase + static_cast<u64>(static_cast<const u8*>(p) - mem); }
};

struct FakeController {
    Arena& arena;
    // Configuration.
    u32 mqes = 63, dstrd = 0, to = 1, mpsmin = 0;
    u32 ready_delay = 3;  // CSTS reads before RDY follows CC.EN
    bool never_ready = false, fatal = false;
    u32 lbads = 9, ms = 0;
    u64 blocks = 2048;
    u64 bad_lba = ~u64{0};  // reads covering it fail with a media error
    u8 mdts = 5;            // 128 KiB
    // State.
    std::vector<u8> disk;
    u32 cc = 0, csts = 0, aqa = 0, intms = 0;
    u64 asq = 0, acq = 0;
    u32 pending_ready = 0;
    struct Q {
        bool live = false;
        u64 base = 0;
        u32 size = 0, head = 0, tail = 0;
        u16 cqid = 0;
        u8 phase = 1;
    } sq[2], cq[2];
    // Observations and injections.
    u32 commands = 0, dma_faults = 0, bad_doorbells = 0, drop_next = 0;
    std::vector<std::pair<u16, u8>> held;  // (cid, sqid) of dropped commands, completed later on request
    std::vector<u8> opcodes;
    u64 max_prp_pages = 0;
    // lazy: I/O commands are fetched at the doorbell (SQE copied, SQ head
    // moved on) but run (PRP list walked, data moved, completion posted) only
    // when the test says, in the order it says: out of order, several at once.
    bool lazy = false;
    struct Fetched {
        u8 qid;
        u8 sqe[64];
    };
    std::vector<Fetched> fetched;
    // Run fetched command i (an index into fetched), then forget it.
    void run_fetched(size_t i) {
        Fetched f = fetched[i];
        fetched.erase(fetched.begin() + static_cast<long>(i));
        bool was = lazy;
        lazy = false;
        execute(f.qid, f.sqe);
        lazy = was;
    }
    void run_all_fetched_reversed() {
        while (!fetched.empty()) run_fetched(fetched.size() - 1);
    }

    explicit FakeController(Arena& a) : arena(a), disk(blocks * 512) {}

    u64 cap() const {
        return u64{mqes} | u64{1} << 16 /* CQR */ | u64{to} << 24 | u64{dstrd} << 32 | u64{1} << 37 /* NVM */ |
               u64{mpsmin} << 48;
    }
    u32 stride() const { return 4u << dstrd; }

    u32 read32(u32 off) {
        switch (off) {
        case 0x00: return static_cast<u32>(cap());
        case 0x04: return static_cast<u32>(cap() >> 32);
        case 0x08: return 0x00010400;
        case 0x14: return cc;
        case 0x1c:
            if (pending_ready && --pending_ready == 0 && !never_ready) csts = (csts & ~1u) | (cc & 1);
            return csts | (fatal ? 2u : 0u);
        case 0x24: return aqa;
        default: return 0;
        }
    }
    u64 read64(u32 off) { return read32(off) | u64{read32(off + 4)} << 32; }

    void write32(u32 off, u32 v) {
        if (off >= 0x1000) return doorbell(off, v);
        switch (off) {
        case 0x0c: intms |= v; break;
        case 0x14: set_cc(v); break;
        case 0x24: aqa = v; break;
        case 0x28: asq = (asq & ~u64{0xffffffff}) | v; break;
        case 0x2c: asq = (asq & 0xffffffff) | u64{v} << 32; break;
        case 0x30: acq = (acq & ~u64{0xffffffff}) | v; break;
        case 0x34: acq = (acq & 0xffffffff) | u64{v} << 32; break;
        default: break;
        }
    }
    void write64(u32 off, u64 v) {
        write32(off, static_cast<u32>(v));
        write32(off + 4, static_cast<u32>(v >> 32));
    }

    void set_cc(u32 v) {
        bool was = cc & 1, now = v & 1;
        cc = v;
        if ((v >> 14) & 3) csts = (csts & ~0xcu) | 0x8;  // shutdown complete at once
        if (was == now) return;
        if (now) {
            sq[0] = Q{true, asq, (aqa & 0xfff) + 1, 0, 0, 0, 1};
            cq[0] = Q{true, acq, ((aqa >> 16) & 0xfff) + 1, 0, 0, 0, 1};
        } else {
            sq[0] = sq[1] = cq[0] = cq[1] = Q{};
            csts &= ~0xcu;
        }
        pending_ready = ready_delay ? ready_delay : 1;
    }

    void doorbell(u32 off, u32 v) {
        u32 idx = (off - 0x1000) / stride();
        if ((off - 0x1000) % stride() || idx >= 4) {
            ++bad_doorbells;
            return;
        }
        u32 qid = idx / 2;
        if (idx % 2 == 1) {  // CQ head
            if (!cq[qid].live || v >= cq[qid].size) ++bad_doorbells;
            else cq[qid].head = v;
            return;
        }
        Q& s = sq[qid];
        if (!s.live || v >= s.size) {
            ++bad_doorbells;
            return;
        }
        s.tail = v;
        while (s.head != s.tail) {
            u8* e = arena.at(s.base + s.head * 64, 64);
            s.head = (s.head + 1) % s.size;
            if (!e) {
                ++dma_faults;
                continue;
            }
            execute(qid, e);
        }
    }

    void post(u8 sqid, u16 cid, u16 status, u32 dw0 = 0) {
        Q& c = cq[sqid == 0 ? 0 : sq[sqid].cqid];
        u8* e = arena.at(c.base + c.tail * 16, 16);
        if (!e) {
            ++dma_faults;
            return;
        }
        st32(e, dw0);
        st32(e + 4, 0);
        st32(e + 8, sq[sqid].head | u32{sqid} << 16);
        st32(e + 12, cid | u32{c.phase} << 16 | u32{status} << 17);
        if (++c.tail == c.size) {
            c.tail = 0;
            c.phase ^= 1;
        }
    }

    // Late completion of every dropped command.
    void complete_held() {
        for (auto [cid, sqid] : held) post(sqid, cid, 0);
        held.clear();
    }

    // PRP1/PRP2 → list of device pages covering len bytes; false on a bad list.
    bool prps(u64 prp1, u64 prp2, u64 len, std::vector<std::pair<u64, u64>>& out) {
        u64 first = 4096 - (prp1 & 4095);
        out.push_back({prp1, first < len ? first : len});
        if (len <= first) return true;
        len -= first;
        u64 pages = (len + 4095) / 4096;
        if (pages > max_prp_pages) max_prp_pages = pages;
        if (pages == 1) {
            if (prp2 & 4095) return false;
            out.push_back({prp2, len});
            return true;
        }
        u8* list = arena.at(prp2, pages * 8);
        if (!list || (prp2 & 7)) return false;
        for (u64 i = 0; i < pages; ++i) {
            u64 a = ld64(list + i * 8);
            if (a & 4095) return false;
            u64 n = len < 4096 ? len : 4096;
            out.push_back({a, n});
            len -= n;
        }
        return true;
    }

    void execute(u8 qid, u8* e) {
        if (!lazy || qid == 0) ++commands;
        u32 cdw0 = ld32(e);
        u8 op = cdw0 & 0xff;
        u16 cid = static_cast<u16>(cdw0 >> 16);
        u32 nsid = ld32(e + 4);
        u64 prp1 = ld64(e + 24), prp2 = ld64(e + 32);
        u32 cdw10 = ld32(e + 40), cdw11 = ld32(e + 44), cdw12 = ld32(e + 48);
        if (lazy && qid != 0) {
            Fetched f{qid, {}};
            std::memcpy(f.sqe, e, 64);
            fetched.push_back(f);
            return;
        }
        opcodes.push_back(op);
        if (drop_next) {
            --drop_next;
            held.push_back({cid, qid});
            return;
        }
        if (qid == 0) return admin(cid, op, nsid, prp1, cdw10, cdw11);
        if (op == 0x00) return post(qid, cid, 0);
        if (op != 0x01 && op != 0x02) return post(qid, cid, 0x01);
        if (nsid != 1) return post(qid, cid, 0x0b);
        u64 lba = cdw10 | u64{cdw11} << 32;
        u64 n = (cdw12 & 0xffff) + 1;
        if (lba + n > blocks) return post(qid, cid, 0x80);
        if (op == 0x02 && bad_lba >= lba && bad_lba < lba + n) return post(qid, cid, 0x4281);  // DNR | media
        std::vector<std::pair<u64, u64>> segs;
        if (!prps(prp1, prp2, n * 512, segs)) return post(qid, cid, 0x13 /* invalid PRP offset */);
        u64 off = lba * 512;
        for (auto [a, len] : segs) {
            u8* p = arena.at(a, len);
            if (!p) {
                ++dma_faults;
                return post(qid, cid, 0x04);
            }
            if (op == 0x02) std::memcpy(p, &disk[off], len);
            else std::memcpy(&disk[off], p, len);
            off += len;
        }
        post(qid, cid, 0);
    }

    void admin(u16 cid, u8 op, u32 nsid, u64 prp1, u32 cdw10, u32 cdw11) {
        switch (op) {
        case 0x06: {
            u8* p = arena.at(prp1, 4096);
            if (!p) return post(0, cid, 0x04);
            std::memset(p, 0, 4096);
            if ((cdw10 & 0xff) == 1) {
                std::memcpy(p + 4, "FAKE0001            ", 20);
                std::memcpy(p + 24, "Fake NVMe Ctrl                          ", 40);
                std::memcpy(p + 64, "1.0     ", 8);
                p[77] = mdts;
                st32(p + 516, 1);
                return post(0, cid, 0);
            }
            if ((cdw10 & 0xff) == 0) {
                if (nsid != 1) return post(0, cid, 0x0b);
                st64(p, blocks);
                st64(p + 8, blocks);
                p[25] = 1;  // two formats
                p[26] = 1;  // in use: the second
                st32(p + 128, 9u << 16);
                st32(p + 132, ms | lbads << 16);
                return post(0, cid, 0);
            }
            return post(0, cid, 0x02);
        }
        case 0x09:
            if ((cdw10 & 0xff) != 0x07) return post(0, cid, 0x02);
            return post(0, cid, 0, cdw11);
        case 0x05: {
            u16 q = cdw10 & 0xffff;
            u32 size = (cdw10 >> 16) + 1;
            if (q != 1 || size > mqes + 1 || !(cdw11 & 1)) return post(0, cid, 0x102);  // invalid queue id/size
            cq[1] = Q{true, prp1, size, 0, 0, 0, 1};
            return post(0, cid, 0);
        }
        case 0x01: {
            u16 q = cdw10 & 0xffff;
            u32 size = (cdw10 >> 16) + 1;
            u16 cqid = static_cast<u16>(cdw11 >> 16);
            if (q != 1 || size > mqes + 1 || !cq[cqid].live || cqid == 0) return post(0, cid, 0x100);
            sq[1] = Q{true, prp1, size, 0, 0, cqid, 1};
            return post(0, cid, 0);
        }
        default: return post(0, cid, 0x01);
        }
    }
};

struct Clock {
    u64 t = 0;
};

struct Rig {
    Arena arena{};
    FakeController fake{arena};
    Clock clock;
    u8* area = arena.mem;  // the first kDmaAreaBytes: the driver's
    u8* buf = arena.mem + 12 * 4096;
    static_assert(kDmaAreaBytes <= 12 * 4096);
    u8* buf2 = arena.mem + 48 * 4096;

    NvmeHw hw() {
        return NvmeHw{
            [](void* c, u32 off) { return static_cast<FakeController*>(c)->read32(off); },
            [](void* c, u32 off, u32 v) { static_cast<FakeController*>(c)->write32(off, v); },
            [](void* c, u32 off) { return static_cast<FakeController*>(c)->read64(off); },
            [](void* c, u32 off, u64 v) { static_cast<FakeController*>(c)->write64(off, v); },
            &fake,
        };
    }
    NvmeDma dma() {
        NvmeDma d;
        d.base = area;
        d.size = kDmaAreaBytes;
        d.dma_addr = [](void* c, const void* p) { return static_cast<Arena*>(c)->iova(p); };
        d.ctx = &arena;
        return d;
    }
    NvmeClock clk() {
        NvmeClock c;
        c.now = [](void* x) { return ++static_cast<Clock*>(x)->t; };  // time passes as we poll
        c.ticks_per_ms = 100;
        c.ctx = &clock;
        return c;
    }
    NvmeConfig cfg() {
        NvmeConfig c;
        c.command_timeout_ms = 50;
        c.min_ready_timeout_ms = 10;
        return c;
    }
    NvmeDriver make() { return NvmeDriver(hw(), dma(), clk(), cfg()); }
    u64 iova(const void* p) { return arena.iova(p); }
};

void bring_up(NvmeDriver& d) {
    ASSERT_EQ(d.init(), kOk);
    ASSERT_EQ(d.identify(), kOk);
    ASSERT_EQ(d.create_io_queues(), kOk);
}

void fill(u8* p, u64 n, u8 seed) {
    for (u64 i = 0; i < n; ++i) p[i] = static_cast<u8>(seed + i * 7 + (i >> 9));
}

}  // namespace

TEST(Nvme, BringUpAndIdentify) {
    Rig r;
    r.fake.csts = 1;  // left enabled by firmware: the driver disables it first
    r.fake.cc = 1;
    NvmeDriver d = r.make();
    ASSERT_EQ(d.init(), kOk);
    EXPECT_EQ(r.fake.cc, 0x00460001u);
    EXPECT_EQ(r.fake.aqa, 0x003f003fu);
    EXPECT_EQ(r.fake.asq, r.iova(r.area));
    EXPECT_EQ(r.fake.acq, r.iova(r.area + 4096));
    EXPECT_EQ(d.queue_depth(), 64u);
    EXPECT_EQ(d.doorbell_stride(), 4u);
    ASSERT_EQ(d.identify(), kOk);
    EXPECT_STREQ(d.model(), "Fake NVMe Ctrl");
    EXPECT_STREQ(d.serial(), "FAKE0001");
    EXPECT_STREQ(d.firmware(), "1.0");
    EXPECT_EQ(d.blocks(), 2048u);
    EXPECT_EQ(d.max_blocks(), 256u);  // MDTS 5: 32 pages
    ASSERT_EQ(d.create_io_queues(), kOk);
    EXPECT_TRUE(r.fake.sq[1].live && r.fake.cq[1].live);
    EXPECT_EQ(r.fake.sq[1].size, 64u);
    EXPECT_EQ(r.fake.bad_doorbells, 0u);
    EXPECT_EQ(r.fake.dma_faults, 0u);
    EXPECT_EQ(d.shutdown(), kOk);
    EXPECT_EQ(r.fake.cc & 1, 0u);
}

TEST(Nvme, WriteThenReadBackThroughPrps) {
    Rig r;
    NvmeDriver d = r.make();
    bring_up(d);
    // One block, two pages (PRP2 a page), and many pages (PRP list), at page
    // offsets and not.
    struct Case {
        u64 lba;
        u32 count;
        u64 offset;
    } cases[] = {{0, 1, 0}, {5, 8, 0}, {20, 16, 0x200}, {100, 64, 0}, {300, 72, 0x40}, {2048 - 256, 256, 0}};
    u8 seed = 1;
    for (auto c : cases) {
        u64 n = u64{c.count} * 512;
        fill(r.buf + c.offset, n, seed);
        ASSERT_EQ(d.write(c.lba, c.count, r.iova(r.buf + c.offset)), kOk) << c.lba;
        EXPECT_EQ(std::memcmp(&r.fake.disk[c.lba * 512], r.buf + c.offset, n), 0) << c.lba;
        std::memset(r.buf2, 0xee, 34 * 4096);
        ASSERT_EQ(d.read(c.lba, c.count, r.iova(r.buf2 + c.offset)), kOk) << c.lba;
        EXPECT_EQ(std::memcmp(r.buf2 + c.offset, r.buf + c.offset, n), 0) << c.lba;
        EXPECT_EQ(r.buf2[c.offset + n], 0xee) << "read past the end";
        ++seed;
    }
    EXPECT_EQ(r.fake.max_prp_pages, 31u);  // 128 KiB from a page boundary: PRP1 + 31 list entries
    EXPECT_EQ(d.flush(), kOk);
    EXPECT_EQ(r.fake.opcodes.back(), 0x00);
    EXPECT_EQ(r.fake.dma_faults, 0u);
    EXPECT_EQ(r.fake.bad_doorbells, 0u);
}

TEST(Nvme, PhaseBitAcrossManyWraps) {
    Rig r;
    r.fake.mqes = 3;  // four-entry queues: a wrap every four commands
    NvmeDriver d = r.make();
    bring_up(d);
    EXPECT_EQ(d.queue_depth(), 4u);
    EXPECT_EQ(r.fake.aqa, 0x00030003u);
    EXPECT_EQ(r.fake.sq[1].size, 4u);
    for (u32 i = 0; i < 50; ++i) {
        fill(r.buf, 512, static_cast<u8>(i));
        ASSERT_EQ(d.write(i, 1, r.iova(r.buf)), kOk) << i;
    }
    for (u32 i = 0; i < 50; ++i) {
        ASSERT_EQ(d.read(i, 1, r.iova(r.buf2)), kOk) << i;
        fill(r.buf, 512, static_cast<u8>(i));
        ASSERT_EQ(std::memcmp(r.buf, r.buf2, 512), 0) << i;
    }
    // 100 I/O commands on a 4-deep queue: heads and tails agree on both sides.
    EXPECT_EQ(r.fake.sq[1].head, 100u % 4);
    EXPECT_EQ(r.fake.cq[1].head, 100u % 4);
    EXPECT_EQ(r.fake.cq[1].phase, 1 ^ ((100 / 4) & 1));
    EXPECT_EQ(r.fake.bad_doorbells, 0u);
}

TEST(Nvme, DoorbellStrideFromCap) {
    Rig r;
    r.fake.dstrd = 2;  // 16-byte doorbell stride
    NvmeDriver d = r.make();
    bring_up(d);
    EXPECT_EQ(d.doorbell_stride(), 16u);
    fill(r.buf, 4096, 9);
    EXPECT_EQ(d.write(7, 8, r.iova(r.buf)), kOk);
    EXPECT_EQ(d.read(7, 8, r.iova(r.buf2)), kOk);
    EXPECT_EQ(std::memcmp(r.buf, r.buf2, 4096), 0);
    EXPECT_EQ(r.fake.bad_doorbells, 0u);
}

TEST(Nvme, MediaErrorStatus) {
    Rig r;
    r.fake.bad_lba = 8;
    NvmeDriver d = r.make();
    bring_up(d);
    std::memset(r.buf2, 0x11, 4096);
    u32 s = d.read(4, 8, r.iova(r.buf2));
    EXPECT_EQ(s, 0x281u);  // SCT 2 media error, SC 0x81 unrecovered read error; DNR dropped
    EXPECT_EQ(sct_of(s), 2u);
    EXPECT_EQ(sc_of(s), 0x81u);
    EXPECT_STREQ(status_name(s), "unrecovered read error");
    EXPECT_EQ(r.buf2[0], 0x11);
    EXPECT_EQ(d.read(0, 8, r.iova(r.buf2)), kOk);  // the queue goes on
    EXPECT_EQ(d.read(9, 8, r.iova(r.buf2)), kOk);
}

TEST(Nvme, CommandTimeoutAndLateCompletion) {
    Rig r;
    NvmeDriver d = r.make();
    bring_up(d);
    fill(r.buf, 512, 3);
    ASSERT_EQ(d.write(1, 1, r.iova(r.buf)), kOk);
    r.fake.drop_next = 1;
    u64 before = r.clock.t;
    EXPECT_EQ(d.read(1, 1, r.iova(r.buf2)), kTimeout);
    EXPECT_GE(r.clock.t - before, 50u * 100);  // waited the configured 50 ms
    // The lost command completes late: its completion must not be taken for
    // the next command's.
    r.fake.complete_held();
    std::memset(r.buf2, 0, 512);
    ASSERT_EQ(d.read(1, 1, r.iova(r.buf2)), kOk);
    EXPECT_EQ(std::memcmp(r.buf, r.buf2, 512), 0);
    EXPECT_EQ(r.fake.cq[1].head, r.fake.cq[1].tail);  // both completions consumed
    ASSERT_EQ(d.read(1, 1, r.iova(r.buf2)), kOk);
}

TEST(Nvme, AdminTimeout) {
    Rig r;
    NvmeDriver d = r.make();
    ASSERT_EQ(d.init(), kOk);
    r.fake.drop_next = 1;
    EXPECT_EQ(d.identify(), kTimeout);
    EXPECT_EQ(d.identify(), kOk);
}

TEST(Nvme, ControllerNeverReady) {
    Rig r;
    r.fake.never_ready = true;
    NvmeDriver d = r.make();
    EXPECT_EQ(d.init(), kTimeout);
    EXPECT_EQ(d.identify(), kInvalid);
    EXPECT_EQ(d.read(0, 1, r.iova(r.buf)), kInvalid);
}

TEST(Nvme, ReadyTimeoutFollowsCapTo) {
    Rig r;
    r.fake.never_ready = true;
    r.fake.to = 4;  // 2 s
    NvmeDriver d = r.make();
    EXPECT_EQ(d.init(), kTimeout);
    EXPECT_GE(r.clock.t, 2000u * 100);
}

TEST(Nvme, ControllerFatalStatus) {
    Rig r;
    r.fake.fatal = true;
    NvmeDriver d = r.make();
    EXPECT_EQ(d.init(), kFatal);
}

TEST(Nvme, UnsupportedControllers) {
    Rig r;
    r.fake.mpsmin = 1;  // 8 KiB minimum page
    NvmeDriver d = r.make();
    EXPECT_EQ(d.init(), kUnsupported);
    EXPECT_EQ(r.fake.commands, 0u);
}

TEST(Nvme, Only512ByteBlocks) {
    Rig r;
    r.fake.lbads = 12;
    NvmeDriver d = r.make();
    ASSERT_EQ(d.init(), kOk);
    EXPECT_EQ(d.identify(), kBadLbaFormat);
    Rig r2;
    r2.fake.ms = 8;  // 512 + 8 bytes of metadata
    NvmeDriver d2 = r2.make();
    ASSERT_EQ(d2.init(), kOk);
    EXPECT_EQ(d2.identify(), kBadLbaFormat);
}

TEST(Nvme, BadRequestsNeverReachTheController) {
    Rig r;
    NvmeDriver d = r.make();
    bring_up(d);
    u32 before = r.fake.commands;
    EXPECT_EQ(d.read(0, 0, r.iova(r.buf)), kInvalid);
    EXPECT_EQ(d.read(2047, 2, r.iova(r.buf)), kInvalid);
    EXPECT_EQ(d.read(4096, 1, r.iova(r.buf)), kInvalid);
    EXPECT_EQ(d.read(0, d.max_blocks() + 1, r.iova(r.buf)), kInvalid);
    EXPECT_EQ(d.write(0, 1, r.iova(r.buf) + 2), kInvalid);
    EXPECT_EQ(r.fake.commands, before);
    EXPECT_EQ(d.read(2047, 1, r.iova(r.buf)), kOk);
}

TEST(Nvme, ReinitAfterUse) {
    Rig r;
    NvmeDriver d = r.make();
    bring_up(d);
    fill(r.buf, 1024, 5);
    ASSERT_EQ(d.write(3, 2, r.iova(r.buf)), kOk);
    bring_up(d);  // reset: fresh queues on both sides
    ASSERT_EQ(d.read(3, 2, r.iova(r.buf2)), kOk);
    EXPECT_EQ(std::memcmp(r.buf, r.buf2, 1024), 0);
    EXPECT_EQ(r.fake.bad_doorbells, 0u);
}

// --- asynchronous I/O --------------------------------------------------------

TEST(NvmeAsync, ManyInFlightCompleteOutOfOrder) {
    Rig r;
    NvmeDriver d = r.make();
    bring_up(d);
    ASSERT_EQ(d.max_in_flight(), kCommandSlots - 1);  // 64-entry queues: the pool bounds it, one slot kept for read()
    for (u32 i = 0; i < 32; ++i) fill(&r.fake.disk[i * 4096], 4096, static_cast<u8>(i + 1));
    r.fake.lazy = true;
    u32 n = d.max_in_flight();
    for (u32 i = 0; i < n; ++i) ASSERT_EQ(d.submit(false, i * 8, 8, r.iova(r.buf2 + i * 4096), 100 + i), kOk) << i;
    EXPECT_EQ(d.in_flight(), n);
    EXPECT_EQ(d.submit(false, 0, 8, r.iova(r.buf2), 999), kBusy);  // the pool is full: nothing reaches the device
    EXPECT_EQ(r.fake.fetched.size(), n);
    IoCompletion got[kCommandSlots];
    EXPECT_EQ(d.poll(got, kCommandSlots), 0u);
    // Every other command first, then the rest backwards, a few per poll.
    std::vector<bool> seen(n);
    u32 done = 0;
    for (size_t i = 0; i < r.fake.fetched.size();) r.fake.run_fetched(i), ++i;  // runs 0, 2, 4 ... of the original order
    while (done < n) {
        u32 k = d.poll(got, 5);
        EXPECT_LE(k, 5u);
        for (u32 j = 0; j < k; ++j) {
            u64 c = got[j].cookie - 100;
            ASSERT_LT(c, n);
            EXPECT_FALSE(seen[c]) << "answered twice: " << c;
            seen[c] = true;
            EXPECT_EQ(got[j].status, kOk);
            EXPECT_FALSE(got[j].dnr);
        }
        done += k;
        if (k == 0) {
            ASSERT_FALSE(r.fake.fetched.empty()) << "commands lost";
            r.fake.run_fetched(r.fake.fetched.size() - 1);
            if (!r.fake.fetched.empty()) r.fake.run_fetched(0);
        }
    }
    EXPECT_EQ(d.in_flight(), 0u);
    for (u32 i = 0; i < n; ++i) EXPECT_EQ(std::memcmp(r.buf2 + i * 4096, &r.fake.disk[i * 4096], 4096), 0) << i;
    EXPECT_EQ(r.fake.bad_doorbells, 0u);
    EXPECT_EQ(r.fake.dma_faults, 0u);
}

TEST(NvmeAsync, EachSlotKeepsItsOwnPrpListUntilItCompletes) {
    Rig r;
    NvmeDriver d = r.make();
    bring_up(d);
    // Three scattered 4-page reads in flight at once; the controller walks
    // their PRP lists only when it runs them, in reverse order.
    for (u32 i = 0; i < 12; ++i) fill(&r.fake.disk[(64 + i * 8) * 512], 4096, static_cast<u8>(0x40 + i));
    r.fake.lazy = true;
    u64 pages[3][4];
    for (u32 c = 0; c < 3; ++c)
        for (u32 p = 0; p < 4; ++p) pages[c][p] = r.iova(r.buf2 + ((3 - p) * 3 + c) * 4096);  // scattered, backwards
    for (u32 c = 0; c < 3; ++c) ASSERT_EQ(d.submit_pages(false, 64 + c * 32, pages[c], 4, c), kOk);
    r.fake.run_all_fetched_reversed();
    IoCompletion got[4];
    ASSERT_EQ(d.poll(got, 4), 3u);
    EXPECT_EQ(got[0].status | got[1].status | got[2].status, kOk);
    for (u32 c = 0; c < 3; ++c)
        for (u32 p = 0; p < 4; ++p)
            EXPECT_EQ(std::memcmp(r.buf2 + ((3 - p) * 3 + c) * 4096, &r.fake.disk[(64 + c * 32 + p * 8) * 512], 4096), 0)
                << c << " " << p;
    EXPECT_EQ(r.fake.dma_faults, 0u);
}

TEST(NvmeAsync, PhaseAndHeadsAcrossWrapsWithSeveralAtOnce) {
    Rig r;
    r.fake.mqes = 7;  // eight-entry queues: 7 commands at most, 6 of them asynchronous
    NvmeDriver d = r.make();
    bring_up(d);
    ASSERT_EQ(d.max_in_flight(), 6u);
    r.fake.lazy = true;
    u64 next = 0, answered = 0;
    IoCompletion got[8];
    for (u32 round = 0; round < 40; ++round) {
        while (d.submit(true, next % 64, 1, r.iova(r.buf), next) == kOk) ++next;
        EXPECT_EQ(d.in_flight(), 6u);
        // A varying number complete, from the back or the front.
        u32 k = 1 + round % 4;
        for (u32 j = 0; j < k && !r.fake.fetched.empty(); ++j)
            r.fake.run_fetched(round % 2 ? 0 : r.fake.fetched.size() - 1);
        u32 m = d.poll(got, 8);
        EXPECT_EQ(m, k) << round;
        for (u32 j = 0; j < m; ++j) EXPECT_EQ(got[j].status, kOk);
        answered += m;
    }
    r.fake.run_all_fetched_reversed();
    answered += d.poll(got, 8);
    EXPECT_EQ(answered, next);
    EXPECT_EQ(d.in_flight(), 0u);
    EXPECT_EQ(r.fake.cq[1].head, r.fake.cq[1].tail);
    EXPECT_EQ(r.fake.bad_doorbells, 0u);
    // The synchronous path still works on the same queue.
    r.fake.lazy = false;
    EXPECT_EQ(d.read(0, 1, r.iova(r.buf2)), kOk);
}

TEST(NvmeAsync, ReadWhileOthersAreInFlight) {
    Rig r;
    NvmeDriver d = r.make();
    bring_up(d);
    fill(&r.fake.disk[0], 4096, 0x33);
    r.fake.lazy = true;
    while (d.submit(false, 8, 8, r.iova(r.buf), 7) == kOk) {
    }
    EXPECT_EQ(d.in_flight(), d.max_in_flight());
    r.fake.lazy = false;  // the synchronous read completes at once; the others still wait
    ASSERT_EQ(d.read(0, 8, r.iova(r.buf2)), kOk);
    EXPECT_EQ(std::memcmp(r.buf2, &r.fake.disk[0], 4096), 0);
    EXPECT_EQ(d.in_flight(), d.max_in_flight());
    r.fake.run_all_fetched_reversed();
    IoCompletion got[kCommandSlots];
    EXPECT_EQ(d.poll(got, kCommandSlots), d.max_in_flight());
    EXPECT_EQ(d.in_flight(), 0u);
}

TEST(NvmeAsync, ErrorStatusAndDnr) {
    Rig r;
    r.fake.bad_lba = 20;
    NvmeDriver d = r.make();
    bring_up(d);
    ASSERT_EQ(d.submit(false, 16, 8, r.iova(r.buf2), 1), kOk);
    ASSERT_EQ(d.submit(false, 0, 8, r.iova(r.buf2 + 4096), 2), kOk);
    IoCompletion got[4];
    ASSERT_EQ(d.poll(got, 4), 2u);
    for (u32 j = 0; j < 2; ++j) {
        if (got[j].cookie == 1) {
            EXPECT_EQ(got[j].status, 0x281u);
            EXPECT_TRUE(got[j].dnr);
        } else {
            EXPECT_EQ(got[j].status, kOk);
            EXPECT_FALSE(got[j].dnr);
        }
    }
    EXPECT_EQ(d.read(16, 8, r.iova(r.buf2)), 0x281u);
    EXPECT_TRUE(d.last_dnr());
    EXPECT_EQ(d.read(0, 8, r.iova(r.buf2)), kOk);
    EXPECT_FALSE(d.last_dnr());
    EXPECT_EQ(d.submit(false, 2047, 2, r.iova(r.buf2), 3), kInvalid);
    EXPECT_EQ(d.submit(false, 0, 1, r.iova(r.buf2) + 2, 3), kInvalid);
    u64 bad[2] = {r.iova(r.buf2), r.iova(r.buf2) + 8};
    EXPECT_EQ(d.submit_pages(false, 0, bad, 2, 3), kInvalid);
    EXPECT_EQ(d.in_flight(), 0u);
}

TEST(NvmeAsync, LostCommandTimesOutAndKeepsItsSlotUntilItsLateAnswer) {
    Rig r;
    NvmeDriver d = r.make();
    bring_up(d);
    r.fake.drop_next = 1;
    ASSERT_EQ(d.submit(false, 0, 8, r.iova(r.buf2), 5), kOk);
    ASSERT_EQ(d.submit(false, 8, 8, r.iova(r.buf2 + 4096), 6), kOk);
    IoCompletion got[4];
    ASSERT_EQ(d.poll(got, 4), 1u);
    EXPECT_EQ(got[0].cookie, 6u);
    u64 before = r.clock.t;
    u32 k = 0;
    while ((k = d.poll(got, 4)) == 0 && r.clock.t - before < 100000) {
    }
    ASSERT_EQ(k, 1u);
    EXPECT_EQ(got[0].cookie, 5u);
    EXPECT_EQ(got[0].status, kTimeout);
    EXPECT_GE(r.clock.t - before, 40u * 100);
    EXPECT_EQ(d.in_flight(), 1u);  // its PRPs may still be read: the slot stays taken
    EXPECT_EQ(d.poll(got, 4), 0u);  // reported once
    r.fake.complete_held();
    EXPECT_EQ(d.poll(got, 4), 0u);  // the late answer frees the slot and is not reported
    EXPECT_EQ(d.in_flight(), 0u);
    bring_up(d);                    // init() frees lost slots too
    EXPECT_EQ(d.in_flight(), 0u);
}
