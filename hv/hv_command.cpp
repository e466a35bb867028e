#include "hv/hv_command.h"

#include <cstring>

#include "base/format.h"
#include "hv/ams.h"
#include "hv/config_lex.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/mig_control.h"
#include "hv/vcpu_report.h"

namespace pv {
namespace {

using config_detail::copy_to;
using config_detail::sv;
using config_detail::valid_partition_name;

constexpr u32 kMaxWords = 12;

struct Words {
    char store[kHvCommandLineMax + 1];
    const char* w[kMaxWords];
    u32 n = 0;
};

// Splits on blanks; "..." groups a word with blanks in it (HMC's -i "a=b").
bool split(const char* line, Words& out, HvCommand& c) {
    u32 len = 0;
    while (line[len]) ++len;
    if (len > kHvCommandLineMax) {
        format(c.error, sizeof c.error, "line longer than %u characters", kHvCommandLineMax);
        return false;
    }
    u32 o = 0;
    for (u32 i = 0; i < len;) {
        while (i < len && (line[i] == ' ' || line[i] == '\t')) ++i;
        if (i == len) break;
        if (out.n == kMaxWords) {
            format(c.error, sizeof c.error, "more than %u words", kMaxWords);
            return false;
        }
        out.w[out.n++] = out.store + o;
        bool quoted = line[i] == '"';
        if (quoted) ++i;
        while (i < len && (quoted ? line[i] != '"' : line[i] != ' ' && line[i] != '\t')) out.store[o++] = line[i++];
        if (quoted) {
            if (i == len) {
                format(c.error, sizeof c.error, "a quote is not closed");
                return false;
            }
            ++i;
        }
        out.store[o++] = 0;
    }
    return true;
}

bool eq(const char* a, const char* b) { return std::strcmp(a, b) == 0; }

// A partition or system name, as the config has them (valid_partition_name).
bool take_name(const char* opt, const char* v, char (&out)[16], HvCommand& c) {
    sv name(v);
    if (name.empty()) {
        format(c.error, sizeof c.error, "%s needs a name", opt);
        return false;
    }
    if (!valid_partition_name(name)) {
        format(c.error, sizeof c.error, "%s '%s': a name is 1 to 15 of a-z 0-9 _ -", opt, v);
        return false;
    }
    copy_to(out, sizeof out, name);
    return true;
}

// "-r lpar": the only resource these commands list.
Err parse_list(const Words& w, HvCommand& c, HvCommandKind kind) {
    if (w.n != 3 || !eq(w.w[1], "-r") || !eq(w.w[2], "lpar")) {
        format(c.error, sizeof c.error, "usage: %s -r lpar", w.w[0]);
        return Err::Invalid;
    }
    c.kind = kind;
    return Err::Ok;
}

Err parse_migrlpar(const Words& w, HvCommand& c) {
    char op = 0;
    for (u32 i = 1; i < w.n; i += 2) {
        const char* opt = w.w[i];
        if (i + 1 == w.n) {
            format(c.error, sizeof c.error, "migrlpar: %s needs a value", opt);
            return Err::Invalid;
        }
        const char* v = w.w[i + 1];
        if (eq(opt, "-o")) {
            if (!eq(v, "v") && !eq(v, "m") && !eq(v, "s") && !eq(v, "r")) {
                format(c.error, sizeof c.error, "migrlpar: -o '%s': v (validate), m (migrate), s (stop) or r (recover)",
                       v);
                return Err::Invalid;
            }
            op = v[0];
        } else if (eq(opt, "-p")) {
            if (!take_name("migrlpar: -p", v, c.partition, c)) return Err::Invalid;
        } else if (eq(opt, "-t")) {
            if (!take_name("migrlpar: -t", v, c.system, c)) return Err::Invalid;
        } else {
            format(c.error, sizeof c.error, "migrlpar: unknown option '%s' (-o, -p, -t)", opt);
            return Err::Invalid;
        }
    }
    if (!op || !c.partition[0] || (op != 's' && op != 'r' && !c.system[0])) {
        format(c.error, sizeof c.error, "usage: migrlpar -o v|m -p NAME -t SYSTEM, or migrlpar -o s|r -p NAME");
        return Err::Invalid;
    }
    c.kind = op == 'v'   ? HvCommandKind::Validate
             : op == 'm' ? HvCommandKind::Migrate
             : op == 's' ? HvCommandKind::StopMigration
                         : HvCommandKind::RecoverMigration;
    return Err::Ok;
}

const char* state_name(const Partition& p) {
    switch (p.state) {
    case PartitionState::Running: return "Running";
    case PartitionState::Stopped: return "Not Activated";
    case PartitionState::Killed: return "Error";
    }
    return "?";
}

}  // namespace

Err parse_hv_command(const char* line, HvCommand& out) {
    out = HvCommand{};
    Words w;
    if (!line || !split(line, w, out)) {
        if (!out.error[0]) format(out.error, sizeof out.error, "no line");
        return Err::Invalid;
    }
    if (w.n == 0) {
        format(out.error, sizeof out.error, "empty line (help: the commands)");
        return Err::Invalid;
    }
    const char* cmd = w.w[0];
    if (eq(cmd, "help") && w.n == 1) {
        out.kind = HvCommandKind::Help;
        return Err::Ok;
    }
    if (eq(cmd, "lssyscfg")) return parse_list(w, out, HvCommandKind::ListPartitions);
    if (eq(cmd, "lslparmigr")) return parse_list(w, out, HvCommandKind::ListMigrations);
    if (eq(cmd, "migrlpar")) return parse_migrlpar(w, out);
    if (eq(cmd, "lsvcpu")) {
        if (w.n != 1) {
            format(out.error, sizeof out.error, "usage: lsvcpu");
            return Err::Invalid;
        }
        out.kind = HvCommandKind::ListVcpus;
        return Err::Ok;
    }
    format(out.error, sizeof out.error, "unknown command '%s' (help: the commands)", cmd);
    return Err::Invalid;
}

void run_hv_command(const HvCommand& c) {
    Hypervisor& h = hv();
    switch (c.kind) {
    case HvCommandKind::Help:
        log("command: lssyscfg -r lpar | lslparmigr -r lpar | migrlpar -o v|m -p NAME -t SYSTEM | "
            "migrlpar -o s|r -p NAME | lsvcpu | help");
        return;
    case HvCommandKind::ListPartitions:
        for (u32 i = 0; i < h.partition_count; ++i) {
            const Partition& p = h.partitions[i];
            log("command: name=%s,lpar_id=%u,state=%s,mem_mode=%s,curr_mem=%lu,curr_procs=%u%s", p.name, p.lpid.value,
                state_name(p), p.mem_mode == MemMode::Shared ? "shared" : "ded", p.mem_bytes >> 20, p.vcpu_count,
                ams_is_psp(p) ? ",paging_service=1" : "");
        }
        return;
    case HvCommandKind::ListMigrations:
        for (u32 i = 0; i < h.partition_count; ++i)
            log("command: name=%s,lpar_id=%u,migration_state=%s", h.partitions[i].name, h.partitions[i].lpid.value,
                mig_state_name(h.partitions[i]));
        return;
    case HvCommandKind::ListVcpus: log_vcpu_report(); return;
    // Queued: the answers come from mig_poll (hv/mig_control.h).
    case HvCommandKind::Validate: mig_command_validate(c.partition, c.system, false); return;
    case HvCommandKind::Migrate: mig_command_validate(c.partition, c.system, true); return;
    case HvCommandKind::StopMigration: mig_command_stop(c.partition); return;
    case HvCommandKind::RecoverMigration: mig_command_recover(c.partition); return;
    }
}

}  // namespace pv
