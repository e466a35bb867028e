// Partition-scoped radix page tables (Power ISA 3.0 Book III, 6.7.10 "Radix
// Tree Translation"): they turn a partition's logical (guest-real) address
// into a host-real address. The hardware walks them on every guest TLB miss,
// so every entry is a big-endian doubleword written whole.
//
// Geometry: a 52-bit logical space split 13/9/9/9 above a 4 KiB page.
//   root       2^13 entries = 64 KiB, aligned to 64 KiB  (bits 51..39)
//   level 2    2^9  entries =  4 KiB, aligned to  4 KiB  (bits 38..30)
//   level 3    2^9  entries =  4 KiB                     (bits 29..21)
//   level 4    2^9  leaves  =  4 KiB                     (bits 20..12)
// Only 4 KiB leaves are created.
#pragma once
#include <optional>

#include "base/endian.h"
#include "base/result.h"

namespace pv {

// Bits first..last (inclusive), numbered as the Power ISA numbers them (bit 0 = MSB).
constexpr u64 ppc_bitmask(unsigned first, unsigned last) {
    return (~u64{0} >> first) & (~u64{0} << (63 - last));
}

namespace radix {

// Page directory entry (PDE) and page table entry (PTE) fields.
inline constexpr u64 V = ppc_bit(0);                    // valid
inline constexpr u64 L = ppc_bit(1);                    // leaf: this is a PTE
inline constexpr u64 NLB = ppc_bitmask(4, 55);          // PDE: next-level base (real address)
inline constexpr u64 NLS = ppc_bitmask(59, 63);         // PDE: log2(entries of next level)
inline constexpr u64 RPN = ppc_bitmask(7, 51);          // PTE: real page (address bits, not shifted)
inline constexpr u64 R = ppc_bit(55);                   // PTE: referenced
inline constexpr u64 C = ppc_bit(56);                   // PTE: changed
inline constexpr u64 ATT = ppc_bitmask(58, 59);         // PTE: attribute, 0b00 = normal memory
inline constexpr u64 EAA_PRIV = ppc_bit(60);            // PTE: privileged (always 0 at partition scope)
inline constexpr u64 EAA_READ = ppc_bit(61);            // PTE: read
inline constexpr u64 EAA_RW = ppc_bit(62);              // PTE: read/write
inline constexpr u64 EAA_EXEC = ppc_bit(63);            // PTE: execute

// Partition-table entry, doubleword 0 (host side: where the partition-scoped tree is).
inline constexpr u64 PATE0_HR = ppc_bit(0);             // host radix
inline constexpr u64 PATE0_RTS1 = ppc_bitmask(1, 2);    // radix tree size, high 2 bits
inline constexpr u64 PATE0_RPDB = ppc_bitmask(4, 55);   // root page directory base
inline constexpr u64 PATE0_RTS2 = ppc_bitmask(56, 58);  // radix tree size, low 3 bits
inline constexpr u64 PATE0_RPDS = ppc_bitmask(59, 63);  // log2(root entries)
// Doubleword 1 (guest side: its process table).
inline constexpr u64 PATE1_GR = ppc_bit(0);             // guest radix
inline constexpr u64 PATE1_PRTB = ppc_bitmask(4, 51);   // process table base (guest real)
inline constexpr u64 PATE1_PRTS = ppc_bitmask(59, 63);  // process table holds 2^(12+PRTS) bytes

inline constexpr u32 kAddressBits = 52;
inline constexpr u32 kRts = kAddressBits - 31;          // RTS encodes size - 31
inline constexpr u32 kLevels = 4;
inline constexpr u32 kIndexBits[kLevels] = {13, 9, 9, 9};
inline constexpr u64 kRootBytes = (u64{1} << kIndexBits[0]) * 8;  // 64 KiB
inline constexpr u64 kDirBytes = (u64{1} << kIndexBits[1]) * 8;   // 4 KiB
inline constexpr u64 kMaxPages = u64{1} << (kAddressBits - kPageShift);

// Table memory for a tree over mem_bytes of logical memory in 4 KiB leaves,
// in two parts: what every tree has whatever its size (the root, its
// level-2 directory and `spare_dirs` directories of slack for alignment and
// extra mappings), and what grows with the size (a leaf table per 2 MiB, a
// level-3 directory per GiB).
constexpr u64 fixed_table_bytes(u64 spare_dirs) { return kRootBytes + (1 + spare_dirs) * kDirBytes; }
constexpr u64 sized_table_bytes(u64 mem_bytes) { return ((mem_bytes >> 21) + (mem_bytes >> 30)) * kDirBytes; }

}  // namespace radix

// One entry of the partition table PTCR points at, indexed by LPID.
struct PartitionTableEntry {
    Be64 dw0;
    Be64 dw1;
};
static_assert(sizeof(PartitionTableEntry) == 16);

// dw0 for a radix partition with a 52-bit tree rooted at `root`:
// HR | RTS | RPDB | RPDS (0xc0000000400100ad for root 0x40010000).
constexpr u64 make_prte_dw0_host_radix(HostReal root) {
    using namespace radix;
    return PATE0_HR | (u64{kRts >> 3} << (63 - 2)) | (root.value & PATE0_RPDB) | (u64{kRts & 7} << (63 - 58)) |
           kIndexBits[0];
}

// dw1 for a radix guest: GR | PRTB | PRTS. The process table base is a
// guest-real address (the hardware translates it through the partition-scoped
// tree); 0 when the guest has not registered one yet.
// (0x8000000040001000 for a table at 0x40001000 with PRTS 0.)
constexpr u64 make_prte_dw1_guest_radix(HostReal process_table, u32 prts) {
    using namespace radix;
    return PATE1_GR | (process_table.value & PATE1_PRTB) | (prts & PATE1_PRTS);
}

// Page-table memory comes from the caller: a fixed pool in the hypervisor,
// aligned host buffers in the tests. alloc returns `bytes` of zeroed memory
// aligned to `bytes`, or HostReal{0} when the pool is exhausted.
struct TablePool {
    HostReal (*alloc)(void* ctx, u64 bytes);
    void* ctx;
};

// Access a partition has to a page (EAA). W implies R, as in the ISA's RW encoding.
enum class Perm : u8 { R = 1, W = 2, X = 4, RW = 3, RX = 5, RWX = 7 };
constexpr Perm operator|(Perm a, Perm b) { return static_cast<Perm>(static_cast<u8>(a) | static_cast<u8>(b)); }
constexpr bool has(Perm set, Perm bit) { return (static_cast<u8>(set) & static_cast<u8>(bit)) != 0; }

// The partition-scoped tree of one partition. Not internally locked: callers
// serialize map/unmap on one table (the hardware may walk it concurrently,
// which the entry stores allow for). Nothing here invalidates the TLB: after
// unmap, a remap, or test_and_clear_rc the caller flushes (arch::tlb_flush_partition).
class RadixTable {
public:
    [[nodiscard]] Err init(TablePool pool);                  // allocates the root
    // How a mapping starts out: normal memory already referenced and (when
    // writable) changed; a page just read from the paging device, whose C bit
    // must tell whether the partition wrote it since; or device registers
    // (cache-inhibited, guarded: ATT = 0b10).
    enum class MapKind : u8 { Normal, Clean, Io };
    [[nodiscard]] Err map(LogicalPage lp, Frame f, Perm p, MapKind kind = MapKind::Normal);  // remaps replace
    std::optional<Frame> lookup(LogicalPage lp) const;       // nullopt when not mapped
    bool unmap(LogicalPage lp);                              // false if it was not mapped

    struct RefChange {
        bool referenced, changed;
    };
    // Reads and clears R and C. POWER9 does not set R/C in partition-scoped
    // PTEs itself: the next access takes an HDSI (DSISR "R/C update") and the
    // handler calls set_rc. map() presets R (and C for writable pages).
    std::optional<RefChange> test_and_clear_rc(LogicalPage lp);
    // Invalidate the PTE atomically and return the R/C it had (nullopt if it
    // was not mapped). After the caller's TLB flush no write can be missed:
    // a write through a cached translation needed C set already.
    std::optional<RefChange> unmap_rc(LogicalPage lp);
    bool set_rc(LogicalPage lp, bool changed);  // false if not mapped
    // Set C alone (R untouched): the pager puts back a C bit it sampled, so
    // that only R is cleared by reference sampling.
    bool set_changed(LogicalPage lp);

    HostReal root() const { return root_; }
    u64 partition_table_dw0() const { return make_prte_dw0_host_radix(root_); }

private:
    Be64* find_leaf_slot(LogicalPage lp) const;
    [[nodiscard]] Err make_leaf_slot(LogicalPage lp, Be64*& slot);

    TablePool pool_{};
    HostReal root_{};
};

}  // namespace pv
