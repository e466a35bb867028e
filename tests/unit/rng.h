// Deterministic PRNG for tests (splitmix64): the same sequence on every host
// and standard library, so a failing random trace can be replayed.
#pragma once
#include "base/types.h"

namespace pv::test {

struct Rng {
    u64 s;
    u64 next() {
        u64 z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    u64 below(u64 n) { return next() % n; }
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

}  // namespace pv::test
