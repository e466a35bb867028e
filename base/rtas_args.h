// The argument block of an RTAS call, as a PAPR partition passes it (Linux
// arch/powerpc/include/asm/rtas-types.h struct rtas_args, without the
// kernel's own rets pointer after it, which RTAS never reads): token, the
// number of inputs and of outputs, then the inputs followed by the outputs
// in args[]; outputs[0] is the call's status. Big-endian, whatever the
// partition's endianness. Shared by the hypervisor's RTAS (hv/rtas.cpp) and
// the test partitions' (partition/guest/rt/rtas.cpp).
#pragma once
#include <cstddef>

#include "base/endian.h"

namespace pv {

struct RtasArgs {
    static constexpr u32 kMaxCells = 16;
    Be32 token, nargs, nret;
    Be32 args[kMaxCells];
};
static_assert(sizeof(RtasArgs) == 76 && alignof(RtasArgs) == 4);
static_assert(offsetof(RtasArgs, token) == 0 && offsetof(RtasArgs, nargs) == 4 && offsetof(RtasArgs, nret) == 8 &&
              offsetof(RtasArgs, args) == 12);

}  // namespace pv
