// The hypervisor's own commands, typed on the machine console after Ctrl-A c
// (docs/console.md), in the words of IBM's HMC so an administrator of a
// POWER system knows them:
//   lssyscfg -r lpar                         the partitions
//   lslparmigr -r lpar                       migration state of each partition
//   migrlpar -o v -p NAME -t SYSTEM          validate moving NAME to SYSTEM
//   migrlpar -o m -p NAME -t SYSTEM          migrate it
//   migrlpar -o s -p NAME                    stop a migration of NAME
//   lsvcpu                                   every thread and vCPU now (Poolvisor's
//                                            own: the HMC has no such view; hv/vcpu_report.h)
//   help
// Parsing is strict (an unknown command, option or a missing value is an
// error that names it) and does nothing; run_hv_command acts.
#pragma once
#include "base/result.h"
#include "base/types.h"

namespace pv {

enum class HvCommandKind : u8 {
    Help,
    ListPartitions,  // lssyscfg -r lpar
    ListMigrations,  // lslparmigr -r lpar
    Validate,        // migrlpar -o v
    Migrate,         // migrlpar -o m
    StopMigration,   // migrlpar -o s
    RecoverMigration,  // migrlpar -o r: a partition in doubt resumes here
    ListVcpus,       // lsvcpu
};

inline constexpr u32 kHvCommandLineMax = 160;

struct HvCommand {
    HvCommandKind kind = HvCommandKind::Help;
    char partition[16]{};  // -p
    char system[16]{};     // -t
    char error[96]{};      // why parsing failed
};

// line: one line as typed (no newline). Invalid with out.error set, or Ok.
[[nodiscard]] Err parse_hv_command(const char* line, HvCommand& out);

// Does what c says; every line it prints begins "command: ".
void run_hv_command(const HvCommand& c);

}  // namespace pv
