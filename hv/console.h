// Console output: the hypervisor's own lines, and each partition's virtual
// terminal with its lines prefixed by the partition name. Whole lines only,
// so output from different threads never interleaves mid-line.
#pragma once
#include "base/types.h"

namespace pv {

struct Partition;

// "poolvisor: ..." line(s).
void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// Unprefixed line (machine-readable output such as PV-STAT).
void log_raw(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Characters written by a partition to its vty; printed per line as "[name] line".
void partition_console_write(Partition& p, const char* s, u32 n);
void partition_console_flush(Partition& p);

}  // namespace pv
