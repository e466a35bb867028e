#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstring>
#include <string>
#include <vector>

#include "hv/guest_fdt.h"
#include "hv/machine.h"

using namespace pv;

namespace {

const RtasToken kTokens[] = {
    {"get-time-of-day", 0x2001}, {"power-off", 0x2002}, {"start-cpu", 0x2004}, {"display-character", 0x2007}};

// Shaped like what hv.cpp passes for a 256 MiB partition.
GuestFdtParams params(u32 vcpus = 2) {
    GuestFdtParams p{};
    p.partition_name = "web";
    p.lpid = Lpid{3};
    p.vcpus = vcpus;
    p.mem_bytes = 256ull << 20;
    p.bootargs = "console=hvc0 quiet";
    p.rtas_base = p.mem_bytes - (1 << 20);
    p.rtas_size = 64 << 10;
    p.rtas_entry = p.rtas_base;
    p.rtas_tokens = kTokens;
    p.vty_reg = 0x30000000;
    p.timebase_hz = 512000000;
    p.reserve_base[0] = p.rtas_base;
    p.reserve_size[0] = p.rtas_size;
    p.reserve_base[1] = p.mem_bytes - (512 << 10);
    p.reserve_size[1] = 64 << 10;
    p.reserve_count = 2;
    return p;
}

struct Built {
    std::vector<u64> storage = std::vector<u64>((64 << 10) / 8);  // 8-byte aligned
    void* fdt() { return storage.data(); }
    u32 size() const { return static_cast<u32>(storage.size() * 8); }
};

std::string prop_str(const void* fdt, int node, const char* name) {
    int len = 0;
    auto* v = static_cast<const char*>(fdt_getprop(fdt, node, name, &len));
    if (!v || len <= 0) return "<missing>";
    return std::string(v, strnlen(v, static_cast<size_t>(len)));
}

u32 prop_u32(const void* fdt, int node, const char* name) {
    int len = 0;
    auto* v = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, name, &len));
    EXPECT_EQ(len, 4) << name;
    return v && len == 4 ? fdt32_to_cpu(*v) : 0xdeadbeef;
}

std::vector<u8> prop_bytes(const void* fdt, int node, const char* name) {
    int len = 0;
    auto* v = static_cast<const u8*>(fdt_getprop(fdt, node, name, &len));
    if (!v || len < 0) return {};
    return std::vector<u8>(v, v + len);
}

std::vector<std::string> string_list(const void* fdt, int node, const char* name) {
    std::vector<std::string> out;
    int n = fdt_stringlist_count(fdt, node, name);
    for (int i = 0; i < n; ++i) out.emplace_back(fdt_stringlist_get(fdt, node, name, i, nullptr));
    return out;
}

}  // namespace

TEST(GuestFdt, HeaderAndReserveMap) {
    Built b;
    GuestFdtParams p = params();
    ASSERT_EQ(build_guest_fdt(p, b.fdt(), b.size()), Err::Ok);
    ASSERT_EQ(fdt_check_header(b.fdt()), 0);
    EXPECT_LE(fdt_totalsize(b.fdt()), b.size());
    EXPECT_EQ(fdt_boot_cpuid_phys(b.fdt()), 0u);  // vCPU 0 boots
    ASSERT_EQ(fdt_num_mem_rsv(b.fdt()), 2);
    for (int i = 0; i < 2; ++i) {
        uint64_t base = 0, size = 0;
        ASSERT_EQ(fdt_get_mem_rsv(b.fdt(), i, &base, &size), 0);
        EXPECT_EQ(base, p.reserve_base[i]);
        EXPECT_EQ(size, p.reserve_size[i]);
    }
}

