// A polling driver for the Intel 82574 gigabit controller (PCI 8086:10d3,
// QEMU's e1000e), portable like vio/nvme: no POWER instructions, no heap, no
// interrupts (docs/network-link.md). Machine-specific parts come in through
// three small interfaces, so the same code runs in a partition and on the
// host against a fake controller:
//   * E1000eHw: the register block (BAR0), values in CPU order;
//   * E1000eDma: one caller-provided, device-visible memory area (the two
//     descriptor rings and their buffers) and its CPU pointer -> device
//     address map (the caller owns the TCE mapping);
//   * E1000eClock: a monotonic tick counter for the reset timeouts.
// One receive and one transmit queue, legacy descriptors, 2 KiB buffers, one
// descriptor per frame. PCI configuration (memory space, bus master) and the
// BAR mapping are the caller's.
#pragma once
#include "base/result.h"
#include "base/types.h"

namespace pv::e1000e {

struct E1000eHw {
    u32 (*read32)(void* ctx, u32 off);
    void (*write32)(void* ctx, u32 off, u32 v);
    void* ctx;
    // The BAR must be mapped cache-inhibited and guarded. write32 must order
    // every earlier store to normal memory (descriptors, frame data) before
    // the register write, as Linux's writel does (sync first on POWER): the
    // driver's own fence orders the CPU's stores, not their arrival at a
    // device. read32 must complete before later loads from normal memory.
};

struct E1000eDma {
    void* base = nullptr;  // CPU pointer, 4 KiB aligned, dma_area_bytes(cfg) long
    u64 size = 0;
    u64 (*dma_addr)(void* ctx, const void* p) = nullptr;  // device address of a byte in the area
    void* ctx = nullptr;
    // Only each 4 KiB page must be contiguous in device address space: every
    // ring and every buffer lies inside one page.
};

struct E1000eClock {
    u64 (*now)(void* ctx) = nullptr;  // monotonic ticks
    u64 ticks_per_ms = 0;
    void* ctx = nullptr;
};

inline constexpr u64 kDmaPage = 4096;
inline constexpr u32 kBufferBytes = 2048;        // RCTL.BSIZE 00: one frame per descriptor
inline constexpr u32 kMinFrameBytes = 60;        // without FCS; shorter frames are padded
inline constexpr u32 kMaxFrameBytes = 1514;      // without FCS: 14-byte header + 1500 MTU
inline constexpr u32 kDescriptorBytes = 16;
inline constexpr u32 kMinDescriptors = 8;        // RDLEN/TDLEN: a multiple of 128 bytes
inline constexpr u32 kMaxDescriptors = 256;      // one 4 KiB page per ring

struct E1000eConfig {
    u32 rx_descriptors = 32;  // a multiple of 8, 8..256
    u32 tx_descriptors = 32;
    u32 reset_timeout_ms = 100;  // CTRL.RST self-clear, EECD.AUTO_RD, EERD, bus master quiesce
};

// The DMA area: the RX ring page, the TX ring page, then the RX buffers and
// the TX buffers, two per page.
constexpr u64 dma_area_bytes(const E1000eConfig& c) {
    return kDmaPage * (2 + (u64{c.rx_descriptors} + 1) / 2 + (u64{c.tx_descriptors} + 1) / 2);
}

enum Status : u32 {
    kOk = 0,
    kTimeout,     // reset or EEPROM read did not finish in time
    kNoDevice,    // registers read all ones: nothing answers at the BAR
    kNoMac,       // neither RAL0/RAH0 nor the EEPROM hold a usable unicast address
    kInvalid,     // bad configuration or DMA area
};
const char* status_name(u32 status);

struct MacAddress {
    u8 b[6];
    friend constexpr bool operator==(const MacAddress&, const MacAddress&) = default;
};

struct DriverStats {
    u64 rx_frames = 0;      // good frames handed to the caller
    u64 rx_errors = 0;      // descriptors with a receive error bit (CRC, symbol, sequence, carrier)
    u64 rx_oversize = 0;    // frames longer than one buffer (no EOP), or than the caller's buffer
    u64 rx_runts = 0;       // shorter than an Ethernet header
    u64 tx_frames = 0;      // frames queued to the controller
    u64 tx_ring_full = 0;   // send() refused: no free descriptor
    u64 tx_rejected = 0;    // send() refused: length out of range, or not started
};

class Driver {
public:
    Driver(const E1000eHw& hw, const E1000eDma& dma, const E1000eClock& clock, E1000eConfig cfg = {})
        : hw_(hw), dma_(dma), clock_(clock), cfg_(cfg) {}
    Driver(const Driver&) = delete;
    Driver& operator=(const Driver&) = delete;

