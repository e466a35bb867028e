// Boot-time check of the paging regions against the attached paging device.
#include "hv/paging_space.h"

#include "hv/console.h"
#include "vio/paging_protocol.h"

namespace pv {

bool check_paging_space(const SystemConfig& cfg, const arch::PagingDevice& dev) {
    // Paging requests address the device in 512-byte blocks (paging::kBlockBytes).
    if (dev.block_bytes != paging::kBlockBytes) {
        log("paging device %s has %u-byte blocks; paging needs %lu-byte blocks", dev.name, dev.block_bytes,
            paging::kBlockBytes);
        return false;
    }
    ConfigError err{};
    if (check_paging_device(cfg, dev.name, dev.blocks, dev.block_bytes, err)) return true;
    char msg[256];
    format_config_error(err, msg, sizeof msg);
    log("%s", msg);
    return false;
}

}  // namespace pv