TEST(GuestFdt, RootAndMemory) {
    Built b;
    ASSERT_EQ(build_guest_fdt(params(), b.fdt(), b.size()), Err::Ok);
    const void* f = b.fdt();
    EXPECT_EQ(prop_str(f, 0, "device_type"), "chrp");
    EXPECT_EQ(prop_str(f, 0, "model"), "IBM pSeries (emulated by Poolvisor)");
    EXPECT_EQ(prop_str(f, 0, "compatible"), "poolvisor,pseries");
    EXPECT_EQ(prop_u32(f, 0, "#address-cells"), 2u);
    EXPECT_EQ(prop_u32(f, 0, "#size-cells"), 2u);
    EXPECT_EQ(prop_str(f, 0, "ibm,partition-name"), "web");
    EXPECT_EQ(prop_u32(f, 0, "ibm,partition-no"), 3u);

    int mem = fdt_path_offset(f, "/memory@0");
    ASSERT_GE(mem, 0);
    EXPECT_EQ(prop_str(f, mem, "device_type"), "memory");
    auto reg = prop_bytes(f, mem, "reg");
    ASSERT_EQ(reg.size(), 16u);
    const u8 want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0};  // <0 0x10000000>
    EXPECT_EQ(std::memcmp(reg.data(), want, 16), 0);
}

TEST(GuestFdt, OneCpuNodePerVcpu) {
    for (u32 n : {1u, 3u, 8u}) {
        Built b;
        ASSERT_EQ(build_guest_fdt(params(n), b.fdt(), b.size()), Err::Ok);
        const void* f = b.fdt();
        int cpus = fdt_path_offset(f, "/cpus");
        ASSERT_GE(cpus, 0);
        EXPECT_EQ(prop_u32(f, cpus, "#address-cells"), 1u);
        EXPECT_EQ(prop_u32(f, cpus, "#size-cells"), 0u);
        u32 count = 0;
        int node;
        fdt_for_each_subnode(node, f, cpus) {
            EXPECT_EQ(prop_str(f, node, "device_type"), "cpu");
            EXPECT_EQ(std::string(fdt_get_name(f, node, nullptr)), "PowerPC,POWER9@" + std::to_string(count));
            EXPECT_EQ(prop_u32(f, node, "reg"), count);
            EXPECT_EQ(prop_u32(f, node, "ibm,ppc-interrupt-server#s"), count);
            ++count;
        }
        EXPECT_EQ(count, n);
    }
}

TEST(GuestFdt, CpuPropertiesLinuxNeedsForRadix) {
    Built b;
    ASSERT_EQ(build_guest_fdt(params(1), b.fdt(), b.size()), Err::Ok);
    const void* f = b.fdt();
    int cpu = fdt_path_offset(f, "/cpus/PowerPC,POWER9@0");
    ASSERT_GE(cpu, 0);
    EXPECT_EQ(prop_u32(f, cpu, "timebase-frequency"), 512000000u);
    EXPECT_EQ(prop_u32(f, cpu, "clock-frequency"), 1000000000u);
    EXPECT_EQ(prop_u32(f, cpu, "d-cache-line-size"), 128u);
    EXPECT_EQ(prop_u32(f, cpu, "i-cache-line-size"), 128u);
    EXPECT_EQ(prop_u32(f, cpu, "d-cache-block-size"), 128u);
    EXPECT_EQ(prop_u32(f, cpu, "d-cache-size"), 32768u);
    EXPECT_EQ(prop_u32(f, cpu, "i-cache-size"), 32768u);
    EXPECT_EQ(prop_u32(f, cpu, "ibm,chip-id"), 0u);
    EXPECT_EQ(prop_str(f, cpu, "status"), "okay");
    int len = -1;
    EXPECT_NE(fdt_getprop(f, cpu, "64-bit", &len), nullptr);
    EXPECT_EQ(len, 0);

    // pa-features: descriptor header (length 66, type 0), then feature byte 40 bit 0 = radix.
    auto pa = prop_bytes(f, cpu, "ibm,pa-features");
    ASSERT_EQ(pa.size(), 68u);
    EXPECT_EQ(pa[0], 66);
    EXPECT_EQ(pa[1], 0);
    EXPECT_EQ(pa[2 + 40] & 0x80, 0x80);
    EXPECT_EQ(pa[2 + 0], 0xf6);
    EXPECT_EQ(pa[2 + 22], 0x00);  // no transactional memory

    auto ap = prop_bytes(f, cpu, "ibm,processor-radix-AP-encodings");
    ASSERT_EQ(ap.size(), 16u);
    const u8 want_ap[16] = {0, 0, 0, 0x0c, 0xa0, 0, 0, 0x10, 0x20, 0, 0, 0x15, 0x40, 0, 0, 0x1e};
    EXPECT_EQ(std::memcmp(ap.data(), want_ap, 16), 0);
}

