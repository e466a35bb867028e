// `lsvcpu` (hv/hv_command.h): what every hardware thread and vCPU is doing
// now, for an administrator looking at a partition that seems stuck, and for
// the boot tests, which type it before their timeout kills a machine (a hang
// then says where it hangs instead of only that it did).
#pragma once

namespace pv {

// A "command: threads=..." summary, one "command: thread=..." line per
// hardware thread, the paging line (ams_log_report), then one "command:
// vcpu=..." line per vCPU of every partition. A snapshot read without the locks: a
// vCPU that changes state meanwhile may show its old or its new state.
void log_vcpu_report();

}  // namespace pv
