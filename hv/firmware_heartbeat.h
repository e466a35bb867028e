// The firmware's heartbeat. skiboot runs its timers and pollers only when the
// OS calls OPAL, and one of them kicks the BMC's watchdog: a machine whose OS
// makes no OPAL call for about a minute is reset by the BMC (QEMU's
// ipmi-bmc-sim does it too). Linux on PowerNV calls OPAL_POLL_EVENTS every
// /ibm,opal ibm,heartbeat-ms; so does the hypervisor, from whichever thread
// passes the deadline first (its scheduler, an idle thread's wake-up, or a
// time slice's end), however busy or quiet the partitions are.
#pragma once
#include "base/types.h"

namespace pv {

// Boot: the interval, in timebase ticks (0: never).
void firmware_heartbeat_init(u64 interval_tb, u64 now);
// Calls the firmware if the heartbeat is due (one thread wins a due beat) and
// returns the timebase of the next one, for an idle thread's deadline.
u64 firmware_heartbeat(u64 now);

}  // namespace pv