TEST(GuestFdt, ChosenAnnouncesRadixAndTheConsole) {
    Built b;
    ASSERT_EQ(build_guest_fdt(params(), b.fdt(), b.size()), Err::Ok);
    const void* f = b.fdt();
    int chosen = fdt_path_offset(f, "/chosen");
    ASSERT_GE(chosen, 0);
    EXPECT_EQ(prop_str(f, chosen, "bootargs"), "console=hvc0 quiet");
    EXPECT_EQ(prop_str(f, chosen, "linux,stdout-path"), "/vdevice/vty@30000000");
    EXPECT_EQ(prop_str(f, chosen, "stdout-path"), "/vdevice/vty@30000000");
    EXPECT_GE(fdt_path_offset(f, prop_str(f, chosen, "stdout-path").c_str()), 0);

    // Linux early_check_vec5: vec5[24] & 0xc0 == 0x40 (radix only), vec5[26] & 0x40 (GTSE).
    auto ov5 = prop_bytes(f, chosen, "ibm,architecture-vec-5");
    ASSERT_EQ(ov5.size(), 27u);
    EXPECT_EQ(ov5[0], 26);  // length - 1, as QEMU encodes it
    EXPECT_EQ(ov5[24] & 0xc0, 0x40);
    EXPECT_EQ(ov5[26] & 0x40, 0x40);
    EXPECT_EQ(ov5[23], 0);  // XICS (legacy) interrupt mode
}

u64 prop_u64(const void* fdt, int node, const char* name) {
    int len = 0;
    const void* v = fdt_getprop(fdt, node, name, &len);
    EXPECT_EQ(len, 8) << name;
    if (!v || len != 8) return 0xdeadbeef;
    fdt64_t raw;  // properties are only 4-byte aligned
    std::memcpy(&raw, v, sizeof raw);
    return fdt64_to_cpu(raw);
}

TEST(GuestFdt, ChosenNamesTheInitrd) {
    Built b;
    GuestFdtParams p = params();
    p.initrd_start = 0x2d10000;
    p.initrd_end = 0x3c00123;
    ASSERT_EQ(build_guest_fdt(p, b.fdt(), b.size()), Err::Ok);
    int chosen = fdt_path_offset(b.fdt(), "/chosen");
    ASSERT_GE(chosen, 0);
    EXPECT_EQ(prop_u64(b.fdt(), chosen, "linux,initrd-start"), 0x2d10000u);
    EXPECT_EQ(prop_u64(b.fdt(), chosen, "linux,initrd-end"), 0x3c00123u);

    // Without an initrd neither property is there (Linux would take 0..0 as none, but say nothing).
    Built none;
    ASSERT_EQ(build_guest_fdt(params(), none.fdt(), none.size()), Err::Ok);
    chosen = fdt_path_offset(none.fdt(), "/chosen");
    EXPECT_EQ(fdt_getprop(none.fdt(), chosen, "linux,initrd-start", nullptr), nullptr);
    EXPECT_EQ(fdt_getprop(none.fdt(), chosen, "linux,initrd-end", nullptr), nullptr);
}

TEST(GuestFdt, InitrdOutsideMemoryIsInvalid) {
    Built b;
    auto build = [&](u64 start, u64 end) {
        GuestFdtParams p = params();
        p.initrd_start = start;
        p.initrd_end = end;
        return build_guest_fdt(p, b.fdt(), b.size());
    };
    const u64 mem = params().mem_bytes;
    EXPECT_EQ(build(0x100000, 0x100000), Err::Invalid);  // empty
    EXPECT_EQ(build(0x200000, 0x100000), Err::Invalid);  // backwards
    EXPECT_EQ(build(0x100000, mem + 1), Err::Invalid);   // past the end of logical memory
    EXPECT_EQ(build(0, 0x1000), Err::Ok);
    EXPECT_EQ(build(mem - 0x1000, mem), Err::Ok);
}

