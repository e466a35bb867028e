// PCI Express through OPAL: see pci.h. Token numbers and argument values are
// those of skiboot's include/opal-api.h.
#include "arch/ppc64/pci.h"

#include <libfdt.h>

#include "arch/arch.h"
#include "arch/ppc64/opal.h"

namespace pv::pci {
namespace {

enum Token : u64 {
    CONFIG_READ_BYTE = 13,
    CONFIG_READ_HALF_WORD = 14,
    CONFIG_READ_WORD = 15,
    CONFIG_WRITE_BYTE = 16,
    CONFIG_WRITE_HALF_WORD = 17,
    CONFIG_WRITE_WORD = 18,
    EEH_FREEZE_STATUS = 23,
    EEH_FREEZE_CLEAR = 26,
    MAP_PE_MMIO_WINDOW = 29,
    SET_PE = 31,
    SET_PELTV = 32,
    MAP_PE_DMA_WINDOW = 44,
    MAP_PE_DMA_WINDOW_REAL = 45,
    TCE_KILL = 126,
};
constexpr u64 kM32WindowType = 1;
constexpr u64 kBusAll = 7, kCompareDevice = 1, kCompareFunction = 1, kMapPe = 1;  // SET_PE
constexpr u64 kAddPeToDomain = 1;                                                   // SET_PELTV
constexpr u64 kEehClearAll = 3;
constexpr u64 kOpalKillPages = 0, kOpalKillPe = 1;  // OPAL_PCI_TCE_KILL_PAGES / _PE
constexpr i64 kFailed = -1;  // OPAL_ERROR: our own checks failed
constexpr i64 kHardware = -6;  // OPAL_HARDWARE: the PHB did not answer (fenced) or never finished

// PHB4 registers for TCE invalidation (offsets in the PHB's register space,
// bits in IBM numbering, bit 0 = MSB; skiboot include/phb4-regs.h).
constexpr u64 bit(int n) { return u64{1} << (63 - n); }
constexpr u64 kRegDmaReadSync = 0x200;  // PHB_DMA_READ_WRITE_SYNC
constexpr u64 kDmaReadSyncStart = bit(0), kDmaReadSyncComplete = bit(1);
constexpr u64 kRegTceKill = 0x210;  // PHB_TCE_KILL
constexpr u64 kTceKillAll = bit(0), kTceKillPe = bit(1), kTceKillOne = bit(2);
constexpr u64 kTceKillQueued = kTceKillAll | kTceKillPe | kTceKillOne;  // set while a kill is queued
constexpr u64 kTceKillPeNum = 0x1ff;  // bits 55:63
constexpr u64 kRegQDmaR = 0x888;  // PHB_Q_DMA_R
constexpr u64 kQDmaRTceKillStatus = bit(7);  // a kill still in progress
constexpr u64 kRegSpaceNeeded = kRegQDmaR + 8;
constexpr u64 kRegWaitMs = 10;  // far above the hardware's time; then the PHB is taken as broken

u64 g_kills_register = 0, g_kills_opal = 0;

// Configuration header.
constexpr u32 kCfgVendor = 0x00, kCfgCommand = 0x04, kCfgClass = 0x08, kCfgHeaderType = 0x0e, kCfgBar0 = 0x10,
              kCfgSecondaryBus = 0x19, kCfgMemBase = 0x20, kCfgMemLimit = 0x22, kCfgPrefBase = 0x24,
              kCfgPrefLimit = 0x26, kCfgPrefBaseHi = 0x28, kCfgPrefLimitHi = 0x2c;
constexpr u16 kCmdMemory = 0x2, kCmdBusMaster = 0x4, kCmdIntxOff = 0x400;
constexpr u64 kOneMiB = 1 << 20;

// Property values are 4-byte aligned in the tree, and big-endian.
u64 read_cells(const Be32* p, int cells) {
    u64 v = 0;
    for (int i = 0; i < cells; ++i) v = (v << 32) | p[i].get();
    return v;
}

u64 number_prop(const void* fdt, int node, const char* name, u64 dflt) {
    int len = 0;
    auto* p = static_cast<const Be32*>(fdt_getprop(fdt, node, name, &len));
    if (!p || len < 4) return dflt;
    return read_cells(p, len >= 8 ? 2 : 1);
}

bool has_prefix(const char* s, const char* prefix) {
    if (!s) return false;
    for (; *prefix; ++s, ++prefix)
        if (*s != *prefix) return false;
    return true;
}

bool node_enabled(const void* fdt, int node) {
    int len = 0;
    auto* s = static_cast<const char*>(fdt_getprop(fdt, node, "status", &len));
    return !s || (len >= 4 && s[0] == 'o' && s[1] == 'k');  // "okay" / "ok"
}

// The PHB's 32-bit memory window: the `ranges` entry with space code 0b10.
bool parse_phb(const void* fdt, int node, Phb& phb) {
    phb.opal_id = number_prop(fdt, node, "ibm,opal-phbid", ~u64{0});
    phb.num_pes = static_cast<u32>(number_prop(fdt, node, "ibm,opal-num-pes", 0));
    phb.reserved_pe = static_cast<u32>(number_prop(fdt, node, "ibm,opal-reserved-pe", phb.num_pes - 1));
    if (phb.opal_id == ~u64{0} || phb.num_pes == 0) return false;
    int parent = fdt_parent_offset(fdt, node);
    int pac = parent >= 0 ? fdt_address_cells(fdt, parent) : 2;
    int psc = parent >= 0 ? fdt_size_cells(fdt, parent) : 2;
    int ac = fdt_address_cells(fdt, node), sc = fdt_size_cells(fdt, node);
    if (ac != 3 || pac < 1 || sc < 1) return false;
    int len = 0;
    // skiboot's PHB4 node: reg = <register space, 4 KiB>, <interrupt ESBs>.
    auto* reg = static_cast<const Be32*>(fdt_getprop(fdt, node, "reg", &len));
    if (reg && psc >= 1 && len >= (pac + psc) * 4 && read_cells(reg + pac, psc) >= kRegSpaceNeeded)
        phb.regs = read_cells(reg, pac);
    auto* r = static_cast<const Be32*>(fdt_getprop(fdt, node, "ranges", &len));
    int step = ac + pac + sc;
    for (int i = 0; r && (i + step) * 4 <= len; i += step) {
        u32 space = (r[i].get() >> 24) & 3;
        if (space != 2) continue;
        phb.m32_pci = read_cells(r + i + 1, 2);
        phb.m32_cpu = read_cells(r + i + ac, pac);
        phb.m32_size = read_cells(r + i + ac + pac, sc);
        u64 span = 1;
        while (span < phb.m32_size) span <<= 1;
        phb.m32_segment = span / phb.num_pes;
        return phb.m32_size != 0 && phb.m32_segment >= kOneMiB;
    }
    return false;
}

bool present(const Phb& phb, u16 b, u16& vendor, u16& device) {
    u32 id = 0;
    if (cfg_read32(phb, b, kCfgVendor, id) != opal::kSuccess) return false;
    vendor = static_cast<u16>(id);
    device = static_cast<u16>(id >> 16);
    return vendor != 0xffff && vendor != 0;
}

// Search the bus below the root port at bdfn 0: device 0, every function
// (PCIe links have one device).
bool scan_phb(const Phb& phb, u32 class_code, Function& out) {
    u16 vendor, device;
    if (!present(phb, 0, vendor, device)) return false;
    u8 htype = 0, secondary = 0;
    if (cfg_read8(phb, 0, kCfgHeaderType, htype) != opal::kSuccess || (htype & 0x7f) != 1) return false;
    if (cfg_read8(phb, 0, kCfgSecondaryBus, secondary) != opal::kSuccess || secondary == 0) return false;
    for (u32 fn = 0; fn < 8; ++fn) {
        u16 b = bdfn(secondary, 0, fn);
        if (!present(phb, b, vendor, device)) {
            if (fn == 0) return false;
            continue;
        }
        u32 cls = 0;
        if (cfg_read32(phb, b, kCfgClass, cls) == opal::kSuccess && (cls >> 8) == class_code) {
            out.phb = phb;
            out.bdfn = b;
            out.bridge = 0;
            out.vendor = vendor;
            out.device = device;
            out.class_code = cls >> 8;
            return true;
        }
        if (fn == 0) {
            u8 t = 0;
            if (cfg_read8(phb, b, kCfgHeaderType, t) != opal::kSuccess || !(t & 0x80)) return false;
        }
    }
    return false;
}

void count(u64& counter) { __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED); }

// Polls a PHB register until (value & mask) == want, at most kRegWaitMs.
// All ones: the PHB is fenced (its MMIO answers nothing).
bool wait_reg(u64 addr, u64 mask, u64 want) {
    u64 deadline = 0;
    for (;;) {
        u64 v = mmio_read_be64(addr);
        if (v == ~u64{0}) return false;
        if ((v & mask) == want) return true;
        u64 now = arch::timebase();
        if (!deadline) deadline = now + kRegWaitMs * (arch::timebase_hz() / 1000);
        else if (static_cast<i64>(now - deadline) > 0) return false;
    }
}

// The PHB4 TCE kill by its own register, as skiboot's phb4_tce_kill does it:
// a PE kill (page kills can be dropped when the kill queue backs up, erratum
// HW560152, so skiboot turns OPAL's page kills into PE kills too), then a DMA
// read sync, so no DMA read that still used a killed TCE is in flight when
// this returns. Real mode: ldcix/stdcix are caching-inhibited and guarded.
i64 kill_by_register(TceTable& t) {
    const u64 regs = t.fn->phb.regs;
    Guard g(t.kill_lock);
    // The TCE stores must reach memory before the PHB can refetch an entry:
    // mmio_write_be64 begins with sync, ordering them before the kill store.
    if (!wait_reg(regs + kRegTceKill, kTceKillQueued, 0)) return kHardware;  // a free slot in the queue
    mmio_write_be64(regs + kRegTceKill, kTceKillPe | (t.fn->pe & kTceKillPeNum));
    mmio_write_be64(regs + kRegDmaReadSync, kDmaReadSyncStart);
    if (!wait_reg(regs + kRegQDmaR, kQDmaRTceKillStatus, 0)) return kHardware;
    if (!wait_reg(regs + kRegDmaReadSync, kDmaReadSyncComplete, kDmaReadSyncComplete)) return kHardware;
    count(g_kills_register);
    return opal::kSuccess;
}

// OPAL's kill: without a register base, or when the register sequence failed.
i64 kill_by_opal(TceTable& t, u64 kill_type, u64 index, u64 npages) {
    asm volatile("sync" ::: "memory");  // TCE stores before the PHB looks again
    count(g_kills_opal);
    return pv_opal_call(TCE_KILL, t.fn->phb.opal_id, kill_type, t.fn->pe, kTcePage,
                        kill_type == kOpalKillPages ? tce_dma_addr(index) : 0, npages);
}

// Revokes every TCE of the table's PE the PHB may have cached (the register
// kill covers the PE; OPAL is asked for the pages, or the PE when npages = 0).
i64 kill(TceTable& t, u64 index, u64 npages) {
    if (t.fn->phb.regs && kill_by_register(t) == opal::kSuccess) return opal::kSuccess;
    return kill_by_opal(t, npages ? kOpalKillPages : kOpalKillPe, index, npages);
}

}  // namespace

