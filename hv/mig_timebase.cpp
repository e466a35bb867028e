#include "hv/mig_timebase.h"
#include "hv/timed_wake.h"

#include "hv/mig_encode.h"
#include "hv/partition.h"

namespace pv {

MigTimebase mig_resume_timebase(u64 guest_tb, u64 suspend_wall_ns, u64 now_tb, u64 now_wall_ns, u64 hz) {
    MigTimebase t;
    t.wall = suspend_wall_ns != 0 && now_wall_ns != 0;
    if (t.wall && now_wall_ns > suspend_wall_ns) {
        u64 us = (now_wall_ns - suspend_wall_ns) / 1000;
        if (us > kMigMaxWallAdvanceMs * 1000) us = kMigMaxWallAdvanceMs * 1000;
        t.advance = us * (hz / 1'000'000) + us * (hz % 1'000'000) / 1'000'000;
    }
    t.offset = mig_tb_offset(guest_tb + t.advance, now_tb);
    t.step = now_tb + t.offset - guest_tb;
    return t;
}

void mig_apply_timebase(Partition& p, const MigTimebase& t, u64 now_tb) {
    Guard g(p.lock);  // wake_ceded reads the wake-ups
    p.tb_offset = t.offset;
    i64 step = static_cast<i64>(t.step);
    for (u32 i = 0; i < p.vcpu_count; ++i) {
        Vcpu& v = p.vcpus[i];
        // Installed at dec_tb and held since, not run: the time from there
        // to now is downtime, which step holds already.
        u64 installed = v.sprs.dec_tb;
        v.sprs.dec = static_cast<u64>(static_cast<i64>(v.sprs.dec) - step);  // load_sprs stops it at -1
        v.sprs.dec_tb = now_tb;
        if (v.state != VcpuState::Ceded) continue;
        u64 remaining = v.wake_tb > installed ? v.wake_tb - installed : 0;
        v.wake_tb = remaining > t.step ? now_tb + (remaining - t.step) : now_tb;
        timed_wake_note(v.wake_tb);
    }
}

}  // namespace pv
