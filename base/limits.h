// System-wide table capacities every layer agrees on (the config, the pool,
// the request pool, the partition table). They are real systems' limits, so
// that a config a POWER9 server under PowerVM accepts is not refused here;
// what a boot really uses is sized from its config (only the partitions and
// vCPUs it names are created and scheduled, loops run to the highest slot
// in use, and per-page state is carved at boot from hypervisor memory and
// fixed afterwards: no heap).
#pragma once
#include "base/types.h"

namespace pv {

// PowerVM's limit on the largest POWER9 servers (E980: 1000 partitions).
// The slot-indexed tables stay arrays of this size (the partition table,
// the pool's per-partition state, per-slot counters): about 19 KiB a slot,
// 19 MiB in all, fixed at link time, so that a partition moving in at run
// time never needs memory the boot did not set aside.
inline constexpr u32 kMaxPartitions = 1000;
// vCPUs per partition. Each partition embeds its vCPUs (2 KiB each): 8 keeps
// the 1000-partition table at 19 MiB; larger partitions would need the vCPU
// array carved at boot (not done yet, docs/config.md).
inline constexpr u32 kMaxConfigVcpus = 8;
// The POWER9 LPIDR is 12 bits: LPIDs 1..4095 (0 is the hypervisor). The
// partition table (16 bytes per LPID, 64 KiB) covers all of them.
inline constexpr u32 kMaxLpid = 4095;

}  // namespace pv
