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
// The partition's unfinished line (a shell prompt, the echo of what is typed)
// shown now, prefixed, without its newline; the line's rest follows on the
// same console line unless another line came in between (that one starts
// on a fresh line, and the rest is printed again whole). Caller holds p.lock.
void partition_console_show_partial(Partition& p);

}  // namespace pv
