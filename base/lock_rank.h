// The hypervisor's lock order (docs/locks.md): a thread that holds locks may
// take only a lock of a later rank. Named after what each lock guards; the
// debug build's lock witness (base/lock_witness.h) checks the order.
#pragma once

namespace pv {

enum class LockRank : unsigned char {
    Finish,          // Hypervisor::finish_lock: the one thread that ends the machine
    ConsoleInput,    // hv/console_input.cpp: the machine console's reader, the escape state, the focus
    Migration,       // hv/mig_control.cpp: the migration jobs (then the pager's lock for the mover)
    AmsPool,         // Pager's lock (hv/pager.h): shared pool, replacement, shared partitions' PTEs, the PSP link
    Partition,       // Partition::lock: state, console line, vCPU states
    PspPartition,    // the paging service partition's Partition::lock: taken under a shared partition's
    RequestPool,     // PagingRequestPool: paging requests and their waiters
    RunQueue,        // RunQueue: runnable vCPUs
    Vpa,             // VcpuVpa: one vCPU's registered VPA, DTL, SLB shadow and counters
    Crq,             // CrqChannel: the PSP's CRQ and its inbound queue
    PagingErrorLog,  // PagingErrorLog: the ring of failed page-ins
    Icp,             // Icp (hv/xics.h): one vCPU's interrupt presentation state
    HostEvents,      // hv/host_event.cpp: the rate limit of host-event log lines
    PathMeter,       // Pager::meter_lock_: make bench's completion → resume meter
    ConsoleRing,     // hv/console_input.cpp: the partitions' input rings
    Console,         // hv/console.cpp: whole hypervisor console lines
    OpalConsole,     // arch/ppc64: one OPAL console write
    Unranked,        // a default-constructed SpinLock: a leaf (the guests' runtime, tests)
};

}  // namespace pv
