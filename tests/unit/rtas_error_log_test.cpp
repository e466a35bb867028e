// The machine-check RTAS error log, checked byte by byte against the layouts
// Linux parses it with, and walked back the way Linux finds its sections.
//
// Offsets below are written from the Linux headers:
//   arch/powerpc/include/asm/rtas-types.h  struct rtas_error_log, struct
//       rtas_ext_event_log_v6, struct pseries_errorlog
//   arch/powerpc/include/asm/rtas.h         rtas_error_severity() & co, RTAS_*
//       constants, PSERIES_ELOG_SECT_ID_MCE, RTAS_V6EXT_*
//   arch/powerpc/platforms/pseries/ras.c    struct pseries_mc_errorlog (__packed),
//       MC_ERROR_*, UE_*_ADDR_PROVIDED
//   arch/powerpc/kernel/rtas.c              get_pseries_errorlog()
// and the summary-word masks from QEMU hw/ppc/spapr_events.c (RTAS_LOG_*).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "hv/rtas_error_log.h"

using namespace pv;
using namespace pv::rtaslog;

namespace {

// struct rtas_error_log
constexpr u32 kElogByte0 = 0, kElogByte1 = 1, kElogByte2 = 2, kElogByte3 = 3, kElogExtLen = 4, kElogBuffer = 8;
// struct rtas_ext_event_log_v6 (offsets from rtas_error_log.buffer)
constexpr u32 kExtByte0 = 0, kExtByte2 = 2, kExtCompanyId = 12, kExtVendorLog = 16;
constexpr u32 kSizeofExtLogV6 = 17;  // sizeof(struct rtas_ext_event_log_v6): vendor_log[1] counts
// struct pseries_errorlog (offsets from the section)
constexpr u32 kSectId = 0, kSectLength = 2, kSectVersion = 4, kSectData = 8;
// struct pseries_mc_errorlog (offsets from pseries_errorlog.data)
constexpr u32 kMcFruId = 0, kMcProcId = 4, kMcErrorType = 8, kMcSubErrType = 9, kMcReserved = 10, kMcEa = 16,
              kMcLa = 24, kSizeofMcErrorlog = 32;
// Linux constants
constexpr u8 RTAS_SEVERITY_ERROR_SYNC = 0x3, RTAS_DISP_NOT_RECOVERED = 0x2, RTAS_INITIATOR_CPU = 0x1;
constexpr u8 RTAS_V6EXT_LOG_FORMAT_EVENT_LOG = 14;
constexpr u32 RTAS_V6EXT_COMPANY_ID_IBM = ('I' << 24) | ('B' << 16) | ('M' << 8);
constexpr u16 PSERIES_ELOG_SECT_ID_MCE = ('M' << 8) | 'C';
constexpr u8 MC_ERROR_TYPE_UE = 0x00, MC_ERROR_UE_LOAD_STORE = 3;
constexpr u8 UE_EFFECTIVE_ADDR_PROVIDED = 0x40, UE_LOGICAL_ADDR_PROVIDED = 0x20;
// QEMU's summary word
constexpr u32 RTAS_LOG_VERSION_6 = 0x06000000, RTAS_LOG_SEVERITY_ERROR_SYNC = 0x00600000,
              RTAS_LOG_DISPOSITION_NOT_RECOVERED = 0x00100000, RTAS_LOG_OPTIONAL_PART_PRESENT = 0x00040000,
              RTAS_LOG_INITIATOR_CPU = 0x00001000, RTAS_LOG_TARGET_MEMORY = 0x00000400;

u16 be16(const u8* p) { return static_cast<u16>(p[0] << 8 | p[1]); }
u32 be32(const u8* p) { return u32{p[0]} << 24 | u32{p[1]} << 16 | u32{p[2]} << 8 | p[3]; }
u64 be64(const u8* p) { return u64{be32(p)} << 32 | be32(p + 4); }

// get_pseries_errorlog(), on a byte image: check the format, then walk the
// sections from vendor_log by their length until log->buffer + extended length.
const u8* linux_get_pseries_errorlog(const u8* log, u16 section_id) {
    const u8* ext = log + kElogBuffer;
    u32 ext_len = be32(log + kElogExtLen);
    if (ext_len < kSizeofExtLogV6 || (ext[kExtByte2] & 0x0f) != RTAS_V6EXT_LOG_FORMAT_EVENT_LOG ||
        be32(ext + kExtCompanyId) != RTAS_V6EXT_COMPANY_ID_IBM)
        return nullptr;
    const u8* end = ext + ext_len;
    for (const u8* p = ext + kExtVendorLog; p < end;) {
        if (be16(p + kSectId) == section_id) return p;
        u16 len = be16(p + kSectLength);
        if (len == 0) return nullptr;  // (Linux would loop forever)
        p += len;
    }
    return nullptr;
}

McErrorInfo sample() {
    McErrorInfo i;
    i.effective_addr = 0xc000000012345678ULL;
    i.logical_addr = 0x12345678;
    i.proc_id = 3;
    return i;
}

TEST(RtasErrorLog, SummaryBytesAreWhatLinuxDecodes) {
    u8 buf[128];
    std::memset(buf, 0xee, sizeof buf);
    ASSERT_EQ(encode_mc_error_log(sample(), buf, sizeof buf), kMcLogBytes);
    EXPECT_EQ(kMcLogBytes, 64u);
    EXPECT_EQ(buf[kElogByte0], 6);                                        // architectural version
    EXPECT_EQ((buf[kElogByte1] & 0xE0) >> 5, RTAS_SEVERITY_ERROR_SYNC);   // rtas_error_severity()
    EXPECT_EQ((buf[kElogByte1] & 0x18) >> 3, RTAS_DISP_NOT_RECOVERED);    // rtas_error_disposition()
    EXPECT_EQ((buf[kElogByte1] & 0x04) >> 2, 1);                          // rtas_error_extended()
    EXPECT_EQ((buf[kElogByte2] & 0xf0) >> 4, RTAS_INITIATOR_CPU);         // rtas_error_initiator()
    EXPECT_EQ(buf[kElogByte2] & 0x0f, 4);                                 // target: memory
    EXPECT_EQ(buf[kElogByte3], 0x09);                                     // rtas_error_type(): RTAS_TYPE_ECC_UNCORR
    EXPECT_EQ(be32(buf + kElogExtLen), kMcLogBytes - kElogBuffer);        // rtas_error_extended_log_length()
    // The same word with QEMU's masks.
    EXPECT_EQ(be32(buf), RTAS_LOG_VERSION_6 | RTAS_LOG_SEVERITY_ERROR_SYNC | RTAS_LOG_DISPOSITION_NOT_RECOVERED |
                             RTAS_LOG_OPTIONAL_PART_PRESENT | RTAS_LOG_INITIATOR_CPU | RTAS_LOG_TARGET_MEMORY | 0x09);
    EXPECT_EQ(buf[kMcLogBytes], 0xee);  // nothing written past the log
}

TEST(RtasErrorLog, ExtendedHeaderIsAnIbmEventLog) {
    u8 buf[kMcLogBytes];
    ASSERT_EQ(encode_mc_error_log(sample(), buf, sizeof buf), kMcLogBytes);
    const u8* ext = buf + kElogBuffer;
    EXPECT_EQ(ext[kExtByte0], 0x80 | 0x40 | 0x04 | 0x02);  // valid, unrecoverable, new log, big-endian
    EXPECT_EQ(ext[kExtByte2] & 0x80, 0x80);                // PowerPC format
    EXPECT_EQ(ext[kExtByte2] & 0x0f, RTAS_V6EXT_LOG_FORMAT_EVENT_LOG);  // rtas_ext_event_log_format()
    EXPECT_EQ(be32(ext + kExtCompanyId), RTAS_V6EXT_COMPANY_ID_IBM);  // rtas_ext_event_company_id()
    for (u32 i = 4; i < 12; ++i) EXPECT_EQ(ext[i], 0) << i;  // reserved
}

TEST(RtasErrorLog, McSectionHasTheAddressesAndTheirProvidedBits) {
    u8 buf[kMcLogBytes];
    ASSERT_EQ(encode_mc_error_log(sample(), buf, sizeof buf), kMcLogBytes);
    const u8* sect = buf + kElogBuffer + kExtVendorLog;
    EXPECT_EQ(be16(sect + kSectId), PSERIES_ELOG_SECT_ID_MCE);
    EXPECT_EQ(be16(sect + kSectLength), kSectData + kSizeofMcErrorlog);
    EXPECT_EQ(sect[kSectVersion], 1);
    const u8* mc = sect + kSectData;
    EXPECT_EQ(be32(mc + kMcFruId), 0u);
    EXPECT_EQ(be32(mc + kMcProcId), 3u);
    EXPECT_EQ(mc[kMcErrorType], MC_ERROR_TYPE_UE);
    EXPECT_EQ(mc[kMcSubErrType] & 0x07, MC_ERROR_UE_LOAD_STORE);  // rtas_mc_error_sub_type()
    EXPECT_TRUE(mc[kMcSubErrType] & UE_EFFECTIVE_ADDR_PROVIDED);
    EXPECT_TRUE(mc[kMcSubErrType] & UE_LOGICAL_ADDR_PROVIDED);
    EXPECT_FALSE(mc[kMcSubErrType] & 0x80);  // not "permanent"
    for (u32 i = 0; i < 6; ++i) EXPECT_EQ(mc[kMcReserved + i], 0);
    EXPECT_EQ(be64(mc + kMcEa), 0xc000000012345678ULL);
    EXPECT_EQ(be64(mc + kMcLa), 0x12345678u);
    EXPECT_EQ(sect + kSectData + kSizeofMcErrorlog, buf + kMcLogBytes);  // the section ends the log
}

TEST(RtasErrorLog, LinuxWalkFindsTheMcSection) {
    u8 buf[kMcLogBytes];
    ASSERT_EQ(encode_mc_error_log(sample(), buf, sizeof buf), kMcLogBytes);
    const u8* sect = linux_get_pseries_errorlog(buf, PSERIES_ELOG_SECT_ID_MCE);
    ASSERT_NE(sect, nullptr);
    EXPECT_EQ(sect, buf + kElogBuffer + kExtVendorLog);
    EXPECT_EQ(be64(sect + kSectData + kMcEa), 0xc000000012345678ULL);
    EXPECT_EQ(linux_get_pseries_errorlog(buf, ('E' << 8) | 'P'), nullptr);  // no EPOW section
    // Linux copies 8 + extended length bytes (fwnmi_get_errinfo): all of it.
    EXPECT_EQ(8 + be32(buf + kElogExtLen), kMcLogBytes);
}

TEST(RtasErrorLog, LinuxWalkRejectsAForeignFormat) {
    u8 buf[kMcLogBytes];
    ASSERT_EQ(encode_mc_error_log(sample(), buf, sizeof buf), kMcLogBytes);
    std::vector<u8> copy(buf, buf + sizeof buf);
    copy[kElogBuffer + kExtCompanyId] = 'X';
    EXPECT_EQ(linux_get_pseries_errorlog(copy.data(), PSERIES_ELOG_SECT_ID_MCE), nullptr);
}

TEST(RtasErrorLog, AddressesNotProvidedAreZeroWithTheirBitsClear) {
    McErrorInfo i = sample();
    i.effective_valid = false;
    i.logical_valid = false;
    i.ue = UeKind::Indeterminate;
    i.initiator = Entity::Memory;
    u8 buf[kMcLogBytes];
    ASSERT_EQ(encode_mc_error_log(i, buf, sizeof buf), kMcLogBytes);
    const u8* mc = buf + kElogBuffer + kExtVendorLog + kSectData;
    EXPECT_EQ(mc[kMcSubErrType], 0);
    EXPECT_EQ(be64(mc + kMcEa), 0u);
    EXPECT_EQ(be64(mc + kMcLa), 0u);
    EXPECT_EQ(buf[kElogByte2] >> 4, 4);  // RTAS_INITIATOR_MEMORY
}

TEST(RtasErrorLog, TooSmallABufferWritesNothing) {
    u8 buf[kMcLogBytes];
    std::memset(buf, 0xee, sizeof buf);
    EXPECT_EQ(encode_mc_error_log(sample(), buf, kMcLogBytes - 1), 0u);
    EXPECT_EQ(encode_mc_error_log(sample(), nullptr, 1024), 0u);
    for (u8 b : buf) EXPECT_EQ(b, 0xee);
}

}  // namespace