    // Reset the controller, read its MAC address, set up both rings and
    // enable receive (own address and broadcast, CRC stripped) and transmit.
    [[nodiscard]] u32 init();
    // Receive and transmit off, rings released by the device (the caller may
    // unmap the area after this returns).
    void stop();

    bool started() const { return started_; }
    const MacAddress& mac() const { return mac_; }
    // STATUS.LU: the PHY reports a link (frames sent while down are lost).
    bool link_up() const;

    // Copy one frame (destination MAC first, no FCS; 14..1514 bytes; padded
    // to 60) into the next TX buffer and hand it to the controller. Busy: the
    // ring is full (every descriptor still owned by the device); Invalid:
    // length out of range or not started.
    Err send(const u8* frame, u32 len);
    // Descriptors send() could fill now (after reclaiming finished ones).
    u32 tx_free();
    // Every frame queued so far has been fetched and sent by the device.
    bool tx_idle();

    using FrameFn = void (*)(void* ctx, const u8* frame, u32 len);
    // Hand up to budget received frames to fn (the bytes live in the RX
    // buffer until fn returns), give their descriptors back to the device.
    // Returns the number of frames handed over. fn may call send() (an ARP
    // reply, a transport ack): the rings are independent.
    u32 poll(FrameFn fn, void* ctx, u32 budget = ~u32{0});
    // One received frame copied into buf: its length, or 0 when none is
    // waiting. A frame longer than cap is dropped (rx_oversize), and the
    // next one is tried.
    u32 receive(u8* buf, u32 cap);

    const DriverStats& stats() const { return stats_; }

    // Legacy descriptors (82574 datasheet 7.1.4, 7.2.10), little-endian.
    struct RxDesc {
        u64 addr;
        u16 length;
        u16 csum;
        u8 status;
        u8 errors;
        u16 special;
    };
    struct TxDesc {
        u64 addr;
        u16 length;
        u8 cso;
        u8 cmd;
        u8 status;
        u8 css;
        u16 special;
    };
    static_assert(sizeof(RxDesc) == kDescriptorBytes && sizeof(TxDesc) == kDescriptorBytes);

private:
    // A frame the device finished (or nullptr), the ring advanced past it.
    const u8* next_rx(u32* len);
    void release_rx();
    void arm_rx(u32 i);
    u32 reclaim_tx();
    u32 reset();
    u32 read_mac();
    bool read_eeprom(u32 word, u16* out);
    u64 deadline(u32 ms) const;
    bool expired(u64 deadline) const;
    u32 rd(u32 off) const { return hw_.read32(hw_.ctx, off); }
    void wr(u32 off, u32 v) const { hw_.write32(hw_.ctx, off, v); }
    u8* page(u32 i) const { return static_cast<u8*>(dma_.base) + u64{i} * kDmaPage; }
    u8* rx_buffer(u32 i) const { return page(2 + i / 2) + (i % 2) * kBufferBytes; }
    u8* tx_buffer(u32 i) const { return page(2 + (cfg_.rx_descriptors + 1) / 2 + i / 2) + (i % 2) * kBufferBytes; }
    u64 dma_of(const void* p) const { return dma_.dma_addr(dma_.ctx, p); }

    E1000eHw hw_;
    E1000eDma dma_;
    E1000eClock clock_;
    E1000eConfig cfg_;
    RxDesc* rx_ = nullptr;
    TxDesc* tx_ = nullptr;
    // RX: the device owns [RDH, RDT); rx_next_ is the next descriptor we look
    // at; RDT trails it by one (the slot we keep so head == tail means empty).
    u32 rx_next_ = 0, rx_done_ = 0;  // rx_done_: handed over since the last RDT write
    bool rx_discard_ = false;        // inside a frame longer than one buffer: drop to its EOP
    // TX: [tx_clean_, tx_tail_) queued to the device, tx_tail_ == TDT.
    u32 tx_tail_ = 0, tx_clean_ = 0;
    bool started_ = false;
    MacAddress mac_{};
    DriverStats stats_;
};

}  // namespace pv::e1000e
