#include "hv/rtas_error_log.h"

namespace pv::rtaslog {

u32 encode_mc_error_log(const McErrorInfo& info, u8* buf, u32 cap) {
    if (!buf || cap < kMcLogBytes) return 0;
    McLog log{};  // reserved fields 0

    // struct rtas_error_log
    log.header.byte0 = 6;  // version 6
    log.header.byte1 = static_cast<u8>(kSeverityErrorSync << 5 | kDispNotRecovered << 3 | 1 << 2);
    log.header.byte2 = static_cast<u8>(static_cast<u8>(info.initiator) << 4 | (static_cast<u8>(info.target) & 0xf));
    log.header.byte3 = kTypeEccUncorrected;
    log.header.extended_log_length.set(kMcLogBytes - kHeaderBytes);

    // struct rtas_ext_event_log_v6
    log.v6.byte0 = kV6Valid | kV6Unrecoverable | kV6NewLog | kV6BigEndian;
    log.v6.byte2 = kV6PowerPcFormat | kV6FormatEventLog;
    log.v6.company_id.set(kCompanyIbm);

    // struct pseries_errorlog header, then struct pseries_mc_errorlog
    log.section.id.set(kSectionMce);
    log.section.length.set(kMcSectionBytes);
    log.section.version = 1;  // as QEMU
    log.mc.fru_id.set(0);
    log.mc.proc_id.set(info.proc_id);
    log.mc.error_type = kMcTypeUe;
    u8 sub = static_cast<u8>(static_cast<u8>(info.ue) & 0x07);
    if (info.effective_valid) sub |= kUeEffectiveAddrProvided;
    if (info.logical_valid) sub |= kUeLogicalAddrProvided;
    log.mc.sub_err_type = sub;
    log.mc.effective_address.set(info.effective_valid ? info.effective_addr : 0);
    log.mc.logical_address.set(info.logical_valid ? info.logical_addr : 0);

    store_layout(buf, log);
    return kMcLogBytes;
}

}  // namespace pv::rtaslog
