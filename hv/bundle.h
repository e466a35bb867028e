// The partition bundle: the config and the partition images in one file,
// loaded by QEMU as the initrd. See docs/bundle.md. All integers are
// little-endian; read byte-wise so the bundle may sit at any alignment.
//
//   header  { char magic[8] "PVBUNDL1"; u32 version 1; u32 entry_count; u64 total_size; }
//   entries { char name[32] NUL-terminated and NUL-padded; u64 offset; u64 size; } x entry_count
//   payloads, each at a 4096-aligned offset from the bundle start
#pragma once
#include <optional>
#include <string_view>

#include "base/result.h"
#include "base/types.h"

namespace pv {

inline constexpr char kBundleMagic[8] = {'P', 'V', 'B', 'U', 'N', 'D', 'L', '1'};
inline constexpr u32 kBundleVersion = 1;
inline constexpr u32 kBundleMaxEntries = 16;
inline constexpr u32 kBundleNameSize = 32;  // including the terminating NUL
inline constexpr u64 kBundleAlign = 4096;
inline constexpr u64 kBundleHeaderSize = 24;
inline constexpr u64 kBundleEntrySize = kBundleNameSize + 16;
inline constexpr std::string_view kBundleConfigName = "poolvisor.cfg";

// Why a bundle was rejected (more precise than the Err of the Result).
enum class BundleFault : u8 {
    None,
    NoData,          // null pointer
    TooSmall,        // shorter than the header or the entry table
    BadMagic,
    BadVersion,
    NoEntries,
    TooManyEntries,
    BadTotalSize,    // total_size beyond the data, or inside the header/table
    NameUnterminated,
    NameEmpty,
    NameNotPadded,   // bytes after the name's NUL are not all NUL
    Misaligned,      // offset not a multiple of 4096
    OutOfBounds,     // offset + size overflows or exceeds total_size
    OverlapsTable,   // payload starts inside the header or entry table
    OverlapsEntry,   // payload overlaps another entry's payload
    DuplicateName,
};

struct BundleDiag {
    BundleFault fault = BundleFault::None;
    u32 entry = 0;  // table index of the offending entry (per-entry faults)
};

struct BundleEntry {
    std::string_view name;
    const u8* data = nullptr;
    u64 size = 0;
};

// A validated view of a bundle in memory; it does not copy the data.
class Bundle {
public:
    constexpr Bundle() = default;

    // Validates everything once; afterwards entries can be read blindly.
    // `diag`, if given, receives the precise fault on failure.
    [[nodiscard]] static Result<Bundle> parse(const u8* data, u64 size, BundleDiag* diag = nullptr);

    std::optional<BundleEntry> find(std::string_view name) const;
    u32 count() const { return count_; }
    // An empty entry if i >= count().
    BundleEntry entry(u32 i) const;
    u64 total_size() const { return total_size_; }

private:
    const u8* data_ = nullptr;
    u64 total_size_ = 0;
    u32 count_ = 0;
};

// Short reason for the Err of a failed Bundle::parse.
const char* bundle_error_text(Err e);
// Precise reason from BundleDiag.
const char* bundle_error_text(BundleFault f);

}  // namespace pv
