// A small model of an Intel 82574 for host tests of vio/e1000e: the register
// block (CTRL.RST, STATUS.LU, EECD/EERD, RAL/RAH, RCTL/TCTL, ring registers),
// legacy RX and TX descriptor rings walked by head and tail with DD/EOP
// write-back, the unicast/broadcast receive filter, and device memory reached
// only through bus addresses (optionally scattered page by page, as a TCE
// table may map them). Frames the device transmits collect on `wire`.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "vio/e1000e.h"

namespace pv::test {

// Device-visible memory: host page i appears at bus page perm[i].
struct DmaArena {
    static constexpr u64 kBase = 0x80000000;
    static constexpr u32 kPages = 48;
    alignas(4096) u8 mem[kPages * 4096];
    u32 perm[kPages];
    u64 faults = 0;

    explicit DmaArena(bool scatter = false) {
        for (u32 i = 0; i < kPages; ++i) perm[i] = scatter ? (i * 7 + 3) % kPages : i;  // 7 is coprime to 48
        std::memset(mem, 0, sizeof mem);
    }
    u64 iova(const void* p) const {
        u64 off = static_cast<u64>(static_cast<const u8*>(p) - mem);
        return kBase + u64{perm[off / 4096]} * 4096 + off % 4096;
    }
    static u64 to_iova(void* ctx, const void* p) { return static_cast<DmaArena*>(ctx)->iova(p); }
    // The bytes at a bus address, within one bus page (nullptr: a blocked DMA).
    u8* at(u64 a, u64 len) {
        if (a < kBase || len > 4096 || (a % 4096) + len > 4096) return ++faults, nullptr;
        u64 bus_page = (a - kBase) / 4096;
        for (u32 i = 0; i < kPages; ++i)
            if (perm[i] == bus_page) return mem + u64{i} * 4096 + a % 4096;
        return ++faults, nullptr;
    }
};

inline u64 ld(const u8* p, int n) {
    u64 v = 0;
    for (int i = n - 1; i >= 0; --i) v = v << 8 | p[i];
    return v;
}
inline void st(u8* p, u64 v, int n) {
    for (int i = 0; i < n; ++i) p[i] = static_cast<u8>(v >> (8 * i));
}

struct FakeE1000e {
    // Register offsets the model knows (the driver's own are private).
    enum : u32 {
        CTRL = 0x0000, STATUS = 0x0008, EECD = 0x0010, EERD = 0x0014, CTRL_EXT = 0x0018, ICR = 0x00c0,
        IMS = 0x00d0, IMC = 0x00d8, RCTL = 0x0100, TCTL = 0x0400, RDBAL = 0x2800, RDBAH = 0x2804,
        RDLEN = 0x2808, RDH = 0x2810, RDT = 0x2818, RXDCTL = 0x2828, TDBAL = 0x3800, TDBAH = 0x3804,
        TDLEN = 0x3808, TDH = 0x3810, TDT = 0x3818, TXDCTL = 0x3828, RXCSUM = 0x5000, RFCTL = 0x5008,
        MTA = 0x5200, RAL0 = 0x5400, RAH0 = 0x5404,
    };
    static constexpr u32 kRst = 1u << 26, kGioMasterDisable = 1u << 2, kSlu = 1u << 6;
    static constexpr u32 kRctlEn = 1u << 1, kRctlUpe = 1u << 3, kRctlBam = 1u << 15, kRctlSecrc = 1u << 26;
    static constexpr u32 kTctlEn = 1u << 1;

    DmaArena& arena;
    e1000e::MacAddress perm_mac;
    // Configuration and injections.
    bool absent = false;        // every read returns all ones
    bool link = true;           // STATUS.LU
    bool mac_in_ral = true;     // false: RAH0.AV clear after reset, the MAC only in the EEPROM
    bool stuck_reset = false;   // CTRL.RST never self-clears
    bool tx_manual = false;     // TDT writes do not start transmission; run_tx() does
    bool long_frames = false;   // accept frames over 1522 bytes (spread over descriptors)
    u32 rst_reads = 3;          // CTRL reads before RST clears
    u16 eeprom[64]{};
    u8 inject_errors = 0;       // error byte of the next received descriptor
    // State.
    std::vector<u32> regs = std::vector<u32>(0x8000 / 4, 0);
    u32 rst_pending = 0;
    u32 resets = 0;
    std::vector<std::vector<u8>> wire;  // transmitted frames, in order
    u64 rx_no_descriptor = 0, rx_filtered = 0, rx_off = 0, tx_while_down = 0, bad_tail = 0, bad_desc = 0;
    u64 tail_writes = 0;

