// Partition configuration parser. Self-contained (no libc, no formatter) so
// that host tools can link this file alone.
#include "hv/config.h"

namespace pv {
namespace {

using sv = std::string_view;

constexpr u64 kKiB = u64{1} << 10;
constexpr u64 kMiB = u64{1} << 20;
constexpr u64 kGiB = u64{1} << 30;
constexpr u64 kMsUs = 1'000;
constexpr u64 kSUs = 1'000'000;
constexpr u64 kMaxWatchdogUs = 600 * kSUs;
constexpr u64 kMaxPoolBytes = 32 * kGiB;  // kMaxPartitions x the largest desired_mem
constexpr u64 kMaxEntitledBytes = 4 * kGiB;
constexpr u64 kPagingAlign = 4 * kKiB;
constexpr size_t kMaxQuoted = 40;  // offending values are shortened to keep messages readable

// ---- text helpers ----

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

sv trim(sv s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// Bounds-unchecked substrings: string_view::substr may throw, which a
// freestanding build cannot link. Callers keep pos/n within the view.
sv head(sv s, size_t n) { return sv(s.data(), n); }
sv tail(sv s, size_t pos) {
    s.remove_prefix(pos);
    return s;
}

// Copies with NUL termination; callers have checked the length.
void copy_to(char* dst, size_t n, sv s) {
    size_t i = 0;
    for (; i < s.size() && i + 1 < n; ++i) dst[i] = s[i];
    dst[i] = '\0';
}

// Appends to a fixed buffer, silently truncating; always NUL-terminated.
class Text {
public:
    Text(char* buf, size_t n) : buf_(buf), cap_(n) {
        if (cap_) buf_[0] = '\0';
    }
    void add(sv s) {
        for (char c : s) put(c);
    }
    void add(u64 v) {
        char digits[20];
        u32 n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
        } while ((v /= 10) != 0);
        while (n) put(digits[--n]);
    }

private:
    void put(char c) {
        if (len_ + 1 >= cap_) return;
        buf_[len_++] = c;
        buf_[len_] = '\0';
    }
    char* buf_;
    size_t cap_;
    size_t len_ = 0;
};

// A user-supplied value, shown in quotes and shortened.
struct Quoted {
    sv s;
};

// A byte count, shown with the largest binary suffix that divides it: 64M, 1G, 4K, 100.
struct Size {
    u64 bytes;
};

void put(Text& t, sv s) { t.add(s); }
void put(Text& t, const char* s) { t.add(sv(s)); }
void put(Text& t, u64 v) { t.add(v); }
void put(Text& t, u32 v) { t.add(u64{v}); }
void put(Text& t, Size z) {
    constexpr struct {
        u64 unit;
        sv suffix;
    } kUnits[] = {{kGiB, "G"}, {kMiB, "M"}, {kKiB, "K"}};
    for (const auto& u : kUnits) {
        if (z.bytes != 0 && z.bytes % u.unit == 0) {
            t.add(z.bytes / u.unit);
            t.add(u.suffix);
            return;
        }
    }
    t.add(z.bytes);
}
void put(Text& t, Quoted q) {
    t.add("'");
    if (q.s.size() > kMaxQuoted) {
        t.add(head(q.s, kMaxQuoted));
        t.add("...");
    } else {
        t.add(q.s);
    }
    t.add("'");
}

// ---- numbers ----

enum class Num : u8 { Ok, Bad, Overflow };

// Leading decimal digits of `s` into `v`; the rest is left in `s`.
Num take_u64(sv& s, u64& v) {
    if (s.empty() || !is_digit(s.front())) return Num::Bad;
    v = 0;
    while (!s.empty() && is_digit(s.front())) {
        u64 d = static_cast<u64>(s.front() - '0');
        if (v > (~u64{0} - d) / 10) return Num::Overflow;
        v = v * 10 + d;
        s.remove_prefix(1);
    }
    return Num::Ok;
}

Num scale(u64& v, u64 unit) {
    if (v > ~u64{0} / unit) return Num::Overflow;
    v *= unit;
    return Num::Ok;
}

Num parse_int(sv s, u64& v) {
    Num r = take_u64(s, v);
    return r == Num::Ok && !s.empty() ? Num::Bad : r;
}

// "64M": binary K/M/G suffix, none means bytes.
Num parse_size(sv s, u64& bytes) {
    Num r = take_u64(s, bytes);
    if (r != Num::Ok) return r;
    if (s.empty()) return Num::Ok;
    if (s.size() != 1) return Num::Bad;
    switch (s.front()) {
    case 'K': case 'k': return scale(bytes, kKiB);
    case 'M': case 'm': return scale(bytes, kMiB);
    case 'G': case 'g': return scale(bytes, kGiB);
    default: return Num::Bad;
    }
}

// "10ms" or "3s" into microseconds; a bare 0 needs no unit.
Num parse_time(sv s, u64& us) {
    Num r = take_u64(s, us);
    if (r != Num::Ok) return r;
    if (s == "ms") return scale(us, kMsUs);
    if (s == "s") return scale(us, kSUs);
    return s.empty() && us == 0 ? Num::Ok : Num::Bad;
}

// ---- names ----

bool valid_partition_name(sv s) {
    if (s.empty() || s.size() >= sizeof(PartitionConfig::name)) return false;
    for (char c : s)
        if (!is_lower_alnum(c) && c != '_' && c != '-') return false;
    return true;
}

bool valid_image_name(sv s) {
    if (s.empty() || s.size() >= sizeof(PartitionConfig::image)) return false;
    for (char c : s)
        if (!is_alnum(c) && c != '.' && c != '_' && c != '-') return false;
    return true;
}

// Paging space devices: 1..15 characters of [a-z0-9] (nvme0, sda).
bool valid_device_name(sv s) {
    if (s.empty() || s.size() >= sizeof(PartitionConfig::paging_device)) return false;
    for (char c : s)
        if (!is_lower_alnum(c)) return false;
    return true;
}

// ---- keys ----

enum class Section : u8 { None, System, Partition, SharedPool };

// Indexes into kKeys.
enum Key : u8 {
    kHdecSlice,
    kLparId,
    kDesiredProcs,
    kDesiredMem,
    kMemMode,
    kImage,
    kBootargs,
    kWatchdog,
    kMemWeight,
    kIoEntitledMem,
    kPagingDevice,
    kPagingOffset,
    kPoolMem,
    kPagingVios,
    kPagingRequests,
    kFaultThreshold,
    kKeyCount
};

struct KeyInfo {
    sv name;
    Section section;
    bool required;
};

constexpr KeyInfo kKeys[kKeyCount] = {
    {"hdec_slice", Section::System, false},
    {"lpar_id", Section::Partition, false},
    {"desired_procs", Section::Partition, true},
    {"desired_mem", Section::Partition, true},
    {"mem_mode", Section::Partition, true},
    {"image", Section::Partition, true},
    {"bootargs", Section::Partition, false},
    {"watchdog", Section::Partition, false},
    {"mem_weight", Section::Partition, false},
    {"io_entitled_mem", Section::Partition, false},
    {"paging_device", Section::Partition, false},  // required when mem_mode = shared (close_partition)
    {"paging_offset", Section::Partition, false},
    {"pool_mem", Section::SharedPool, true},
    {"paging_vios", Section::SharedPool, true},
    {"paging_requests", Section::SharedPool, false},
    {"fault_threshold", Section::SharedPool, false},
};

constexpr sv kSystemKeys = "hdec_slice";
constexpr sv kPartitionKeys =
    "lpar_id, desired_procs, desired_mem, mem_mode, image, bootargs, watchdog, mem_weight, io_entitled_mem, "
    "paging_device, paging_offset";
constexpr sv kPoolKeys = "pool_mem, paging_vios, paging_requests, fault_threshold";

// ---- the parser ----

class Parser {
public:
    Parser(SystemConfig& out, ConfigError& err) : out_(out), err_(err) {}

