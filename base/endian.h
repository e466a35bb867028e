// Big-endian data, the one way: every structure the hardware, OPAL, RTAS, a
// partition or the paging service reads in big-endian byte order is a struct
// of Be16/Be32/Be64 fields (and u8s), with static_asserts on its size and
// offsets. Byte buffers of no particular alignment (CRQ entries, RTAS error
// logs) are read and written through the same layouts: load_layout /
// store_layout copy the bytes, load_be / store_be are one field's worth.
#pragma once
#include "base/types.h"

namespace pv {

inline constexpr bool kHostLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

template <typename T>
constexpr T byteswap(T v) {
    if constexpr (sizeof(T) == 1) return v;
    else if constexpr (sizeof(T) == 2) return static_cast<T>(__builtin_bswap16(static_cast<u16>(v)));
    else if constexpr (sizeof(T) == 4) return static_cast<T>(__builtin_bswap32(static_cast<u32>(v)));
    else return static_cast<T>(__builtin_bswap64(static_cast<u64>(v)));
}

// Host order <-> big-endian (the same swap both ways).
template <typename T>
constexpr T to_be(T v) {
    return kHostLittleEndian ? byteswap(v) : v;
}

template <typename T>
struct BigEndian {
    // The bytes as they lie in memory. No initializer: a layout stays a
    // trivial type (zeroed by value-initialization, `{}`, like any other).
    T raw;

    constexpr T get() const { return to_be(raw); }
    constexpr void set(T v) { raw = to_be(v); }

    // One single-copy-atomic access, for fields another processor (the
    // partition, the MMU, another thread) may read or write at the same time.
    T load(int order = __ATOMIC_RELAXED) const { return to_be(__atomic_load_n(&raw, order)); }
    void store(T v, int order = __ATOMIC_RELAXED) { __atomic_store_n(&raw, to_be(v), order); }
};
using Be16 = BigEndian<u16>;
using Be32 = BigEndian<u32>;
using Be64 = BigEndian<u64>;
static_assert(sizeof(Be16) == 2 && alignof(Be16) == 2);
static_assert(sizeof(Be32) == 4 && alignof(Be32) == 4);
static_assert(sizeof(Be64) == 8 && alignof(Be64) == 8);
static_assert(__is_trivial(Be64) && __is_standard_layout(Be64));

template <typename T>
constexpr BigEndian<T> big_endian(T v) {
    BigEndian<T> b;
    b.set(v);
    return b;
}

// A layout S (no padding: its static_asserts say so) from or to the bytes at
// p, whatever p's alignment. constexpr, so messages can be checked at compile
// time; at run time one fixed-size copy, which the compiler turns into a few
// doubleword accesses (a byte loop costs a paging request ~100 instructions).
// Cacheable memory only (POWER takes unaligned accesses there in hardware):
// device registers have their own accessors.
template <typename S>
constexpr S load_layout(const u8* p) {
    struct Bytes {
        u8 b[sizeof(S)];
    } bytes{};
    if (__builtin_is_constant_evaluated()) {
        for (std::size_t i = 0; i < sizeof(S); ++i) bytes.b[i] = p[i];
    } else {
        __builtin_memcpy(&bytes, p, sizeof(S));
    }
    return __builtin_bit_cast(S, bytes);
}
template <typename S>
constexpr void store_layout(u8* p, const S& s) {
    struct Bytes {
        u8 b[sizeof(S)];
    };
    auto bytes = __builtin_bit_cast(Bytes, s);
    if (__builtin_is_constant_evaluated()) {
        for (std::size_t i = 0; i < sizeof(S); ++i) p[i] = bytes.b[i];
    } else {
        __builtin_memcpy(p, &bytes, sizeof(S));
    }
}

// One big-endian field at p (any alignment).
template <typename T>
constexpr T load_be(const u8* p) {
    return load_layout<BigEndian<T>>(p).get();
}
template <typename T>
constexpr void store_be(u8* p, T v) {
    BigEndian<T> be;
    be.set(v);
    store_layout(p, be);
}

}  // namespace pv
