// RTAS error logs as a PAPR partition reads them: a big-endian byte image of
// struct rtas_error_log, the version 6 extended log header and one pSeries
// section, laid out as Linux parses it (arch/powerpc/include/asm/rtas-types.h:
// struct rtas_error_log, struct rtas_ext_event_log_v6, struct pseries_errorlog;
// arch/powerpc/platforms/pseries/ras.c: struct pseries_mc_errorlog). QEMU's
// spapr machine builds the same log for a machine check (hw/ppc/spapr_events.c).
// docs/machine-check.md has the byte layout; base/rtas_error_log.h the structs.
#pragma once
#include "base/rtas_error_log.h"

namespace pv::rtaslog {

// rtas_error_log byte 1: severity (bits 7:5), disposition (4:3), extended log present (2).
inline constexpr u8 kSeverityErrorSync = 3;   // RTAS_SEVERITY_ERROR_SYNC
inline constexpr u8 kDispNotRecovered = 2;    // RTAS_DISP_NOT_RECOVERED
// rtas_error_log byte 2: initiator (bits 7:4), target (3:0): RTAS_INITIATOR_* / RTAS_TARGET_*.
enum class Entity : u8 { Unknown = 0, Cpu = 1, Pci = 2, Isa = 3, Memory = 4, PowerMgmt = 5 };
// rtas_error_log byte 3, the event type: RTAS_TYPE_ECC_UNCORR for an uncorrectable error.
inline constexpr u8 kTypeEccUncorrected = 0x09;

// Version 6 extended log header (rtas_ext_event_log_v6).
inline constexpr u8 kV6Valid = 0x80, kV6Unrecoverable = 0x40, kV6NewLog = 0x04, kV6BigEndian = 0x02;
inline constexpr u8 kV6PowerPcFormat = 0x80;
inline constexpr u8 kV6FormatEventLog = 14;                   // RTAS_V6EXT_LOG_FORMAT_EVENT_LOG
inline constexpr u32 kCompanyIbm = 0x49424d00;                // RTAS_V6EXT_COMPANY_ID_IBM, "IBM\0"

// pSeries section ids (PSERIES_ELOG_SECT_ID_*).
inline constexpr u16 kSectionMce = 0x4d43;  // "MC"

// struct pseries_mc_errorlog fields.
inline constexpr u8 kMcTypeUe = 0x00;                          // MC_ERROR_TYPE_UE
enum class UeKind : u8 { Indeterminate = 0, Ifetch = 1, PageTableWalkIfetch = 2, LoadStore = 3,
                         PageTableWalkLoadStore = 4 };         // MC_ERROR_UE_*
inline constexpr u8 kUeEffectiveAddrProvided = 0x40;           // UE_EFFECTIVE_ADDR_PROVIDED
inline constexpr u8 kUeLogicalAddrProvided = 0x20;             // UE_LOGICAL_ADDR_PROVIDED

// Sizes of the pieces (packed, big-endian).
inline constexpr u32 kHeaderBytes = sizeof(ErrorLogHeader);     // rtas_error_log without its buffer[]
inline constexpr u32 kV6HeaderBytes = sizeof(ExtLogV6Header);   // rtas_ext_event_log_v6 up to vendor_log[]
inline constexpr u32 kSectionHeaderBytes = sizeof(SectionHeader);
inline constexpr u32 kMcSectionBytes = kSectionHeaderBytes + sizeof(McSection);  // header + pseries_mc_errorlog
inline constexpr u32 kMcLogBytes = sizeof(McLog);  // 64
static_assert(kMcLogBytes == kHeaderBytes + kV6HeaderBytes + kMcSectionBytes);

// What went wrong: an uncorrectable error on a data access, say.
struct McErrorInfo {
    u64 effective_addr = 0;  // the partition's effective address of the access
    u64 logical_addr = 0;    // the logical (guest real) address
    bool effective_valid = true;
    bool logical_valid = true;
    UeKind ue = UeKind::LoadStore;
    Entity initiator = Entity::Cpu;
    Entity target = Entity::Memory;
    u32 proc_id = 0;  // the vCPU's interrupt server number
};

// Writes the machine-check log (severity ERROR_SYNC, disposition NOT_RECOVERED,
// extended log present, one "MC" section) into buf. Returns its length
// (kMcLogBytes), or 0 if cap is too small (nothing is written then).
u32 encode_mc_error_log(const McErrorInfo& info, u8* buf, u32 cap);

}  // namespace pv::rtaslog