    bool line(u32 no, sv raw);
    bool finish();

private:
    template <typename... Parts>
    bool fail(u32 line, sv field, const Parts&... parts) {
        err_.line = line;
        copy_to(err_.field, sizeof err_.field, field);
        Text t(err_.message, sizeof err_.message);
        (put(t, parts), ...);
        return false;
    }

    bool header(sv inside);
    bool open_partition(sv name);
    bool open_pool();
    bool close_section();
    bool check_required();
    bool close_partition();
    bool check_pool();
    bool assignment(sv text);
    bool set_value(Key k, sv value);
    bool set_lpar_id(sv v);
    bool set_procs(sv v);
    bool set_mem(sv v);
    bool set_mem_mode(sv v);
    bool set_image(sv v);
    bool set_bootargs(sv v);
    bool set_time(Key k, sv v, u64 lo, u64 hi, sv range, u64& dst);
    bool set_uint(Key k, sv v, u32 lo, u32 hi, u32& dst);
    bool set_size(Key k, sv v, u64 lo, u64 hi, sv range, u64 align, sv align_text, u64& dst);
    bool set_paging_device(sv v);
    bool set_paging_vios(sv v);
    void assign_lpids();
    PartitionConfig& cur() { return out_.partitions[out_.partition_count - 1]; }

