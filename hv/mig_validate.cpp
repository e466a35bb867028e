#include "hv/mig_validate.h"

#include <cstddef>
#include <cstring>

#include "base/endian.h"
#include "hv/ams.h"
#include "hv/config_lex.h"
#include "hv/partition.h"

namespace pv {
namespace {

using config_detail::sv;
using config_detail::valid_partition_name;

struct MigOfferWire {
    Be32 magic;    // kMigOfferMagic
    Be16 version;  // 1
    Be16 length;   // kMigOfferBytes
    char system[16];
    Be32 flags;    // kOfferPool | kOfferPsp
    Be32 free_partitions;
    Be32 free_lpids;
    Be32 free_vcpus;
    Be32 max_vcpus_per_partition;
    Be32 page_bytes;
    Be64 pool_bytes;
    Be64 paging_free_bytes;
    Be64 reserved;
};
static_assert(sizeof(MigOfferWire) == kMigOfferBytes && offsetof(MigOfferWire, system) == 8 &&
              offsetof(MigOfferWire, flags) == 24 && offsetof(MigOfferWire, pool_bytes) == 48);

constexpr u32 kOfferPool = 1, kOfferPsp = 2;

// A system is named like a partition (valid_partition_name), NUL-padded.
bool name_ok(const char (&n)[16]) {
    u32 len = 0;
    while (len < sizeof n && n[len]) ++len;
    for (u32 i = len; i < sizeof n; ++i)
        if (n[i]) return false;
    return valid_partition_name(sv(n, len));
}

}  // namespace

u32 mig_encode_offer(const MigOffer& o, u8 (&out)[kMigOfferBytes]) {
    MigOfferWire w{};
    w.magic.set(kMigOfferMagic);
    w.version.set(1);
    w.length.set(kMigOfferBytes);
    std::memcpy(w.system, o.system, sizeof w.system);
    w.system[sizeof w.system - 1] = 0;
    w.flags.set((o.has_pool ? kOfferPool : 0) | (o.psp_running ? kOfferPsp : 0));
    w.free_partitions.set(o.free_partitions);
    w.free_lpids.set(o.free_lpids);
    w.free_vcpus.set(o.free_vcpus);
    w.max_vcpus_per_partition.set(o.max_vcpus_per_partition);
    w.page_bytes.set(o.page_bytes);
    w.pool_bytes.set(o.pool_bytes);
    w.paging_free_bytes.set(o.paging_free_bytes);
    std::memcpy(out, &w, sizeof w);
    return sizeof w;
}

Err mig_decode_offer(const u8* buf, u32 len, MigOffer& out) {
    if (!buf || len != kMigOfferBytes) return Err::Invalid;
    MigOfferWire w;
    std::memcpy(&w, buf, sizeof w);
    if (w.magic.get() != kMigOfferMagic || w.version.get() != 1 || w.length.get() != kMigOfferBytes)
        return Err::Invalid;
    if ((w.flags.get() & ~(kOfferPool | kOfferPsp)) || w.reserved.get() || !name_ok(w.system)) return Err::Invalid;
    if (w.page_bytes.get() != kPageSize) return Err::Invalid;
    MigOffer o;
    std::memcpy(o.system, w.system, sizeof o.system);
    o.has_pool = w.flags.get() & kOfferPool;
    o.psp_running = w.flags.get() & kOfferPsp;
    o.free_partitions = w.free_partitions.get();
    o.free_lpids = w.free_lpids.get();
    o.free_vcpus = w.free_vcpus.get();
    o.max_vcpus_per_partition = w.max_vcpus_per_partition.get();
    o.page_bytes = w.page_bytes.get();
    o.pool_bytes = w.pool_bytes.get();
    o.paging_free_bytes = w.paging_free_bytes.get();
    out = o;
    return Err::Ok;
}

namespace {
struct MigOfferRequestWire {
    Be32 magic;
    Be16 version, length;
    char system[16];
    char partition[16];
};
static_assert(sizeof(MigOfferRequestWire) == kMigOfferRequestBytes);
}  // namespace

u32 mig_encode_offer_request(const MigOfferRequest& q, u8 (&out)[kMigOfferRequestBytes]) {
    MigOfferRequestWire w{};
    w.magic.set(kMigOfferRequestMagic);
    w.version.set(1);
    w.length.set(kMigOfferRequestBytes);
    std::memcpy(w.system, q.system, sizeof w.system);
    std::memcpy(w.partition, q.partition, sizeof w.partition);
    w.system[sizeof w.system - 1] = w.partition[sizeof w.partition - 1] = 0;
    std::memcpy(out, &w, sizeof w);
    return sizeof w;
}

Err mig_decode_offer_request(const u8* buf, u32 len, MigOfferRequest& out) {
    if (!buf || len != kMigOfferRequestBytes) return Err::Invalid;
    MigOfferRequestWire w;
    std::memcpy(&w, buf, sizeof w);
    if (w.magic.get() != kMigOfferRequestMagic || w.version.get() != 1 || w.length.get() != kMigOfferRequestBytes)
        return Err::Invalid;
    if (!name_ok(w.system) || !name_ok(w.partition)) return Err::Invalid;
    MigOfferRequest q;
    std::memcpy(q.system, w.system, sizeof q.system);
    std::memcpy(q.partition, w.partition, sizeof q.partition);
    out = q;
    return Err::Ok;
}

void mig_encode_switch(MigSwitch step, u8 (&out)[kMigSwitchBytes]) {
    std::memset(out, 0, sizeof out);
    for (u32 i = 0; i < 4; ++i) out[i] = static_cast<u8>(kMigSwitchMagic >> (24 - 8 * i));
    out[4] = 0, out[5] = 2;                // version
    out[6] = 0, out[7] = kMigSwitchBytes;  // length
    out[8] = static_cast<u8>(step);
}

Err mig_decode_switch(const u8* buf, u32 len, MigSwitch& step) {
    if (!buf || len != kMigSwitchBytes) return Err::Invalid;
    auto s = static_cast<MigSwitch>(buf[8]);
    if (s != MigSwitch::Ready && s != MigSwitch::Go && s != MigSwitch::Running) return Err::Invalid;
    u8 want[kMigSwitchBytes];
    mig_encode_switch(s, want);
    if (std::memcmp(buf, want, len) != 0) return Err::Invalid;
    step = s;
    return Err::Ok;
}

u32 mig_message_magic(const u8* buf, u32 len) {
    if (!buf || len < 4) return 0;
    return u32{buf[0]} << 24 | u32{buf[1]} << 16 | u32{buf[2]} << 8 | buf[3];
}

MigCandidate mig_candidate(const Partition* p, const char* name, bool migrating) {
    MigCandidate c;
    c.name = name;
    if (!p) return c;
    c.exists = true;
    c.shared_memory = p->mem_mode == MemMode::Shared;
    c.is_psp = ams_is_psp(*p);
    c.running = p->is_running();
    c.migrating = migrating;
    c.vcpus = p->vcpu_count;
    c.mem_bytes = p->mem_bytes;
    return c;
}

u32 mig_validate(const MigCandidate& c, const MigOffer* offer, bool authenticated) {
    if (!c.exists) return kMigNoSuchPartition;
    u32 r = 0;
    if (c.is_psp) r |= kMigIsPsp;
    else if (!c.shared_memory) r |= kMigNotShared;
    if (!c.running) r |= kMigNotRunning;
    if (c.migrating) r |= kMigAlreadyMigrating;
    if (!authenticated || !offer) return r | kMigNotAuthenticated;
    const MigOffer& o = *offer;
    if (!o.has_pool) r |= kMigNoPool;
    if (!o.psp_running) r |= kMigNoPsp;
    if (o.paging_free_bytes < c.mem_bytes) r |= kMigPagingSpace;
    if (o.free_lpids == 0) r |= kMigNoLpid;
    if (o.free_partitions == 0) r |= kMigNoPartitionSlot;
    if (o.free_vcpus < c.vcpus || o.max_vcpus_per_partition < c.vcpus) r |= kMigVcpuRoom;
    if (o.page_bytes != kPageSize) r |= kMigPageSize;
    return r;
}

const char* mig_refusal_text(MigRefusal r) {
    switch (r) {
    case kMigNoSuchPartition: return "no such partition";
    case kMigNotShared: return "not a shared-memory partition";
    case kMigIsPsp: return "the paging service partition stays with its devices";
    case kMigNotRunning: return "the partition is not running";
    case kMigAlreadyMigrating: return "a migration of the partition is under way";
    case kMigNotAuthenticated: return "the target did not authenticate (no session with the shared key)";
    case kMigNoPool: return "the target has no shared memory pool";
    case kMigNoPsp: return "the target has no running paging service partition";
    case kMigPagingSpace: return "the target's free paging space is smaller than the partition's logical memory";
    case kMigNoLpid: return "the target has no free LPID";
    case kMigNoPartitionSlot: return "the target has no free partition slot";
    case kMigVcpuRoom: return "the target has no room for the partition's vCPUs";
    case kMigPageSize: return "the target pages with another page size";
    }
    return "?";
}

}  // namespace pv
