#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "mm/radix.h"

using namespace pv;

namespace {

// Aligned host buffers stand in for host-real memory (the fake arch maps
// host_ptr as the identity). `budget` tables, then exhaustion.
struct HostPool {
    std::vector<void*> blocks;
    u32 budget = 1u << 30;
    u64 bytes_handed_out = 0;

    ~HostPool() {
        for (void* b : blocks) std::free(b);
    }
    static HostReal alloc(void* ctx, u64 bytes) {
        auto* self = static_cast<HostPool*>(ctx);
        if (self->budget == 0) return HostReal{0};
        --self->budget;
        void* p = std::aligned_alloc(bytes, bytes);
        std::memset(p, 0, bytes);
        self->blocks.push_back(p);
        self->bytes_handed_out += bytes;
        return HostReal{reinterpret_cast<u64>(p)};
    }
    TablePool pool() { return TablePool{&HostPool::alloc, this}; }
};

u64 read_be64(const void* p) {
    u8 b[8];
    std::memcpy(b, p, 8);
    u64 v = 0;
    for (u8 x : b) v = (v << 8) | x;
    return v;
}

// Independent walk of the tree from the root, for layout checks.
const u8* entry_at(u64 table, u64 index) { return reinterpret_cast<const u8*>(table) + index * 8; }

u64 raw_leaf(const RadixTable& t, u64 lp) {
    u64 table = t.root().value;
    const unsigned shifts[] = {27, 18, 9};
    const u64 masks[] = {0x1fff, 0x1ff, 0x1ff};
    for (int level = 0; level < 3; ++level) {
        u64 pde = read_be64(entry_at(table, (lp >> shifts[level]) & masks[level]));
        if (!(pde & ppc_bit(0))) return 0;
        table = pde & 0x0fffffffffffff00ULL;
    }
    return read_be64(entry_at(table, lp & 0x1ff));
}

}  // namespace

TEST(Radix, BitFieldsMatchTheIsa) {
    EXPECT_EQ(ppc_bitmask(0, 0), u64{1} << 63);
    EXPECT_EQ(radix::RPN, 0x01fffffffffff000ULL);
    EXPECT_EQ(radix::NLB, 0x0fffffffffffff00ULL);
    EXPECT_EQ(radix::NLS, 0x1fULL);
    EXPECT_EQ(radix::R, 0x100ULL);
    EXPECT_EQ(radix::C, 0x80ULL);
    EXPECT_EQ(radix::EAA_PRIV | radix::EAA_READ | radix::EAA_RW | radix::EAA_EXEC, 0xfULL);
    EXPECT_EQ(radix::kRootBytes, 64u << 10);
    EXPECT_EQ(radix::kDirBytes, 4u << 10);
}

TEST(Radix, PartitionTableEntriesMatchWhatQemuAccepted) {
    static_assert(make_prte_dw0_host_radix(HostReal{0x40010000}) == 0xc0000000400100adULL);
    static_assert(make_prte_dw1_guest_radix(HostReal{0x40001000}, 0) == 0x8000000040001000ULL);
    EXPECT_EQ(make_prte_dw1_guest_radix(HostReal{0}, 0), 0x8000000000000000ULL);
    EXPECT_EQ(make_prte_dw1_guest_radix(HostReal{0x40000000}, 4), 0x8000000040000004ULL);

    PartitionTableEntry e{};
    e.dw0.set(0xc0000000400100adULL);
    const auto* b = reinterpret_cast<const u8*>(&e);
    EXPECT_EQ(b[0], 0xc0);
    EXPECT_EQ(b[7], 0xad);
}

TEST(Radix, RootIsAllocatedAlignedAndNamedByDw0) {
    HostPool hp;
    RadixTable t;
    ASSERT_EQ(t.init(hp.pool()), Err::Ok);
    EXPECT_EQ(t.root().value % (64 << 10), 0u);
    EXPECT_EQ(hp.bytes_handed_out, 64u << 10);
    u64 dw0 = t.partition_table_dw0();
    EXPECT_EQ(dw0 & radix::PATE0_RPDB, t.root().value);
    EXPECT_EQ(dw0 & ~radix::PATE0_RPDB, 0xc0000000000000adULL);
    EXPECT_EQ(t.init(hp.pool()), Err::Busy);
}

