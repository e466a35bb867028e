#include "hv/rtas_error_log.h"

namespace pv::rtaslog {
namespace {

// Big-endian stores into a byte buffer (no alignment assumed).
void put8(u8* p, u8 v) { p[0] = v; }
void put16(u8* p, u16 v) {
    p[0] = static_cast<u8>(v >> 8);
    p[1] = static_cast<u8>(v);
}
void put32(u8* p, u32 v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<u8>(v >> (24 - 8 * i));
}
void put64(u8* p, u64 v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<u8>(v >> (56 - 8 * i));
}

}  // namespace

u32 encode_mc_error_log(const McErrorInfo& info, u8* buf, u32 cap) {
    if (!buf || cap < kMcLogBytes) return 0;
    for (u32 i = 0; i < kMcLogBytes; ++i) buf[i] = 0;

    // struct rtas_error_log
    u8* h = buf;
    put8(h + 0, 6);  // version 6
    put8(h + 1, static_cast<u8>(kSeverityErrorSync << 5 | kDispNotRecovered << 3 | 1 << 2));
    put8(h + 2, static_cast<u8>(static_cast<u8>(info.initiator) << 4 | (static_cast<u8>(info.target) & 0xf)));
    put8(h + 3, kTypeEccUncorrected);
    put32(h + 4, kV6HeaderBytes + kMcSectionBytes);  // extended_log_length: what follows the 8 bytes

    // struct rtas_ext_event_log_v6
    u8* x = buf + kHeaderBytes;
    put8(x + 0, kV6Valid | kV6Unrecoverable | kV6NewLog | kV6BigEndian);
    put8(x + 2, kV6PowerPcFormat | kV6FormatEventLog);
    put32(x + 12, kCompanyIbm);

    // struct pseries_errorlog header, then struct pseries_mc_errorlog
    u8* s = x + kV6HeaderBytes;
    put16(s + 0, kSectionMce);
    put16(s + 2, kMcSectionBytes);
    put8(s + 4, 1);  // section version (as QEMU)
    u8* mc = s + kSectionHeaderBytes;
    put32(mc + 0, 0);  // fru_id
    put32(mc + 4, info.proc_id);
    put8(mc + 8, kMcTypeUe);
    u8 sub = static_cast<u8>(static_cast<u8>(info.ue) & 0x07);
    if (info.effective_valid) sub |= kUeEffectiveAddrProvided;
    if (info.logical_valid) sub |= kUeLogicalAddrProvided;
    put8(mc + 9, sub);
    put64(mc + 16, info.effective_valid ? info.effective_addr : 0);
    put64(mc + 24, info.logical_valid ? info.logical_addr : 0);
    return kMcLogBytes;
}

}  // namespace pv::rtaslog
