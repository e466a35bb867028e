// A config text parsed in one call, for the config tests.
#pragma once
#include <string>

#include "hv/config.h"

namespace pv::test {

struct Parsed {
    bool ok;
    SystemConfig cfg;
    ConfigError err;
};

inline Parsed parse(const std::string& text) {
    Parsed p{};
    p.ok = parse_config(text, p.cfg, p.err);
    return p;
}

}  // namespace pv::test