TEST(GuestFdt, NullBootargsIsAnEmptyCommandLine) {
    Built b;
    GuestFdtParams p = params();
    p.bootargs = nullptr;
    ASSERT_EQ(build_guest_fdt(p, b.fdt(), b.size()), Err::Ok);
    int len = -1;
    int chosen = fdt_path_offset(b.fdt(), "/chosen");
    ASSERT_NE(fdt_getprop(b.fdt(), chosen, "bootargs", &len), nullptr);
    EXPECT_EQ(len, 1);
}

TEST(GuestFdt, RtasNodeAndTokens) {
    Built b;
    GuestFdtParams p = params();
    ASSERT_EQ(build_guest_fdt(p, b.fdt(), b.size()), Err::Ok);
    const void* f = b.fdt();
    int rtas = fdt_path_offset(f, "/rtas");
    ASSERT_GE(rtas, 0);
    EXPECT_EQ(prop_u32(f, rtas, "linux,rtas-base"), p.rtas_base);
    EXPECT_EQ(prop_u32(f, rtas, "linux,rtas-entry"), p.rtas_entry);
    EXPECT_EQ(prop_u32(f, rtas, "rtas-size"), p.rtas_size);
    for (const RtasToken& t : kTokens) EXPECT_EQ(prop_u32(f, rtas, t.name), t.token) << t.name;
    auto hypertas = string_list(f, rtas, "ibm,hypertas-functions");
    EXPECT_EQ(hypertas, (std::vector<std::string>{"hcall-term", "hcall-splpar", "hcall-set-mode"}));
}

TEST(GuestFdt, VdeviceWithTheHvterm) {
    Built b;
    ASSERT_EQ(build_guest_fdt(params(), b.fdt(), b.size()), Err::Ok);
    const void* f = b.fdt();
    int vdev = fdt_path_offset(f, "/vdevice");
    ASSERT_GE(vdev, 0);
    EXPECT_EQ(prop_str(f, vdev, "device_type"), "vdevice");
    EXPECT_EQ(prop_str(f, vdev, "compatible"), "IBM,vdevice");
    EXPECT_EQ(prop_u32(f, vdev, "#address-cells"), 1u);
    EXPECT_EQ(prop_u32(f, vdev, "#size-cells"), 0u);
    int vty = fdt_path_offset(f, "/vdevice/vty@30000000");
    ASSERT_GE(vty, 0);
    EXPECT_EQ(prop_str(f, vty, "name"), "vty");
    EXPECT_EQ(prop_str(f, vty, "device_type"), "serial");
    EXPECT_EQ(prop_str(f, vty, "compatible"), "hvterm1");
    EXPECT_EQ(prop_u32(f, vty, "reg"), 0x30000000u);
}

// The hypervisor's own skiboot-tree scanner reads memory and threads the
// same way Linux's early flat-tree code does.
TEST(GuestFdt, ReadableByTheMachineScanner) {
    Built b;
    ASSERT_EQ(build_guest_fdt(params(4), b.fdt(), b.size()), Err::Ok);
    MachineInfo mi{};
    char err[128];
    ASSERT_TRUE(scan_machine_fdt(b.fdt(), mi, err, sizeof err)) << err;
    EXPECT_EQ(mi.thread_count, 4u);
    ASSERT_EQ(mi.mem_count, 1u);
    EXPECT_EQ(mi.mem[0].base, 0u);
    EXPECT_EQ(mi.mem[0].size, 256ull << 20);
    EXPECT_EQ(mi.timebase_hz, 512000000u);
}

TEST(GuestFdt, BufferTooSmallIsNoMemory) {
    Built big;
    GuestFdtParams p = params(8);
    ASSERT_EQ(build_guest_fdt(p, big.fdt(), big.size()), Err::Ok);
    u32 need = fdt_totalsize(big.fdt());
    for (u32 size : {0u, 16u, 256u, need / 2, need - 1}) {
        Built b;
        EXPECT_EQ(build_guest_fdt(p, b.fdt(), size), Err::NoMemory) << size;
    }
    Built exact;
    EXPECT_EQ(build_guest_fdt(p, exact.fdt(), need), Err::Ok);
    EXPECT_EQ(fdt_check_header(exact.fdt()), 0);
}