i64 cfg_read8(const Phb& phb, u16 b, u32 off, u8& v) {
    u8 buf = 0xff;
    i64 rc = pv_opal_call(CONFIG_READ_BYTE, phb.opal_id, b, off, reinterpret_cast<u64>(&buf));
    v = buf;
    return rc;
}
i64 cfg_read16(const Phb& phb, u16 b, u32 off, u16& v) {
    Be16 buf;
    buf.set(0xffff);
    i64 rc = pv_opal_call(CONFIG_READ_HALF_WORD, phb.opal_id, b, off, reinterpret_cast<u64>(&buf));
    v = buf.get();
    return rc;
}
i64 cfg_read32(const Phb& phb, u16 b, u32 off, u32& v) {
    Be32 buf;
    buf.set(0xffffffff);
    i64 rc = pv_opal_call(CONFIG_READ_WORD, phb.opal_id, b, off, reinterpret_cast<u64>(&buf));
    v = buf.get();
    return rc;
}
i64 cfg_write8(const Phb& phb, u16 b, u32 off, u8 v) { return pv_opal_call(CONFIG_WRITE_BYTE, phb.opal_id, b, off, v); }
i64 cfg_write16(const Phb& phb, u16 b, u32 off, u16 v) {
    return pv_opal_call(CONFIG_WRITE_HALF_WORD, phb.opal_id, b, off, v);
}
i64 cfg_write32(const Phb& phb, u16 b, u32 off, u32 v) {
    return pv_opal_call(CONFIG_WRITE_WORD, phb.opal_id, b, off, v);
}

