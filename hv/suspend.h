// Suspending a running partition for the switch-over of a live migration
// (docs/migration.md): transparently, the partition does nothing to help. Its
// vCPUs finish the instruction they are at, leave their threads and are not
// dispatched again until it is resumed (here, if the target never confirmed)
// or it moves away. Nothing else about them changes: a ceded vCPU stays
// ceded, one parked on paging stays parked (its page-in completes), one that
// was runnable waits as runnable.
//
// The mechanism: the scheduler holds back (parks) a suspended partition's
// vCPUs it pops, and a vCPU of it that exits wanting to resume yields
// instead; suspend kicks the threads running it so that each exits now.
#pragma once

namespace pv {

struct Partition;
struct Vcpu;

void suspend_partition(Partition& p);
// Suspended and no vCPU of it on a thread: its state is still and in memory.
bool partition_quiesced(Partition& p);
// Dispatching again: parked vCPUs go back on the run queue.
void resume_partition(Partition& p);

// The scheduler, for a vCPU it just popped: true when it was parked instead
// (its partition is suspended), false to run it.
bool park_if_suspended(Vcpu& v);

}  // namespace pv
