// The PSP's /poolvisor-mover node (docs/mover.md "The /poolvisor-mover
// node"), read with libfdt: portable, so the host test (mover_test.cpp)
// reads trees it builds itself.
#pragma once
#include "vio/e1000e.h"
#include "vio/mig_auth.h"

namespace psp {

inline constexpr const char* kMoverPath = "/poolvisor-mover";
inline constexpr const char* kMoverCompatible = "poolvisor,mover-v1";
inline constexpr pv::u16 kDefaultMoverPort = 7391;

struct MoverNode {
    char system[32] = {}, peer[32] = {};
    pv::e1000e::MacAddress peer_mac{};
    pv::mig::Psk psk{};
    pv::u16 port = kDefaultMoverPort;
};

enum class MoverNodeResult { Ok, Missing, Bad };
// Missing: no such node (a plain PSP, nothing logged). Bad: one line names
// the property ("... no mover, paging only").
MoverNodeResult read_mover_node(const void* fdt, MoverNode& n);

}  // namespace psp
