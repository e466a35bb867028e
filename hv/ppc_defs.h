// Architected numbers the portable core reasons about (no instructions here):
// MSR and LPCR bits, interrupt vectors. Power ISA 3.0 Book III names.
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
inline constexpr u64 HDICE = ppc_bit(63);   // hypervisor decrementer interrupts
inline constexpr u64 LPES = ppc_bit(60);    // external interrupts to the OS (1) or hypervisor (0)
inline constexpr u64 HVICE = ppc_bit(62);
inline constexpr u64 ILE = ppc_bit(38);     // guest interrupts little-endian
inline constexpr u64 UPRT = ppc_bit(41);    // use process table
inline constexpr u64 HR = ppc_bit(43);      // host radix
inline constexpr u64 GTSE = ppc_bit(53);    // guest translation shootdown enable
inline constexpr u64 AIL_MASK = ppc_bit(39) | ppc_bit(40);
// Verified under QEMU 7.2: the entry value with HR, UPRT, GTSE, HVICE, HDICE
// set and LPES, AIL cleared runs a radix partition (ILE set per H_SET_MODE).
inline constexpr u64 kGuestBase = 0x004000000250a403ULL & ~ILE;
}  // namespace pv::lpcr

namespace pv {

// Hypervisor interrupt vectors a partition can send us to.
enum class Vector : u32 {
    SystemReset = 0x100,
    MachineCheck = 0x200,
    Hcall = 0xC00,           // sc 1 from the partition
    HDecrementer = 0x980,
    HDSI = 0xE00,
    HISI = 0xE20,
    HEmulAssist = 0xE40,     // illegal (or hypervisor-privileged) instruction
    HMaint = 0xE60,
    HDoorbell = 0xE80,
    HVirt = 0xEA0,
};

}  // namespace pv