    SystemConfig& out_;
    ConfigError& err_;
    u32 line_ = 0;
    Section section_ = Section::None;
    u32 section_line_ = 0;
    u32 key_line_[kKeyCount]{};  // where each key of the current section was set (0: not yet)
    u32 system_line_ = 0;
    u32 mem_mode_line_[kMaxPartitions]{};  // per partition, for the whole-file pool checks
    u32 pool_key_line_[kKeyCount]{};       // key_line_ of the [shared_pool] section
    bool any_content_ = false;
};

// Strips the comment and surrounding blanks, then dispatches.
bool Parser::line(u32 no, sv raw) {
    line_ = no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);  // CRLF files
    for (char c : raw) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f)
            return fail(no, "line", "contains control character ", u64{u}, " (not a text file?)");
    }
    if (size_t hash = raw.find('#'); hash != sv::npos) raw = head(raw, hash);
    sv text = trim(raw);
    if (text.empty()) return true;
    any_content_ = true;
    if (text.front() == '[') {
        if (text.back() != ']') {
            if (text.find(']') == sv::npos) return fail(no, "section", "missing ']' in ", Quoted{text});
            return fail(no, "section", "unexpected text after ']' in ", Quoted{text});
        }
        return header(trim(head(tail(text, 1), text.size() - 2)));
    }
    return assignment(text);
}

bool Parser::header(sv inside) {
    if (!close_section()) return false;
    for (u32& l : key_line_) l = 0;
    section_line_ = line_;
    if (inside == "system") {
        if (system_line_)
            return fail(line_, "section", "duplicate [system] section (first on line ", system_line_, ")");
        system_line_ = line_;
        section_ = Section::System;
        return true;
    }
    constexpr sv kPartition = "partition";
    if (inside.size() >= kPartition.size() && head(inside, kPartition.size()) == kPartition &&
        (inside.size() == kPartition.size() || is_space(inside[kPartition.size()])))
        return open_partition(trim(tail(inside, kPartition.size())));
    if (inside == "shared_pool") return open_pool();
    return fail(line_, "section", "unknown section ", Quoted{inside},
                " (use [system], [shared_pool] or [partition NAME])");
}

bool Parser::open_partition(sv name) {
    if (name.empty()) return fail(line_, "partition", "a partition needs a name: [partition NAME]");
    if (!valid_partition_name(name))
        return fail(line_, "partition", Quoted{name},
                    " is not a valid partition name (1..15 characters of a-z, 0-9, '_', '-')");
    for (u32 i = 0; i < out_.partition_count; ++i) {
        const PartitionConfig& p = out_.partitions[i];
        if (name == p.name)
            return fail(line_, "partition", "duplicate partition name ", Quoted{name}, " (first on line ", p.line,
                        ")");
    }
    if (out_.partition_count == kMaxPartitions)
        return fail(line_, "partition", "too many partitions: ", Quoted{name}, " would be number ",
                    kMaxPartitions + 1, " (at most ", kMaxPartitions, ")");
    PartitionConfig& p = out_.partitions[out_.partition_count++];
    p = PartitionConfig{};
    copy_to(p.name, sizeof p.name, name);
    p.line = line_;
    p.mem_weight = kDefaultPoolMemWeight;
    section_ = Section::Partition;
    return true;
}

