// Live migration (issue 10), validation: `migrlpar -o v` and the first step
// of `migrlpar -o m`. The source asks the target, over an authenticated
// session (vio/mig_auth), what it can offer; the answer is a MigOffer. The
// source then decides, with facts of its own about the partition, whether
// the move can start. A refused validation changes nothing on either side:
// this is all reading (docs/migration.md, "Validation").
#pragma once
#include "base/result.h"
#include "base/types.h"

namespace pv {

struct Partition;

// What a target system offers a partition that would move there.
struct MigOffer {
    char system[16]{};          // the target system's name, NUL-terminated
    bool has_pool = false;      // a shared memory pool
    bool psp_running = false;   // a paging service partition serving that pool
    u64 pool_bytes = 0;
    u64 paging_free_bytes = 0;  // paging space not assigned to any partition
    u32 free_partitions = 0;    // partition slots left
    u32 free_lpids = 0;         // LPIDs not in use (the partition may get another one)
    u32 free_vcpus = 0;         // vCPUs the target can still host
    u32 max_vcpus_per_partition = 0;
    u32 page_bytes = 0;         // 4096
};

// The offer on the wire: 72 bytes, big-endian, magic "PVMO", version 1.
inline constexpr u32 kMigOfferBytes = 72;
inline constexpr u32 kMigOfferMagic = 0x50564d4f;
[[nodiscard]] u32 mig_encode_offer(const MigOffer& o, u8 (&out)[kMigOfferBytes]);
// Strict: magic, version, length, flags, reserved, a NUL-terminated name of
// [a-z0-9_-], page size 4096; Invalid otherwise (the offer is not used).
[[nodiscard]] Err mig_decode_offer(const u8* buf, u32 len, MigOffer& out);

// The source's question (docs/migration.md, "The offer request"): 40 bytes,
// magic "PVMQ", version 1, the asking system's name and the partition it
// would send. The target answers with its MigOffer.
struct MigOfferRequest {
    char system[16]{};     // the source system
    char partition[16]{};  // the partition that would move
};
inline constexpr u32 kMigOfferRequestBytes = 40;
inline constexpr u32 kMigOfferRequestMagic = 0x50564d51;
[[nodiscard]] u32 mig_encode_offer_request(const MigOfferRequest& q, u8 (&out)[kMigOfferRequestBytes]);
[[nodiscard]] Err mig_decode_offer_request(const u8* buf, u32 len, MigOfferRequest& out);
// The first four bytes of a control message or record, big-endian (0 if shorter).
u32 mig_message_magic(const u8* buf, u32 len);

// The switch-over handshake (docs/migration.md "Switch-over"), so that the
// partition never runs on both systems and is never lost: 16 bytes, magic
// "PVMR", version 2, length 16, the step (u8), 7 reserved zero bytes.
enum class MigSwitch : u8 {
    Ready = 1,    // target: installed and held; it resumes only on Go
    Go = 2,       // source: resume it; from now on the source never resumes it by itself
    Running = 3,  // target: it runs here; the source ends its copy
};
inline constexpr u32 kMigSwitchBytes = 16;
inline constexpr u32 kMigSwitchMagic = 0x50564d52;
void mig_encode_switch(MigSwitch step, u8 (&out)[kMigSwitchBytes]);
// Invalid for anything but one of the three steps, exactly so encoded.
[[nodiscard]] Err mig_decode_switch(const u8* buf, u32 len, MigSwitch& step);

// What the source knows of the partition itself.
struct MigCandidate {
    const char* name = "";
    bool exists = false;
    bool shared_memory = false;
    bool is_psp = false;
    bool running = false;
    bool migrating = false;  // a migration of it is already under way
    u32 vcpus = 0;
    u64 mem_bytes = 0;
};
MigCandidate mig_candidate(const Partition* p, const char* name, bool migrating);

// Reasons a validation fails, one bit each; 0: the move may start.
enum MigRefusal : u32 {
    kMigNoSuchPartition = 1u << 0,
    kMigNotShared = 1u << 1,       // only shared-memory partitions move (AMS)
    kMigIsPsp = 1u << 2,           // the paging service partition stays with its devices
    kMigNotRunning = 1u << 3,
    kMigAlreadyMigrating = 1u << 4,
    kMigNotAuthenticated = 1u << 5,  // no session proved the shared key
    kMigNoPool = 1u << 6,
    kMigNoPsp = 1u << 7,
    kMigPagingSpace = 1u << 8,     // less free paging space than the partition's logical memory
    kMigNoLpid = 1u << 9,
    kMigNoPartitionSlot = 1u << 10,
    kMigVcpuRoom = 1u << 11,
    kMigPageSize = 1u << 12,
};
inline constexpr u32 kMigRefusalCount = 13;

// The target side needs an offer: nullptr (no answer) refuses as unauthenticated.
[[nodiscard]] u32 mig_validate(const MigCandidate& c, const MigOffer* offer, bool authenticated);
// One short phrase per reason bit ("not a shared-memory partition").
const char* mig_refusal_text(MigRefusal r);

}  // namespace pv
