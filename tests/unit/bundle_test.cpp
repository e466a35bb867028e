#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "hv/bundle.h"
#include "hv/elf_loader.h"
#include "tests/unit/bundle_image.h"

using namespace pv;

namespace {

using test::Image;
using test::Item;

const std::vector<Item> kItems = {
    {"poolvisor.cfg", "[partition a]\n"},
    {"smp-guest", std::string(5000, 'g')},  // spans more than one page
    {"empty", ""},
    {"io.guest", "io payload"},
};

std::string str(const BundleEntry& e) { return {reinterpret_cast<const char*>(e.data), e.size}; }

// Expects the corruption to be rejected with `fault` (at `entry` for per-entry faults).
void expect_fault(const Image& img, BundleFault fault, u32 entry = 0, Err err = Err::Invalid) {
    BundleDiag d;
    auto r = img.parse(&d);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.err, err);
    EXPECT_EQ(d.fault, fault) << bundle_error_text(d.fault);
    EXPECT_EQ(d.entry, entry);
}

}  // namespace

TEST(Bundle, RoundTrip) {
    Image img(kItems);
    BundleDiag d{BundleFault::BadMagic, 9};
    auto r = img.parse(&d);
    ASSERT_TRUE(r.ok()) << bundle_error_text(d.fault);
    EXPECT_EQ(d.fault, BundleFault::None);
    const Bundle& b = r.value;
    ASSERT_EQ(b.count(), kItems.size());
    EXPECT_EQ(b.total_size(), img.bytes.size());
    for (u32 i = 0; i < b.count(); ++i) {
        BundleEntry e = b.entry(i);
        EXPECT_EQ(e.name, kItems[i].name);
        EXPECT_EQ(str(e), kItems[i].payload);
        EXPECT_EQ((e.data - img.bytes.data()) % 4096, 0);
    }
    auto cfg = b.find(kBundleConfigName);
    ASSERT_TRUE(cfg.has_value());
    EXPECT_EQ(str(*cfg), "[partition a]\n");
    auto guest = b.find("smp-guest");
    ASSERT_TRUE(guest.has_value());
    EXPECT_EQ(guest->size, 5000u);
    EXPECT_FALSE(b.find("missing").has_value());
    EXPECT_FALSE(b.find("").has_value());
    EXPECT_FALSE(b.find("smp-gues").has_value());
    EXPECT_FALSE(b.find("smp-guest2").has_value());
    EXPECT_EQ(b.entry(99).data, nullptr);
    EXPECT_EQ(b.entry(99).size, 0u);
}

TEST(Bundle, DefaultConstructedIsEmpty) {
    Bundle b;
    EXPECT_EQ(b.count(), 0u);
    EXPECT_FALSE(b.find("poolvisor.cfg").has_value());
}

TEST(Bundle, FindsByCharArrayName) {
    Image img(kItems);
    auto r = img.parse();
    ASSERT_TRUE(r.ok());
    char name[32] = "io.guest";  // how PartitionConfig::image is passed
    auto e = r.value.find(name);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(str(*e), "io payload");
}

TEST(Bundle, AnyAlignmentAndTrailingDataAreAccepted) {
    Image img(kItems);
    std::vector<u8> buf(img.bytes.size() + 8192 + 3, 0xee);  // initrd may be padded
    std::memcpy(buf.data() + 3, img.bytes.data(), img.bytes.size());
    auto r = Bundle::parse(buf.data() + 3, buf.size() - 3);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value.total_size(), img.bytes.size());
    EXPECT_EQ(str(*r.value.find("io.guest")), "io payload");
}

TEST(Bundle, SixteenEntriesAndLongestNameAreAccepted) {
    std::vector<Item> items;
    for (int i = 0; i < 16; ++i) items.push_back({"e" + std::to_string(i), "x"});
    items[5].name = std::string(31, 'n');
    Image img(items);
    auto r = img.parse();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value.count(), 16u);
    EXPECT_TRUE(r.value.find(std::string(31, 'n')).has_value());
}

