// The pair key's text form and where it comes from at boot (hv/mig_key.h).
#include "hv/mig_key.h"

#include "hv/bundle.h"
#include "hv/config.h"
#include "hv/config_lex.h"
#include "hv/console.h"

namespace pv {
namespace {

constexpr u64 kDigits = 2 * kMigKeyBytes;

void clear(u8 (&out)[kMigKeyBytes]) {
    for (u8& b : out) b = 0;
}

Err refuse(u8 (&out)[kMigKeyBytes], const char** why, const char* reason) {
    clear(out);
    if (why) *why = reason;
    return Err::Invalid;
}

}  // namespace

Err mig_parse_key(const u8* data, u64 size, u8 (&out)[kMigKeyBytes], const char** why) {
    using config_detail::hex_digit;
    if (!data || size == 0) return refuse(out, why, "the entry is empty (a key is 64 hex digits)");
    if (size < kDigits) return refuse(out, why, "shorter than 64 hex digits");
    u64 rest = size - kDigits;
    bool line_end = rest == 0 || (rest == 1 && data[kDigits] == '\n') ||
                    (rest == 2 && data[kDigits] == '\r' && data[kDigits + 1] == '\n');
    u8 any = 0;
    for (u32 i = 0; i < kMigKeyBytes; ++i) {
        int hi = hex_digit(static_cast<char>(data[2 * i])), lo = hex_digit(static_cast<char>(data[2 * i + 1]));
        if (hi < 0 || lo < 0) return refuse(out, why, "not 64 hex digits (0-9, a-f, A-F, nothing else)");
        out[i] = static_cast<u8>(hi << 4 | lo);
        any |= out[i];
    }
    if (!line_end)
        return refuse(out, why, "more follows the 64 hex digits than one line end (\"\\n\" or \"\\r\\n\")");
    if (!any) return refuse(out, why, "a key of all zeros is not a key");
    if (why) *why = "";
    return Err::Ok;
}

bool mig_load_key(const Bundle& b, const SystemConfig& cfg, u8 (&out)[kMigKeyBytes]) {
    clear(out);
    const SystemConfig::MigrationConfig& m = cfg.migration;
    if (!m.present) return true;
    auto entry = b.find(m.key_file);
    if (!entry) {
        log("config:%u: key_file: bundle has no entry '%s'", m.key_file_line, m.key_file);
        return false;
    }
    const char* why = "";
    if (mig_parse_key(entry->data, entry->size, out, &why) != Err::Ok) {
        log("config:%u: key_file: bundle entry '%s' (%lu bytes) is not a key: %s", m.key_file_line, m.key_file,
            entry->size, why);
        return false;
    }
    return true;
}

}  // namespace pv
