// PCI Express through OPAL on POWER9 (PHB4): finding functions below the
// root ports skiboot set up, configuration space, BAR assignment in a PHB's
// 32-bit MMIO window, one partitionable endpoint (PE) per device, and
// DMA restricted by a TCE table (no bypass window), so a device reaches only
// the pages we map for it.
#pragma once
#include "base/endian.h"
#include "base/spinlock.h"
#include "base/types.h"

namespace pv::pci {

// One PHB, from its machine device-tree node (compatible ibm,power9-pciex).
struct Phb {
    u64 opal_id = 0;  // ibm,opal-phbid
    u32 num_pes = 0, reserved_pe = 0;
    u64 m32_pci = 0, m32_cpu = 0, m32_size = 0;  // 32-bit MMIO window (ranges)
    u64 m32_segment = 0;                         // bytes of that window per PE
    u64 regs = 0;  // the PHB's register space (its `reg` entry 0); 0: unknown, TCE kills go through OPAL
};

struct Function {
    Phb phb;
    u16 bdfn = 0;    // bus << 8 | device << 3 | function
    u16 bridge = 0;  // the root port above it
    u16 vendor = 0, device = 0;
    u32 class_code = 0;  // base << 16 | sub << 8 | programming interface
    // Set by enable().
    u32 pe = 0;
    u64 bar0_pci = 0, bar0_cpu = 0, bar0_size = 0;
};

constexpr u16 bdfn(u32 bus, u32 dev, u32 fn) { return static_cast<u16>(bus << 8 | dev << 3 | fn); }

// Configuration space (OPAL_PCI_CONFIG_*). Return an OPAL status (0 = success).
i64 cfg_read8(const Phb& phb, u16 bdfn, u32 off, u8& v);
i64 cfg_read16(const Phb& phb, u16 bdfn, u32 off, u16& v);
i64 cfg_read32(const Phb& phb, u16 bdfn, u32 off, u32& v);
i64 cfg_write8(const Phb& phb, u16 bdfn, u32 off, u8 v);
i64 cfg_write16(const Phb& phb, u16 bdfn, u32 off, u16 v);
i64 cfg_write32(const Phb& phb, u16 bdfn, u32 off, u32 v);

// The first function with this class code (24 bits) on the secondary bus of a
// root port of any PHB (root-level pciex@ node, compatible ibm,power9-pciex)
// in the machine FDT. Switches are not walked. Silent; a few config reads per
// PHB (QEMU with -nodefaults and no pnv-phb device has no PHB node at all).
[[nodiscard]] bool find_function(const void* fdt, u32 class_code, Function& out);

// Bring a function up: BAR0 (memory) sized and placed at the start of PE
// segment `pe` of the 32-bit window, the root port's memory window opened
// over it, memory decoding and bus mastering on (INTx off), the function
// alone in PE `pe` with that MMIO segment, and the PE unfrozen. No DMA window
// yet. On failure returns the OPAL status (or -1) and names the step in *step.
i64 enable(Function& f, u32 pe, const char** step);

// A restricted DMA window for the function's PE: device addresses
// 0 .. count * 4 KiB map through `count` TCEs; bypass is off. The table
// (8 bytes an entry, big-endian) must be a power of two ≥ 4 KiB, aligned to
// its size, and stay allocated while the window exists.
struct TceTable {
    const Function* fn = nullptr;
    Be64* entries = nullptr;
    u64 count = 0;
    SpinLock kill_lock;  // one register kill sequence at a time (a leaf: nothing is taken under it)
};
inline constexpr u64 kTcePage = 4096;
constexpr u64 tce_dma_addr(u64 index) { return index * kTcePage; }

i64 dma_window_setup(const Function& f, TceTable& t, void* table, u64 table_bytes);
// The TCE table for a window of `pages` 4 KiB pages: 8 bytes each, a power of
// two and at least 4 KiB (firmware's table-size rule).
constexpr u64 tce_table_bytes(u64 pages) {
    u64 bytes = 4096;
    while (bytes < pages * 8) bytes <<= 1;
    return bytes;
}
i64 dma_window_disable(TceTable& t);  // closes the window (TVE cleared)
// Map npages frames from phys (page aligned) at index.., device read (from
// memory) and/or write (into memory) permission; then kill cached TCEs.
i64 tce_map(TceTable& t, u64 index, HostReal phys, bool device_reads, bool device_writes, u64 npages = 1);
// Clear one entry without a TCE kill; tce_kill_all() then revokes all cached ones.
i64 tce_clear(TceTable& t, u64 index);
i64 tce_kill_all(TceTable& t);
i64 tce_unmap(TceTable& t, u64 index, u64 npages = 1);

// TCE kills done since boot, all tables: by the PHB's TCE kill register
// (docs/paging-service.md, "TCE invalidation") and by OPAL_PCI_TCE_KILL (no
// register base known, or the register sequence failed).
struct TceKillCounts {
    u64 by_register = 0, by_opal = 0;
};
TceKillCounts tce_kill_counts();

// Bus mastering (the device's DMA) on or off; memory decoding stays on.
i64 set_bus_master(const Function& f, bool on);

// EEH: the PE's freeze state (0 = not frozen, see OPAL_EEH_STOPPED_*) and clearing it.
i64 freeze_status(const Function& f, u8& state);
i64 freeze_clear(const Function& f);

// Cache-inhibited MMIO for hypervisor real mode: sync before, and after a
// load twi + isync so nothing runs ahead of the value (as skiboot's io.h).
// Little-endian: in LE mode these give register values directly.
inline u32 mmio_read32(u64 addr) {
    u32 v;
    asm volatile("sync; lwzcix %0, 0, %1; twi 0, %0, 0; isync" : "=r"(v) : "r"(addr) : "memory");
    return v;
}
inline u64 mmio_read64(u64 addr) {
    u64 v;
    asm volatile("sync; ldcix %0, 0, %1; twi 0, %0, 0; isync" : "=r"(v) : "r"(addr) : "memory");
    return v;
}
inline void mmio_write32(u64 addr, u32 v) { asm volatile("sync; stwcix %0, 0, %1" : : "r"(v), "r"(addr) : "memory"); }
inline void mmio_write64(u64 addr, u64 v) { asm volatile("sync; stdcix %0, 0, %1" : : "r"(v), "r"(addr) : "memory"); }
// PHB registers are big-endian 64-bit (skiboot's in_be64/out_be64).
inline u64 mmio_read_be64(u64 addr) { return __builtin_bswap64(mmio_read64(addr)); }
inline void mmio_write_be64(u64 addr, u64 v) { mmio_write64(addr, __builtin_bswap64(v)); }

}  // namespace pv::pci