bool find_function(const void* fdt, u32 class_code, Function& out) {
    if (!fdt || fdt_check_header(fdt) != 0) return false;
    // skiboot puts its PHB nodes (pciex@...) at the root: looking only there
    // keeps a machine without PCI from paying for a whole-tree search.
    for (int node = fdt_first_subnode(fdt, 0); node >= 0; node = fdt_next_subnode(fdt, node)) {
        const char* name = fdt_get_name(fdt, node, nullptr);
        if (!has_prefix(name, "pciex@")) continue;
        if (fdt_node_check_compatible(fdt, node, "ibm,power9-pciex") != 0) continue;
        Phb phb;
        if (!node_enabled(fdt, node) || !parse_phb(fdt, node, phb)) continue;
        if (scan_phb(phb, class_code, out)) return true;
    }
    return false;
}

i64 enable(Function& f, u32 pe, const char** step) {
    const Phb& phb = f.phb;
    const char* dummy;
    if (!step) step = &dummy;
    i64 rc;
    auto fail = [&](const char* what, i64 code) {
        *step = what;
        return code ? code : kFailed;
    };
    if (pe == 0 || pe >= phb.num_pes || pe == phb.reserved_pe) return fail("PE number", kFailed);

    // Size BAR0 with decoding off.
    if ((rc = cfg_write16(phb, f.bdfn, kCfgCommand, kCmdIntxOff))) return fail("command register", rc);
    u32 bar = 0;
    if ((rc = cfg_read32(phb, f.bdfn, kCfgBar0, bar))) return fail("BAR0 read", rc);
    if (bar & 1) return fail("BAR0 is I/O space", kFailed);
    bool bar64 = ((bar >> 1) & 3) == 2;
    u32 mask = 0;
    if ((rc = cfg_write32(phb, f.bdfn, kCfgBar0, 0xffffffff)) || (rc = cfg_read32(phb, f.bdfn, kCfgBar0, mask)))
        return fail("BAR0 sizing", rc);
    u64 size = static_cast<u32>(~(mask & 0xfffffff0u) + 1u);
    if (mask == 0xffffffff || size == 0 || size > phb.m32_segment) return fail("BAR0 size", kFailed);

    // Place it at the start of the PE's segment of the 32-bit window.
    u64 pci = phb.m32_pci + u64{pe} * phb.m32_segment;
    if (pci + size > phb.m32_pci + phb.m32_size || pci + size > (u64{1} << 32)) return fail("BAR0 placement", kFailed);
    if ((rc = cfg_write32(phb, f.bdfn, kCfgBar0, static_cast<u32>(pci) | (bar & 0xf))))
        return fail("BAR0 write", rc);
    if (bar64 && (rc = cfg_write32(phb, f.bdfn, kCfgBar0 + 4, 0))) return fail("BAR0 high write", rc);
    u32 check = 0;
    if ((rc = cfg_read32(phb, f.bdfn, kCfgBar0, check))) return fail("BAR0 read back", rc);
    if ((check & 0xfffffff0) != pci) return fail("BAR0 read back", kFailed);

    // Root port: memory window over the BAR (1 MiB granules), no prefetchable window.
    u64 win_base = pci & ~(kOneMiB - 1), win_last = (pci + size - 1) & ~(kOneMiB - 1);
    if ((rc = cfg_write16(phb, f.bridge, kCfgMemBase, static_cast<u16>(win_base >> 16))) ||
        (rc = cfg_write16(phb, f.bridge, kCfgMemLimit, static_cast<u16>(win_last >> 16))) ||
        (rc = cfg_write16(phb, f.bridge, kCfgPrefBase, 0xfff0)) ||
        (rc = cfg_write16(phb, f.bridge, kCfgPrefLimit, 0)) ||
        (rc = cfg_write32(phb, f.bridge, kCfgPrefBaseHi, 0)) || (rc = cfg_write32(phb, f.bridge, kCfgPrefLimitHi, 0)))
        return fail("root port window", rc);
    u16 cmd = 0;
    if ((rc = cfg_read16(phb, f.bridge, kCfgCommand, cmd)) ||
        (rc = cfg_write16(phb, f.bridge, kCfgCommand, cmd | kCmdMemory | kCmdBusMaster)))
        return fail("root port command", rc);

    // The function alone in its PE; the PE's MMIO segment; unfrozen.
    if ((rc = pv_opal_call(SET_PE, phb.opal_id, pe, f.bdfn, kBusAll, kCompareDevice, kCompareFunction, kMapPe)))
        return fail("OPAL_PCI_SET_PE", rc);
    if ((rc = pv_opal_call(SET_PELTV, phb.opal_id, pe, pe, kAddPeToDomain))) return fail("OPAL_PCI_SET_PELTV", rc);
    if ((rc = pv_opal_call(MAP_PE_MMIO_WINDOW, phb.opal_id, pe, kM32WindowType, 0, pe)))
        return fail("OPAL_PCI_MAP_PE_MMIO_WINDOW", rc);
    if ((rc = pv_opal_call(EEH_FREEZE_CLEAR, phb.opal_id, pe, kEehClearAll)))
        return fail("OPAL_PCI_EEH_FREEZE_CLEAR", rc);
    if ((rc = cfg_write16(phb, f.bdfn, kCfgCommand, kCmdMemory | kCmdBusMaster | kCmdIntxOff)))
        return fail("command register", rc);

    f.pe = pe;
    f.bar0_pci = pci;
    f.bar0_size = size;
    f.bar0_cpu = phb.m32_cpu + (pci - phb.m32_pci);
    return opal::kSuccess;
}

