// RTAS for partitions: a 20-byte stub in partition memory turns an RTAS call
// into H_RTAS; this table implements the calls. Tokens are written into the
// partition's device tree from the same table.
#pragma once
#include <span>

#include "hv/guest_fdt.h"
#include "hv/hcall.h"

namespace pv {

// The stub (big-endian instructions; RTAS is entered big-endian):
//   mr r4,r3; li r3,0; ori r3,r3,0xf000; sc 1; blr
inline constexpr u32 kRtasStub[] = {0x7c641b78, 0x38600000, 0x6063f000, 0x44000022, 0x4e800020};

std::span<const RtasToken> rtas_tokens();

// H_RTAS: args_addr is the logical address of a big-endian rtas_args.
Next rtas_call(Vcpu& v, u64 args_addr);

}  // namespace pv
