#include <gtest/gtest.h>

#include <vector>

#include "hv/elf_loader.h"

using namespace pv;

namespace {

constexpr u64 kLimit = 30ull << 20;  // a 32 MiB partition minus the hypervisor's top 2 MiB

struct Phdr {
    u32 type = 1;  // PT_LOAD
    u64 offset = 0, vaddr = 0, paddr = 0, filesz = 0, memsz = 0;
};

// A synthetic ELF64 image: the header, the program headers at 64, then the
// segment data where each Phdr's offset says (filled with a pattern).
struct Image {
    std::vector<u8> bytes;

    void put(u64 at, u64 v, int n) {
        if (bytes.size() < at + n) bytes.resize(at + n);
        for (int i = 0; i < n; ++i) bytes[at + i] = static_cast<u8>(v >> (8 * i));
    }

    Image(std::vector<Phdr> ph, u64 entry = 0) {
        bytes.assign(64 + 56 * ph.size(), 0);
        const u8 ident[] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
        for (size_t i = 0; i < sizeof ident; ++i) bytes[i] = ident[i];
        put(16, 2, 2);   // ET_EXEC
        put(18, 21, 2);  // EM_PPC64
        put(20, 1, 4);
        put(24, entry, 8);
        put(32, 64, 8);  // e_phoff
        put(52, 64, 2);
        put(54, 56, 2);
        put(56, ph.size(), 2);
        for (size_t i = 0; i < ph.size(); ++i) {
            u64 h = 64 + 56 * i;
            put(h, ph[i].type, 4);
            put(h + 4, 7, 4);
            put(h + 8, ph[i].offset, 8);
            put(h + 16, ph[i].vaddr, 8);
            put(h + 24, ph[i].paddr, 8);
            put(h + 32, ph[i].filesz, 8);
            put(h + 40, ph[i].memsz, 8);
        }
        for (const Phdr& p : ph)
            for (u64 k = 0; k < p.filesz; ++k) put(p.offset + k, (p.offset + k) * 7, 1);
    }

