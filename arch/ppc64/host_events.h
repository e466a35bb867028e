// The POWER9 side of host events (docs/scheduler.md, "Host events"): what
// the hardware needs done before the core logs one and resumes.
#pragma once
#include "base/types.h"

namespace pv::arch {

// A hypervisor maintenance interrupt: firmware handles the cause
// (OPAL_HANDLE_HMI2, else OPAL_HANDLE_HMI) and clears HMER; without either,
// the HMER bits seen are cleared here. Returns HMER as it was (for the log).
u64 handle_hmi();

}  // namespace pv::arch