bool Parser::open_pool() {
    SystemConfig::PoolConfig& pool = out_.pool;
    if (pool.present)
        return fail(line_, "section", "duplicate [shared_pool] section (first on line ", pool.line, ")");
    pool.present = true;
    pool.line = line_;
    section_ = Section::SharedPool;
    return true;
}

bool Parser::close_section() {
    switch (section_) {
    case Section::Partition: return close_partition();
    case Section::SharedPool:
        if (!check_required()) return false;
        for (u32 k = 0; k < kKeyCount; ++k) pool_key_line_[k] = key_line_[k];
        return true;
    case Section::None:
    case Section::System: break;
    }
    return true;
}

// A section is complete only with every required key.
bool Parser::check_required() {
    for (u32 k = 0; k < kKeyCount; ++k) {
        if (kKeys[k].section != section_ || !kKeys[k].required || key_line_[k]) continue;
        if (section_ == Section::SharedPool)
            return fail(section_line_, kKeys[k].name, "[shared_pool] has no ", kKeys[k].name, " (required)");
        return fail(section_line_, kKeys[k].name, "partition ", Quoted{cur().name}, " has no ", kKeys[k].name,
                    " (required)");
    }
    return true;
}

// Checks that need the whole partition section (keys come in any order) and
// the earlier partitions.
bool Parser::close_partition() {
    if (!check_required()) return false;
    PartitionConfig& p = cur();
    mem_mode_line_[out_.partition_count - 1] = key_line_[kMemMode];
    if (p.io_entitled_bytes > p.mem_bytes)
        return fail(key_line_[kIoEntitledMem], "io_entitled_mem", "io_entitled_mem ", Size{p.io_entitled_bytes},
                    " is larger than desired_mem ", Size{p.mem_bytes}, " (line ", key_line_[kDesiredMem], ")");
    if (p.mem_mode != MemMode::Shared) {
        constexpr Key kSharedOnly[] = {kPagingDevice, kPagingOffset};
        for (Key k : kSharedOnly) {
            if (key_line_[k])
                return fail(key_line_[k], kKeys[k].name, "partition ", Quoted{p.name}, " has dedicated memory (line ",
                            key_line_[kMemMode], "); ", kKeys[k].name, " is only for mem_mode = shared");
        }
        return true;
    }
    if (!key_line_[kPagingDevice])
        return fail(section_line_, "paging_device", "shared partition ", Quoted{p.name},
                    " has no paging_device (required with mem_mode = shared)");
    // The paging region is [paging_offset, paging_offset + desired_mem) on the device.
    // Without a paging_offset key, errors about it go to the paging_device line.
    u32 offset_line = key_line_[kPagingOffset] ? key_line_[kPagingOffset] : key_line_[kPagingDevice];
    if (p.paging_offset > ~u64{0} - p.mem_bytes)
        return fail(offset_line, "paging_offset", "the paging region at ", Size{p.paging_offset}, " of ",
                    Size{p.mem_bytes}, " (desired_mem) ends beyond 64-bit device offsets");
    u64 end = p.paging_offset + p.mem_bytes;
    for (u32 i = 0; i + 1 < out_.partition_count; ++i) {
        const PartitionConfig& q = out_.partitions[i];
        if (q.mem_mode != MemMode::Shared || sv(q.paging_device) != sv(p.paging_device)) continue;
        u64 q_end = q.paging_offset + q.mem_bytes;
        if (p.paging_offset < q_end && q.paging_offset < end)
            return fail(offset_line, "paging_offset", "paging region ", Size{p.paging_offset}, "..", Size{end},
                        " on ", Quoted{p.paging_device}, " overlaps region ", Size{q.paging_offset}, "..", Size{q_end},
                        " of partition ", Quoted{q.name}, " (line ", q.line, ")");
    }
    return true;
}