    ElfDiag plan(ElfPlan& out, u64 limit = kLimit) const {
        ElfDiag d{};
        d.fault = ElfFault::None;
        bool ok = plan_elf(bytes.data(), bytes.size(), limit, out, &d);
        EXPECT_EQ(ok, d.fault == ElfFault::None);
        return d;
    }
    ElfFault fault(u64 limit = kLimit) const {
        ElfPlan p;
        return plan(p, limit).fault;
    }
};

// Shaped like our guests' .elf: one RWX segment at 0 with a bss.
Image guest_like() { return Image({{1, 0x10000, 0, 0, 0xbcb8, 0x10e0d0}}); }

TEST(ElfLoader, GuestLikeImage) {
    Image img = guest_like();
    ElfPlan p;
    ASSERT_EQ(img.plan(p).fault, ElfFault::None);
    ASSERT_EQ(p.count, 1u);
    EXPECT_EQ(p.segment[0].file_offset, 0x10000u);
    EXPECT_EQ(p.segment[0].file_size, 0xbcb8u);
    EXPECT_EQ(p.segment[0].addr, 0u);
    EXPECT_EQ(p.segment[0].mem_size, 0x10e0d0u);
    EXPECT_EQ(p.entry, 0u);
    EXPECT_EQ(p.end, 0x10e0d0u);
}

// A vmlinux: p_vaddr and e_entry in the 0xc000... quadrant, p_paddr 0; a
// second segment with an old-style 0xc... p_paddr; a PT_NOTE ignored.
TEST(ElfLoader, VmlinuxAddresses) {
    Image img({{1, 0x10000, 0xc000000000000000, 0, 0x20000, 0x30000},
               {4, 0x30000, 0xc000000000040000, 0x40000, 0x100, 0x100},
               {1, 0x30000, 0xc000000000040000, 0xc000000000040000, 0x1000, 0x5000}},
              0xc000000000000100);
    ElfPlan p;
    ASSERT_EQ(img.plan(p).fault, ElfFault::None);
    ASSERT_EQ(p.count, 2u);
    EXPECT_EQ(p.segment[0].addr, 0u);
    EXPECT_EQ(p.segment[1].addr, 0x40000u);
    EXPECT_EQ(p.segment[1].file_offset, 0x30000u);
    EXPECT_EQ(p.entry, 0x100u);
    EXPECT_EQ(p.end, 0x45000u);
}

TEST(ElfLoader, EntryThroughItsSegment) {
    // Entry in the second segment: converted with that segment's vaddr -> paddr.
    Image img({{1, 0x1000, 0x10000000, 0, 0x100, 0x1000}, {1, 0x2000, 0x20000000, 0x100000, 0x100, 0x1000}},
              0x20000040);
    ElfPlan p;
    ASSERT_EQ(img.plan(p).fault, ElfFault::None);
    EXPECT_EQ(p.entry, 0x100040u);
}

TEST(ElfLoader, EmptySegmentsAndOtherTypesIgnored) {
    Image img({{6, 0, 0, 0, 0, 0x1000}, {1, 0x1000, 0, 0x500000, 0, 0}, {1, 0x1000, 0, 0, 0x10, 0x10}});
    ElfPlan p;
    ASSERT_EQ(img.plan(p).fault, ElfFault::None);
    EXPECT_EQ(p.count, 1u);
    EXPECT_EQ(p.end, 0x10u);
}

TEST(ElfLoader, RawImagesAreNotElf) {
    const u8 raw[] = {0x08, 0x00, 0x00, 0x48, 0x7f, 'E', 'L', 'F'};
    EXPECT_FALSE(is_elf(raw, sizeof raw));
    EXPECT_TRUE(is_elf(guest_like().bytes.data(), 4));
    EXPECT_FALSE(is_elf(guest_like().bytes.data(), 3));
    EXPECT_FALSE(is_elf(nullptr, 64));
}

TEST(ElfLoader, TruncatedHeader) {
    Image img = guest_like();
    ElfPlan p;
    EXPECT_FALSE(plan_elf(img.bytes.data(), 63, kLimit, p));
    ElfDiag d;
    EXPECT_FALSE(plan_elf(img.bytes.data(), 63, kLimit, p, &d));
    EXPECT_EQ(d.fault, ElfFault::Truncated);
    EXPECT_FALSE(plan_elf(img.bytes.data(), 2, kLimit, p, &d));
    EXPECT_EQ(d.fault, ElfFault::Truncated);
}

TEST(ElfLoader, HeaderChecks) {
    struct Case {
        u64 at;
        u64 value;
        int bytes;
        ElfFault want;
    } cases[] = {
        {4, 1, 1, ElfFault::NotElf64},        {5, 2, 1, ElfFault::NotLittleEndian},
        {6, 0, 1, ElfFault::BadVersion},      {20, 2, 4, ElfFault::BadVersion},
        {18, 62, 2, ElfFault::WrongMachine},  // EM_X86_64, as /bin/true
        {18, 20, 2, ElfFault::WrongMachine},  // EM_PPC
        {16, 3, 2, ElfFault::NotExecutable},  // ET_DYN
        {16, 1, 2, ElfFault::NotExecutable},  // ET_REL
        {54, 32, 2, ElfFault::BadPhentsize},  {32, 1u << 30, 8, ElfFault::PhdrsOutsideFile},
        {32, ~u64{0}, 8, ElfFault::PhdrsOutsideFile}, {56, 0xffff, 2, ElfFault::PhdrsOutsideFile},
        {56, 0, 2, ElfFault::NoSegments},
    };
    for (const Case& c : cases) {
        Image img = guest_like();
        img.put(c.at, c.value, c.bytes);
        EXPECT_EQ(img.fault(), c.want) << "offset " << c.at << " = " << c.value;
    }
}

TEST(ElfLoader, PhdrTableCutOff) {
    Image img = guest_like();
    ElfPlan p;
    ElfDiag d;
    EXPECT_FALSE(plan_elf(img.bytes.data(), 64 + 55, kLimit, p, &d));
    EXPECT_EQ(d.fault, ElfFault::PhdrsOutsideFile);
}

TEST(ElfLoader, TruncatedSegmentData) {
    Image img = guest_like();
    img.bytes.resize(0x10000 + 0xbcb8 - 1);
    ElfPlan p;
    ElfDiag d = img.plan(p);
    EXPECT_EQ(d.fault, ElfFault::SegmentOutsideFile);
    EXPECT_EQ(d.segment, 0u);
    // An offset that wraps around.
    Image wrap({{1, 0x1000, 0, 0, 0x10, 0x10}});
    wrap.put(64 + 8, ~u64{0} - 4, 8);  // p_offset
    EXPECT_EQ(wrap.fault(), ElfFault::SegmentOutsideFile);
}

TEST(ElfLoader, FileSizeOverMemSize) {
    EXPECT_EQ(Image({{1, 0x1000, 0, 0, 0x20, 0x10}}).fault(), ElfFault::FileSizeOverMem);
}

TEST(ElfLoader, NoLoadableSegment) {
    EXPECT_EQ(Image({{4, 0x1000, 0, 0, 0x10, 0x10}}).fault(), ElfFault::NoSegments);
    EXPECT_EQ(Image({{1, 0x1000, 0, 0, 0, 0}}).fault(), ElfFault::NoSegments);
}

TEST(ElfLoader, TooManySegments) {
    std::vector<Phdr> ph;
    for (u64 i = 0; i < kElfMaxSegments; ++i) ph.push_back({1, 0x2000, i * 0x1000, i * 0x1000, 0x10, 0x10});
    ElfPlan p;
    ASSERT_EQ(Image(ph).plan(p).fault, ElfFault::None);
    EXPECT_EQ(p.count, kElfMaxSegments);
    ph.push_back({1, 0x2000, 0x100000, 0x100000, 0x10, 0x10});
    ElfDiag d = Image(ph).plan(p);
    EXPECT_EQ(d.fault, ElfFault::TooManySegments);
    EXPECT_EQ(d.segment, kElfMaxSegments);
}

TEST(ElfLoader, Overlap) {
    Image img({{1, 0x1000, 0, 0, 0x10, 0x2000}, {1, 0x1000, 0x10000, 0x1fff, 0x10, 0x10}});
    ElfPlan p;
    ElfDiag d = img.plan(p);
    EXPECT_EQ(d.fault, ElfFault::SegmentOverlap);
    EXPECT_EQ(d.segment, 1u);
    EXPECT_EQ(d.addr, 0x1fffu);
    // Touching is not overlapping; the bss counts (memsz, not filesz).
    EXPECT_EQ(Image({{1, 0x1000, 0, 0, 0x10, 0x2000}, {1, 0x1000, 0x10000, 0x2000, 0x10, 0x10}}).fault(),
              ElfFault::None);
    EXPECT_EQ(Image({{1, 0x1000, 0, 0x1000, 0x10, 0x10}, {1, 0x1000, 0x10000, 0, 0x10, 0x2000}}).fault(),
              ElfFault::SegmentOverlap);
}

TEST(ElfLoader, TooBigForDesiredMem) {
    // Ends exactly at the limit: fits; one byte more: does not.
    EXPECT_EQ(Image({{1, 0x1000, 0, 0, 0x10, kLimit}}).fault(), ElfFault::None);
    ElfPlan p;
    ElfDiag d = Image({{1, 0x1000, 0, 0x100000, 0x10, kLimit - 0x100000 + 1}}).plan(p);
    EXPECT_EQ(d.fault, ElfFault::SegmentTooBig);
    EXPECT_EQ(d.addr, 0x100000u);
    EXPECT_EQ(d.end, kLimit + 1);
    EXPECT_EQ(Image({{1, 0x1000, 0, kLimit, 0x10, 0x10}}).fault(), ElfFault::SegmentTooBig);
    // Wrap-around in paddr + memsz.
    EXPECT_EQ(Image({{1, 0x1000, 0, 0x1000, 0x10, ~u64{0}}}).fault(), ElfFault::SegmentTooBig);
    // A paddr outside the kernel quadrant is taken as it is.
    EXPECT_EQ(Image({{1, 0x1000, 0, 0x8000000000000000, 0x10, 0x10}}).fault(), ElfFault::SegmentTooBig);
}

TEST(ElfLoader, EntryOutsideSegments) {
    EXPECT_EQ(Image({{1, 0x1000, 0, 0, 0x10, 0x100}}, 0x100).fault(), ElfFault::EntryOutside);
    EXPECT_EQ(Image({{1, 0x1000, 0x1000, 0, 0x10, 0x100}}, 0).fault(), ElfFault::EntryOutside);
    // Inside the bss still counts as inside the segment.
    EXPECT_EQ(Image({{1, 0x1000, 0, 0, 0x10, 0x100}}, 0xff).fault(), ElfFault::None);
}

TEST(ElfLoader, EveryFaultHasText) {
    for (u8 f = 0; f <= static_cast<u8>(ElfFault::EntryOutside); ++f)
        EXPECT_STRNE(elf_fault_text(static_cast<ElfFault>(f)), "unknown ELF fault");
}

}  // namespace