i64 dma_window_setup(const Function& f, TceTable& t, void* table, u64 table_bytes) {
    u64 base = reinterpret_cast<u64>(table);
    if (table_bytes < 4096 || (table_bytes & (table_bytes - 1)) || (base & (table_bytes - 1))) return kFailed;
    t.fn = &f;
    t.entries = static_cast<Be64*>(table);
    t.count = table_bytes / sizeof(Be64);
    for (u64 i = 0; i < t.count; ++i) t.entries[i].set(0);
    asm volatile("sync" ::: "memory");
    const Phb& phb = f.phb;
    // Window pe*2+1 (PCI address bit 59 set) is the bypass: keep it closed.
    i64 rc = pv_opal_call(MAP_PE_DMA_WINDOW_REAL, phb.opal_id, f.pe, f.pe * 2 + 1, u64{1} << 59, 0);
    if (rc) return rc;
    return pv_opal_call(MAP_PE_DMA_WINDOW, phb.opal_id, f.pe, f.pe * 2, 1 /* level */, base, table_bytes, kTcePage);
}

i64 dma_window_disable(TceTable& t) {
    if (!t.fn) return kFailed;
    i64 rc = pv_opal_call(MAP_PE_DMA_WINDOW, t.fn->phb.opal_id, t.fn->pe, t.fn->pe * 2, 1, 0, 0, kTcePage);
    if (rc == opal::kSuccess) rc = kill(t, 0, 0);
    return rc;
}

