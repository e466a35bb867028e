#include "partition/guest/rt/platform.h"

#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "partition/guest/rt/console.h"
#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/hcall.h"
#include "partition/guest/rt/rtas.h"

extern "C" char __image_end[];

namespace rt {
namespace {

constinit Platform g_platform;

constexpr u64 kReservedTop = 2 * MiB;         // the last 2 MiB hold the FDT and RTAS
constexpr u64 kDefaultTimebase = 512000000;   // POWER9
constexpr u32 kDefaultVtermno = papr::kVtermno;
constexpr u64 kMinMemory = 4 * MiB;           // image and .bss, 1 MiB to test, the top 2 MiB

// Property values are 4-byte aligned in the tree, and big-endian.
u64 read_cells(const Be32* p, int cells) {
    u64 v = 0;
    for (int i = 0; i < cells; ++i) v = (v << 32) | p[i].get();
    return v;
}

// A 4- or 8-byte integer property; `def` otherwise.
u64 prop_uint(const void* fdt, int node, const char* name, u64 def) {
    int len = 0;
    const void* p = fdt_getprop(fdt, node, name, &len);
    if (p && len == 4) return pv::load_be<u32>(static_cast<const u8*>(p));
    if (p && len == 8) return pv::load_be<u64>(static_cast<const u8*>(p));  // only 4-byte aligned
    return def;
}

bool prop_is(const void* fdt, int node, const char* name, const char* want) {
    int len = 0;
    const char* p = static_cast<const char*>(fdt_getprop(fdt, node, name, &len));
    size_t n = strlen(want) + 1;
    return p && static_cast<size_t>(len) >= n && memcmp(p, want, n) == 0;
}

u32 find_vtermno(const void* fdt) {
    int node = fdt_path_offset(fdt, "/vdevice/vty@30000000");
    if (node < 0) node = fdt_node_offset_by_compatible(fdt, -1, "hvterm1");
    return node < 0 ? kDefaultVtermno : static_cast<u32>(prop_uint(fdt, node, "reg", kDefaultVtermno));
}

// Size of the memory range that starts at logical 0.
u64 find_mem_size(const void* fdt) {
    int node = fdt_path_offset(fdt, "/memory@0");
    if (node < 0) node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", sizeof "memory");
    if (node < 0) return 0;
    int ac = fdt_address_cells(fdt, 0), sc = fdt_size_cells(fdt, 0), len = 0;
    auto* reg = static_cast<const Be32*>(fdt_getprop(fdt, node, "reg", &len));
    if (!reg || ac < 1 || ac > 2 || sc < 1 || sc > 2) return 0;
    for (int i = 0; (i + 1) * (ac + sc) * 4 <= len; ++i) {
        const Be32* e = reg + i * (ac + sc);
        if (read_cells(e, ac) == 0) return read_cells(e + ac, sc);
    }
    return 0;
}

void find_cpus(const void* fdt, Platform& p) {
    int cpus = fdt_path_offset(fdt, "/cpus");
    if (cpus < 0) return;
    u32 boot = fdt_boot_cpuid_phys(fdt);
    int boot_slot = -1, zero_slot = -1;
    int node;
    fdt_for_each_subnode(node, fdt, cpus) {
        if (!prop_is(fdt, node, "device_type", "cpu")) continue;
        u32 hwid = static_cast<u32>(prop_uint(fdt, node, "reg", ~u64{0}));
        if (p.cpus_in_tree++ == 0) p.timebase_hz = prop_uint(fdt, node, "timebase-frequency", 0);
        if (p.cpus == RT_MAX_CPUS) continue;
        if (hwid == boot) boot_slot = static_cast<int>(p.cpus);
        if (hwid == 0) zero_slot = static_cast<int>(p.cpus);
        p.cpu_hwid[p.cpus++] = hwid;
    }
    // We run on the boot vCPU (boot_cpuid_phys; reg 0 if that names no node): index 0.
    int slot = boot_slot >= 0 ? boot_slot : zero_slot >= 0 ? zero_slot : 0;
    u32 t = p.cpu_hwid[0];
    p.cpu_hwid[0] = p.cpu_hwid[slot];
    p.cpu_hwid[slot] = t;
}

void read_bootargs(const void* fdt, Platform& p) {
    int node = fdt_path_offset(fdt, "/chosen");
    int len = 0;
    const char* s = node < 0 ? nullptr : static_cast<const char*>(fdt_getprop(fdt, node, "bootargs", &len));
    size_t n = s && len > 0 ? strnlen(s, static_cast<size_t>(len)) : 0;
    if (n >= sizeof p.bootargs) n = sizeof p.bootargs - 1;
    memcpy(p.bootargs, s ? s : "", n);
    p.bootargs[n] = '\0';
    const void* count = node < 0 ? nullptr : fdt_getprop(fdt, node, "poolvisor,boot-count", &len);
    p.boot_count = count && len == 4 ? fdt32_to_cpu(*static_cast<const fdt32_t*>(count)) : 0;
}

bool read_rtas(const void* fdt, Platform& p) {
    int node = fdt_path_offset(fdt, "/rtas");
    if (node < 0) return false;
    p.rtas_entry = prop_uint(fdt, node, "linux,rtas-entry", 0);
    p.rtas_base = prop_uint(fdt, node, "linux,rtas-base", p.rtas_entry);
    p.rtas_size = prop_uint(fdt, node, "rtas-size", 0);
    if (!p.rtas_entry) return false;  // 0 is our own image
    rtas_init(fdt, node, p.rtas_base, p.rtas_entry);
    return true;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

}  // namespace

const Platform& platform() { return g_platform; }

bool init(const void* fdt, const char* name) {
    Platform& p = g_platform;
    console_init(kDefaultVtermno, name);
    // First: guest interrupts little-endian, as Linux asks for them.
    i64 le = rt_hcall(papr::H_SET_MODE, 1, papr::H_SET_MODE_RESOURCE_LE, 0, 0);
    p.le_interrupts = le == papr::H_SUCCESS;
    if (fdt_check_header(fdt) != 0) {
        log("no valid device tree at %p", fdt);
        return false;
    }
    p.fdt = fdt;
    p.fdt_size = fdt_totalsize(fdt);
    p.vtermno = find_vtermno(fdt);
    console_init(p.vtermno, name);
    if (!p.le_interrupts) log("H_SET_MODE(LE) returned %ld: interrupts stay big-endian", le);
    p.mem_size = find_mem_size(fdt);
    read_bootargs(fdt, p);
    find_cpus(fdt, p);
    if (!p.timebase_hz) p.timebase_hz = kDefaultTimebase;
    CpuLocal& me = this_cpu();
    me.index = 0;
    me.hwid = p.cpu_hwid[0];
    if (!read_rtas(fdt, p)) {
        log("no /rtas linux,rtas-entry in the device tree");
        return false;
    }
    rtas_use_hcall(bootarg_is("rtas", "hcall"));
    if (p.mem_size < kMinMemory || p.cpus == 0) {
        log("device tree: %lu MiB memory, %u cpus: cannot run", p.mem_size >> 20, p.cpus);
        return false;
    }
    return true;
}

bool bootarg_word(u32 i, const char** word, size_t* len) {
    const char* s = g_platform.bootargs;
    for (;;) {
        while (is_space(*s)) ++s;
        if (!*s) return false;
        const char* w = s;
        while (*s && !is_space(*s)) ++s;
        if (i-- == 0) {
            *word = w;
            *len = static_cast<size_t>(s - w);
            return true;
        }
    }
}

bool bootarg(const char* key, const char** value, size_t* len) {
    size_t klen = strlen(key);
    const char* w;
    size_t n;
    for (u32 i = 0; bootarg_word(i, &w, &n); ++i) {
        if (n > klen && w[klen] == '=' && memcmp(w, key, klen) == 0) {
            *value = w + klen + 1;
            *len = n - klen - 1;
            return true;
        }
    }
    return false;
}

u64 bootarg_u64(const char* key, u64 def) {
    const char* v;
    size_t n;
    if (!bootarg(key, &v, &n) || n == 0) return def;
    bool hex = n > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
    char* end = nullptr;
    u64 x = strtoul(v, &end, hex ? 16 : 10);
    return end == v + n ? x : def;
}

bool bootarg_is(const char* key, const char* value) {
    const char* v;
    size_t n;
    return bootarg(key, &v, &n) && n == strlen(value) && memcmp(v, value, n) == 0;
}

Range free_memory() {
    const Platform& p = g_platform;
    Range r{align_up(reinterpret_cast<uintptr_t>(__image_end), MiB), align_down(p.mem_size - kReservedTop, MiB)};
    auto avoid = [&r](u64 base, u64 size) {
        if (size == 0 || base >= r.end || base + size <= r.base) return;
        if (base <= r.base)
            r.base = align_up(base + size, MiB);
        else
            r.end = align_down(base, MiB);
    };
    // Twice: moving one end may bring an earlier range into play.
    for (int pass = 0; pass < 2; ++pass) {
        for (int i = 0, n = fdt_num_mem_rsv(p.fdt); i < n; ++i) {
            uint64_t base, size;
            if (fdt_get_mem_rsv(p.fdt, i, &base, &size) == 0) avoid(base, size);
        }
        avoid(reinterpret_cast<uintptr_t>(p.fdt), p.fdt_size);
        avoid(p.rtas_base, p.rtas_size);
    }
    if (r.end < r.base) r.end = r.base;
    return r;
}

}  // namespace rt
