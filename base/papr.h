// PAPR hypervisor-call numbers and return codes (names as in PAPR and Linux
// arch/powerpc/include/asm/hvcall.h).
#pragma once
#include "base/types.h"

namespace pv::papr {

enum Hcall : u64 {
    H_PAGE_INIT = 0x2C,
    H_GET_TERM_CHAR = 0x54,
    H_PUT_TERM_CHAR = 0x58,
    H_EOI = 0x64,
    H_CPPR = 0x68,
    H_IPI = 0x6C,
    H_IPOLL = 0x70,
    H_XIRR = 0x74,
    H_REGISTER_VPA = 0xDC,
    H_CEDE = 0xE0,
    H_CONFER = 0xE4,
    H_PROD = 0xE8,
    H_XIRR_X = 0x2FC,
    H_GET_CPU_CHARACTERISTICS = 0x1C8,
    H_RANDOM = 0x300,
    H_SET_MODE = 0x31C,
    H_REGISTER_PROC_TBL = 0x37C,
    H_RTAS = 0xF000,  // KVM/QEMU convention used by the RTAS stub
    H_PV_GET_ERROR_LOG = 0xF100,  // Poolvisor: this partition's failed page-ins (docs/machine-check.md)
};
inline constexpr u64 kMaxHcall = 0x450;

enum Ret : i64 {
    H_SUCCESS = 0,
    H_HARDWARE = -1,
    H_FUNCTION = -2,
    H_PRIVILEGE = -3,
    H_PARAMETER = -4,
    H_RESOURCE = -16,
    H_P2 = -55,
    H_P3 = -56,
    H_P4 = -57,
    H_NOT_FOUND = -61,
    H_UNSUPPORTED_FLAG = -256,
};

// H_PAGE_INIT flags.
inline constexpr u64 H_ICACHE_INVALIDATE = u64{1} << (63 - 40), H_ICACHE_SYNCHRONIZE = u64{1} << (63 - 41),
                     H_ZERO_PAGE = u64{1} << (63 - 48), H_COPY_PAGE = u64{1} << (63 - 49);

// H_GET_CPU_CHARACTERISTICS (Linux hvcall.h): r5 behaviour bits.
inline constexpr u64 H_CPU_BEHAV_FAVOUR_SECURITY = u64{1} << 63, H_CPU_BEHAV_L1D_FLUSH_PR = u64{1} << 62,
                     H_CPU_BEHAV_BNDS_CHK_SPEC_BAR = u64{1} << 61, H_CPU_BEHAV_FLUSH_COUNT_CACHE = u64{1} << 58,
                     H_CPU_BEHAV_FLUSH_LINK_STACK = u64{1} << 57;

// H_SET_MODE resources.
inline constexpr u64 H_SET_MODE_RESOURCE_SET_CIABR = 1;
inline constexpr u64 H_SET_MODE_RESOURCE_SET_DAWR0 = 2;
inline constexpr u64 H_SET_MODE_RESOURCE_ADDR_TRANS_MODE = 3;
inline constexpr u64 H_SET_MODE_RESOURCE_LE = 4;

// H_REGISTER_PROC_TBL flags.
inline constexpr u64 PROC_TABLE_OP_MASK = 0x18, PROC_TABLE_DEREG = 0x10, PROC_TABLE_NEW = 0x18;
inline constexpr u64 PROC_TABLE_TYPE_MASK = 0x06, PROC_TABLE_RADIX = 0x04, PROC_TABLE_GTSE = 0x01;

// The virtual terminal's unit address (/vdevice/vty@30000000).
inline constexpr u64 kVtermno = 0x30000000;

}  // namespace pv::papr
