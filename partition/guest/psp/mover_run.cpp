#include "partition/guest/psp/mover_run.h"

#include <string.h>

#include "partition/guest/net/nic.h"
#include "partition/guest/psp/mover.h"
#include "partition/guest/psp/mover_node.h"
#include "partition/guest/rt/console.h"
#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/platform.h"

namespace psp {

using namespace rt;
namespace e1000e = pv::e1000e;
namespace net = pv::net;
namespace mig = pv::mig;

namespace {

constexpr u16 kSlots = 64;         // 256 KiB: 32 to send from, 32 to receive into
constexpr u32 kPollBudget = 64;    // frames per poll: the CRQ is not kept waiting

struct MoverRun {
    e1000e::Driver* nic = nullptr;
    net::UdpLink* link = nullptr;
    Mover* mover = nullptr;
    u64 area = 0;
    MoverNode node;
    u64 polled = 0;  // timebase of the last poll
};
constinit MoverRun g_mv{};

u64 now_ms(void*) { return timebase() * 1000 / platform().timebase_hz; }
bool darn_nonce(void*, mig::Nonce& n) { return netguest::fresh_nonce(n); }
bool peer_resolved(void* c) { return static_cast<net::UdpLink*>(c)->peer_resolved(); }
void resolve_peer(void* c) { (void)static_cast<net::UdpLink*>(c)->resolve(); }
void on_datagram(void* c, const u8* p, u32 len) { static_cast<Mover*>(c)->receive(p, len); }

}  // namespace

bool mover_bring_up(u64 free_base, u64 free_end, u64 used) {
    const Platform& p = platform();
    MoverNode& mn = g_mv.node;
    if (read_mover_node(p.fdt, mn) != MoverNodeResult::Ok) return false;  // Bad is logged
    netguest::NetNode nn;
    switch (netguest::read_network_node(p.fdt, nn, "mover: ")) {
    case netguest::NodeResult::Ok: break;
    case netguest::NodeResult::Missing:
        log("%s: no network device (/poolvisor-network): no mover, paging only", kMoverPath);
        return false;
    case netguest::NodeResult::Bad: log("mover: no usable network device: no mover, paging only"); return false;
    }
    u64 area = align_up(free_base + used, pv::kPageSize);
    u64 bytes = u64{kSlots} * pv::mover::kSlotBytes;
    if (area + bytes > free_end) {
        log("mover: no room for a %lu KiB area (free 0x%lx-0x%lx): no mover, paging only", bytes >> 10, free_base,
            free_end);
        return false;
    }
    e1000e::Driver* nic = netguest::start_nic(nn, "mover: ");
    if (!nic) {
        log("mover: the NIC did not come up: no mover, paging only");
        return false;
    }
    static net::UdpLink link(net::frame_port(*nic));  // static: no guard variable, one vCPU
    net::UdpLinkConfig cfg = netguest::link_config(*nic, mn.peer_mac, mn.port, mn.port, false);
    if (pv::Err e = link.configure(cfg); e != pv::Err::Ok) {
        log("mover: udp link configuration refused (error %u): no mover, paging only", static_cast<unsigned>(e));
        nic->stop();
        return false;
    }
    log("mover: system %s, peer system %s", mn.system, mn.peer);
    netguest::print_address("mover: us:  ", cfg.mac, cfg.ip, cfg.port);
    netguest::print_address("mover: peer:", mn.peer_mac, cfg.peer_ip, cfg.peer_port);
    netguest::enable_fp_vmx_vsx();
    memset(reinterpret_cast<void*>(static_cast<uintptr_t>(area)), 0, bytes);
    g_mv.nic = nic;
    g_mv.link = &link;
    g_mv.area = area;
    return true;
}

void mover_create(PagingService& svc, SendFn send, void* send_ctx) {
    if (!g_mv.link) return;
    Mover::Setup ms;
    ms.send = send;
    ms.send_ctx = send_ctx;
    ms.now_ms = now_ms;
    ms.nonce = darn_nonce;
    ms.link = {g_mv.link->port(), peer_resolved, resolve_peer, g_mv.link};
    ms.psk = g_mv.node.psk;
    ms.paging = &svc;
    ms.area = reinterpret_cast<u8*>(static_cast<uintptr_t>(g_mv.area));
    ms.area_addr = g_mv.area;
    ms.slots = kSlots;
    static Mover mover(ms);  // static: ~100 KiB, no guard variable (-fno-threadsafe-statics), one vCPU
    g_mv.mover = &mover;
    log("mover: %u slots of 4 KiB at 0x%lx; registered once the paging channel serves", kSlots, g_mv.area);
}

bool mover_present() { return g_mv.mover != nullptr; }
bool mover_up() { return g_mv.mover && g_mv.mover->active(); }
u64 mover_polled_at() { return g_mv.polled; }

u32 mover_poll() {
    u32 n = g_mv.link->poll(*g_mv.nic, on_datagram, g_mv.mover, kPollBudget);
    g_mv.mover->poll();
    g_mv.polled = timebase();
    return n;
}

void mover_follow(const PagingService& svc) {
    if (!g_mv.mover) return;
    bool serving = svc.state() == PagingService::State::Serving;
    if (serving && g_mv.mover->state() == Mover::State::Unregistered) g_mv.mover->start();
    else if (!serving && g_mv.mover->state() != Mover::State::Unregistered) g_mv.mover->reset();
}

u32 mover_split(CrqEntry* es, u32 n, CrqEntry* mv, u32& nm) {
    u32 k = 0;
    nm = 0;
    for (u32 i = 0; i < n; ++i) {
        if (pv::mover::is_mover_message(es[i])) mv[nm++] = es[i];
        else es[k++] = es[i];
    }
    return k;
}

void mover_handle(const CrqEntry* mv, u32 n) {
    for (u32 i = 0; i < n; ++i) g_mv.mover->handle(mv[i]);
}

u64 mover_cede_limit(u64 ticks) {
    u64 c = ticks < ticks_from_us(kMoverCedeUs) ? ticks : ticks_from_us(kMoverCedeUs);
    u64 t = g_mv.mover->next_timer(), ms = now_ms(nullptr);
    if (t <= ms) return 0;
    if (t - ms < 1000 && ticks_from_us((t - ms) * 1000) < c) c = ticks_from_us((t - ms) * 1000);
    return c;
}

void mover_finish() {
    if (!g_mv.nic) return;
    if (g_mv.mover) {
        g_mv.mover->report_open("open at shutdown");
        const MoverCounters& m = g_mv.mover->counters();
        log("mover: %lu sessions, %lu messages sent, %lu received, %lu I/Os (%lu errors), %lu refused, %lu errors, "
            "%lu failed handshakes",
            m.sessions, m.sent, m.received, m.ios, m.io_errors, m.refused, m.errors, m.failed_handshakes);
    }
    netguest::report_stats(*g_mv.nic, *g_mv.link);
    g_mv.nic->stop();
}

}  // namespace psp
