// The migration pair's shared key (docs/migration.md, "Configuration and the
// pair key"): a bundle entry of 64 hex digits that [migration] key_file
// names. It authenticates the sessions between the two systems' movers; only
// the hypervisor and the mover ever hold it, and nothing prints it.
#pragma once
#include "base/result.h"
#include "base/types.h"

namespace pv {

class Bundle;
struct SystemConfig;

inline constexpr u32 kMigKeyBytes = 32;

// Exactly 64 hex digits (either case), then nothing, "\n" or "\r\n". On
// failure `out` is all zero and `why` (if given) says what is wrong with the
// text, never quoting it.
[[nodiscard]] Err mig_parse_key(const u8* data, u64 size, u8 (&out)[kMigKeyBytes], const char** why);

// At boot, with a parsed config: the key of cfg.migration.key_file from the
// bundle. Without [migration] there is no key (out all zero, true). False
// after logging "config:LINE: key_file: ..." when the entry is missing or is
// not a key.
[[nodiscard]] bool mig_load_key(const Bundle& b, const SystemConfig& cfg, u8 (&out)[kMigKeyBytes]);

}  // namespace pv
