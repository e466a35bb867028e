// Internal to the configuration parser: its state while it reads a file line
// by line. The work is split by responsibility:
//   hv/config.cpp        lines, sections, the end of the file;
//   hv/config_keys.cpp   `key = value` and each key's value;
//   hv/config_check.cpp  rules across sections (pool, paging regions, the mover).
#pragma once
#include "hv/config.h"
#include "hv/config_keys.h"
#include "hv/config_message.h"

namespace pv::config_detail {

class Parser {
public:
    Parser(SystemConfig& out, ConfigError& err) : out_(out), err_(err) {}

    bool line(u32 no, sv raw);
    bool finish();

private:
    template <typename... Parts>
    bool fail(u32 line, sv field, const Parts&... parts) {
        return config_detail::fail(err_, line, field, parts...);
    }

    // hv/config.cpp
    bool header(sv inside);
    bool open_partition(sv name);
    bool open_pool();
    bool open_migration();
    bool close_section();
    bool close_migration();
    bool check_required();
    bool close_partition();
    void assign_lpids();

    // hv/config_keys.cpp
    bool assignment(sv text);
    bool set_value(Key k, sv value);
    bool set_lpar_id(sv v);
    bool set_procs(sv v);
    bool set_mem(sv v);
    bool set_mem_mode(sv v);
    bool set_image(sv v);
    bool set_initrd(sv v);
    bool set_bootargs(sv v);
    bool set_time(Key k, sv v, u64 lo, u64 hi, sv range, u64& dst);
    bool set_uint(Key k, sv v, u32 lo, u32 hi, u32& dst);
    bool set_size(Key k, sv v, u64 lo, u64 hi, sv range, u64 align, sv align_text, u64& dst);
    bool set_paging_device(sv v);
    bool set_paging_vios(sv v);
    bool set_network_device(sv v);
    bool set_deny_facilities(sv v);
    bool set_system_name(Key k, sv v, char (&dst)[16]);
    bool set_peer_mac(sv v);
    bool set_key_file(sv v);

    // hv/config_check.cpp
    bool check_paging_region(const PartitionConfig& p);
    bool check_pool();
    bool check_network();
    bool check_migration();
    const PartitionConfig* partition_named(sv name) const;

    PartitionConfig& cur() { return out_.partitions[out_.partition_count - 1]; }

    SystemConfig& out_;
    ConfigError& err_;
    u32 line_ = 0;
    Section section_ = Section::None;
    u32 section_line_ = 0;
    u32 key_line_[kKeyCount]{};  // where each key of the current section was set (0: not yet)
    u32 system_line_ = 0;
    u32 pool_key_line_[kKeyCount]{};       // key_line_ of the [shared_pool] section
    bool any_content_ = false;
};

}  // namespace pv::config_detail
