// Live migration, the source system's half of `migrlpar -o m` once the
// target accepted: the pre-copy engine (hv/mig_source.h) wired to the mover
// (records into mover slots, PagedOut pages read by the PSP into slots), the
// suspend, and the end at the source once the target confirms that the
// partition runs there. docs/migration.md, "Moving a partition".
//
// Called by the migration control (hv/mig_control.cpp) from mig_poll, with
// no lock held, one thread at a time (the Migration lock).
#pragma once
#include "base/types.h"

namespace pv {

struct Partition;

enum class MigSendState : u8 {
    Idle,
    Precopy,    // the partition runs; rounds of pages go out
    Suspended,  // stopped here; the last pages and the vCPU state go out
    Sent,       // everything sent: waiting for the target's Ready
    Committed,  // Go sent: only the target may run it now; waiting for its Running
    InDoubt,    // the session ended after Go: still suspended here (migrlpar -o r)
    Done,       // confirmed: the partition ended here as migrated
    Failed,     // why() says it; the partition runs on here
};

// A migration that still holds its partition here and may yet resume it or
// hand it over (In Doubt is neither: only migrlpar -o r ends it).
constexpr bool mig_send_under_way(MigSendState s) {
    return s == MigSendState::Precopy || s == MigSendState::Suspended || s == MigSendState::Sent ||
           s == MigSendState::Committed;
}

// Begins moving p to `target` over the open session. False (and why()) when
// the engine refuses (not shared, already moving).
bool mig_send_begin(Partition& p, const char* target, u64 now_tb);
// Bounded work: pump records, suspend, final records.
MigSendState mig_send_poll(u64 now_tb);
// A finished PSP read into one of our slots: true when it was ours.
bool mig_send_io_done(u16 slot, u16 status);
// The switch-over (docs/migration.md "Switch-over"). The target holds the
// installed partition Ready: Go has been handed to the mover, from now on
// this system never resumes the partition by itself.
void mig_send_committed();
// The target says the partition runs there (Running): it ends here.
void mig_send_confirmed();
// The session ended. Before Go: the partition runs on here (resumed when it
// was suspended); nothing is lost. After Go: the target may run it, so it
// stays suspended here, intact, In Doubt, until the operator recovers it.
void mig_send_session_lost(const char* why);
// migrlpar -o r: an In Doubt partition resumes here (the operator has seen
// that the target does not run it). False (and why()) when it is not In Doubt.
bool mig_send_recover(const char* name);
MigSendState mig_send_state();
const char* mig_send_why();
const Partition* mig_send_partition();

}  // namespace pv