i64 tce_map(TceTable& t, u64 index, HostReal phys, bool device_reads, bool device_writes, u64 npages) {
    if (!t.fn || index >= t.count || npages > t.count - index || (phys.value & (kTcePage - 1))) return kFailed;
    u64 perm = (device_reads ? 1 : 0) | (device_writes ? 2 : 0);
    // Only a valid entry can be cached by the PHB: filling invalid entries
    // (every unmap kills) needs no TCE kill, replacing a valid one does.
    bool replaced = false;
    for (u64 i = 0; i < npages; ++i) {
        replaced |= (t.entries[index + i].get() & 3) != 0;
        t.entries[index + i].set((phys.value + i * kTcePage) | perm);
    }
    if (!replaced) {
        asm volatile("sync" ::: "memory");  // the entries before the device is told of the bus address
        return 0;
    }
    return kill(t, index, npages);
}

i64 tce_clear(TceTable& t, u64 index) {
    if (!t.fn || index >= t.count) return kFailed;
    t.entries[index].set(0);
    return 0;
}

i64 tce_kill_all(TceTable& t) {
    if (!t.fn) return kFailed;
    return kill(t, 0, 0);
}

i64 tce_unmap(TceTable& t, u64 index, u64 npages) {
    if (!t.fn || index >= t.count || npages > t.count - index) return kFailed;
    for (u64 i = 0; i < npages; ++i) t.entries[index + i].set(0);
    return kill(t, index, npages);
}

TceKillCounts tce_kill_counts() {
    return {__atomic_load_n(&g_kills_register, __ATOMIC_RELAXED), __atomic_load_n(&g_kills_opal, __ATOMIC_RELAXED)};
}

i64 set_bus_master(const Function& f, bool on) {
    return cfg_write16(f.phb, f.bdfn, kCfgCommand, kCmdMemory | kCmdIntxOff | (on ? kCmdBusMaster : 0));
}

i64 freeze_status(const Function& f, u8& state) {
    u8 st = 0;
    Be16 type;
    i64 rc = pv_opal_call(EEH_FREEZE_STATUS, f.phb.opal_id, f.pe, reinterpret_cast<u64>(&st),
                          reinterpret_cast<u64>(&type), 0);
    state = st;
    return rc;
}

i64 freeze_clear(const Function& f) { return pv_opal_call(EEH_FREEZE_CLEAR, f.phb.opal_id, f.pe, kEehClearAll); }

}  // namespace pv::pci
