// The pieces of an RTAS error log as Linux parses them: struct rtas_error_log
// (without its buffer[]), the version 6 extended log header (struct
// rtas_ext_event_log_v6 up to vendor_log[]), a pSeries section header
// (struct pseries_errorlog) and the machine-check section (struct
// pseries_mc_errorlog, arch/powerpc/platforms/pseries/ras.c). Big-endian and
// packed; a log is these back to back in a byte buffer, so read and write
// them with load_layout / store_layout. Shared by the hypervisor
// (hv/rtas_error_log.cpp) and the mce-guest that parses them.
#pragma once
#include <cstddef>

#include "base/endian.h"

namespace pv::rtaslog {

struct ErrorLogHeader {
    u8 byte0;  // version
    u8 byte1;  // severity (7:5), disposition (4:3), extended log present (2)
    u8 byte2;  // initiator (7:4), target (3:0)
    u8 byte3;  // event type
    Be32 extended_log_length;  // bytes after this header
};
static_assert(sizeof(ErrorLogHeader) == 8);
static_assert(offsetof(ErrorLogHeader, byte0) == 0 && offsetof(ErrorLogHeader, byte1) == 1 &&
              offsetof(ErrorLogHeader, byte2) == 2 && offsetof(ErrorLogHeader, byte3) == 3 &&
              offsetof(ErrorLogHeader, extended_log_length) == 4);

struct ExtLogV6Header {
    u8 byte0;  // valid, unrecoverable, ..., new log, big-endian
    u8 byte1;
    u8 byte2;  // PowerPC format (7), log format (3:0)
    u8 byte3;
    u8 reserved[8];
    Be32 company_id;
};
static_assert(sizeof(ExtLogV6Header) == 16);
static_assert(offsetof(ExtLogV6Header, byte0) == 0 && offsetof(ExtLogV6Header, byte2) == 2 &&
              offsetof(ExtLogV6Header, reserved) == 4 && offsetof(ExtLogV6Header, company_id) == 12);

struct SectionHeader {
    Be16 id;      // two ASCII characters
    Be16 length;  // of the section, this header included
    u8 version;
    u8 subtype;
    Be16 creator_component;
};
static_assert(sizeof(SectionHeader) == 8);
static_assert(offsetof(SectionHeader, id) == 0 && offsetof(SectionHeader, length) == 2 &&
              offsetof(SectionHeader, version) == 4 && offsetof(SectionHeader, subtype) == 5 &&
              offsetof(SectionHeader, creator_component) == 6);

struct McSection {
    Be32 fru_id;
    Be32 proc_id;
    u8 error_type;
    u8 sub_err_type;
    u8 reserved[6];
    Be64 effective_address;
    Be64 logical_address;
};
static_assert(sizeof(McSection) == 32);
static_assert(offsetof(McSection, fru_id) == 0 && offsetof(McSection, proc_id) == 4 &&
              offsetof(McSection, error_type) == 8 && offsetof(McSection, sub_err_type) == 9 &&
              offsetof(McSection, reserved) == 10 && offsetof(McSection, effective_address) == 16 &&
              offsetof(McSection, logical_address) == 24);

// A machine-check log: the header, the v6 header, one "MC" section.
struct McLog {
    ErrorLogHeader header;
    ExtLogV6Header v6;
    SectionHeader section;
    McSection mc;
};
static_assert(sizeof(McLog) == 64);
static_assert(offsetof(McLog, v6) == 8 && offsetof(McLog, section) == 24 && offsetof(McLog, mc) == 32);

}  // namespace pv::rtaslog
