// Live migration, target side: the timebase of a partition that moved in
// continues from the source's. POWER9 gives a partition its own timebase as
// an offset on the host's, added at entry (TBU40, arch/ppc64/cpu.cpp), so the
// offset must be a multiple of 2^24 ticks (mig_tb_offset, hv/mig_encode.h).
// docs/migration.md, "Timebase".
#pragma once
#include "base/types.h"

namespace pv {

struct Partition;

// At most this much wall-clock time counts as the downtime: the source gives
// up a suspension after 30 s (hv/mig_send.cpp), so a larger difference is
// the two clocks disagreeing.
inline constexpr u64 kMigMaxWallAdvanceMs = 30'000;

struct MigTimebase {
    u64 offset = 0;   // the partition's tb_offset here
    u64 step = 0;     // ticks its timebase moved over the downtime: now_tb + offset - guest_tb
    u64 advance = 0;  // the downtime by the wall clocks, in ticks (step is at most 2^24 more)
    bool wall = false;  // both wall clocks were known
};

// guest_tb and suspend_wall_ns: the partition's timebase and the source's
// wall clock (ns since 1970, 0 unknown) at the suspend; now_tb and
// now_wall_ns: this system's host timebase and wall clock. The partition's
// timebase here never is below guest_tb + advance: it never goes back.
MigTimebase mig_resume_timebase(u64 guest_tb, u64 suspend_wall_ns, u64 now_tb, u64 now_wall_ns, u64 hz);

// At the go (now_tb), before the partition resumes: p.tb_offset = t.offset,
// and each vCPU's decrementer and ceded wake-up, installed at its dec_tb
// (hv/mig_install.h) and held since, count the step from now: they expire at
// the same point of the partition's timebase as they would have at the source.
void mig_apply_timebase(Partition& p, const MigTimebase& t, u64 now_tb);

}  // namespace pv
