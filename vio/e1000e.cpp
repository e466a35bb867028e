// Polling 82574 driver: see e1000e.h and docs/network-link.md. Register
// offsets and bits are those of the Intel 82574 GbE Controller Family
// datasheet (section 10); registers and descriptors are little-endian.
#include "vio/e1000e.h"

#include "base/endian.h"

namespace pv::e1000e {
namespace {

// Registers.
constexpr u32 kCtrl = 0x0000, kStatus = 0x0008, kEecd = 0x0010, kEerd = 0x0014, kCtrlExt = 0x0018;
constexpr u32 kIcr = 0x00c0, kImc = 0x00d8;
constexpr u32 kRctl = 0x0100, kTctl = 0x0400, kTipg = 0x0410;
constexpr u32 kRdbal = 0x2800, kRdbah = 0x2804, kRdlen = 0x2808, kRdh = 0x2810, kRdt = 0x2818, kRdtr = 0x2820,
              kRxdctl = 0x2828, kRadv = 0x282c;
constexpr u32 kTdbal = 0x3800, kTdbah = 0x3804, kTdlen = 0x3808, kTdh = 0x3810, kTdt = 0x3818, kTidv = 0x3820,
              kTxdctl = 0x3828, kTadv = 0x382c;
constexpr u32 kRxcsum = 0x5000, kRfctl = 0x5008, kMta = 0x5200, kRal0 = 0x5400, kRah0 = 0x5404;
constexpr u32 kMtaEntries = 128, kRarEntries = 5;

// CTRL.
constexpr u32 kCtrlGioMasterDisable = 1u << 2, kCtrlLrst = 1u << 3, kCtrlAsde = 1u << 5, kCtrlSlu = 1u << 6,
              kCtrlIlos = 1u << 7, kCtrlFrcspd = 1u << 11, kCtrlFrcdpx = 1u << 12, kCtrlRst = 1u << 26,
              kCtrlVme = 1u << 30, kCtrlPhyRst = 1u << 31;
// STATUS, EECD, EERD, CTRL_EXT.
constexpr u32 kStatusLu = 1u << 1, kStatusGioMasterEnable = 1u << 19;
constexpr u32 kEecdAutoRd = 1u << 9;
constexpr u32 kEerdStart = 1u << 0, kEerdDone = 1u << 1, kEerdAddrShift = 2, kEerdDataShift = 16;
constexpr u32 kCtrlExtDrvLoad = 1u << 28;
constexpr u32 kRahAv = 1u << 31;
// RCTL: enable, broadcast accept, strip CRC; BSIZE 00 (2048), legacy descriptors.
constexpr u32 kRctlEn = 1u << 1, kRctlBam = 1u << 15, kRctlSecrc = 1u << 26;
// TCTL: enable, pad short packets, collision threshold 15, distance 63 (full duplex), retransmit on late collision.
constexpr u32 kTctlEn = 1u << 1, kTctlPsp = 1u << 3, kTctlCt = 0x0fu << 4, kTctlCold = 0x3fu << 12,
              kTctlRtlc = 1u << 24;
constexpr u32 kTipgCopper = 8 | 8u << 10 | 6u << 20;  // IPGT 8, IPGR1 8, IPGR2 6
// RXDCTL/TXDCTL: thresholds counted in descriptors, write back every descriptor.
constexpr u32 kDctlGran = 1u << 24, kDctlWthreshMask = 0x3fu << 16, kDctlWthresh1 = 1u << 16;
constexpr u32 kTxdctlCountDesc = 1u << 22;  // set as Linux does for the 82571 family

// Descriptor bits.
constexpr u8 kTxCmdEop = 1u << 0, kTxCmdIfcs = 1u << 1, kTxCmdRs = 1u << 3;
constexpr u8 kTxStaDd = 1u << 0;
constexpr u8 kRxStaDd = 1u << 0, kRxStaEop = 1u << 1;
// Frame errors (CE, SE, SEQ, CXE, RXE); IPE/TCPE are checksum-offload results
// (offload is off; the link layer checks its own sums).
constexpr u8 kRxErrFrame = 0x01 | 0x02 | 0x04 | 0x10 | 0x80;

constexpr u32 kEthHeaderBytes = 14;
constexpr u32 kTxDelayUnits = 8, kTxAbsDelayUnits = 32;  // Linux's defaults; no interrupts are used

template <typename T>
constexpr T le(T v) {
    return kHostLittleEndian ? v : byteswap(v);
}

void copy(u8* d, const u8* s, u32 n) { __builtin_memcpy(d, s, n); }

}  // namespace

const char* status_name(u32 s) {
    switch (s) {
    case kOk: return "ok";
    case kTimeout: return "timeout";
    case kNoDevice: return "no device";
    case kNoMac: return "no MAC address";
    case kInvalid: return "invalid configuration";
    default: return "unknown status";
    }
}

u64 Driver::deadline(u32 ms) const { return clock_.now(clock_.ctx) + u64{ms} * clock_.ticks_per_ms; }
bool Driver::expired(u64 dl) const { return static_cast<i64>(clock_.now(clock_.ctx) - dl) > 0; }

bool Driver::link_up() const {
    u32 s = rd(kStatus);
    return s != ~u32{0} && (s & kStatusLu);
}

// Quiesce, reset, and bring the MAC back in a known state. The 82574 keeps
// its ring registers over CTRL.RST only in some models of it (QEMU 7.2 keeps
// everything but the MAC address), so init() writes every register it uses.
u32 Driver::reset() {
    if (rd(kStatus) == ~u32{0}) return kNoDevice;
    wr(kImc, ~u32{0});
    wr(kRctl, 0);
    wr(kTctl, kTctlPsp);
    // Stop bus mastering so that no DMA is in flight across the reset (8.1.3;
    // Linux logs and carries on when it does not settle, and so do we).
    wr(kCtrl, rd(kCtrl) | kCtrlGioMasterDisable);
    for (u64 dl = deadline(cfg_.reset_timeout_ms); rd(kStatus) & kStatusGioMasterEnable;)
        if (expired(dl)) break;

    wr(kCtrl, rd(kCtrl) | kCtrlRst);
    // Registers are not to be touched for a while after the reset starts.
    for (u64 dl = deadline(1); !expired(dl);) {
    }
    for (u64 dl = deadline(cfg_.reset_timeout_ms); rd(kCtrl) & kCtrlRst;)
        if (expired(dl)) return kTimeout;
    // The MAC address and configuration words are loaded from the NVM.
    for (u64 dl = deadline(cfg_.reset_timeout_ms); !(rd(kEecd) & kEecdAutoRd);)
        if (expired(dl)) return kTimeout;

    wr(kImc, ~u32{0});
    (void)rd(kIcr);  // read to clear
    u32 ctrl = rd(kCtrl) & ~(kCtrlGioMasterDisable | kCtrlLrst | kCtrlPhyRst | kCtrlIlos | kCtrlFrcspd |
                             kCtrlFrcdpx | kCtrlVme);
    wr(kCtrl, ctrl | kCtrlSlu | kCtrlAsde);  // link up, speed from autonegotiation
    wr(kCtrlExt, rd(kCtrlExt) | kCtrlExtDrvLoad);
    return kOk;
}

bool Driver::read_eeprom(u32 word, u16* out) {
    wr(kEerd, word << kEerdAddrShift | kEerdStart);
    for (u64 dl = deadline(cfg_.reset_timeout_ms);;) {
        u32 v = rd(kEerd);
        if (v & kEerdDone) {
            *out = static_cast<u16>(v >> kEerdDataShift);
            return true;
        }
        if (expired(dl)) return false;
    }
}

u32 Driver::read_mac() {
    u32 ral = rd(kRal0), rah = rd(kRah0);
    if (!(rah & kRahAv)) {
        // Receive address 0 not valid: words 0..2 of the EEPROM, low byte first.
        u16 w[3];
        for (u32 i = 0; i < 3; ++i)
            if (!read_eeprom(i, &w[i])) return kTimeout;
        ral = u32{w[0]} | u32{w[1]} << 16;
        rah = w[2];
    }
    MacAddress m{{static_cast<u8>(ral), static_cast<u8>(ral >> 8), static_cast<u8>(ral >> 16),
                  static_cast<u8>(ral >> 24), static_cast<u8>(rah), static_cast<u8>(rah >> 8)}};
    bool zero = (ral | (rah & 0xffff)) == 0;
    bool ones = ral == ~u32{0} && (rah & 0xffff) == 0xffff;
    if (zero || ones || (m.b[0] & 1)) return kNoMac;  // unset, erased, or a group address
    mac_ = m;
    // Receive address 0 is the one the filter matches (valid), the others off.
    wr(kRal0, ral);
    wr(kRah0, (rah & 0xffff) | kRahAv);
    for (u32 i = 1; i < kRarEntries; ++i) {
        wr(kRah0 + 8 * i, 0);
        wr(kRal0 + 8 * i, 0);
    }
    return kOk;
}

u32 Driver::init() {
    started_ = false;
    const u32 nrx = cfg_.rx_descriptors, ntx = cfg_.tx_descriptors;
    auto bad_count = [](u32 n) { return n < kMinDescriptors || n > kMaxDescriptors || n % kMinDescriptors; };
    if (bad_count(nrx) || bad_count(ntx) || !dma_.base || dma_.size < dma_area_bytes(cfg_) ||
        (reinterpret_cast<u64>(dma_.base) & (kDmaPage - 1)) || !dma_.dma_addr || !clock_.now ||
        !clock_.ticks_per_ms)
        return kInvalid;
    if (u32 s = reset()) return s;
    if (u32 s = read_mac()) return s;
    // No multicast (the multicast table array is undefined after power-up).
    for (u32 i = 0; i < kMtaEntries; ++i) wr(kMta + 4 * i, 0);

    rx_ = reinterpret_cast<RxDesc*>(page(0));
    tx_ = reinterpret_cast<TxDesc*>(page(1));
    __builtin_memset(page(0), 0, 2 * kDmaPage);
    for (u32 i = 0; i < nrx; ++i) arm_rx(i);
    rx_next_ = rx_done_ = 0;
    rx_discard_ = false;
    tx_tail_ = tx_clean_ = 0;

    // Receive: legacy descriptors (RFCTL.EXSTEN 0), no checksum offload, no
    // delayed write-back; the device owns all but one descriptor.
    u64 rx_ring = dma_of(rx_), tx_ring = dma_of(tx_);
    wr(kRfctl, 0);
    wr(kRxcsum, 0);
    wr(kRdtr, 0);
    wr(kRadv, 0);
    wr(kRxdctl, (rd(kRxdctl) & ~kDctlWthreshMask) | kDctlGran | kDctlWthresh1);
    wr(kRdbal, static_cast<u32>(rx_ring));
    wr(kRdbah, static_cast<u32>(rx_ring >> 32));
    wr(kRdlen, nrx * kDescriptorBytes);
    wr(kRdh, 0);
    wr(kRdt, nrx - 1);  // orders the armed descriptors before it (E1000eHw)

    // Transmit.
    wr(kTidv, kTxDelayUnits);
    wr(kTadv, kTxAbsDelayUnits);
    wr(kTxdctl, (rd(kTxdctl) & ~kDctlWthreshMask) | kDctlGran | kDctlWthresh1 | kTxdctlCountDesc);
    wr(kTdbal, static_cast<u32>(tx_ring));
    wr(kTdbah, static_cast<u32>(tx_ring >> 32));
    wr(kTdlen, ntx * kDescriptorBytes);
    wr(kTdh, 0);
    wr(kTdt, 0);
    wr(kTipg, kTipgCopper);

    wr(kTctl, kTctlEn | kTctlPsp | kTctlCt | kTctlCold | kTctlRtlc);
    wr(kRctl, kRctlEn | kRctlBam | kRctlSecrc);
    started_ = true;
    return kOk;
}

void Driver::stop() {
    if (!started_) return;
    started_ = false;
    // A reset is the one way to know the device holds no ring pointer any
    // more (disabling RCTL.EN lets a frame in progress complete).
    (void)reset();
    wr(kCtrlExt, rd(kCtrlExt) & ~kCtrlExtDrvLoad);
}

// --- transmit ---------------------------------------------------------------

u32 Driver::reclaim_tx() {
    u32 n = 0;
    while (tx_clean_ != tx_tail_) {
        volatile TxDesc* d = &tx_[tx_clean_];
        if (!(d->status & kTxStaDd)) break;
        tx_clean_ = (tx_clean_ + 1) % cfg_.tx_descriptors;
        ++n;
    }
    return n;
}

u32 Driver::tx_free() {
    if (!started_) return 0;
    reclaim_tx();
    const u32 n = cfg_.tx_descriptors;
    return (tx_clean_ + n - tx_tail_ - 1) % n;
}

bool Driver::tx_idle() {
    if (!started_) return true;
    reclaim_tx();
    return tx_clean_ == tx_tail_;
}

Err Driver::send(const u8* frame, u32 len) {
    if (!started_ || len < kEthHeaderBytes || len > kMaxFrameBytes) {
        ++stats_.tx_rejected;
        return Err::Invalid;
    }
    u32 next = (tx_tail_ + 1) % cfg_.tx_descriptors;
    if (next == tx_clean_) reclaim_tx();
    if (next == tx_clean_) {
        ++stats_.tx_ring_full;
        return Err::Busy;
    }
    u8* buf = tx_buffer(tx_tail_);
    copy(buf, frame, len);
    u32 wire = len;
    if (wire < kMinFrameBytes) {
        __builtin_memset(buf + wire, 0, kMinFrameBytes - wire);  // do not rely on TCTL.PSP alone
        wire = kMinFrameBytes;
    }
    volatile TxDesc* d = &tx_[tx_tail_];
    d->addr = le(dma_of(buf));
    d->length = le(static_cast<u16>(wire));
    d->cso = 0;
    d->css = 0;
    d->special = 0;
    d->status = 0;
    d->cmd = kTxCmdEop | kTxCmdIfcs | kTxCmdRs;  // RS: write DD back, the only completion we use
    tx_tail_ = next;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    wr(kTdt, tx_tail_);  // the accessor orders the buffer and descriptor before the doorbell
    ++stats_.tx_frames;
    return Err::Ok;
}

// --- receive ----------------------------------------------------------------

void Driver::arm_rx(u32 i) {
    volatile RxDesc* d = &rx_[i];
    d->addr = le(dma_of(rx_buffer(i)));
    d->length = 0;
    d->csum = 0;
    d->errors = 0;
    d->special = 0;
    d->status = 0;
}

void Driver::release_rx() {
    if (!rx_done_) return;
    rx_done_ = 0;
    const u32 n = cfg_.rx_descriptors;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    wr(kRdt, (rx_next_ + n - 1) % n);  // everything before rx_next_ is re-armed
}

const u8* Driver::next_rx(u32* len) {
    const u32 n = cfg_.rx_descriptors;
    for (;;) {
        u32 i = rx_next_;
        volatile RxDesc* d = &rx_[i];
        u8 status = d->status;
        if (!(status & kRxStaDd)) return nullptr;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);  // the rest of the descriptor and the data after DD
        u32 length = le(static_cast<u16>(d->length));
        u8 errors = d->errors;
        rx_next_ = (i + 1) % n;
        ++rx_done_;
        bool eop = status & kRxStaEop;
        if (rx_discard_ || !eop) {
            // Part of a frame that did not fit one buffer: drop up to its EOP.
            if (!rx_discard_) ++stats_.rx_oversize;
            rx_discard_ = !eop;
            arm_rx(i);
            continue;
        }
        if (errors & kRxErrFrame) {
            ++stats_.rx_errors;
            arm_rx(i);
            continue;
        }
        if (length < kEthHeaderBytes || length > kBufferBytes) {
            ++stats_.rx_runts;
            arm_rx(i);
            continue;
        }
        *len = length;
        return rx_buffer(i);  // the caller re-arms descriptor i when done with it
    }
}

u32 Driver::poll(FrameFn fn, void* ctx, u32 budget) {
    if (!started_) return 0;
    const u32 n = cfg_.rx_descriptors;
    u32 handed = 0;
    while (handed < budget) {
        u32 len = 0;
        const u8* f = next_rx(&len);
        if (!f) break;
        fn(ctx, f, len);
        arm_rx((rx_next_ + n - 1) % n);
        ++stats_.rx_frames;
        ++handed;
    }
    release_rx();
    return handed;
}

u32 Driver::receive(u8* buf, u32 cap) {
    if (!started_) return 0;
    const u32 n = cfg_.rx_descriptors;
    u32 got = 0;
    for (;;) {
        u32 len = 0;
        const u8* f = next_rx(&len);
        if (!f) break;
        u32 i = (rx_next_ + n - 1) % n;
        if (len > cap) {
            ++stats_.rx_oversize;
            arm_rx(i);
            continue;
        }
        copy(buf, f, len);
        arm_rx(i);
        ++stats_.rx_frames;
        got = len;
        break;
    }
    release_rx();
    return got;
}

}  // namespace pv::e1000e