TEST(Radix, InitFailsCleanlyWithoutMemory) {
    HostPool hp;
    hp.budget = 0;
    RadixTable t;
    EXPECT_EQ(t.init(hp.pool()), Err::NoMemory);
    EXPECT_EQ(t.map(LogicalPage{0}, Frame{1}, Perm::RWX), Err::Invalid);
    EXPECT_FALSE(t.lookup(LogicalPage{0}));
    EXPECT_FALSE(t.unmap(LogicalPage{0}));
    EXPECT_EQ(t.init(TablePool{nullptr, nullptr}), Err::Invalid);
}

TEST(Radix, LeafAndDirectoryLayoutIsBigEndianIsa) {
    HostPool hp;
    RadixTable t;
    ASSERT_EQ(t.init(hp.pool()), Err::Ok);
    const u64 lp = 0x12345;  // logical 0x12345000
    ASSERT_EQ(t.map(LogicalPage{lp}, Frame{0x40123}, Perm::RWX), Err::Ok);

    // Root entry: V | NLB | NLS = 9.
    u64 pde = read_be64(entry_at(t.root().value, lp >> 27));
    EXPECT_EQ(pde & 0xc000000000000000ULL, 0x8000000000000000ULL);
    EXPECT_EQ(pde & 0x1f, 9u);
    EXPECT_EQ((pde & radix::NLB) % 4096, 0u);

    // Leaf: V | L | RPN | R | C | EAA read, read/write, execute.
    EXPECT_EQ(raw_leaf(t, lp), 0xc000000040123187ULL);

    ASSERT_EQ(t.map(LogicalPage{lp + 1}, Frame{0x40124}, Perm::R), Err::Ok);
    EXPECT_EQ(raw_leaf(t, lp + 1), 0xc000000040124104ULL);  // no C, read only
    ASSERT_EQ(t.map(LogicalPage{lp + 2}, Frame{0x40125}, Perm::R | Perm::X), Err::Ok);
    EXPECT_EQ(raw_leaf(t, lp + 2), 0xc000000040125105ULL);

    // The very bytes in memory, most significant first.
    u64 leaf_table = t.root().value;
    for (unsigned s : {27u, 18u, 9u}) {
        u64 e = read_be64(entry_at(leaf_table, (lp >> s) & (s == 27 ? 0x1fff : 0x1ff)));
        leaf_table = e & radix::NLB;
    }
    const u8* b = entry_at(leaf_table, lp & 0x1ff);
    const u8 want[8] = {0xc0, 0x00, 0x00, 0x00, 0x40, 0x12, 0x31, 0x87};
    EXPECT_EQ(std::memcmp(b, want, 8), 0);
}

TEST(Radix, MapLookupUnmapAcrossDirectoryBoundaries) {
    HostPool hp;
    RadixTable t;
    ASSERT_EQ(t.init(hp.pool()), Err::Ok);
    // Pages on both sides of every level's boundary, plus the very top.
    const u64 pages[] = {0,          1,           511,         512,           513,
                         (1u << 18) - 1, 1u << 18, (1ull << 27) - 1, 1ull << 27, (1ull << 40) - 1};
    for (u64 i = 0; i < std::size(pages); ++i)
        ASSERT_EQ(t.map(LogicalPage{pages[i]}, Frame{0x100000 + i}, Perm::RWX), Err::Ok) << i;
    for (u64 i = 0; i < std::size(pages); ++i) {
        auto f = t.lookup(LogicalPage{pages[i]});
        ASSERT_TRUE(f) << i;
        EXPECT_EQ(f->value, 0x100000 + i);
    }
    EXPECT_FALSE(t.lookup(LogicalPage{2}));
    EXPECT_FALSE(t.lookup(LogicalPage{1ull << 30}));
    EXPECT_EQ(t.map(LogicalPage{1ull << 40}, Frame{1}, Perm::R), Err::Invalid);  // beyond 52 bits

    EXPECT_TRUE(t.unmap(LogicalPage{512}));
    EXPECT_FALSE(t.unmap(LogicalPage{512}));
    EXPECT_FALSE(t.lookup(LogicalPage{512}));
    EXPECT_TRUE(t.lookup(LogicalPage{511}));
    EXPECT_TRUE(t.lookup(LogicalPage{513}));
    EXPECT_FALSE(t.unmap(LogicalPage{3ull << 30}));  // no directory there at all
}