    FakeE1000e(DmaArena& a, e1000e::MacAddress m) : arena(a), perm_mac(m) {
        for (int i = 0; i < 3; ++i) eeprom[i] = static_cast<u16>(m.b[2 * i] | m.b[2 * i + 1] << 8);
        power_on();
    }

    // mta_kept: a software reset leaves the multicast table as it was
    // (undefined at power-up: modelled as whatever was there).
    void power_on(bool mta_kept = false) {
        std::vector<u32> mta(regs.begin() + MTA / 4, regs.begin() + MTA / 4 + 128);
        std::fill(regs.begin(), regs.end(), 0);
        if (mta_kept) std::copy(mta.begin(), mta.end(), regs.begin() + MTA / 4);
        regs[RXDCTL / 4] = 1u << 16;
        regs[TXDCTL / 4] = 1u << 22;
        regs[EECD / 4] = 1u << 9 | 1u << 8;  // AUTO_RD, PRES
        load_mac();
    }
    void load_mac() {
        if (!mac_in_ral) {
            regs[RAL0 / 4] = regs[RAH0 / 4] = 0;
            return;
        }
        regs[RAL0 / 4] = static_cast<u32>(ld(perm_mac.b, 4));
        regs[RAH0 / 4] = static_cast<u32>(ld(perm_mac.b + 4, 2)) | 1u << 31;
    }
    // A full software reset as the datasheet describes it (QEMU 7.2 keeps
    // the ring registers: the driver writes all of them anyway).
    void do_reset() {
        ++resets;
        u32 ctrl = regs[CTRL / 4];
        power_on(/*mta_kept=*/true);
        regs[CTRL / 4] = ctrl & ~(kRst | kGioMasterDisable);
        rst_pending = rst_reads;
    }

    u32 read32(u32 off) {
        EXPECT_EQ(off % 4, 0u);
        if (absent) return ~u32{0};
        switch (off) {
        case CTRL:
            if (rst_pending && !stuck_reset && --rst_pending == 0) regs[CTRL / 4] &= ~kRst;
            return regs[CTRL / 4];
        case STATUS: {
            u32 s = 1u;  // FD
            if (link) s |= 1u << 1;
            if (!(regs[CTRL / 4] & kGioMasterDisable)) s |= 1u << 19;
            return s;
        }
        case ICR: {
            u32 v = regs[ICR / 4];
            regs[ICR / 4] = 0;
            return v;
        }
        default: return off < regs.size() * 4 ? regs[off / 4] : 0;
        }
    }

    void write32(u32 off, u32 v) {
        EXPECT_EQ(off % 4, 0u);
        if (absent) return;
        switch (off) {
        case CTRL:
            regs[CTRL / 4] = v;
            if (v & kRst) {
                do_reset();
                regs[CTRL / 4] |= kRst;  // reads back set until it self-clears
            }
            return;
        case EERD:
            if (v & 1) {
                u32 addr = (v >> 2) & 0x3fff;
                regs[EERD / 4] = (addr << 2) | 2u | u32{addr < 64 ? eeprom[addr] : u16{0xffff}} << 16;
            }
            return;
        case IMC: regs[IMS / 4] &= ~v; return;
        case RDT:
            ++tail_writes;
            if (v >= ring_size(RDLEN)) ++bad_tail;
            regs[RDT / 4] = v;
            return;
        case TDT:
            ++tail_writes;
            if (v >= ring_size(TDLEN)) ++bad_tail;
            regs[TDT / 4] = v;
            if (!tx_manual) run_tx();
            return;
        default:
            if (off < regs.size() * 4) regs[off / 4] = v;
        }
    }

    u32 ring_size(u32 len_reg) const { return regs[len_reg / 4] / 16; }
    u64 ring_base(u32 lo) const { return u64{regs[lo / 4]} | u64{regs[lo / 4 + 1]} << 32; }
    u8* desc(u32 lo, u32 i) { return arena.at(ring_base(lo) + u64{i} * 16, 16); }