// What issue 9 boots: Debian's 45 MB vmlinux and a 15 MB initrd in one bundle.
TEST(Bundle, LinuxSizedKernelAndInitrd) {
    constexpr u64 kKernel = 45ull << 20, kInitrd = 15ull << 20;
    std::string vmlinux(kKernel, '\0');
    // A minimal ELF64 header + one PT_LOAD covering the whole file, shaped like a vmlinux.
    auto put = [&](u64 at, u64 v, int n) {
        for (int i = 0; i < n; ++i) vmlinux[at + i] = static_cast<char>(v >> (8 * i));
    };
    std::memcpy(vmlinux.data(), "\x7f" "ELF\x02\x01\x01", 7);
    put(16, 2, 2), put(18, 21, 2), put(20, 1, 4), put(24, 0xc000000000000000, 8), put(32, 64, 8);
    put(54, 56, 2), put(56, 1, 2);
    put(64, 1, 4), put(64 + 8, 0x10000, 8), put(64 + 16, 0xc000000000000000, 8), put(64 + 24, 0, 8);
    put(64 + 32, kKernel - 0x10000, 8), put(64 + 40, kKernel + (2 << 20), 8);
    std::string initrd(kInitrd, 'i');
    Image img({{"poolvisor.cfg", "[partition linux]\n"}, {"vmlinux", vmlinux}, {"initrd.gz", initrd}});
    auto b = img.parse();
    ASSERT_TRUE(b.ok());
    auto k = b.value.find("vmlinux");
    auto rd = b.value.find("initrd.gz");
    ASSERT_TRUE(k && rd);
    EXPECT_EQ(k->size, kKernel);
    EXPECT_EQ(rd->size, kInitrd);
    EXPECT_EQ(rd->data[kInitrd - 1], 'i');
    EXPECT_GT(b.value.total_size(), kKernel + kInitrd);
    // The loader takes it into a 128 MiB partition (its top 2 MiB are the hypervisor's).
    ElfPlan plan;
    ElfDiag d;
    ASSERT_TRUE(plan_elf(k->data, k->size, (128ull << 20) - (2 << 20), plan, &d)) << elf_fault_text(d.fault);
    EXPECT_EQ(plan.entry, 0u);
    EXPECT_EQ(plan.end, kKernel + (2 << 20));
    EXPECT_LE(plan.end + kInitrd, (128ull << 20) - (2 << 20));
}

TEST(BundleCorrupt, NullAndShortData) {
    BundleDiag d;
    EXPECT_EQ(Bundle::parse(nullptr, 100, &d).err, Err::NotFound);
    EXPECT_EQ(d.fault, BundleFault::NoData);
    Image img(kItems);
    EXPECT_EQ(Bundle::parse(img.bytes.data(), 23, &d).err, Err::Invalid);
    EXPECT_EQ(d.fault, BundleFault::TooSmall);
    // Header fits but the entry table does not.
    EXPECT_FALSE(Bundle::parse(img.bytes.data(), 24 + 48 * 4 - 1, &d).ok());
    EXPECT_EQ(d.fault, BundleFault::TooSmall);
}

TEST(BundleCorrupt, Magic) {
    Image img(kItems);
    img.bytes[7] = '2';
    expect_fault(img, BundleFault::BadMagic, 0, Err::NotFound);
    img.bytes.assign(img.bytes.size(), 0);
    expect_fault(img, BundleFault::BadMagic, 0, Err::NotFound);
}

TEST(BundleCorrupt, Version) {
    Image img(kItems);
    img.put32(8, 2);
    expect_fault(img, BundleFault::BadVersion, 0, Err::Unsupported);
    img.put32(8, 0x01000000);  // big-endian 1
    expect_fault(img, BundleFault::BadVersion, 0, Err::Unsupported);
}