TEST(Radix, ManyPagesUseOneLeafTablePer2MiB) {
    HostPool hp;
    RadixTable t;
    ASSERT_EQ(t.init(hp.pool()), Err::Ok);
    const u64 n = 3 * 512 + 17;  // a bit over 6 MiB from logical 0
    for (u64 lp = 0; lp < n; ++lp) ASSERT_EQ(t.map(LogicalPage{lp}, Frame{0x80000 + lp}, Perm::RWX), Err::Ok);
    // root + level 2 + level 3 + 4 leaf tables
    EXPECT_EQ(hp.bytes_handed_out, (64u << 10) + 6 * 4096u);
    for (u64 lp = 0; lp < n; ++lp) {
        auto f = t.lookup(LogicalPage{lp});
        ASSERT_TRUE(f);
        ASSERT_EQ(f->value, 0x80000 + lp);
    }
    for (u64 lp = 0; lp < n; lp += 2) ASSERT_TRUE(t.unmap(LogicalPage{lp}));
    for (u64 lp = 0; lp < n; ++lp) ASSERT_EQ(t.lookup(LogicalPage{lp}).has_value(), lp % 2 == 1);
}

TEST(Radix, RemapReplacesTheMapping) {
    HostPool hp;
    RadixTable t;
    ASSERT_EQ(t.init(hp.pool()), Err::Ok);
    ASSERT_EQ(t.map(LogicalPage{7}, Frame{0x1000}, Perm::RWX), Err::Ok);
    u64 before = hp.bytes_handed_out;
    ASSERT_EQ(t.map(LogicalPage{7}, Frame{0x2000}, Perm::R), Err::Ok);
    EXPECT_EQ(hp.bytes_handed_out, before);
    EXPECT_EQ(t.lookup(LogicalPage{7})->value, 0x2000u);
    EXPECT_EQ(raw_leaf(t, 7), 0xc000000002000104ULL);
}

TEST(Radix, BadArgumentsAreRejected) {
    HostPool hp;
    RadixTable t;
    ASSERT_EQ(t.init(hp.pool()), Err::Ok);
    EXPECT_EQ(t.map(LogicalPage{1}, Frame{1}, static_cast<Perm>(0)), Err::Invalid);
    EXPECT_EQ(t.map(LogicalPage{1}, Frame{1}, static_cast<Perm>(8)), Err::Invalid);
    EXPECT_EQ(t.map(LogicalPage{1}, Frame{1ull << 45}, Perm::R), Err::Invalid);  // beyond RPN
    EXPECT_EQ(t.map(LogicalPage{1}, Frame{(1ull << 45) - 1}, Perm::R), Err::Ok);
    EXPECT_EQ(t.lookup(LogicalPage{1})->value, (1ull << 45) - 1);
}

TEST(Radix, ExhaustionReturnsNoMemoryAndKeepsTheTreeConsistent) {
    HostPool hp;
    RadixTable t;
    hp.budget = 4;  // root + levels 2, 3 and one leaf table
    ASSERT_EQ(t.init(hp.pool()), Err::Ok);
    ASSERT_EQ(t.map(LogicalPage{0}, Frame{0x500}, Perm::RWX), Err::Ok);
    ASSERT_EQ(t.map(LogicalPage{511}, Frame{0x501}, Perm::RWX), Err::Ok);  // same leaf table

    EXPECT_EQ(t.map(LogicalPage{512}, Frame{0x502}, Perm::RWX), Err::NoMemory);  // needs a leaf table
    EXPECT_EQ(t.map(LogicalPage{1ull << 27}, Frame{0x503}, Perm::RWX), Err::NoMemory);
    EXPECT_FALSE(t.lookup(LogicalPage{512}));
    EXPECT_FALSE(t.lookup(LogicalPage{1ull << 27}));
    EXPECT_EQ(t.lookup(LogicalPage{0})->value, 0x500u);
    EXPECT_EQ(t.lookup(LogicalPage{511})->value, 0x501u);

    // Fails part-way (level 2 fits, level 3 does not): what was linked is reused.
    hp.budget = 1;
    EXPECT_EQ(t.map(LogicalPage{2ull << 27}, Frame{0x504}, Perm::RWX), Err::NoMemory);
    EXPECT_FALSE(t.lookup(LogicalPage{2ull << 27}));
    hp.budget = 2;
    EXPECT_EQ(t.map(LogicalPage{2ull << 27}, Frame{0x504}, Perm::RWX), Err::Ok);
    EXPECT_EQ(t.lookup(LogicalPage{2ull << 27})->value, 0x504u);
    EXPECT_EQ(t.lookup(LogicalPage{0})->value, 0x500u);
}