bool Parser::assignment(sv text) {
    size_t eq = text.find('=');
    if (eq == sv::npos) return fail(line_, "line", "expected 'key = value' or '[section]', got ", Quoted{text});
    sv key = trim(head(text, eq));
    sv value = trim(tail(text, eq + 1));
    if (key.empty()) return fail(line_, "line", "missing key before '=' in ", Quoted{text});
    if (section_ == Section::None)
        return fail(line_, key, "key ", Quoted{key},
                    " is outside any section (start with [system] or [partition NAME])");
    for (u32 k = 0; k < kKeyCount; ++k) {
        if (kKeys[k].name != key || kKeys[k].section != section_) continue;
        if (key_line_[k]) return fail(line_, key, "duplicate key ", Quoted{key}, " (first on line ", key_line_[k], ")");
        key_line_[k] = line_;
        if (value.empty() && k != kBootargs) return fail(line_, key, "missing value after '='");
        return set_value(static_cast<Key>(k), value);
    }
    if (section_ == Section::System)
        return fail(line_, key, "unknown key ", Quoted{key}, " in [system] (known: ", kSystemKeys, ")");
    if (section_ == Section::SharedPool)
        return fail(line_, key, "unknown key ", Quoted{key}, " in [shared_pool] (known: ", kPoolKeys, ")");
    return fail(line_, key, "unknown key ", Quoted{key}, " in [partition] (known: ", kPartitionKeys, ")");
}

bool Parser::set_value(Key k, sv v) {
    switch (k) {
    case kHdecSlice: return set_time(k, v, kMsUs, 1000 * kMsUs, "1ms..1000ms", out_.hdec_slice_us);
    case kLparId: return set_lpar_id(v);
    case kDesiredProcs: return set_procs(v);
    case kDesiredMem: return set_mem(v);
    case kMemMode: return set_mem_mode(v);
    case kImage: return set_image(v);
    case kBootargs: return set_bootargs(v);
    case kWatchdog: return set_time(k, v, 0, kMaxWatchdogUs, "0..600s", cur().watchdog_us);
    case kMemWeight: return set_uint(k, v, 0, 255, cur().mem_weight);
    case kIoEntitledMem:
        return set_size(k, v, 0, kMaxEntitledBytes, "0..4G", kMiB, "1M", cur().io_entitled_bytes);
    case kPagingDevice: return set_paging_device(v);
    case kPagingOffset:
        return set_size(k, v, 0, ~u64{0}, "too large for 64 bits", kPagingAlign, "4K", cur().paging_offset);
    case kPoolMem: return set_size(k, v, 4 * kMiB, kMaxPoolBytes, "4M..32G", kMiB, "1M", out_.pool.pool_bytes);
    case kPagingVios: return set_paging_vios(v);
    case kPagingRequests: return set_uint(k, v, 2, 256, out_.pool.paging_requests);
    case kFaultThreshold: return set_uint(k, v, 1, 64, out_.pool.fault_threshold);
    case kKeyCount: break;
    }
    return false;
}

bool Parser::set_time(Key k, sv v, u64 lo, u64 hi, sv range, u64& dst) {
    u64 us = 0;
    Num r = parse_time(v, us);
    if (r == Num::Bad)
        return fail(line_, kKeys[k].name, Quoted{v}, " is not a time (use a number with ms or s, e.g. 10ms)");
    if (r == Num::Overflow || us < lo || us > hi)
        return fail(line_, kKeys[k].name, Quoted{v}, " is out of range (", range, ")");
    dst = us;
    return true;
}

bool Parser::set_uint(Key k, sv v, u32 lo, u32 hi, u32& dst) {
    u64 n = 0;
    Num r = parse_int(v, n);
    if (r == Num::Bad) return fail(line_, kKeys[k].name, Quoted{v}, " is not a number");
    if (r == Num::Overflow || n < lo || n > hi)
        return fail(line_, kKeys[k].name, Quoted{v}, " is out of range (", lo, "..", hi, ")");
    dst = static_cast<u32>(n);
    return true;
}

bool Parser::set_size(Key k, sv v, u64 lo, u64 hi, sv range, u64 align, sv align_text, u64& dst) {
    u64 bytes = 0;
    Num r = parse_size(v, bytes);
    if (r == Num::Bad) return fail(line_, kKeys[k].name, Quoted{v}, " is not a size (use a number with K, M or G)");
    if (r == Num::Overflow || bytes < lo || bytes > hi)
        return fail(line_, kKeys[k].name, Quoted{v}, " is out of range (", range, ")");
    if (bytes % align) return fail(line_, kKeys[k].name, Quoted{v}, " is not a multiple of ", align_text);
    dst = bytes;
    return true;
}