TEST(BundleCorrupt, EntryCount) {
    Image img(kItems);
    img.put32(12, 0);
    expect_fault(img, BundleFault::NoEntries);
    img.put32(12, 17);
    expect_fault(img, BundleFault::TooManyEntries);
    img.put32(12, 0xffffffff);
    expect_fault(img, BundleFault::TooManyEntries);
}

TEST(BundleCorrupt, TotalSize) {
    Image img(kItems);
    img.put64(16, img.bytes.size() + 1);  // beyond the data
    expect_fault(img, BundleFault::BadTotalSize);
    img.put64(16, ~u64{0});
    expect_fault(img, BundleFault::BadTotalSize);
    img.put64(16, 24 + 48 * 4 - 1);  // inside the table
    expect_fault(img, BundleFault::BadTotalSize);
    img.put64(16, img.bytes.size() - 1);  // cuts the last payload
    expect_fault(img, BundleFault::OutOfBounds, 3);
}

TEST(BundleCorrupt, Names) {
    Image img(kItems);
    std::memset(&img.bytes[Image::entry(1)], 'a', 32);
    expect_fault(img, BundleFault::NameUnterminated, 1);
    std::memset(&img.bytes[Image::entry(1)], 0, 32);
    expect_fault(img, BundleFault::NameEmpty, 1);
    std::memcpy(&img.bytes[Image::entry(1)], "ab\0c", 4);
    expect_fault(img, BundleFault::NameNotPadded, 1);
    img.bytes[Image::entry(1) + 3] = 0;
    img.bytes[Image::entry(1) + 31] = 1;
    expect_fault(img, BundleFault::NameNotPadded, 1);
}

TEST(BundleCorrupt, DuplicateName) {
    std::vector<Item> items = kItems;
    items[3].name = "smp-guest";
    expect_fault(Image(items), BundleFault::DuplicateName, 3);
}

TEST(BundleCorrupt, Offsets) {
    Image img(kItems);
    const u64 off2 = Image::entry(2) + 32;
    img.put64(off2, 4096 * 2 + 1);
    expect_fault(img, BundleFault::Misaligned, 2);
    img.put64(off2, 0);  // the header itself
    expect_fault(img, BundleFault::OverlapsTable, 2);
    img.put64(off2, align_up(img.bytes.size(), 4096) + 4096);
    expect_fault(img, BundleFault::OutOfBounds, 2);
    img.put64(off2, ~u64{0} - 4095);  // aligned, far beyond
    expect_fault(img, BundleFault::OutOfBounds, 2);
}

TEST(BundleCorrupt, Sizes) {
    Image img(kItems);
    const u64 size3 = Image::entry(3) + 40;
    img.put64(size3, ~u64{0});  // offset + size overflows
    expect_fault(img, BundleFault::OutOfBounds, 3);
    img.put64(size3, img.bytes.size());
    expect_fault(img, BundleFault::OutOfBounds, 3);
}

TEST(BundleCorrupt, OverlappingPayloads) {
    Image img(kItems);
    // smp-guest occupies two pages; point io.guest into its second page.
    u64 guest_off = img.bytes[Image::entry(1) + 32] | u64{img.bytes[Image::entry(1) + 33]} << 8;
    img.put64(Image::entry(3) + 32, guest_off + 4096);
    expect_fault(img, BundleFault::OverlapsEntry, 3);
    // An empty entry overlaps nothing, wherever it points.
    Image ok(kItems);
    ok.put64(Image::entry(2) + 32, guest_off);
    EXPECT_TRUE(ok.parse().ok());
}

TEST(BundleCorrupt, EveryFaultHasText) {
    for (int f = 0; f <= static_cast<int>(BundleFault::DuplicateName); ++f) {
        const char* t = bundle_error_text(static_cast<BundleFault>(f));
        ASSERT_NE(t, nullptr);
        EXPECT_GT(std::strlen(t), 1u);
    }
    for (Err e : {Err::Ok, Err::Invalid, Err::NotFound, Err::Unsupported})
        EXPECT_GT(std::strlen(bundle_error_text(e)), 1u);
}
