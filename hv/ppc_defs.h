// Architected numbers the portable core reasons about (no instructions here):
// MSR and LPCR bits, interrupt vectors. Power ISA 3.0 Book III names; bit
// numbers as the ISA writes them (0 = most significant).
#pragma once
#include "base/types.h"

namespace pv::msr {
inline constexpr u64 SF = ppc_bit(0);
inline constexpr u64 HV = ppc_bit(3);
inline constexpr u64 EE = ppc_bit(48);
inline constexpr u64 PR = ppc_bit(49);
inline constexpr u64 ME = ppc_bit(51);
inline constexpr u64 IR = ppc_bit(58);
inline constexpr u64 DR = ppc_bit(59);
inline constexpr u64 RI = ppc_bit(62);
inline constexpr u64 LE = ppc_bit(63);
}  // namespace pv::msr

namespace pv::lpcr {
// Default prefetch depth (DPFD, bits 9:11).
constexpr u64 dpfd(u64 depth) { return (depth & 7) << (63 - 11); }
inline constexpr u64 ILE = ppc_bit(38);     // guest interrupts little-endian
inline constexpr u64 AIL_MASK = ppc_bit(39) | ppc_bit(40);  // alternate interrupt location
constexpr u64 ail(u64 mode) { return (mode & 3) << (63 - 40); }
constexpr u64 ail_of(u64 lpcr) { return (lpcr & AIL_MASK) >> (63 - 40); }
inline constexpr u64 UPRT = ppc_bit(41);    // use process table
inline constexpr u64 HR = ppc_bit(43);      // host radix
inline constexpr u64 LD = ppc_bit(46);      // large decrementer
// Power-saving exit causes: what ends a stop (bits 47:51).
inline constexpr u64 PECEDP = ppc_bit(47);  // directed privileged doorbell
inline constexpr u64 PECEDH = ppc_bit(48);  // directed hypervisor doorbell (kick_thread)
inline constexpr u64 PECE0 = ppc_bit(49);   // external interrupt
inline constexpr u64 PECE1 = ppc_bit(50);   // decrementer (idle_wait's deadline)
inline constexpr u64 PECE2 = ppc_bit(51);   // other exceptions (machine check, HMI)
inline constexpr u64 MER = ppc_bit(52);     // mediated external interrupt request
inline constexpr u64 GTSE = ppc_bit(53);    // guest translation shootdown enable
inline constexpr u64 HEIC = ppc_bit(59);    // hypervisor external interrupt control
inline constexpr u64 LPES = ppc_bit(60);    // external interrupts to the OS (1) or hypervisor (0)
inline constexpr u64 HVICE = ppc_bit(62);   // hypervisor virtualization interrupts
inline constexpr u64 HDICE = ppc_bit(63);   // hypervisor decrementer interrupts

// What skiboot leaves in DPFD (its hand-over LPCR is 0x004000000000a000:
// DPFD 4, PECEDH, PECE1); kept.
inline constexpr u64 kFirmwareDpfd = dpfd(4);
// A radix partition: HR, UPRT and GTSE (it issues its own tlbie), HDICE for
// time slices, HVICE; LPES = 0 and AIL = 0 (external interrupts come to the
// hypervisor; the partition's own interrupts at their real vectors); ILE
// per H_SET_MODE. Doorbells and the decrementer end a stop. Verified under
// QEMU 7.2 (docs/partition-entry.md).
inline constexpr u64 kGuestBase = kFirmwareDpfd | UPRT | HR | PECEDH | PECE1 | GTSE | HVICE | HDICE;
static_assert(kGuestBase == (0x004000000250a403ULL & ~ILE), "LPCR entry value changed");
// The hypervisor between partitions: no HDEC while it idles.
inline constexpr u64 kHypervisor = kGuestBase & ~HDICE;
}  // namespace pv::lpcr

namespace pv {

// Hypervisor interrupt vectors a partition can send us to.
enum class Vector : u32 {
    SystemReset = 0x100,
    MachineCheck = 0x200,
    External = 0x500,        // LPES = 0: external interrupts are the hypervisor's
    Hcall = 0xC00,           // sc 1 from the partition
    HDecrementer = 0x980,
    HDSI = 0xE00,
    HISI = 0xE20,
    HEmulAssist = 0xE40,     // illegal (or hypervisor-privileged) instruction
    HMaint = 0xE60,
    HDoorbell = 0xE80,
    HVirt = 0xEA0,
    HFacility = 0xF80,       // hypervisor facility unavailable
};

}  // namespace pv
