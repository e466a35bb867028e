#include "hv/partition.h"

#include <cstring>

#include "arch/arch.h"

namespace pv {

HostReal bump_table_alloc(void* ctx, u64 bytes) {
    auto* c = static_cast<BumpChunk*>(ctx);
    u64 base = align_up(c->next, bytes);
    if (base + bytes > c->end) return HostReal{0};
    c->next = base + bytes;
    std::memset(arch::host_ptr(HostReal{base}), 0, bytes);
    return HostReal{base};
}

void* Partition::logical_ptr(u64 addr) const { return arch::host_ptr(HostReal{mem_base.value + addr}); }

namespace {

// Walk [addr, addr+len) one page at a time, handing each piece's host pointer to fn.
template <typename Fn>
bool for_each_piece(const Partition& p, u64 addr, u64 len, Fn fn) {
    if (!p.logical_range_ok(addr, len)) return false;
    while (len) {
        auto frame = p.radix.lookup(page_of(LogicalAddr{addr}));
        if (!frame) return false;
        u64 offset = addr & (kPageSize - 1);
        u64 n = kPageSize - offset < len ? kPageSize - offset : len;
        fn(arch::host_ptr(HostReal{base_of(*frame).value + offset}), n);
        addr += n;
        len -= n;
    }
    return true;
}

}  // namespace

bool Partition::copy_from(u64 addr, void* dst, u64 len) const {
    auto* out = static_cast<u8*>(dst);
    return for_each_piece(*this, addr, len, [&](void* host, u64 n) {
        std::memcpy(out, host, n);
        out += n;
    });
}

bool Partition::copy_to(u64 addr, const void* src, u64 len) const {
    auto* in = static_cast<const u8*>(src);
    return for_each_piece(*this, addr, len, [&](void* host, u64 n) {
        std::memcpy(host, in, n);
        in += n;
    });
}

}  // namespace pv
