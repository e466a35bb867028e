// `key = value` lines: which key, and each key's value form and range
// (docs/config.md, the key tables).
#include "hv/config_parser.h"
#include "hv/facilities.h"
#include "mm/pool.h"

namespace pv::config_detail {
namespace {

constexpr u64 kMaxWatchdogUs = 600 * kSUs;
constexpr u64 kMaxPoolBytes = 32 * kGiB;  // 8M frames: a 160 MiB frame table (FrameInfo) at most
static_assert(kMaxPoolBytes / kPageSize <= kMaxPoolFrames, "a pool frame index must fit PageInfo::frame");
constexpr u64 kMaxEntitledBytes = 4 * kGiB;
constexpr u64 kPagingAlign = 4 * kKiB;

}  // namespace

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
    if (section_ == Section::Migration)
        return fail(line_, key, "unknown key ", Quoted{key}, " in [migration] (known: ", kMigrationKeys, ")");
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
    case kInitrd: return set_initrd(v);
    case kNetworkDevice: return set_network_device(v);
    case kWatchdog: return set_time(k, v, 0, kMaxWatchdogUs, "0..600s", cur().watchdog_us);
    case kMemWeight: return set_uint(k, v, 0, 255, cur().mem_weight);
    case kIoEntitledMem:
        return set_size(k, v, 0, kMaxEntitledBytes, "0..4G", kMiB, "1M", cur().io_entitled_bytes);
    case kPagingDevice: return set_paging_device(v);
    case kPagingOffset:
        return set_size(k, v, 0, ~u64{0}, "too large for 64 bits", kPagingAlign, "4K", cur().paging_offset);
    case kDenyFacilities: return set_deny_facilities(v);
    case kPoolMem: return set_size(k, v, 4 * kMiB, kMaxPoolBytes, "4M..32G", kMiB, "1M", out_.pool.pool_bytes);
    case kPagingVios: return set_paging_vios(v);
    case kPagingRequests: return set_uint(k, v, 2, kMaxPoolPagingRequests, out_.pool.paging_requests);
    case kFaultThreshold: return set_uint(k, v, 1, 64, out_.pool.fault_threshold);
    case kMigSystem: return set_system_name(k, v, out_.migration.system);
    case kMigPeer: return set_system_name(k, v, out_.migration.peer);
    case kMigPeerMac: return set_peer_mac(v);
    case kMigKeyFile: return set_key_file(v);
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

// One owner and dedicated memory are checked when the whole file is read
// (check_network); that the machine has the device, at boot (hv/net_attach.cpp).
bool Parser::set_network_device(sv v) {
    if (!valid_device_name(v))
        return fail(line_, "network_device", Quoted{v},
                    " is not a valid device name (1..15 characters of a-z, 0-9)");
    copy_to(cur().network_device, sizeof cur().network_device, v);
    cur().network_device_line = line_;
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

// "tar, ebb": facilities taken from the partition's HFSCR. Denying one it
// never gets (tm, msgp) is allowed and changes nothing.
bool Parser::set_deny_facilities(sv v) {
    u64 denied = 0;
    while (!v.empty()) {
        size_t comma = v.find(',');
        sv name = trim(comma == sv::npos ? v : head(v, comma));
        v = comma == sv::npos ? sv{} : tail(v, comma + 1);
        if (name.empty())
            return fail(line_, "deny_facilities", "empty facility name in the list (names are separated by ',')");
        bool known = false;
        for (const facility::Name& f : facility::kNames) {
            if (f.name != name) continue;
            denied |= facility::bit(f.bit);
            known = true;
        }
        if (!known)
            return fail(line_, "deny_facilities", Quoted{name}, " is not a facility (known: ", facility::kNameList,
                        ")");
        if (comma != sv::npos && v.empty())
            return fail(line_, "deny_facilities", "empty facility name in the list (names are separated by ',')");
    }
    cur().hfscr = kGuestHfscr & ~denied;
    return true;
}

// System names follow the partition name rule (migrlpar -t names one).
bool Parser::set_system_name(Key k, sv v, char (&dst)[16]) {
    if (!valid_partition_name(v))
        return fail(line_, kKeys[k].name, Quoted{v},
                    " is not a valid system name (1..15 characters of a-z, 0-9, '_', '-')");
    copy_to(dst, sizeof dst, v);
    return true;
}

// "52:54:00:12:34:57": the peer's NIC, so a unicast address and not zero.
bool Parser::set_peer_mac(sv v) {
    u8 mac[6]{};
    if (!parse_mac(v, mac))
        return fail(line_, "peer_mac", Quoted{v},
                    " is not a MAC address (six bytes of two hex digits separated by ':', e.g. 52:54:00:12:34:57)");
    if (mac[0] & 1)
        return fail(line_, "peer_mac", Quoted{v},
                    " is a multicast address (bit 0 of the first byte is set); a NIC's own address is unicast");
    u8 any = 0;
    for (u8 b : mac) any |= b;
    if (!any) return fail(line_, "peer_mac", Quoted{v}, " is all zeros, which is no NIC's address");
    for (u32 i = 0; i < 6; ++i) out_.migration.peer_mac[i] = mac[i];
    return true;
}

// That the bundle has it and that it is a key is checked at boot (hv/mig_key.cpp).
bool Parser::set_key_file(sv v) {
    if (!valid_image_name(v))
        return fail(line_, "key_file", Quoted{v},
                    " is not a valid bundle entry name (1..31 characters of A-Z, a-z, 0-9, '.', '_', '-')");
    copy_to(out_.migration.key_file, sizeof out_.migration.key_file, v);
    out_.migration.key_file_line = line_;
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

bool Parser::set_initrd(sv v) {
    if (!valid_image_name(v))
        return fail(line_, "initrd", Quoted{v},
                    " is not a valid image name (1..31 characters of A-Z, a-z, 0-9, '.', '_', '-')");
    copy_to(cur().initrd, sizeof cur().initrd, v);
    return true;
}

bool Parser::set_bootargs(sv v) {
    if (v.size() >= sizeof cur().bootargs)
        return fail(line_, "bootargs", "bootargs are ", u64{v.size()}, " characters long (at most ",
                    u64{sizeof cur().bootargs - 1}, ")");
    copy_to(cur().bootargs, sizeof cur().bootargs, v);
    return true;
}

}  // namespace pv::config_detail