bool Parser::set_paging_device(sv v) {
    if (!valid_device_name(v))
        return fail(line_, "paging_device", Quoted{v},
                    " is not a valid device name (1..15 characters of a-z, 0-9)");
    copy_to(cur().paging_device, sizeof cur().paging_device, v);
    return true;
}

// Existence and memory mode are checked when the whole file is read (check_pool).
bool Parser::set_paging_vios(sv v) {
    if (!valid_partition_name(v))
        return fail(line_, "paging_vios", Quoted{v},
                    " is not a valid partition name (1..15 characters of a-z, 0-9, '_', '-')");
    copy_to(out_.pool.paging_vios, sizeof out_.pool.paging_vios, v);
    return true;
}

bool Parser::set_lpar_id(sv v) {
    u64 id = 0;
    Num r = parse_int(v, id);
    if (r == Num::Bad) return fail(line_, "lpar_id", Quoted{v}, " is not a number");
    if (r == Num::Overflow || id < 1 || id > kMaxLpid)
        return fail(line_, "lpar_id", Quoted{v}, " is out of range (1..", kMaxLpid, ")");
    // Earlier partitions only: ids still unset are 0 and never match.
    for (u32 i = 0; i + 1 < out_.partition_count; ++i) {
        const PartitionConfig& p = out_.partitions[i];
        if (p.lpid.value == id)
            return fail(line_, "lpar_id", "lpar_id ", id, " is already used by partition ", Quoted{p.name},
                        " (line ", p.line, ")");
    }
    cur().lpid = Lpid{static_cast<u32>(id)};
    return true;
}

bool Parser::set_procs(sv v) {
    u64 n = 0;
    Num r = parse_int(v, n);
    if (r == Num::Bad) return fail(line_, "desired_procs", Quoted{v}, " is not a number");
    if (r == Num::Overflow || n < 1 || n > kMaxConfigVcpus)
        return fail(line_, "desired_procs", Quoted{v}, " is out of range (1..", kMaxConfigVcpus, ")");
    cur().vcpus = static_cast<u32>(n);
    return true;
}

bool Parser::set_mem(sv v) {
    u64 bytes = 0;
    Num r = parse_size(v, bytes);
    if (r == Num::Bad) return fail(line_, "desired_mem", Quoted{v}, " is not a size (use a number with K, M or G)");
    if (r == Num::Overflow || bytes < 16 * kMiB || bytes > 4 * kGiB)
        return fail(line_, "desired_mem", Quoted{v}, " is out of range (16M..4G)");
    if (bytes % kMiB) return fail(line_, "desired_mem", Quoted{v}, " is not a multiple of 1M");
    cur().mem_bytes = bytes;
    return true;
}

bool Parser::set_mem_mode(sv v) {
    if (v == "ded" || v == "dedicated") {
        cur().mem_mode = MemMode::Dedicated;
    } else if (v == "shared") {
        cur().mem_mode = MemMode::Shared;
    } else {
        return fail(line_, "mem_mode", Quoted{v}, " is not a memory mode (use ded, dedicated or shared)");
    }
    return true;
}

bool Parser::set_image(sv v) {
    if (!valid_image_name(v))
        return fail(line_, "image", Quoted{v},
                    " is not a valid image name (1..31 characters of A-Z, a-z, 0-9, '.', '_', '-')");
    copy_to(cur().image, sizeof cur().image, v);
    return true;
}

bool Parser::set_bootargs(sv v) {
    if (v.size() >= sizeof cur().bootargs)
        return fail(line_, "bootargs", "bootargs are ", u64{v.size()}, " characters long (at most ",
                    u64{sizeof cur().bootargs - 1}, ")");
    copy_to(cur().bootargs, sizeof cur().bootargs, v);
    return true;
}

