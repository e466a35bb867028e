// Partition configuration parser (docs/config.md): lines, sections and the end
// of the file. The parser is split by responsibility (hv/config_parser.h) and
// self-contained (no libc, no formatter), so host tools link the
// hv/config*.cpp files alone.
#include "hv/config.h"

#include "hv/config_parser.h"
#include "hv/facilities.h"

namespace pv {

using namespace config_detail;

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

namespace config_detail {

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
    if (inside == "migration") return open_migration();
    return fail(line_, "section", "unknown section ", Quoted{inside},
                " (use [system], [shared_pool], [migration] or [partition NAME])");
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
    p.hfscr = kGuestHfscr;
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

bool Parser::open_migration() {
    SystemConfig::MigrationConfig& m = out_.migration;
    if (m.present) return fail(line_, "section", "duplicate [migration] section (first on line ", m.line, ")");
    m.present = true;
    m.line = line_;
    section_ = Section::Migration;
    return true;
}

bool Parser::close_section() {
    switch (section_) {
    case Section::Partition: return close_partition();
    case Section::Migration: return close_migration();
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
        if (section_ == Section::Migration)
            return fail(section_line_, kKeys[k].name, "[migration] has no ", kKeys[k].name, " (required)");
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
    cur().mem_mode_line = key_line_[kMemMode];
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
    // Without a paging_offset key, errors about it go to the paging_device line.
    p.paging_device_line = key_line_[kPagingDevice];
    p.paging_offset_line = key_line_[kPagingOffset] ? key_line_[kPagingOffset] : key_line_[kPagingDevice];
    return check_paging_region(p);
}

// A system that names itself as its peer would offer its partitions to itself.
bool Parser::close_migration() {
    if (!check_required()) return false;
    const SystemConfig::MigrationConfig& m = out_.migration;
    if (sv(m.system) == sv(m.peer))
        return fail(key_line_[kMigPeer], "peer", "peer ", Quoted{m.peer}, " is this system's own name (system, line ",
                    key_line_[kMigSystem], "); the peer must be another system");
    return true;
}

bool Parser::finish() {
    if (!close_section()) return false;
    if (!any_content_)
        return fail(0, "partition", "the configuration is empty (at least one [partition NAME] section is required)");
    if (out_.partition_count == 0)
        return fail(0, "partition", "no partition defined (at least one [partition NAME] section is required)");
    if (!check_pool() || !check_network() || !check_migration()) return false;
    assign_lpids();
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

}  // namespace config_detail

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
