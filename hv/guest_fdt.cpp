#include "hv/guest_fdt.h"

#include <libfdt.h>

#include <string_view>

#include "base/endian.h"
#include "base/format.h"

namespace pv {
namespace {

// POWER9 facts a pseries kernel looks for in each cpu node.
constexpr u32 kCacheLineBytes = 128;  // also the dcbz block size
constexpr u32 kL1CacheBytes = 32 << 10;
constexpr u32 kClockHz = 1'000'000'000;  // nominal: Linux only reports it

// ibm,pa-features (PAPR "processor architecture features"): 2 header bytes
// (feature bytes that follow, descriptor type 0), then one bit per feature,
// MSB first. The POWER9 / ISA 3.0 set QEMU's spapr advertises, transactional
// memory left out. Byte 40 bit 0 is "radix MMU": without it Linux drops radix.
constexpr u8 kPaFeaturesPower9[] = {
    66, 0,
    0xf6, 0x1f, 0xc7, 0xc0, 0x80, 0xf0,  //  0: MMU FPU SLB RUN DABR NX; 1: FRI* DABRX SPRG3 SLB0 PP110; 2: VPM DS205 PPR DS202 DS206; 3: LSD URG; 5: LE CFAR EB LSQ
    0x80, 0x00, 0x00, 0x00, 0x00, 0x00,  //  6: DS207
    0x00, 0x00, 0x00, 0x00, 0x80, 0x00,  // 16: vector
    0x80, 0x00, 0x80, 0x00, 0x00, 0x00,  // 18: vector scalar; 20: vector XOR; 22: HTM (off)
    0x80, 0x00, 0x80, 0x00, 0x80, 0x00,  // 24: ext. decrementer; 26: 64-bit ftrs; 28: PM ftrs
    0x80, 0x00, 0x80, 0x00, 0xc0, 0x00,  // 30: MMR; 32: LE atomics; 34: EBB + ext. EBB
    0x80, 0x00, 0x80, 0x00, 0x80, 0x00,  // 36: SPR SO; 38: copy/paste; 40: radix MMU
    0x80, 0x00, 0x80, 0x00, 0x80, 0x00,  // 42: PM; 44: PC RA; 46: SC vectored
    0x80, 0x00, 0x80, 0x00, 0x80, 0x00,  // 48: SIMD; 50: QP BFP; 52: string
    0x80, 0x00, 0x80, 0x00, 0x80, 0x00,  // 54: DecFP; 56: DecI; 58: SHA
    0x80, 0x00, 0x80, 0x00, 0x00, 0x00,  // 60: NM atomics; 62: RNG
};
static_assert(sizeof kPaFeaturesPower9 == 2 + 66);

// ibm,processor-radix-AP-encodings: AP (top 3 bits) | log2(page size).
constexpr u32 kRadixApEncodings[] = {
    0x0000000c,  //  4 KiB, AP 0
    0xa0000010,  // 64 KiB, AP 5
    0x20000015,  //  2 MiB, AP 1
    0x4000001e,  //  1 GiB, AP 2
};

// /chosen/ibm,architecture-vec-5: option vector 5 as the hypervisor settled
// it (there is no CAS negotiation on this entry path). Byte 0 holds the
// vector length minus one; byte N is OV5 byte N as Linux indexes it
// (OV5_INDX). Byte 24 = 0x40: radix only (OV5_MMU_RADIX); byte 26 = 0x40:
// guest translation shootdown, i.e. the guest issues tlbie itself (LPCR[GTSE]).
constexpr u8 kOv5Index = 0, kOv5MmuByte = 24, kOv5RadixExtByte = 26;
constexpr u8 kOv5MmuRadix = 0x40, kOv5RadixGtse = 0x40;
constexpr auto make_ov5() {
    struct V {
        u8 b[kOv5RadixExtByte + 1]{};
    } v{};
    v.b[kOv5Index] = kOv5RadixExtByte;
    v.b[kOv5MmuByte] = kOv5MmuRadix;
    v.b[kOv5RadixExtByte] = kOv5RadixGtse;
    return v;
}
constexpr auto kOv5 = make_ov5();

// PAPR hcall sets Linux keys features on (ibm,hypertas-functions). Only what
// the hypervisor implements: the console, cede/confer/prod (splpar; Linux
// then registers a VPA), and H_SET_MODE. Its presence also marks an LPAR.
constexpr char kHypertas[] = "hcall-term\0hcall-splpar\0hcall-set-mode";

// /rtas properties a token name must not shadow.
constexpr std::string_view kRtasFixedProps[] = {"linux,rtas-base", "linux,rtas-entry", "rtas-size",
                                               "ibm,hypertas-functions", "name", "phandle",
                                               "rtas-error-log-max", "ibm,extended-os-term"};

// Largest RTAS error log the partition receives (Linux RTAS_ERROR_LOG_MAX, as QEMU).
constexpr u32 kRtasErrorLogMax = 2048;

// Sequential-write session: the first libfdt error sticks and every later
// call is skipped, so the emitters need no error plumbing.
class Writer {
public:
    Writer(void* buf, u32 size) : buf_(buf) { err_ = fdt_create(buf, static_cast<int>(size)); }

