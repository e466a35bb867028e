// Page-table pages for partitions in host tests: naturally aligned, zeroed,
// freed with their owner.
#pragma once
#include <cstdlib>
#include <cstring>
#include <vector>

#include "arch/arch.h"
#include "mm/radix.h"

namespace pv::test {

struct HostTables {
    std::vector<void*> pages;

    HostTables() = default;
    HostTables(const HostTables&) = delete;
    HostTables& operator=(const HostTables&) = delete;
    ~HostTables() {
        for (void* p : pages) std::free(p);
    }
    TablePool pool() { return TablePool{alloc, this}; }

private:
    static HostReal alloc(void* ctx, u64 bytes) {
        void* p = std::aligned_alloc(bytes, bytes);
        std::memset(p, 0, bytes);
        static_cast<HostTables*>(ctx)->pages.push_back(p);
        return arch::host_real(p);
    }
};

}  // namespace pv::test
