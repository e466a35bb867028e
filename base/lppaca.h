// The areas a partition registers with H_REGISTER_VPA, as PAPR and Linux lay
// them out (arch/powerpc/include/asm/lppaca.h: struct lppaca, struct
// slb_shadow, struct dtl_entry). Big-endian. Only the fields the hypervisor
// reads or writes have names; the rest is reserved here. Shared by the
// hypervisor (hv/vpa.cpp) and the test partitions that register them.
#pragma once
#include <cstddef>

#include "base/endian.h"

namespace pv {

// The Virtual Processor Area.
struct Lppaca {
    Be32 desc;  // eye-catcher "LpPa" (0xd397d781)
    Be16 size;  // what H_REGISTER_VPA checks
    u8 reserved1[3];
    u8 old_status;  // __old_status: LPPACA_OLD_SHARED_PROC
    u8 reserved2[0xb8 - 0x0a];
    u8 dtl_enable_mask;  // written by the partition: what the DTL logs
    u8 reserved3[0x100 - 0xb9];
    Be32 yield_count;  // odd while not dispatched
    Be32 dispersion_count;
    Be64 cmo_faults;
    Be64 cmo_fault_time;
    u8 reserved4[0x158 - 0x118];
    Be64 enqueue_dispatch_tb;
    Be64 ready_enqueue_tb;
    Be64 wait_ready_tb;
    u8 reserved5[0x218 - 0x170];
    Be64 dtl_idx;  // DTL entries written since the DTL was registered
    u8 reserved6[0x280 - 0x220];
};
inline constexpr u32 kLppacaEyeCatcher = 0xd397d781;
inline constexpr u8 kLppacaOldSharedProc = 0x02;  // LPPACA_OLD_SHARED_PROC
inline constexpr u8 kDtlLogCede = 0x1, kDtlLogPreempt = 0x2, kDtlLogFault = 0x4;  // dtl_enable_mask
static_assert(sizeof(Lppaca) == 640);  // what Linux registers at least
static_assert(offsetof(Lppaca, desc) == 0x000 && offsetof(Lppaca, size) == 0x004);
static_assert(offsetof(Lppaca, old_status) == 0x009 && offsetof(Lppaca, dtl_enable_mask) == 0x0b8);
static_assert(offsetof(Lppaca, yield_count) == 0x100 && offsetof(Lppaca, dispersion_count) == 0x104);
static_assert(offsetof(Lppaca, cmo_faults) == 0x108 && offsetof(Lppaca, cmo_fault_time) == 0x110);
static_assert(offsetof(Lppaca, enqueue_dispatch_tb) == 0x158 && offsetof(Lppaca, ready_enqueue_tb) == 0x160 &&
              offsetof(Lppaca, wait_ready_tb) == 0x168);
static_assert(offsetof(Lppaca, dtl_idx) == 0x218);

// The first doubleword of a DTL or SLB shadow buffer: its length at offset 4,
// 32-bit (struct slb_shadow's persistent, buffer_length; Linux writes the
// DTL's length at the same place before registering it).
struct RegisteredBufferHeader {
    Be32 reserved;
    Be32 length;
};
static_assert(sizeof(RegisteredBufferHeader) == 8 && offsetof(RegisteredBufferHeader, length) == 4);

// One Dispatch Trace Log entry.
struct DtlEntry {
    u8 dispatch_reason;
    u8 preempt_reason;
    Be16 processor_id;
    Be32 enqueue_to_dispatch_time;
    Be32 ready_to_enqueue_time;
    Be32 waiting_to_ready_time;
    Be64 timebase;
    Be64 fault_addr;
    Be64 srr0;
    Be64 srr1;
};
static_assert(sizeof(DtlEntry) == 48);
static_assert(offsetof(DtlEntry, dispatch_reason) == 0 && offsetof(DtlEntry, preempt_reason) == 1 &&
              offsetof(DtlEntry, processor_id) == 2);
static_assert(offsetof(DtlEntry, enqueue_to_dispatch_time) == 4 && offsetof(DtlEntry, ready_to_enqueue_time) == 8 &&
              offsetof(DtlEntry, waiting_to_ready_time) == 12);
static_assert(offsetof(DtlEntry, timebase) == 16 && offsetof(DtlEntry, fault_addr) == 24 &&
              offsetof(DtlEntry, srr0) == 32 && offsetof(DtlEntry, srr1) == 40);

}  // namespace pv
