#include "mm/radix.h"

#include <atomic>

#include "arch/arch.h"

namespace pv {
namespace {

using namespace radix;

// Entries are read and written as whole doublewords: the hardware walker may
// read any entry at any time and must never see a torn one. Release on store
// so a new directory's (zeroed) contents are visible before the PDE naming it.
u64 load(const Be64& e) { return e.load(__ATOMIC_ACQUIRE); }

void store(Be64& e, u64 value) { e.store(value, __ATOMIC_RELEASE); }

// Atomically replaces a valid leaf by update(old); false (nothing written) if
// the entry is not a valid leaf. A CAS, so a concurrent R/C update by another
// thread's HDSI handler is never lost.
template <typename F>
bool update_leaf(Be64& e, F update) {
    std::atomic_ref<u64> ref(e.raw);
    Be64 old;
    old.raw = ref.load(std::memory_order_acquire);
    for (;;) {
        u64 v = old.get();
        if ((v & (V | L)) != (V | L)) return false;
        Be64 next;
        next.set(update(v));
        if (ref.compare_exchange_weak(old.raw, next.raw, std::memory_order_acq_rel)) return true;
    }
}

bool is_leaf(u64 e) { return (e & (V | L)) == (V | L); }

Be64* table_at(u64 real) { return static_cast<Be64*>(arch::host_ptr(HostReal{real})); }

// Index of the entry for lp in a table at `level` (0 = root): the index bits of
// all lower levels sit below it. The shifts are worked out at compile time:
// every page-in's mapping walks the levels.
struct LevelShifts {
    u32 shift[kLevels];
    constexpr LevelShifts() : shift{} {
        for (u32 level = 0; level < kLevels; ++level)
            for (u32 l = level + 1; l < kLevels; ++l) shift[level] += kIndexBits[l];
    }
};
constexpr LevelShifts kShifts;

inline u64 index_at(LogicalPage lp, u32 level) {
    return (lp.value >> kShifts.shift[level]) & ((u64{1} << kIndexBits[level]) - 1);
}

bool perm_valid(Perm p) {
    auto v = static_cast<u8>(p);
    return v != 0 && v <= static_cast<u8>(Perm::RWX);
}

// EAA as the ISA encodes it; the privileged bit stays clear because at
// partition scope it would make the page inaccessible to the partition's
// problem state too.
u64 eaa_of(Perm p) {
    u64 eaa = 0;
    if (has(p, Perm::R)) eaa |= EAA_READ;
    if (has(p, Perm::W)) eaa |= EAA_READ | EAA_RW;
    if (has(p, Perm::X)) eaa |= EAA_EXEC;
    return eaa;
}

// A table the pool handed back must be aligned to its size (the hardware
// ignores the low bits of NLB/RPDB) and addressable by the entry field.
bool table_ok(HostReal t, u64 bytes, u64 field) { return is_aligned(t.value, bytes) && (t.value & ~field) == 0; }

}  // namespace

Err RadixTable::init(TablePool pool) {
    if (!pool.alloc) return Err::Invalid;
    if (root_.value) return Err::Busy;  // tables are never freed, so no re-init
    HostReal r = pool.alloc(pool.ctx, kRootBytes);
    if (!r.value) return Err::NoMemory;
    if (!table_ok(r, kRootBytes, PATE0_RPDB)) return Err::Invalid;
    pool_ = pool;
    root_ = r;
    return Err::Ok;
}

// Walks to the level-4 slot for lp without creating anything; nullptr when a
// directory on the way is missing.
Be64* RadixTable::find_leaf_slot(LogicalPage lp) const {
    if (!root_.value || lp.value >= kMaxPages) return nullptr;
    Be64* table = table_at(root_.value);
    for (u32 level = 0; level + 1 < kLevels; ++level) {
        u64 pde = load(table[index_at(lp, level)]);
        if ((pde & (V | L)) != V) return nullptr;  // invalid (or a large leaf, which we never create)
        table = table_at(pde & NLB);
    }
    return &table[index_at(lp, kLevels - 1)];
}

// As find_leaf_slot, creating missing directories. A directory is linked in
// as soon as it exists, so running out of pool part-way leaves only empty,
// valid directories behind: still a consistent tree, and reused next time.
Err RadixTable::make_leaf_slot(LogicalPage lp, Be64*& slot) {
    Be64* table = table_at(root_.value);
    for (u32 level = 0; level + 1 < kLevels; ++level) {
        Be64& pde_slot = table[index_at(lp, level)];
        u64 pde = load(pde_slot);
        if (!(pde & V)) {
            HostReal t = pool_.alloc(pool_.ctx, kDirBytes);
            if (!t.value) return Err::NoMemory;
            if (!table_ok(t, kDirBytes, NLB)) return Err::Invalid;
            pde = V | t.value | kIndexBits[level + 1];
            store(pde_slot, pde);
        } else if (pde & L) {
            return Err::Unsupported;
        }
        table = table_at(pde & NLB);
    }
    slot = &table[index_at(lp, kLevels - 1)];
    return Err::Ok;
}

Err RadixTable::map(LogicalPage lp, Frame f, Perm p, MapKind kind) {
    if (!root_.value || lp.value >= kMaxPages || !perm_valid(p)) return Err::Invalid;
    if (f.value >> (64 - kPageShift)) return Err::Invalid;
    u64 ra = base_of(f).value;
    if (ra & ~RPN) return Err::Invalid;
    Be64* slot = nullptr;
    if (Err e = make_leaf_slot(lp, slot); e != Err::Ok) return e;
    // R (and C when writable) preset: POWER9 interrupts instead of setting
    // them, and a fresh mapping is about to be used anyway.
    u64 pte = V | L | ra | R | (has(p, Perm::W) && kind == MapKind::Normal ? C : 0) | eaa_of(p);
    if (kind == MapKind::Io) pte |= u64{2} << (63 - 59);  // ATT 0b10: non-idempotent I/O
    // Changing a valid PTE starts by invalidating it, as the ISA's page-table
    // update sequences do; the caller completes the change with a TLB flush.
    if (load(*slot) & V) store(*slot, 0);
    store(*slot, pte);
    return Err::Ok;
}

std::optional<Frame> RadixTable::lookup(LogicalPage lp) const {
    const Be64* slot = find_leaf_slot(lp);
    if (!slot) return std::nullopt;
    u64 e = load(*slot);
    if (!is_leaf(e)) return std::nullopt;
    return frame_of(HostReal{e & RPN});
}

bool RadixTable::unmap(LogicalPage lp) {
    Be64* slot = find_leaf_slot(lp);
    if (!slot || !is_leaf(load(*slot))) return false;
    store(*slot, 0);
    return true;
}

std::optional<RadixTable::RefChange> RadixTable::test_and_clear_rc(LogicalPage lp) {
    Be64* slot = find_leaf_slot(lp);
    if (!slot) return std::nullopt;
    u64 before = 0;
    if (!update_leaf(*slot, [&](u64 v) {
            before = v;
            return v & ~(R | C);
        }))
        return std::nullopt;
    return RefChange{(before & R) != 0, (before & C) != 0};
}

std::optional<RadixTable::RefChange> RadixTable::unmap_rc(LogicalPage lp) {
    Be64* slot = find_leaf_slot(lp);
    if (!slot) return std::nullopt;
    u64 before = 0;
    if (!update_leaf(*slot, [&](u64 v) {
            before = v;
            return u64{0};
        }))
        return std::nullopt;
    return RefChange{(before & R) != 0, (before & C) != 0};
}

bool RadixTable::set_changed(LogicalPage lp) {
    Be64* slot = find_leaf_slot(lp);
    return slot && update_leaf(*slot, [](u64 v) { return v | C; });
}

bool RadixTable::set_rc(LogicalPage lp, bool changed) {
    Be64* slot = find_leaf_slot(lp);
    if (!slot) return false;
    return update_leaf(*slot, [&](u64 v) { return v | R | (changed ? C : 0); });
}

}  // namespace pv
