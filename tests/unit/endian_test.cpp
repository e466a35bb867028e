// base/endian.h: the one big-endian scheme. Bytes are checked against
// literal byte strings, never against the scheme itself.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/endian.h"

using namespace pv;

namespace {

template <typename T>
std::vector<u8> bytes_of(const T& v) {
    std::vector<u8> out(sizeof v);
    std::memcpy(out.data(), &v, sizeof v);
    return out;
}

struct Sample {  // a layout as the ABI headers write them
    u8 tag;
    u8 reserved;
    Be16 half;
    Be32 word;
    Be64 dword;
};
static_assert(sizeof(Sample) == 16);

constexpr Sample sample() {
    Sample s{};
    s.tag = 0xaa;
    s.half.set(0x0102);
    s.word.set(0x03040506);
    s.dword.set(0x0708090a0b0c0d0eULL);
    return s;
}

// Usable in constant expressions (the paging protocol's messages are checked
// with static_assert).
constexpr u64 round_trip() {
    u8 buf[11]{};
    store_be<u64>(buf + 3, 0x1122334455667788ULL);
    return load_be<u64>(buf + 3);
}
static_assert(round_trip() == 0x1122334455667788ULL);
static_assert(big_endian<u32>(0x11223344).get() == 0x11223344u);
constexpr u32 word_through_bytes() {
    u8 buf[sizeof(Sample)]{};
    store_layout(buf, sample());
    return load_layout<Sample>(buf).word.get();
}
static_assert(word_through_bytes() == 0x03040506u);

}  // namespace

TEST(Endian, FieldsAreStoredMostSignificantByteFirst) {
    Be16 h;
    h.set(0x1122);
    Be32 w;
    w.set(0x11223344);
    Be64 d;
    d.set(0x1122334455667788ULL);
    EXPECT_EQ(bytes_of(h), (std::vector<u8>{0x11, 0x22}));
    EXPECT_EQ(bytes_of(w), (std::vector<u8>{0x11, 0x22, 0x33, 0x44}));
    EXPECT_EQ(bytes_of(d), (std::vector<u8>{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}));
    EXPECT_EQ(h.get(), 0x1122u);
    EXPECT_EQ(w.get(), 0x11223344u);
    EXPECT_EQ(d.get(), 0x1122334455667788ULL);
}

TEST(Endian, AtomicAccessorsUseTheSameByteOrder) {
    Be32 w{};
    w.store(0xdeadbeef);
    EXPECT_EQ(bytes_of(w), (std::vector<u8>{0xde, 0xad, 0xbe, 0xef}));
    EXPECT_EQ(w.load(), 0xdeadbeefu);
    Be64 d{};
    d.store(0x0102030405060708ULL, __ATOMIC_RELEASE);
    EXPECT_EQ(d.load(__ATOMIC_ACQUIRE), 0x0102030405060708ULL);
    EXPECT_EQ(d.get(), 0x0102030405060708ULL);
}

TEST(Endian, ValueInitializedFieldsAreZero) {
    Sample s{};
    EXPECT_EQ(bytes_of(s), std::vector<u8>(16, 0));
}

TEST(Endian, UnalignedLoadsAndStoresOfOneField) {
    u8 buf[16];
    std::memset(buf, 0xee, sizeof buf);
    store_be<u16>(buf + 1, 0xa1a2);
    store_be<u32>(buf + 3, 0xb1b2b3b4);
    store_be<u64>(buf + 7, 0xc1c2c3c4c5c6c7c8ULL);
    EXPECT_EQ(std::vector<u8>(buf, buf + 16),
              (std::vector<u8>{0xee, 0xa1, 0xa2, 0xb1, 0xb2, 0xb3, 0xb4, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8,
                               0xee}));
    EXPECT_EQ(load_be<u16>(buf + 1), 0xa1a2u);
    EXPECT_EQ(load_be<u32>(buf + 3), 0xb1b2b3b4u);
    EXPECT_EQ(load_be<u64>(buf + 7), 0xc1c2c3c4c5c6c7c8ULL);
}

TEST(Endian, LayoutsCopyToAndFromAnyAlignment) {
    u8 buf[20];
    std::memset(buf, 0xee, sizeof buf);
    store_layout(buf + 1, sample());
    EXPECT_EQ(std::vector<u8>(buf, buf + 20),
              (std::vector<u8>{0xee, 0xaa, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
                               0x0d, 0x0e, 0xee, 0xee, 0xee}));
    Sample back = load_layout<Sample>(buf + 1);
    EXPECT_EQ(back.tag, 0xaa);
    EXPECT_EQ(back.half.get(), 0x0102u);
    EXPECT_EQ(back.word.get(), 0x03040506u);
    EXPECT_EQ(back.dword.get(), 0x0708090a0b0c0d0eULL);
}