    void reserve(u64 base, u64 size) {
        run([&] { return fdt_add_reservemap_entry(buf_, base, size); });
    }
    void end_reserves() {
        run([&] { return fdt_finish_reservemap(buf_); });
    }
    void begin(const char* node) {
        run([&] { return fdt_begin_node(buf_, node); });
    }
    void end() {
        run([&] { return fdt_end_node(buf_); });
    }
    void bytes(const char* name, const void* v, u32 len) {
        run([&] { return fdt_property(buf_, name, v, static_cast<int>(len)); });
    }
    void str(const char* name, const char* v) {
        run([&] { return fdt_property_string(buf_, name, v); });
    }
    void u32p(const char* name, u32 v) {
        run([&] { return fdt_property_u32(buf_, name, v); });
    }
    void empty(const char* name) { bytes(name, nullptr, 0); }
    void finish() {
        run([&] { return fdt_finish(buf_); });
    }

    // Cells are big-endian in the tree.
    template <std::size_t N>
    void u32s(const char* name, const u32 (&v)[N]) {
        Be32 cells[N];
        for (std::size_t i = 0; i < N; ++i) cells[i].set(v[i]);
        bytes(name, cells, sizeof cells);
    }
    template <std::size_t N>
    void u64s(const char* name, const u64 (&v)[N]) {
        Be64 cells[N];
        for (std::size_t i = 0; i < N; ++i) cells[i].set(v[i]);
        bytes(name, cells, sizeof cells);
    }

    Err result() const {
        if (err_ >= 0) return Err::Ok;
        return err_ == -FDT_ERR_NOSPACE ? Err::NoMemory : Err::Invalid;
    }

private:
    template <typename F>
    void run(F call) {
        if (err_ < 0) return;
        if (int rc = call(); rc < 0) err_ = rc;
    }