// Whole-file Active Memory Sharing rules: shared partitions need the pool; the
// pool needs a dedicated-memory paging VIOS partition, room for every I/O
// entitlement, and at most kMaxPoolOvercommit times its size in shared
// logical memory. A pool without shared partitions is allowed.
bool Parser::check_pool() {
    const SystemConfig::PoolConfig& pool = out_.pool;
    u64 entitled = 0, logical = 0;
    for (u32 i = 0; i < out_.partition_count; ++i) {
        const PartitionConfig& p = out_.partitions[i];
        if (p.mem_mode != MemMode::Shared) continue;
        if (!pool.present)
            return fail(mem_mode_line_[i], "mem_mode", "partition ", Quoted{p.name},
                        " has mem_mode = shared but there is no [shared_pool] section (pool_mem, paging_vios)");
        entitled += p.io_entitled_bytes;
        logical += p.mem_bytes;
    }
    if (!pool.present) return true;
    u32 vios_line = pool_key_line_[kPagingVios];
    const PartitionConfig* vios = nullptr;
    for (u32 i = 0; i < out_.partition_count; ++i)
        if (sv(out_.partitions[i].name) == sv(pool.paging_vios)) vios = &out_.partitions[i];
    if (!vios)
        return fail(vios_line, "paging_vios", "no partition named ", Quoted{pool.paging_vios},
                    " (the paging VIOS partition must be a [partition NAME] of this file)");
    if (vios->mem_mode == MemMode::Shared)
        return fail(vios_line, "paging_vios", "partition ", Quoted{vios->name}, " (line ", vios->line,
                    ") has mem_mode = shared; the paging VIOS partition must use dedicated memory");
    u32 pool_line = pool_key_line_[kPoolMem];
    if (entitled > pool.pool_bytes)
        return fail(pool_line, "pool_mem", "pool_mem ", Size{pool.pool_bytes}, " is smaller than the ",
                    Size{entitled}, " of I/O entitlement it must guarantee");
    if (logical > kMaxPoolOvercommit * pool.pool_bytes) {
        u64 least = (logical + kMaxPoolOvercommit * kMiB - 1) / (kMaxPoolOvercommit * kMiB) * kMiB;
        return fail(pool_line, "pool_mem", "pool_mem ", Size{pool.pool_bytes}, " is too small for the ",
                    Size{logical}, " of logical memory of the shared partitions (at most ", kMaxPoolOvercommit,
                    " times the pool: use at least ", Size{least}, ")");
    }
    return true;
}

// Partitions without lpar_id take the lowest ids no partition claimed.
void Parser::assign_lpids() {
    for (u32 i = 0; i < out_.partition_count; ++i) {
        PartitionConfig& p = out_.partitions[i];
        if (p.lpid.value) continue;
        for (u32 id = 1; !p.lpid.value; ++id) {
            bool used = false;
            for (u32 j = 0; j < out_.partition_count; ++j) used |= out_.partitions[j].lpid.value == id;
            if (!used) p.lpid = Lpid{id};
        }
    }
}

bool Parser::finish() {
    if (!close_section()) return false;
    if (!any_content_)
        return fail(0, "partition", "the configuration is empty (at least one [partition NAME] section is required)");
    if (out_.partition_count == 0)
        return fail(0, "partition", "no partition defined (at least one [partition NAME] section is required)");
    if (!check_pool()) return false;
    assign_lpids();
    return true;
}

}  // namespace

bool parse_config(std::string_view text, SystemConfig& out, ConfigError& err) {
    out = SystemConfig{};
    out.hdec_slice_us = kDefaultHdecSliceUs;
    out.pool.paging_requests = kDefaultPoolPagingRequests;
    out.pool.fault_threshold = kDefaultPoolFaultThreshold;
    err = ConfigError{};
    Parser p(out, err);
    u32 no = 0;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        sv line = nl == sv::npos ? text : head(text, nl);
        text.remove_prefix(nl == sv::npos ? text.size() : nl + 1);
        if (!p.line(++no, line)) return false;
    }
    return p.finish();
}

void format_config_error(const ConfigError& err, char* buf, size_t n) {
    Text t(buf, n);
    t.add("config:");
    if (err.line) {
        t.add(u64{err.line});
        t.add(":");
    }
    if (err.field[0]) {
        t.add(" ");
        t.add(sv(err.field));
        t.add(":");
    }
    t.add(" ");
    t.add(sv(err.message));
}

}  // namespace pv