    // Transmit everything between TDH and TDT (up to max frames).
    u32 run_tx(u32 max = ~u32{0}) {
        u32 n = ring_size(TDLEN), done = 0;
        if (!(regs[TCTL / 4] & kTctlEn) || n == 0) return 0;
        std::vector<u8> frame;
        while (regs[TDH / 4] != regs[TDT / 4] && done < max) {
            u8* d = desc(TDBAL, regs[TDH / 4]);
            if (!d) return ++bad_desc, done;
            u64 addr = ld(d, 8);
            u32 len = static_cast<u32>(ld(d + 8, 2));
            u8 cmd = d[11];
            u8* buf = arena.at(addr, len);
            if (!buf || len == 0 || (cmd & 0x20) /* DEXT */) {
                ++bad_desc;
            } else {
                frame.insert(frame.end(), buf, buf + len);
            }
            if (cmd & 0x08) d[12] |= 1;  // RS: DD
            regs[TDH / 4] = (regs[TDH / 4] + 1) % n;
            if (cmd & 0x01) {  // EOP
                if (link) wire.push_back(frame);
                else ++tx_while_down;
                frame.clear();
                ++done;
            }
        }
        return done;
    }

    bool rx_accepts(const std::vector<u8>& f) const {
        u32 rctl = regs[RCTL / 4];
        if (rctl & kRctlUpe) return true;
        bool bcast = std::all_of(f.begin(), f.begin() + 6, [](u8 b) { return b == 0xff; });
        if (bcast) return rctl & kRctlBam;
        u32 ral = regs[RAL0 / 4], rah = regs[RAH0 / 4];
        return (rah >> 31) && ld(f.data(), 4) == ral && ld(f.data() + 4, 2) == (rah & 0xffff);
    }

    // A frame (without FCS) arriving from the wire: false if the device did
    // not store it.
    bool deliver(const std::vector<u8>& f) {
        u32 rctl = regs[RCTL / 4];
        if (!(rctl & kRctlEn) || !link) return ++rx_off, false;
        if (f.size() < 14 || !rx_accepts(f)) return ++rx_filtered, false;
        if (f.size() > 1518 && !long_frames) return ++rx_filtered, false;
        std::vector<u8> stored = f;
        if (!(rctl & kRctlSecrc)) stored.insert(stored.end(), {0xde, 0xad, 0xbe, 0xef});  // FCS kept
        const u32 bufsz = 2048, n = ring_size(RDLEN);
        u32 need = static_cast<u32>((stored.size() + bufsz - 1) / bufsz);
        u32 head = regs[RDH / 4], tail = regs[RDT / 4];
        u32 free = n ? (tail + n - head) % n : 0;
        if (free < need) return ++rx_no_descriptor, false;
        for (u32 k = 0; k < need; ++k) {
            u8* d = desc(RDBAL, head);
            if (!d) return ++bad_desc, false;
            u32 off = k * bufsz, len = static_cast<u32>(std::min<size_t>(bufsz, stored.size() - off));
            u8* buf = arena.at(ld(d, 8), len);
            if (!buf) return ++bad_desc, false;
            std::memcpy(buf, stored.data() + off, len);
            st(d + 8, len, 2);
            d[13] = k + 1 == need ? inject_errors : 0;
            d[12] = static_cast<u8>(1 | (k + 1 == need ? 2 : 0));  // DD, EOP on the last
            head = (head + 1) % n;
        }
        inject_errors = 0;
        regs[RDH / 4] = head;
        return true;
    }

    static u32 r32(void* c, u32 off) { return static_cast<FakeE1000e*>(c)->read32(off); }
    static void w32(void* c, u32 off, u32 v) { static_cast<FakeE1000e*>(c)->write32(off, v); }
    e1000e::E1000eHw hw() { return {&r32, &w32, this}; }
};

// A clock that advances one tick per reading (1000 ticks per ms).
struct StepClock {
    u64 t = 0;
    static u64 now(void* c) { return ++static_cast<StepClock*>(c)->t; }
    e1000e::E1000eClock clock() { return {&now, 1000, this}; }
};

}  // namespace pv::test
