// Live migration: state records (hv/mig_records.h) written from the live
// structures into a caller's buffer. Nothing here changes the partition;
// the caller holds whatever keeps it still (the partition lock, or the
// partition suspended for the vCPU records). docs/migration-state.md.
#pragma once
#include <span>

#include "base/result.h"
#include "hv/mig_records.h"

namespace pv {

struct Partition;
struct PartitionConfig;
struct Vcpu;
class PagingErrorLog;

// Record writers: the record's length, or Err::NoMemory when `out` is too
// small (nothing is promised about `out` then).
[[nodiscard]] Result<u32> mig_encode_start(const Partition& p, const PartitionConfig& cfg, std::span<u8> out);
// now_tb: the host timebase the vCPU's decrementer and wake-up are measured against.
[[nodiscard]] Result<u32> mig_encode_vcpu_core(const Vcpu& v, u64 now_tb, std::span<u8> out);
[[nodiscard]] Result<u32> mig_encode_vcpu_fp(const Vcpu& v, std::span<u8> out);
// guest_tb: the partition's timebase now; pinned_pages: its pinned page count (informational).
// suspend_wall_ns: the wall clock then (arch::wall_clock_ns, 0 if unknown).
[[nodiscard]] Result<u32> mig_encode_partition_state(const Partition& p, const PagingErrorLog& log, u64 guest_tb,
                                                     u32 pinned_pages, std::span<u8> out,
                                                     u64 suspend_wall_ns = 0);
// The slot's retained paging errors from the first-newest on, at most
// kMigErrorsPerRecord: Err::NotFound when there is none at `first` (done).
[[nodiscard]] Result<u32> mig_encode_error_log(const PagingErrorLog& log, u32 slot, u32 first, std::span<u8> out);
// One chunk of page lp whose 4 KiB of data are at `page`.
[[nodiscard]] Result<u32> mig_encode_page_chunk(LogicalPage lp, u32 round, MigPageKind kind, const u8* page,
                                                u32 chunk, std::span<u8> out);
struct MigTotals {
    u32 rounds = 0;
    u32 vcpu_count = 0;
    u64 pages[kMigPageKindLast + 1]{};  // by MigPageKind
    u64 data_pages_sent = 0;
};
[[nodiscard]] Result<u32> mig_encode_complete(const MigTotals& t, std::span<u8> out);

// Page-state runs, batched: pages are added in ascending order, consecutive
// pages of one kind share a run; a full batch is encoded and reset.
class MigRunBuilder {
public:
    enum class Add : u8 { Added, Full, OutOfOrder };
    explicit MigRunBuilder(u32 round = 0) { reset(round); }
    void reset(u32 round);
    // Full: nothing added (encode this batch, reset, add again). OutOfOrder:
    // lp is not above the last page added (a caller bug; nothing added).
    Add add(LogicalPage lp, MigPageKind kind);
    u32 run_count() const { return count_; }
    bool empty() const { return count_ == 0; }
    [[nodiscard]] Result<u32> encode(std::span<u8> out) const;

private:
    struct Run {
        u32 first, count;
        MigPageKind kind;
    };
    u32 round_ = 0;
    u32 count_ = 0;
    Run runs_[kMigRunsPerRecord]{};
};

// The timebase offset that makes the partition's timebase at the target
// (host_tb + offset) never less than guest_tb, its value at the suspend:
// a multiple of kMigTbOffsetUnit (TBU40), modulo 2^64.
constexpr u64 mig_tb_offset(u64 guest_tb, u64 target_host_tb) {
    u64 d = guest_tb - target_host_tb;  // modulo 2^64: negative when the target's TB is ahead
    return (d + (kMigTbOffsetUnit - 1)) & ~(kMigTbOffsetUnit - 1);
}

}  // namespace pv
