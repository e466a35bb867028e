// What the portable core needs from the processor. arch/ppc64 implements it on
// POWER9; arch/fake implements it on the host so unit tests link the real core.
#pragma once
#include "base/types.h"

namespace pv {
struct Vcpu;
}

namespace pv::arch {

// Raw hypervisor console (OPAL on POWER). Writes whole buffers; no locking.
void console_write(const char* s, std::size_t n);
// Raw hypervisor console input: up to max bytes typed since the last read
// (0 if none). One caller at a time (hv/console_input.cpp polls it).
std::size_t console_read(char* buf, std::size_t max);

// Timebase ticks and their frequency.
u64 timebase();
u64 timebase_hz();

// Host-real address → pointer the hypervisor can dereference: identity, in
// real mode on POWER and in the host tests' fake (whose "real" memory is host
// memory). Inline: every page-table walk level and frame access converts.
inline void* host_ptr(HostReal a) { return reinterpret_cast<void*>(a.value); }
inline HostReal host_real(const void* p) { return HostReal{reinterpret_cast<u64>(p)}; }

// Invalidate every partition-scoped and process-scoped translation of a partition.
void tlb_flush_partition(Lpid lpid);

// Idle this thread until kicked or until the timebase reaches deadline.
void idle_wait(u64 deadline_tb);

// Wake a hardware thread that may be idle (hypervisor doorbell).
void kick_thread(Pir pir);

// Give the firmware its turn (OPAL_POLL_EVENTS): skiboot runs its timers and
// pollers only inside OPAL calls (hv/firmware_heartbeat.h).
void firmware_poll();

// Hardware random number (darn on POWER9); false if none is available.
bool random64(u64& out);

// Time of day from the machine's real-time clock.
struct WallClock {
    u32 year, month, day, hour, minute, second, nanosecond;
};
bool wall_clock(WallClock& out);
// The same in ns since 1970-01-01 UTC; 0 if the machine has no clock.
u64 wall_clock_ns();

// The paging device (a PCIe NVMe controller) handed to the paging service
// partition: configured through firmware, its registers at regs_phys, its DMA
// restricted to a TCE window of dma_pages pages the hypervisor maps. Attach
// identifies it (the paging space: namespace 1, blocks of block_bytes) and
// leaves it reset, with no TCE mapped.
struct PagingDevice {
    u64 regs_phys = 0, regs_size = 0;
    u64 dma_pages = 0;
    const char* name = "";  // its paging_device name in the config ("nvme0")
    u64 blocks = 0;
    u32 block_bytes = 0;
};
[[nodiscard]] bool paging_device_attach(u64 dma_pages, PagingDevice& out, char* err, u32 errlen);
// Bus address index*4096 → host frames [phys, +npages), with the device
// allowed to read (page-out) and/or write (page-in) them.
[[nodiscard]] bool dma_map(u64 index, HostReal phys, bool device_reads, bool device_writes, u64 npages = 1);
void dma_unmap(u64 index, u64 npages = 1);
// The same without revoking cached translations yet; dma_revoke_all() then
// revokes every one the device may still hold (one TCE kill for many unmaps).
void dma_unmap_deferred(u64 index);
void dma_revoke_all();
// TCE kills so far (all DMA windows): by the PHB's own TCE kill register, and
// by the firmware call (OPAL_PCI_TCE_KILL, when the register is unknown).
struct TceKillCounts {
    u64 by_register = 0, by_opal = 0;
};
TceKillCounts tce_kill_counts();

// The network device (an Intel 82574 NIC, PCI 8086:10d3, class 020000)
// handed to one partition: on a PHB other than the paging device's, alone in
// its own PE, memory decoding and bus mastering on, reset and quiet (no ring
// enabled, interrupts masked) before hand-over, its DMA restricted to a TCE
// window of dma_pages pages with none mapped yet.
struct NetDevice {
    u64 regs_phys = 0, regs_size = 0;
    u64 dma_pages = 0;
    const char* name = "";  // its network_device name in the config ("eth0")
    u16 vendor = 0, device = 0, bdfn = 0;
    u64 phb = 0;  // firmware's PHB id
};
[[nodiscard]] bool net_device_attach(u64 dma_pages, NetDevice& out, char* err, u32 errlen);
// Bus address index*4096 → host frames [phys, +npages), read and write.
[[nodiscard]] bool net_dma_map(u64 index, HostReal phys, u64 npages);
// If the NIC's PE is frozen (EEH: on real hardware a DMA outside its window
// freezes it; QEMU drops such a DMA silently), clear the freeze and say so.
bool net_device_thaw();
// Rings off, interrupts masked, CTRL.RST: the NIC stops all DMA (before its
// owner's memory is cleared for a restart: no armed ring may write into the
// new boot). false if it did not come out of reset.
bool net_device_reset();

// Instruction counts for path lengths (make bench): PMC5 of this thread
// (32 bits, wraps), its value when the current exit began (the vector counted
// in), and the instructions the entry path runs after the last C++.
u64 instructions();
u64 instructions_at_exit();
u64 entry_tail_instructions();

// v leaves this thread (before another may dispatch it): the vCPU state the
// thread's registers still hold for it is saved (docs/vcpu_state.md).
void vcpu_leaves_thread(Vcpu& v);

// Stop the machine.
[[noreturn]] void power_off();
[[noreturn]] void halt_this_thread();

}  // namespace pv::arch
