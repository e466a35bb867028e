// Partition bundle validation and lookup.
#include "hv/bundle.h"

namespace pv {
namespace {

u32 le32(const u8* p) {
    return u32{p[0]} | u32{p[1]} << 8 | u32{p[2]} << 16 | u32{p[3]} << 24;
}

u64 le64(const u8* p) { return u64{le32(p)} | u64{le32(p + 4)} << 32; }

const u8* entry_ptr(const u8* data, u32 i) { return data + kBundleHeaderSize + u64{i} * kBundleEntrySize; }

// Name of a validated entry: up to its NUL.
std::string_view entry_name(const u8* e) {
    u32 n = 0;
    while (n < kBundleNameSize && e[n]) ++n;
    return {reinterpret_cast<const char*>(e), n};
}

struct Raw {
    std::string_view name;
    u64 offset, size;
};

Raw raw_entry(const u8* data, u32 i) {
    const u8* e = entry_ptr(data, i);
    return {entry_name(e), le64(e + kBundleNameSize), le64(e + kBundleNameSize + 8)};
}

Result<Bundle> reject(BundleDiag* diag, BundleFault f, u32 entry = 0) {
    if (diag) *diag = {f, entry};
    Err e = Err::Invalid;
    if (f == BundleFault::NoData || f == BundleFault::BadMagic) e = Err::NotFound;
    if (f == BundleFault::BadVersion) e = Err::Unsupported;
    return Result<Bundle>::failure(e);
}

// The name field must be "name\0\0...": non-empty, terminated, zero-padded.
BundleFault check_name(const u8* e) {
    u32 n = 0;
    while (n < kBundleNameSize && e[n]) ++n;
    if (n == kBundleNameSize) return BundleFault::NameUnterminated;
    if (n == 0) return BundleFault::NameEmpty;
    for (u32 i = n; i < kBundleNameSize; ++i)
        if (e[i]) return BundleFault::NameNotPadded;
    return BundleFault::None;
}

// Placement of one payload inside [table_end, total).
BundleFault check_extent(const Raw& r, u64 table_end, u64 total) {
    if (!is_aligned(r.offset, kBundleAlign)) return BundleFault::Misaligned;
    if (r.offset > total || r.size > total - r.offset) return BundleFault::OutOfBounds;
    if (r.offset < table_end) return BundleFault::OverlapsTable;
    return BundleFault::None;
}

bool overlap(const Raw& a, const Raw& b) {
    if (a.size == 0 || b.size == 0) return false;
    return a.offset < b.offset + b.size && b.offset < a.offset + a.size;
}

}  // namespace

Result<Bundle> Bundle::parse(const u8* data, u64 size, BundleDiag* diag) {
    if (!data) return reject(diag, BundleFault::NoData);
    if (size < kBundleHeaderSize) return reject(diag, BundleFault::TooSmall);
    for (u32 i = 0; i < sizeof kBundleMagic; ++i)
        if (data[i] != static_cast<u8>(kBundleMagic[i])) return reject(diag, BundleFault::BadMagic);
    if (le32(data + 8) != kBundleVersion) return reject(diag, BundleFault::BadVersion);
    u32 count = le32(data + 12);
    if (count == 0) return reject(diag, BundleFault::NoEntries);
    if (count > kBundleMaxEntries) return reject(diag, BundleFault::TooManyEntries);
    u64 table_end = kBundleHeaderSize + u64{count} * kBundleEntrySize;
    if (size < table_end) return reject(diag, BundleFault::TooSmall);
    u64 total = le64(data + 16);
    if (total > size || total < table_end) return reject(diag, BundleFault::BadTotalSize);

    for (u32 i = 0; i < count; ++i) {
        if (BundleFault f = check_name(entry_ptr(data, i)); f != BundleFault::None) return reject(diag, f, i);
        Raw r = raw_entry(data, i);
        if (BundleFault f = check_extent(r, table_end, total); f != BundleFault::None) return reject(diag, f, i);
        // Earlier entries are valid by now; compare against each of them.
        for (u32 j = 0; j < i; ++j) {
            Raw o = raw_entry(data, j);
            if (o.name == r.name) return reject(diag, BundleFault::DuplicateName, i);
            if (overlap(o, r)) return reject(diag, BundleFault::OverlapsEntry, i);
        }
    }
    if (diag) *diag = {};
    Bundle b;
    b.data_ = data;
    b.total_size_ = total;
    b.count_ = count;
    return Result<Bundle>::success(b);
}

BundleEntry Bundle::entry(u32 i) const {
    if (i >= count_) return {};
    Raw r = raw_entry(data_, i);
    return {r.name, data_ + r.offset, r.size};
}

std::optional<BundleEntry> Bundle::find(std::string_view name) const {
    for (u32 i = 0; i < count_; ++i) {
        BundleEntry e = entry(i);
        if (e.name == name) return e;
    }
    return std::nullopt;
}

const char* bundle_error_text(Err e) {
    switch (e) {
    case Err::Ok: return "ok";
    case Err::NotFound: return "no partition bundle there (bad magic)";
    case Err::Unsupported: return "unsupported bundle version";
    default: return "malformed bundle header or entry table";
    }
}

const char* bundle_error_text(BundleFault f) {
    switch (f) {
    case BundleFault::None: return "ok";
    case BundleFault::NoData: return "no bundle data";
    case BundleFault::TooSmall: return "bundle is shorter than its header and entry table";
    case BundleFault::BadMagic: return "bad magic (not a PVBUNDL1 bundle)";
    case BundleFault::BadVersion: return "unsupported bundle version (expected 1)";
    case BundleFault::NoEntries: return "bundle has no entries";
    case BundleFault::TooManyEntries: return "bundle has more than 16 entries";
    case BundleFault::BadTotalSize: return "total_size exceeds the data or is smaller than the entry table";
    case BundleFault::NameUnterminated: return "entry name is not NUL-terminated";
    case BundleFault::NameEmpty: return "entry name is empty";
    case BundleFault::NameNotPadded: return "entry name is not NUL-padded";
    case BundleFault::Misaligned: return "entry offset is not a multiple of 4096";
    case BundleFault::OutOfBounds: return "entry extends beyond total_size";
    case BundleFault::OverlapsTable: return "entry overlaps the bundle header or entry table";
    case BundleFault::OverlapsEntry: return "entry overlaps another entry";
    case BundleFault::DuplicateName: return "duplicate entry name";
    }
    return "unknown bundle fault";
}

}  // namespace pv
