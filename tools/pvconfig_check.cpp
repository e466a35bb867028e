// pvconfig-check FILE: validates a partition configuration with the
// hypervisor's own parser; prints "ok" or the first error.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "hv/config.h"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: pvconfig-check FILE\n");
        return 2;
    }
    std::ifstream f(argv[1], std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "pvconfig-check: cannot open '%s'\n", argv[1]);
        return 2;
    }
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    static pv::SystemConfig cfg;
    pv::ConfigError err{};
    if (!pv::parse_config(text, cfg, err)) {
        char msg[256];
        pv::format_config_error(err, msg, sizeof msg);
        std::fprintf(stderr, "%s: %s\n", argv[1], msg);
        return 1;
    }
    std::printf("ok\n");
    return 0;
}
