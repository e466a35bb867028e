// The NIC a partition owns (network_device in the config; /poolvisor-network
// in its device tree), as net-guest and the PSP's mover both bring it up:
// the node, BAR0 accessors, the e1000e driver over a static DMA area, the
// UdpLink configuration from our MAC and the peer's, and what BearSSL needs
// of the partition (MSR[FP|VEC|VSX], DARN nonces, the _FORTIFY_SOURCE
// shims in nic.cpp). docs/network-link.md, docs/migration-transport.md.
#pragma once
#include "vio/e1000e.h"
#include "vio/mig_auth.h"
#include "vio/udp_link.h"

namespace netguest {

using pv::u16;
using pv::u32;
using pv::u64;
using pv::u8;

inline constexpr const char* kNetworkCompatible = "poolvisor,network-v1";

struct NetNode {
    u64 regs = 0, regs_size = 0, dma_base = 0, dma_size = 0;
    const char* name = "";
};

enum class NodeResult { Ok, Missing, Bad };
// /poolvisor-network. Bad is logged (each line starting with fail_prefix,
// "FAIL " in net-guest); Missing is not: the caller says what it means.
NodeResult read_network_node(const void* fdt, NetNode& n, const char* fail_prefix);

// The driver over BAR0 at n.regs: init, then up to 5 s for the link, then
// the "<name>: MAC ..., link up|down" line. nullptr (logged with
// fail_prefix) when our DMA area is outside the window or init fails.
pv::e1000e::Driver* start_nic(const NetNode& n, const char* fail_prefix);
// The NIC's STATUS register (for logs).
u32 nic_status();

// Ours from the NIC's MAC, the peer's address from its MAC
// (net::link_local_from_mac); pin = a static entry for the peer's MAC (no ARP).
pv::net::UdpLinkConfig link_config(const pv::e1000e::Driver& nic, const pv::net::MacAddress& peer_mac, u16 port,
                                   u16 peer_port, bool pin);
void print_address(const char* what, const pv::net::MacAddress& m, pv::net::Ipv4 ip, u16 port);
// Two lines: the driver's and the link's counters.
void report_stats(const pv::e1000e::Driver& nic, const pv::net::UdpLink& link);

// BearSSL (Debian's ppc64el build) uses VSX registers: turn MSR[FP|VEC|VSX]
// on in the vCPU that runs it (the hypervisor keeps that state per vCPU).
void enable_fp_vmx_vsx();
// 32 bytes from DARN (conditioned); false when the hardware had none.
bool fresh_nonce(pv::mig::Nonce& n);

}  // namespace netguest
