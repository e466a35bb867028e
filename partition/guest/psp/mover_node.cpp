#include "partition/guest/psp/mover_node.h"

#include <libfdt.h>

#include "partition/guest/rt/console.h"

namespace psp {

namespace {

// A NUL-terminated, non-empty string that fits cap bytes.
bool copy_string(const void* fdt, int node, const char* name, char* out, pv::u32 cap) {
    int len = 0;
    auto* p = static_cast<const char*>(fdt_getprop(fdt, node, name, &len));
    if (!p || len < 2 || static_cast<pv::u32>(len) > cap || p[len - 1] != 0) return false;
    for (int i = 0; i < len; ++i) out[i] = p[i];
    return true;
}

// Exactly n bytes.
bool copy_bytes(const void* fdt, int node, const char* name, pv::u8* out, int n) {
    int len = 0;
    auto* p = static_cast<const pv::u8*>(fdt_getprop(fdt, node, name, &len));
    if (!p || len != n) return false;
    for (int i = 0; i < n; ++i) out[i] = p[i];
    return true;
}

MoverNodeResult bad(const char* name, const char* want) {
    rt::log("%s: property %s missing or not %s: no mover, paging only", kMoverPath, name, want);
    return MoverNodeResult::Bad;
}

}  // namespace

MoverNodeResult read_mover_node(const void* fdt, MoverNode& n) {
    int node = fdt_path_offset(fdt, kMoverPath);
    if (node < 0) node = fdt_node_offset_by_compatible(fdt, -1, kMoverCompatible);
    if (node < 0) return MoverNodeResult::Missing;
    if (fdt_node_check_compatible(fdt, node, kMoverCompatible) != 0) return bad("compatible", kMoverCompatible);
    if (!copy_string(fdt, node, "system", n.system, sizeof n.system)) return bad("system", "a name");
    if (!copy_string(fdt, node, "peer-system", n.peer, sizeof n.peer)) return bad("peer-system", "a name");
    if (!copy_bytes(fdt, node, "peer-mac", n.peer_mac.b, 6)) return bad("peer-mac", "6 bytes");
    if (!copy_bytes(fdt, node, "psk", n.psk.bytes, pv::mig::kPskBytes)) return bad("psk", "32 bytes");
    n.port = kDefaultMoverPort;
    int len = 0;
    if (auto* p = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "udp-port", &len))) {
        pv::u32 port = len == 4 ? fdt32_to_cpu(p[0]) : 0;
        if (port == 0 || port > 0xffff) return bad("udp-port", "a u32 port 1..65535");
        n.port = static_cast<pv::u16>(port);
    }
    return MoverNodeResult::Ok;
}

}  // namespace psp