TEST(Radix, ReferenceAndChangeTestAndClear) {
    HostPool hp;
    RadixTable t;
    ASSERT_EQ(t.init(hp.pool()), Err::Ok);
    ASSERT_EQ(t.map(LogicalPage{40}, Frame{0x700}, Perm::RWX), Err::Ok);
    ASSERT_EQ(t.map(LogicalPage{41}, Frame{0x701}, Perm::RX), Err::Ok);

    auto rc = t.test_and_clear_rc(LogicalPage{40});
    ASSERT_TRUE(rc);
    EXPECT_TRUE(rc->referenced);
    EXPECT_TRUE(rc->changed);
    EXPECT_EQ(raw_leaf(t, 40), 0xc000000000700007ULL);  // R and C gone, rest intact
    rc = t.test_and_clear_rc(LogicalPage{40});
    ASSERT_TRUE(rc);
    EXPECT_FALSE(rc->referenced);
    EXPECT_FALSE(rc->changed);

    EXPECT_TRUE(t.set_rc(LogicalPage{40}, false));  // a load faulted in
    rc = t.test_and_clear_rc(LogicalPage{40});
    EXPECT_TRUE(rc->referenced);
    EXPECT_FALSE(rc->changed);
    EXPECT_TRUE(t.set_rc(LogicalPage{40}, true));  // a store
    rc = t.test_and_clear_rc(LogicalPage{40});
    EXPECT_TRUE(rc->referenced);
    EXPECT_TRUE(rc->changed);

    rc = t.test_and_clear_rc(LogicalPage{41});  // read-only: R preset, C not
    EXPECT_TRUE(rc->referenced);
    EXPECT_FALSE(rc->changed);

    EXPECT_FALSE(t.test_and_clear_rc(LogicalPage{42}));
    EXPECT_FALSE(t.test_and_clear_rc(LogicalPage{1ull << 35}));
    EXPECT_FALSE(t.set_rc(LogicalPage{42}, true));
    EXPECT_EQ(t.lookup(LogicalPage{40})->value, 0x700u);
}

TEST(Radix, CleanAndIoMappings) {
    HostPool hp;
    RadixTable t;
    ASSERT_EQ(t.init(hp.pool()), Err::Ok);
    ASSERT_EQ(t.map(LogicalPage{1}, Frame{0x800}, Perm::RWX, RadixTable::MapKind::Clean), Err::Ok);
    EXPECT_EQ(raw_leaf(t, 1), 0xc000000000800107ULL);  // R preset, C clear: a later store shows
    ASSERT_EQ(t.map(LogicalPage{2}, Frame{0x801}, Perm::RW, RadixTable::MapKind::Io), Err::Ok);
    EXPECT_EQ(raw_leaf(t, 2) & 0x30, 0x20u);  // ATT = 0b10, non-idempotent I/O
}

TEST(Radix, UnmapReturnsTheLastReferenceAndChangeBits) {
    HostPool hp;
    RadixTable t;
    ASSERT_EQ(t.init(hp.pool()), Err::Ok);
    ASSERT_EQ(t.map(LogicalPage{7}, Frame{0x900}, Perm::RWX, RadixTable::MapKind::Clean), Err::Ok);
    ASSERT_TRUE(t.set_rc(LogicalPage{7}, true));  // the partition stored to it
    auto rc = t.unmap_rc(LogicalPage{7});
    ASSERT_TRUE(rc);
    EXPECT_TRUE(rc->changed);
    EXPECT_EQ(raw_leaf(t, 7), 0u);
    EXPECT_FALSE(t.lookup(LogicalPage{7}));
    EXPECT_FALSE(t.unmap_rc(LogicalPage{7}));  // nothing left to unmap
    ASSERT_EQ(t.map(LogicalPage{8}, Frame{0x901}, Perm::RWX, RadixTable::MapKind::Clean), Err::Ok);
    rc = t.unmap_rc(LogicalPage{8});
    ASSERT_TRUE(rc);
    EXPECT_FALSE(rc->changed);  // untouched since it came in: no write-out needed
}
