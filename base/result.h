// Internal results: a status plus an optional value. Mapped to PAPR H_* codes
// only at the hcall boundary.
#pragma once
#include "base/types.h"

namespace pv {

enum class Err : u8 {
    Ok = 0,
    Invalid,      // malformed input (config, argument)
    NoMemory,     // a fixed pool is exhausted
    NotFound,
    Busy,
    Unsupported,
};

template <typename T>
struct [[nodiscard]] Result {
    Err err;
    T value;
    constexpr bool ok() const { return err == Err::Ok; }
    static constexpr Result success(T v) { return {Err::Ok, v}; }
    static constexpr Result failure(Err e) { return {e, T{}}; }
};

}  // namespace pv
