// Live migration, the target system's half: the record stream of an
// incoming partition (from the session the peer opened) fed to the target
// engine (hv/mig_target.h), whole pages written to this system's paging
// device through the mover, and once the stream is complete the partition
// installed, held until the source's Go, and resumed here (docs/migration.md,
// "Moving a partition", "Switch-over").
//
// Called by the migration control from mig_poll, no lock held, one thread
// at a time (the Migration lock).
#pragma once
#include "base/types.h"

namespace pv {

enum class MigRecv : u8 {
    Consumed,  // done with it: free its slot
    Hold,      // not now (a page write in flight, no slot): give it again, nothing after it first
    Abort,     // a record that cannot be applied: the migration ends (logged)
};

// A record (magic PVMG) from the peer that opened the session.
MigRecv mig_receive_record(const u8* rec, u32 len, const char* peer, u64 now_tb);
// A finished PSP write from one of our slots: true when it was ours.
bool mig_receive_io_done(u16 slot, u16 status);
// Install once everything is in, and hold it: true while the source is to
// be told it is Ready (the caller sends it, then mig_receive_ready_sent).
bool mig_receive_poll(u64 now_tb);
void mig_receive_ready_sent();
// The source's Go: the held partition resumes here (once; true again on a
// repeat, so that the caller can retry its Running). False: nothing is held
// (a Go that does not fit; logged).
bool mig_receive_go(u64 now_tb);
// The session ended: a partition not resumed yet is dropped, installed or
// not (before Go the source never gave it up); one that runs here stays.
void mig_receive_session_lost();
bool mig_receive_active();

}  // namespace pv