    void* buf_;
    int err_ = 0;
};

bool fits_u32(u64 v) { return v <= 0xffffffffu; }
bool nonempty(const char* s) { return s && s[0]; }

bool rtas_ok(const GuestFdtParams& p) {
    if (p.rtas_size == 0 || !fits_u32(p.rtas_base) || !fits_u32(p.rtas_base + p.rtas_size)) return false;
    if (p.rtas_base + p.rtas_size > p.mem_bytes) return false;
    return p.rtas_entry >= p.rtas_base && p.rtas_entry < p.rtas_base + p.rtas_size;
}

// Each token becomes a /rtas property, so names must be unique and must not
// collide with the fixed properties.
bool tokens_ok(std::span<const RtasToken> tokens) {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (!nonempty(tokens[i].name)) return false;
        std::string_view name(tokens[i].name);
        for (std::string_view fixed : kRtasFixedProps)
            if (name == fixed) return false;
        for (std::size_t j = 0; j < i; ++j)
            if (name == tokens[j].name) return false;
    }
    return true;
}

bool reserves_ok(const GuestFdtParams& p) {
    if (p.reserve_count > kGuestFdtMaxReserves) return false;
    for (u32 i = 0; i < p.reserve_count; ++i) {
        u64 b = p.reserve_base[i], s = p.reserve_size[i];
        if (s == 0 || b > p.mem_bytes || s > p.mem_bytes - b) return false;
    }
    return true;
}

bool initrd_ok(const GuestFdtParams& p) {
    if (p.initrd_start == 0 && p.initrd_end == 0) return true;
    return p.initrd_start < p.initrd_end && p.initrd_end <= p.mem_bytes;
}

bool params_ok(const GuestFdtParams& p) {
    if (!nonempty(p.partition_name) || !initrd_ok(p)) return false;
    if (p.vcpus == 0 || p.vcpus > kGuestFdtMaxVcpus) return false;
    if (p.mem_bytes == 0 || !is_aligned(p.mem_bytes, kPageSize)) return false;
    if (p.timebase_hz == 0 || !fits_u32(p.timebase_hz)) return false;
    return rtas_ok(p) && tokens_ok(p.rtas_tokens) && reserves_ok(p);
}

void emit_root_props(Writer& w, const GuestFdtParams& p) {
    // Linux's pseries probe keys on device_type "chrp"; compatible follows
    // QEMU's "qemu,pseries" convention.
    w.str("device_type", "chrp");
    w.str("model", "IBM pSeries (emulated by Poolvisor)");
    w.str("compatible", "poolvisor,pseries");
    w.u32p("#address-cells", 2);
    w.u32p("#size-cells", 2);
    w.str("ibm,partition-name", p.partition_name);
    w.u32p("ibm,partition-no", p.lpid.value);
}

void emit_memory(Writer& w, const GuestFdtParams& p) {
    const u64 reg[] = {0, p.mem_bytes};
    w.begin("memory@0");
    w.str("device_type", "memory");
    w.u64s("reg", reg);
    w.end();
}

void emit_cpu(Writer& w, const GuestFdtParams& p, u32 n) {
    char node[32];
    format(node, sizeof node, "PowerPC,POWER9@%x", n);
    w.begin(node);
    w.str("device_type", "cpu");
    w.u32p("reg", n);
    w.u32p("ibm,ppc-interrupt-server#s", n);  // one thread per virtual core
    w.str("status", "okay");
    w.empty("64-bit");
    w.u32p("clock-frequency", kClockHz);
    w.u32p("timebase-frequency", static_cast<u32>(p.timebase_hz));
    w.u32p("d-cache-size", kL1CacheBytes);
    w.u32p("i-cache-size", kL1CacheBytes);
    w.u32p("d-cache-line-size", kCacheLineBytes);
    w.u32p("i-cache-line-size", kCacheLineBytes);
    w.u32p("d-cache-block-size", kCacheLineBytes);
    w.u32p("i-cache-block-size", kCacheLineBytes);
    w.u32p("ibm,vmx", 2);  // 2: VMX and VSX
    w.u32p("ibm,dfp", 1);
    w.u32p("ibm,chip-id", 0);
    w.bytes("ibm,pa-features", kPaFeaturesPower9, sizeof kPaFeaturesPower9);
    w.u32s("ibm,processor-radix-AP-encodings", kRadixApEncodings);
    w.end();
}

void emit_cpus(Writer& w, const GuestFdtParams& p) {
    w.begin("cpus");
    w.u32p("#address-cells", 1);
    w.u32p("#size-cells", 0);
    for (u32 n = 0; n < p.vcpus; ++n) emit_cpu(w, p, n);
    w.end();
}

void emit_chosen(Writer& w, const GuestFdtParams& p) {
    char stdout_path[48];
    format(stdout_path, sizeof stdout_path, "/vdevice/vty@%x", p.vty_reg);
    w.begin("chosen");
    w.str("bootargs", p.bootargs ? p.bootargs : "");
    // Linux takes the cell count from the length (of_read_number); 64 bits hold any address.
    if (p.initrd_end) {
        const u64 start[] = {p.initrd_start}, end[] = {p.initrd_end};
        w.u64s("linux,initrd-start", start);
        w.u64s("linux,initrd-end", end);
    }
    // Linux reads the legacy name; newer code the standard one.
    w.str("linux,stdout-path", stdout_path);
    w.str("stdout-path", stdout_path);
    w.bytes("ibm,architecture-vec-5", kOv5.b, sizeof kOv5.b);
    // How often RTAS system-reboot restarted this partition (0 at first boot).
    w.u32p("poolvisor,boot-count", p.boot_count);
    w.end();
}

// Linux reads linux,rtas-base, linux,rtas-entry and rtas-size as one cell each.
void emit_rtas(Writer& w, const GuestFdtParams& p) {
    w.begin("rtas");
    w.u32p("linux,rtas-base", static_cast<u32>(p.rtas_base));
    w.u32p("linux,rtas-entry", static_cast<u32>(p.rtas_entry));
    w.u32p("rtas-size", p.rtas_size);
    w.bytes("ibm,hypertas-functions", kHypertas, sizeof kHypertas);
    w.u32p("rtas-error-log-max", kRtasErrorLogMax);
    // Linux calls ibm,os-term on panic only when this is present.
    w.empty("ibm,extended-os-term");
    for (const RtasToken& t : p.rtas_tokens) w.u32p(t.name, t.token);
    w.end();
}

// The virtual I/O bus with the hypervisor console (hvc_vio binds "hvterm1").
void emit_vdevice(Writer& w, const GuestFdtParams& p) {
    char node[32];
    format(node, sizeof node, "vty@%x", p.vty_reg);
    w.begin("vdevice");
    w.str("device_type", "vdevice");
    w.str("compatible", "IBM,vdevice");
    w.u32p("#address-cells", 1);
    w.u32p("#size-cells", 0);
    w.begin(node);
    w.str("name", "vty");
    w.str("device_type", "serial");
    w.str("compatible", "hvterm1");
    w.u32p("reg", p.vty_reg);
    w.end();
    w.end();
}

// The XICS presentation layer reached through hcalls (hv/xics.h): Linux's
// icp-hv matches it by compatible or device_type. Interrupt servers are the
// vCPU numbers (cpu reg). No ICS node: there are no device sources yet.
void emit_interrupt_controller(Writer& w, const GuestFdtParams& p) {
    const u32 servers[] = {0, p.vcpus};
    w.begin("interrupt-controller");
    w.str("device_type", "PowerPC-External-Interrupt-Presentation");
    w.str("compatible", "IBM,ppc-xicp");
    w.empty("interrupt-controller");
    w.u32s("ibm,interrupt-server-ranges", servers);
    w.u32p("#interrupt-cells", 2);
    w.u32p("phandle", kXicpPhandle);
    w.end();
}

}  // namespace

Err build_guest_fdt(const GuestFdtParams& p, void* buf, u32 buf_size) {
    if (!buf || !is_aligned(reinterpret_cast<u64>(buf), 8) || !params_ok(p)) return Err::Invalid;
    Writer w(buf, buf_size);
    for (u32 i = 0; i < p.reserve_count; ++i) w.reserve(p.reserve_base[i], p.reserve_size[i]);
    w.end_reserves();
    w.begin("");
    emit_root_props(w, p);
    emit_memory(w, p);
    emit_cpus(w, p);
    emit_chosen(w, p);
    emit_rtas(w, p);
    emit_vdevice(w, p);
    emit_interrupt_controller(w, p);
    w.end();
    w.finish();
    return w.result();
}

}  // namespace pv
