// A bundle built the way tools/mkbundle does, independently of hv/bundle.cpp,
// for the tests that need one.
#pragma once
#include <cstring>
#include <string>
#include <vector>

#include "base/types.h"
#include "hv/bundle.h"

namespace pv::test {

struct Item {
    std::string name, payload;
};

struct Image {
    std::vector<u8> bytes;

    explicit Image(const std::vector<Item>& items) {
        u64 pos = align_up(24 + 48 * items.size(), 4096);
        std::vector<u64> offsets;
        for (const Item& it : items) {
            offsets.push_back(pos);
            pos = align_up(pos + it.payload.size(), 4096);
        }
        u64 total = items.empty() ? 24 : offsets.back() + items.back().payload.size();
        bytes.assign(total, 0);
        std::memcpy(bytes.data(), "PVBUNDL1", 8);
        put32(8, 1);
        put32(12, static_cast<u32>(items.size()));
        put64(16, total);
        for (size_t i = 0; i < items.size(); ++i) {
            std::memcpy(&bytes[entry(i)], items[i].name.data(), items[i].name.size());
            put64(entry(i) + 32, offsets[i]);
            put64(entry(i) + 40, items[i].payload.size());
            std::memcpy(&bytes[offsets[i]], items[i].payload.data(), items[i].payload.size());
        }
    }

    static u64 entry(size_t i) { return 24 + 48 * i; }
    void put32(u64 at, u32 v) {
        for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<u8>(v >> (8 * i));
    }
    void put64(u64 at, u64 v) {
        for (int i = 0; i < 8; ++i) bytes[at + i] = static_cast<u8>(v >> (8 * i));
    }
    Result<Bundle> parse(BundleDiag* d = nullptr) const { return Bundle::parse(bytes.data(), bytes.size(), d); }
};

}  // namespace pv::test
