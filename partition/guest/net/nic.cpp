#include "partition/guest/net/nic.h"

#include <libfdt.h>
#include <string.h>

#include "partition/guest/rt/console.h"
#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/platform.h"

using namespace rt;
namespace e1000e = pv::e1000e;
namespace net = pv::net;
namespace mig = pv::mig;

// The few routines Debian's libbearssl.a calls beyond klibc.c (it is built
// with _FORTIFY_SOURCE).
extern "C" {
void* __memcpy_chk(void* d, const void* s, unsigned long n, unsigned long) { return memcpy(d, s, n); }
void* __memset_chk(void* d, int c, unsigned long n, unsigned long) { return memset(d, c, n); }
}

namespace netguest {
namespace {

constexpr u64 kLinkWaitUs = 5000000;

alignas(4096) constinit u8 g_dma_area[e1000e::dma_area_bytes(e1000e::E1000eConfig{})]{};

u64 read_cells(const fdt32_t* p, int cells) {
    u64 v = 0;
    for (int i = 0; i < cells; ++i) v = (v << 32) | fdt32_to_cpu(p[i]);
    return v;
}

// --- the NIC's registers ------------------------------------------------------
// BAR0 as the hypervisor mapped it: cache-inhibited, guarded partition-scoped
// PTEs, so ordinary loads and stores in real mode. As Linux's writel/readl on
// POWER: sync before a store (our descriptor and buffer stores reach memory
// before the doorbell), sync before a load, and twi + isync after it so
// nothing runs ahead of the value. Offsets beyond the mapping read as all
// ones and writes there are dropped.

struct Bar {
    u64 base, size;
};
constinit Bar g_bar{};

u32 bar_read32(void*, u32 off) {
    if (u64{off} + 4 > g_bar.size) return ~u32{0};
    u32 v;
    asm volatile("sync; lwzx %0, 0, %1; twi 0, %0, 0; isync" : "=r"(v) : "r"(g_bar.base + off) : "memory");
    return v;
}

void bar_write32(void*, u32 off, u32 v) {
    if (u64{off} + 4 > g_bar.size) return;
    asm volatile("sync; stwx %0, 0, %1" : : "r"(v), "r"(g_bar.base + off) : "memory");
}

u64 dma_identity(void*, const void* p) { return reinterpret_cast<uintptr_t>(p); }
u64 clock_now(void*) { return timebase(); }

}  // namespace

NodeResult read_network_node(const void* fdt, NetNode& n, const char* fail_prefix) {
    int node = fdt_node_offset_by_compatible(fdt, -1, kNetworkCompatible);
    if (node < 0) return NodeResult::Missing;
    int len = 0;
    auto* r = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "e1000e-regs", &len));
    auto* w = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "dma-window", &len));
    auto* name = static_cast<const char*>(fdt_getprop(fdt, node, "device-name", nullptr));
    if (!r || !w) {
        log("%s/poolvisor-network: e1000e-regs or dma-window missing", fail_prefix);
        return NodeResult::Bad;
    }
    n.regs = read_cells(r, 2);
    n.regs_size = read_cells(r + 2, 2);
    n.dma_base = read_cells(w, 2);
    n.dma_size = read_cells(w + 2, 2);
    n.name = name ? name : "?";
    if (n.regs == 0 || n.regs_size < 0x20000) {
        log("%se1000e-regs 0x%lx size 0x%lx: want the 128 KiB BAR0 of an 82574", fail_prefix, n.regs, n.regs_size);
        return NodeResult::Bad;
    }
    return NodeResult::Ok;
}

u32 nic_status() { return bar_read32(nullptr, 0x8); }

