// Simulated machine checks for partitions: how the hypervisor tells a vCPU
// that an access it made cannot complete (a shared-memory page that could not
// be paged in). PAPR FWNMI when the partition registered handlers with
// ibm,nmi-register, the architected 0x200 interrupt otherwise.
// docs/machine-check.md describes the states, registers and log.
//
// Portable: it only changes the vCPU's saved state and partition memory.
#pragma once
#include "hv/partition.h"

namespace pv {

enum class McDelivery : u8 {
    Fwnmi,        // the registered handler runs next, r3 -> saved r3 + RTAS error log
    Architected,  // no FWNMI handler: the vCPU takes the interrupt at 0x200
    Nested,       // FWNMI, but this vCPU's previous machine check is not interlocked: nothing changed
    Failed,       // FWNMI, but the log could not be written: nothing changed
};

// Where a machine check's log buffer starts in the RTAS area (as QEMU's
// RTAS_ERROR_LOG_OFFSET); vCPU n uses slot n, so machine checks of several
// vCPUs in flight at once never overwrite one another's saved r3 and log.
inline constexpr u64 kFwnmiLogOffset = 0x30;
inline constexpr u64 kFwnmiSlotBytes = 128;  // saved r3 (8) + log (64), rounded to a cache line
// Logical address of v's FWNMI buffer (saved r3, then the RTAS error log).
u64 fwnmi_buffer_addr(const Partition& p, const Vcpu& v);

// Interrupt-specific SRR1 bits of a machine check (ISA 3.0: bits 33:36 and
// 42:47; the rest of SRR1 is the interrupted MSR), and POWER9's value for a
// load/store error: SRR1[42]. DSISR[48] (0x8000) says "uncorrectable error".
inline constexpr u64 kSrr1InterruptBits = 0x783f0000;
inline constexpr u64 kSrr1McLoadStore = ppc_bit(42);
inline constexpr u64 kDsisrMcUe = 0x8000;

// Make v (not running: parked in the hypervisor) take a machine check for a
// failed load/store at effective_addr / logical_addr when it next runs.
// Takes v.part->lock (call it without that lock held). For a shared-memory
// partition the buffer's page must be resident, else Failed.
McDelivery deliver_machine_check(Vcpu& v, u64 effective_addr, u64 logical_addr);

}  // namespace pv
