// Live migration (issue 10), the hypervisor's control of it: the console's
// migrlpar commands become jobs that talk to the peer system's hypervisor
// through the mover (the paging service partition, hv/mover_link.h), and
// the questions the peer asks are answered here (docs/migration.md).
//
// Today: validation on both sides (the source asks the target for its
// MigOffer over an authenticated session and decides; the target answers
// from its own state). Moving the partition is the next step.
//
// Every job runs from mig_poll (timer work, no lock held), one at a time;
// the commands only queue it, so a console line never waits on the network.
#pragma once
#include "base/types.h"
#include "hv/config.h"

namespace pv {

struct Partition;

// Boot, after the config is parsed: key is the pair's shared key
// (hv/mig_key.h). Without a [migration] section nothing can move.
void mig_control_init(const SystemConfig& cfg, const u8 (&key)[32]);  // kMigKeyBytes
bool mig_configured();
// Boot, for the paging service partition (the mover): its /poolvisor-mover
// node (this system's and the peer's names, the peer's MAC, the key).
[[nodiscard]] bool mig_attach_mover(Partition& psp, void* fdt, u32 fdt_size);

// migrlpar -o v (then_migrate false) and -o m; migrlpar -o s.
void mig_command_validate(const char* partition, const char* system, bool then_migrate);
void mig_command_stop(const char* partition);
// migrlpar -o r: a partition left In Doubt (its session ended after the go) resumes here.
void mig_command_recover(const char* partition);
// lslparmigr: HMC's migration_state of p ("Not Migrating", ...).
const char* mig_state_name(const Partition& p);

// Timer work (no lock held): the mover's answers, job deadlines.
void mig_poll(u64 now_tb);

}  // namespace pv