e1000e::Driver* start_nic(const NetNode& n, const char* fail_prefix) {
    u64 area = reinterpret_cast<uintptr_t>(g_dma_area);
    if (area < n.dma_base || area + sizeof g_dma_area > n.dma_base + n.dma_size) {
        log("%sour DMA area 0x%lx is outside the DMA window", fail_prefix, area);
        return nullptr;
    }
    g_bar = {n.regs, n.regs_size};
    e1000e::E1000eHw hw{bar_read32, bar_write32, nullptr};
    e1000e::E1000eDma dma;
    dma.base = g_dma_area;
    dma.size = sizeof g_dma_area;
    dma.dma_addr = dma_identity;
    e1000e::E1000eClock clock;
    clock.now = clock_now;
    clock.ticks_per_ms = platform().timebase_hz / 1000;
    static e1000e::Driver nic(hw, dma, clock);  // static: no guard variable (-fno-threadsafe-statics), one vCPU
    if (u32 s = nic.init(); s != e1000e::kOk) {
        log("%se1000e init: %s (STATUS 0x%08x)", fail_prefix, e1000e::status_name(s), nic_status());
        return nullptr;
    }
    u64 t = timebase();
    while (!nic.link_up() && timebase() - t < ticks_from_us(kLinkWaitUs)) {
    }
    const net::MacAddress& m = nic.mac();
    log("%s: MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s (STATUS 0x%08x)", n.name, m.b[0], m.b[1], m.b[2], m.b[3],
        m.b[4], m.b[5], nic.link_up() ? "up" : "down", nic_status());
    return &nic;
}

net::UdpLinkConfig link_config(const e1000e::Driver& nic, const net::MacAddress& peer_mac, u16 port, u16 peer_port,
                               bool pin) {
    net::UdpLinkConfig cfg;
    cfg.mac = nic.mac();
    cfg.ip = net::link_local_from_mac(cfg.mac);
    cfg.port = port;
    cfg.peer_ip = net::link_local_from_mac(peer_mac);
    cfg.peer_port = peer_port;
    cfg.peer_mac_known = pin;
    cfg.peer_mac = peer_mac;
    return cfg;
}

void print_address(const char* what, const net::MacAddress& m, net::Ipv4 ip, u16 port) {
    log("%s %02x:%02x:%02x:%02x:%02x:%02x, %u.%u.%u.%u:%u", what, m.b[0], m.b[1], m.b[2], m.b[3], m.b[4], m.b[5],
        ip.b[0], ip.b[1], ip.b[2], ip.b[3], port);
}

void report_stats(const e1000e::Driver& nic, const net::UdpLink& link) {
    const e1000e::DriverStats& d = nic.stats();
    const net::LinkStats& l = link.stats();
    log("nic: rx %lu frames (%lu errors, %lu oversize, %lu runts), tx %lu frames (%lu ring full)", d.rx_frames,
        d.rx_errors, d.rx_oversize, d.rx_runts, d.tx_frames, d.tx_ring_full);
    log("link: %lu datagrams in, %lu out, %lu not for us, %lu malformed, %lu bad IP / %lu bad UDP checksums, ARP "
        "%lu/%lu requests in/out, %lu/%lu replies in/out, %lu unresolved",
        l.datagrams_in, l.datagrams_out, l.not_for_us, l.malformed, l.bad_ip_checksum, l.bad_udp_checksum,
        l.arp_requests_in, l.arp_requests_out, l.arp_replies_in, l.arp_replies_out, l.unresolved);
}

void enable_fp_vmx_vsx() {
    u64 msr;
    asm volatile("mfmsr %0" : "=r"(msr));
    msr |= 0x2000 | 0x02000000 | 0x00800000;  // MSR[FP], MSR[VEC], MSR[VSX]
    asm volatile("mtmsrd %0; isync" : : "r"(msr) : "memory");
}

// DARN (conditioned, 64 bits): ~0 means the hardware had nothing this time.
bool fresh_nonce(mig::Nonce& n) {
    for (u32 i = 0; i < mig::kNonceBytes; i += 8) {
        u64 v = ~u64{0};
        for (u32 tries = 0; v == ~u64{0} && tries < 100; ++tries) asm volatile("darn %0, 1" : "=r"(v));
        if (v == ~u64{0}) return false;
        memcpy(n.bytes + i, &v, 8);
    }
    return true;
}

}  // namespace netguest
