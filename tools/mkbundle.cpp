// mkbundle OUT.bundle name=path [name=path ...]
// Packs the partition config and images into one partition bundle (the
// format of hv/bundle.h), then re-reads it with the hypervisor's own parser.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "hv/bundle.h"
#include "hv/config.h"

namespace {

using pv::u64;
using pv::u8;

struct Input {
    std::string name, path;
    std::vector<u8> data;
    u64 offset = 0;
};

void usage() {
    std::fprintf(stderr,
                 "usage: mkbundle OUT.bundle name=path [name=path ...]\n"
                 "  e.g. mkbundle demo.bundle poolvisor.cfg=partition/demo.cfg smp-guest=build/image/smp-guest.bin\n");
}

bool parse_arg(const char* arg, Input& in) {
    const char* eq = std::strchr(arg, '=');
    if (!eq || eq == arg || !eq[1]) {
        std::fprintf(stderr, "mkbundle: '%s' is not name=path\n", arg);
        return false;
    }
    in.name.assign(arg, eq);
    in.path = eq + 1;
    if (in.name.size() >= pv::kBundleNameSize) {
        std::fprintf(stderr, "mkbundle: entry name '%s' is longer than %u characters\n", in.name.c_str(),
                     pv::kBundleNameSize - 1);
        return false;
    }
    return true;
}

bool read_file(Input& in) {
    std::ifstream f(in.path, std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "mkbundle: cannot open '%s' (for '%s'): %s\n", in.path.c_str(), in.name.c_str(),
                     std::strerror(errno));
        return false;
    }
    in.data.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    if (f.bad()) {
        std::fprintf(stderr, "mkbundle: error reading '%s'\n", in.path.c_str());
        return false;
    }
    return true;
}

// QEMU powernv loads the initrd (the bundle) at 0x28000000, at most 128 MiB
// (INITRD_MAX_SIZE, up to skiboot at 0x30000000). Real firmware differs.
constexpr u64 kQemuInitrdMax = u64{128} << 20;

void put_le(std::vector<u8>& out, u64 at, u64 v, int bytes) {
    for (int i = 0; i < bytes; ++i) out[at + i] = static_cast<u8>(v >> (8 * i));
}

// Header, table, then each payload at the next 4096-aligned offset.
std::vector<u8> build(std::vector<Input>& inputs) {
    u64 pos = pv::align_up(pv::kBundleHeaderSize + inputs.size() * pv::kBundleEntrySize, pv::kBundleAlign);
    for (Input& in : inputs) {
        in.offset = pos;
        pos = pv::align_up(pos + in.data.size(), pv::kBundleAlign);
    }
    u64 total = inputs.back().offset + inputs.back().data.size();
    std::vector<u8> out(total, 0);
    std::memcpy(out.data(), pv::kBundleMagic, sizeof pv::kBundleMagic);
    put_le(out, 8, pv::kBundleVersion, 4);
    put_le(out, 12, inputs.size(), 4);
    put_le(out, 16, total, 8);
    for (size_t i = 0; i < inputs.size(); ++i) {
        u64 e = pv::kBundleHeaderSize + i * pv::kBundleEntrySize;
        std::memcpy(&out[e], inputs[i].name.data(), inputs[i].name.size());
        put_le(out, e + pv::kBundleNameSize, inputs[i].offset, 8);
        put_le(out, e + pv::kBundleNameSize + 8, inputs[i].data.size(), 8);
        if (!inputs[i].data.empty())
            std::memcpy(&out[inputs[i].offset], inputs[i].data.data(), inputs[i].data.size());
    }
    return out;
}

// A bad config still makes a bundle (boot tests use such bundles), but say so.
void check_config(const std::vector<Input>& inputs) {
    for (const Input& in : inputs) {
        if (in.name != pv::kBundleConfigName) continue;
        static pv::SystemConfig cfg;
        pv::ConfigError err{};
        std::string_view text(reinterpret_cast<const char*>(in.data.data()), in.data.size());
        if (!pv::parse_config(text, cfg, err)) {
            char msg[256];
            pv::format_config_error(err, msg, sizeof msg);
            std::fprintf(stderr, "mkbundle: warning: %s: %s\n", in.path.c_str(), msg);
        }
    }
}

bool write_file(const char* path, const std::vector<u8>& data) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (f) f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    if (f) f.close();
    if (!f) {
        std::fprintf(stderr, "mkbundle: cannot write '%s': %s\n", path, std::strerror(errno));
        std::remove(path);
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        usage();
        return 2;
    }
    if (static_cast<unsigned>(argc - 2) > pv::kBundleMaxEntries) {
        std::fprintf(stderr, "mkbundle: %d entries given, a bundle holds at most %u\n", argc - 2,
                     pv::kBundleMaxEntries);
        return 2;
    }
    std::vector<Input> inputs(static_cast<size_t>(argc - 2));
    for (int i = 2; i < argc; ++i) {
        Input& in = inputs[static_cast<size_t>(i - 2)];
        if (!parse_arg(argv[i], in)) return 2;
        for (int j = 2; j < i; ++j) {
            if (inputs[static_cast<size_t>(j - 2)].name == in.name) {
                std::fprintf(stderr, "mkbundle: entry name '%s' given twice\n", in.name.c_str());
                return 2;
            }
        }
    }
    for (Input& in : inputs)
        if (!read_file(in)) return 1;
    check_config(inputs);

    std::vector<u8> out = build(inputs);
    pv::BundleDiag diag;
    auto check = pv::Bundle::parse(out.data(), out.size(), &diag);
    if (!check.ok()) {  // a bug here, not in the inputs
        std::fprintf(stderr, "mkbundle: internal error: built bundle is invalid: %s (entry %u)\n",
                     pv::bundle_error_text(diag.fault), diag.entry);
        return 1;
    }
    if (out.size() > kQemuInitrdMax)
        std::fprintf(stderr, "mkbundle: warning: the bundle is %llu MiB; QEMU powernv loads at most %llu MiB\n",
                     static_cast<unsigned long long>(out.size() >> 20),
                     static_cast<unsigned long long>(kQemuInitrdMax >> 20));
    if (!write_file(argv[1], out)) return 1;
    return 0;
}
