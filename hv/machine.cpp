#include "hv/machine.h"

#include <libfdt.h>

#include "base/endian.h"
#include "base/format.h"

namespace pv {
namespace {

// Property values are 4-byte aligned in the tree, and big-endian.
u64 read_cells(const Be32* p, int cells) {
    u64 v = 0;
    for (int i = 0; i < cells; ++i) v = (v << 32) | p[i].get();
    return v;
}

u64 read_number_prop(const void* fdt, int node, const char* name) {
    int len = 0;
    auto* p = static_cast<const Be32*>(fdt_getprop(fdt, node, name, &len));
    if (!p || len < 4) return 0;
    return read_cells(p, len >= 8 ? 2 : 1);
}

bool prop_is(const void* fdt, int node, const char* name, const char* want) {
    int len = 0;
    auto* p = static_cast<const char*>(fdt_getprop(fdt, node, name, &len));
    if (!p) return false;
    for (int i = 0;; ++i) {
        if (i >= len) return false;
        if (p[i] != want[i]) return false;
        if (!want[i]) return true;
    }
}

void scan_memory(const void* fdt, MachineInfo& out) {
    int ac = fdt_address_cells(fdt, 0), sc = fdt_size_cells(fdt, 0);
    for (int node = fdt_first_subnode(fdt, 0); node >= 0; node = fdt_next_subnode(fdt, node)) {
        if (!prop_is(fdt, node, "device_type", "memory")) continue;
        int len = 0;
        auto* reg = static_cast<const Be32*>(fdt_getprop(fdt, node, "reg", &len));
        int step = (ac + sc) * 4;
        for (int off = 0; reg && off + step <= len && out.mem_count < MachineInfo::kMaxMem; off += step) {
            const Be32* cell = reg + off / 4;
            out.mem[out.mem_count++] = {read_cells(cell, ac), read_cells(cell + ac, sc)};
        }
    }
}

void add_reserved(MachineInfo& out, u64 base, u64 size) {
    if (size && out.reserved_count < MachineInfo::kMaxReserved) out.reserved[out.reserved_count++] = {base, size};
}

void scan_reserved(const void* fdt, MachineInfo& out) {
    for (int i = 0, n = fdt_num_mem_rsv(fdt); i < n; ++i) {
        uint64_t base = 0, size = 0;
        if (fdt_get_mem_rsv(fdt, i, &base, &size) == 0) add_reserved(out, base, size);
    }
    int rm = fdt_path_offset(fdt, "/reserved-memory");
    if (rm < 0) return;
    int ac = fdt_address_cells(fdt, rm), sc = fdt_size_cells(fdt, rm);
    for (int node = fdt_first_subnode(fdt, rm); node >= 0; node = fdt_next_subnode(fdt, node)) {
        int len = 0;
        auto* reg = static_cast<const Be32*>(fdt_getprop(fdt, node, "reg", &len));
        if (reg && len >= (ac + sc) * 4) add_reserved(out, read_cells(reg, ac), read_cells(reg + ac, sc));
    }
}

// One entry per hardware thread: the cpu node's interrupt-server list.
void scan_threads(const void* fdt, MachineInfo& out) {
    int cpus = fdt_path_offset(fdt, "/cpus");
    if (cpus < 0) return;
    for (int node = fdt_first_subnode(fdt, cpus); node >= 0; node = fdt_next_subnode(fdt, node)) {
        if (!prop_is(fdt, node, "device_type", "cpu")) continue;
        if (!out.timebase_hz) out.timebase_hz = read_number_prop(fdt, node, "timebase-frequency");
        int len = 0;
        auto* servers = static_cast<const Be32*>(fdt_getprop(fdt, node, "ibm,ppc-interrupt-server#s", &len));
        for (int i = 0; servers && i < len / 4 && out.thread_count < kMaxThreads; ++i)
            out.threads[out.thread_count++] = Pir{servers[i].get()};
    }
}

}  // namespace

bool scan_machine_fdt(const void* fdt, MachineInfo& out, char* err, u32 errlen) {
    out = MachineInfo{};
    if (int rc = fdt_check_header(fdt); rc != 0) {
        format(err, errlen, "bad device tree header: %s", fdt_strerror(rc));
        return false;
    }
    int len = 0;
    if (auto* model = static_cast<const char*>(fdt_getprop(fdt, 0, "model", &len)))
        format(out.model, sizeof out.model, "%s", model);
    scan_memory(fdt, out);
    scan_reserved(fdt, out);
    scan_threads(fdt, out);
    int chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen >= 0) {
        out.initrd_start = read_number_prop(fdt, chosen, "linux,initrd-start");
        out.initrd_end = read_number_prop(fdt, chosen, "linux,initrd-end");
    }
    if (out.mem_count == 0) return format(err, errlen, "no memory node"), false;
    if (out.thread_count == 0) return format(err, errlen, "no cpu with ibm,ppc-interrupt-server#s"), false;
    if (!out.timebase_hz) out.timebase_hz = 512000000;
    int opal = fdt_path_offset(fdt, "/ibm,opal");
    if (opal >= 0) out.heartbeat_ms = static_cast<u32>(read_number_prop(fdt, opal, "ibm,heartbeat-ms"));
    if (!out.heartbeat_ms) out.heartbeat_ms = kDefaultHeartbeatMs;
    return true;
}

}  // namespace pv
