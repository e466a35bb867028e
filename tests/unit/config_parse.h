// A config text parsed in one call, and its error checked, for the config tests.
#pragma once
#include <gtest/gtest.h>

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

inline std::string formatted(const ConfigError& e) {
    char buf[256];
    format_config_error(e, buf, sizeof buf);
    return buf;
}

// Expects a failure at `line` in `field` whose message contains `needle`.
inline void expect_error(const std::string& text, u32 line, const std::string& field, const std::string& needle) {
    Parsed p = parse(text);
    ASSERT_FALSE(p.ok) << text;
    EXPECT_EQ(p.err.line, line) << formatted(p.err);
    EXPECT_EQ(std::string(p.err.field), field) << formatted(p.err);
    EXPECT_NE(std::string(p.err.message).find(needle), std::string::npos)
        << "message: " << p.err.message << "\nexpected to contain: " << needle;
}

}  // namespace pv::test
