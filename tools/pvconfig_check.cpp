// pvconfig-check FILE [--paging-device-size SIZE]: validates a partition
// configuration with the hypervisor's own parser; prints "ok" or the first
// error. With a size (as the config writes sizes: 128M, 1G), the paging
// regions are also checked against a paging device nvme0 of that size, as the
// hypervisor does at boot once it has read the device's size.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "hv/config.h"
#include "hv/config_lex.h"

namespace {

int usage() {
    std::fprintf(stderr, "usage: pvconfig-check FILE [--paging-device-size SIZE]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 && argc != 4) return usage();
    pv::u64 device_bytes = 0;
    bool check_device = argc == 4;
    if (check_device) {
        pv::u64 bytes = 0;
        if (std::strcmp(argv[2], "--paging-device-size") != 0) return usage();
        if (pv::config_detail::parse_size(argv[3], bytes) != pv::config_detail::Num::Ok || bytes % 512) {
            std::fprintf(stderr, "pvconfig-check: '%s' is not a size in 512-byte blocks (use e.g. 128M)\n", argv[3]);
            return 2;
        }
        device_bytes = bytes;
    }
    std::ifstream f(argv[1], std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "pvconfig-check: cannot open '%s'\n", argv[1]);
        return 2;
    }
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    static pv::SystemConfig cfg;
    pv::ConfigError err{};
    bool ok = pv::parse_config(text, cfg, err);
    if (ok && check_device) ok = pv::check_paging_device(cfg, "nvme0", device_bytes / 512, 512, err);
    if (!ok) {
        char msg[256];
        pv::format_config_error(err, msg, sizeof msg);
        std::fprintf(stderr, "%s: %s\n", argv[1], msg);
        return 1;
    }
    std::printf("ok\n");
    return 0;
}