TEST(GuestFdt, BadParametersAreInvalid) {
    Built b;
    auto bad = [&](auto mutate) {
        GuestFdtParams p = params();
        mutate(p);
        return build_guest_fdt(p, b.fdt(), b.size());
    };
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.vcpus = 0; }), Err::Invalid);
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.vcpus = 9; }), Err::Invalid);
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.mem_bytes = 0; }), Err::Invalid);
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.mem_bytes += 1; }), Err::Invalid);
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.partition_name = nullptr; }), Err::Invalid);
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.partition_name = ""; }), Err::Invalid);
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.timebase_hz = 0; }), Err::Invalid);
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.timebase_hz = 1ull << 32; }), Err::Invalid);
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.rtas_size = 0; }), Err::Invalid);
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.rtas_base = p.mem_bytes - 4096; }), Err::Invalid);  // runs off the end
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.rtas_entry = p.rtas_base + p.rtas_size; }), Err::Invalid);
    EXPECT_EQ(bad([](GuestFdtParams& p) {
                  p.mem_bytes = 8ull << 30;
                  p.rtas_base = p.rtas_entry = 5ull << 30;  // beyond a 32-bit cell
              }),
              Err::Invalid);
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.reserve_count = 5; }), Err::Invalid);
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.reserve_size[1] = 0; }), Err::Invalid);
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.reserve_base[1] = p.mem_bytes; }), Err::Invalid);

    static const RtasToken dup[] = {{"power-off", 1}, {"power-off", 2}};
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.rtas_tokens = dup; }), Err::Invalid);
    static const RtasToken shadow[] = {{"rtas-size", 1}};
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.rtas_tokens = shadow; }), Err::Invalid);
    static const RtasToken unnamed[] = {{nullptr, 1}};
    EXPECT_EQ(bad([](GuestFdtParams& p) { p.rtas_tokens = unnamed; }), Err::Invalid);

    GuestFdtParams p = params();
    EXPECT_EQ(build_guest_fdt(p, nullptr, 4096), Err::Invalid);
    EXPECT_EQ(build_guest_fdt(p, static_cast<char*>(b.fdt()) + 4, b.size() - 8), Err::Invalid);
    EXPECT_EQ(build_guest_fdt(p, b.fdt(), b.size()), Err::Ok);  // and nothing sticky
}

// Linux's icp-hv matches /interrupt-controller; its servers are the cpu regs.
TEST(GuestFdt, XicsPresentationNode) {
    for (u32 n : {1u, 4u}) {
        Built b;
        ASSERT_EQ(build_guest_fdt(params(n), b.fdt(), b.size()), Err::Ok);
        const void* f = b.fdt();
        int ic = fdt_path_offset(f, "/interrupt-controller");
        ASSERT_GE(ic, 0);
        EXPECT_EQ(prop_str(f, ic, "device_type"), "PowerPC-External-Interrupt-Presentation");
        EXPECT_EQ(prop_str(f, ic, "compatible"), "IBM,ppc-xicp");
        int len = -1;
        EXPECT_NE(fdt_getprop(f, ic, "interrupt-controller", &len), nullptr);
        EXPECT_EQ(len, 0);
        auto ranges = prop_bytes(f, ic, "ibm,interrupt-server-ranges");
        ASSERT_EQ(ranges.size(), 8u);
        const u8 want[8] = {0, 0, 0, 0, 0, 0, 0, static_cast<u8>(n)};
        EXPECT_EQ(std::memcmp(ranges.data(), want, 8), 0);
        EXPECT_EQ(prop_u32(f, ic, "#interrupt-cells"), 2u);
        EXPECT_EQ(prop_u32(f, ic, "phandle"), kXicpPhandle);
        EXPECT_EQ(fdt_node_offset_by_phandle(f, kXicpPhandle), ic);
    }
}
