// System-wide table sizes every layer agrees on (the config, the pool, the
// request pool). Fixed at build time for now; issue 11 sizes them at boot.
#pragma once
#include "base/types.h"

namespace pv {

inline constexpr u32 kMaxPartitions = 8;
inline constexpr u32 kMaxConfigVcpus = 8;  // vCPUs per partition
inline constexpr u32 kMaxLpid = 1023;      // LPIDs 1..1023; 0 is the hypervisor

}  // namespace pv
