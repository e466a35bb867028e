// The earliest moment a vCPU that is off the threads may have to be woken by
// time alone: a ceded vCPU's wake-up (H_CEDE: its decrementer), a vCPU parked
// on paging whose decrementer may wake it. The scheduler scans the vCPUs only
// once that moment has come, not on every pass (docs/scheduler.md "Timed
// wake-ups"); every other wake-up (H_PROD, an IPI or external interrupt, a
// page-in's completion, console input) makes its vCPU runnable itself.
#pragma once
#include "base/types.h"

namespace pv {

// A vCPU may need waking at tb (0: at once, e.g. a parked vCPU that may take
// an interrupt again). Publish the state it rests on before calling.
void timed_wake_note(u64 tb);

// True when the moment has come; the deadline is then taken (another thread
// calling now gets false), and the caller scans and notes the next one found.
[[nodiscard]] bool timed_wake_take(u64 now_tb);

u64 timed_wake_next();  // ~0: none known

}  // namespace pv
