// pseries-shim: run a test partition image under QEMU's pseries machine,
// whose PAPR hcalls and RTAS match what our hypervisor offers, to tell guest
// bugs from hypervisor bugs. QEMU without firmware gives a device tree that
// lacks what firmware would add; we copy it near the top of memory and add:
// /rtas linux,rtas-base/-entry (a 5-word "sc 1" H_RTAS stub, as our
// hypervisor's), /chosen/bootargs, and reserve-map entries; then restore the
// image's words at 0x100 (run.sh replaced them with a branch to us) and enter
// the image at 0 as the entry contract says.
#include <libfdt.h>

#include "partition/guest/rt/types.h"

using namespace rt;

namespace {

// run.sh loads this at kParams: the original words at 0x100, then bootargs.
struct Params {
    u32 orig_100[2];
    u32 pad[2];
    char bootargs[240];
};
constexpr u64 kParams = 0x1100000;
constexpr u64 kFdtFromTop = 0x1c0000;  // inside the last 2 MiB, as the contract says
constexpr u64 kStubFromTop = 0x1e0000;
constexpr u32 kFdtSpace = 0x10000;
constexpr u32 kRtasStub[] = {0x7c641b78, 0x38600000, 0x6063f000, 0x44000022, 0x4e800020};

// A pointer to a fixed address the compiler cannot see through (GCC takes
// small constant addresses for null-pointer arithmetic and warns).
template <typename T>
T* at(u64 addr) {
    asm("" : "+r"(addr));
    return reinterpret_cast<T*>(addr);
}

u64 mem_size(const void* fdt) {
    int node = fdt_path_offset(fdt, "/memory@0");
    int len = 0;
    auto* reg = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "reg", &len));
    if (!reg || len < 16) return 0;
    return (u64{fdt32_to_cpu(reg[2])} << 32) | fdt32_to_cpu(reg[3]);
}

}  // namespace

extern "C" [[noreturn]] void shim_enter(void* fdt, u64 entry);
extern "C" [[noreturn]] void pv_stack_check_failed() {
    for (;;) {
    }
}

extern "C" [[noreturn]] void shim_main(const void* fdt) {
    auto* params = at<const Params>(kParams);
    u64 mem = mem_size(fdt);
    auto* nf = reinterpret_cast<void*>(mem - kFdtFromTop);
    u64 stub = mem - kStubFromTop;
    fdt_open_into(fdt, nf, kFdtSpace);
    int rtas = fdt_path_offset(nf, "/rtas");
    fdt_setprop_u32(nf, rtas, "linux,rtas-base", static_cast<u32>(stub));
    fdt_setprop_u32(nf, rtas, "linux,rtas-entry", static_cast<u32>(stub));
    fdt_setprop_string(nf, fdt_path_offset(nf, "/chosen"), "bootargs", params->bootargs);
    fdt_add_mem_rsv(nf, stub, 0x1000);
    fdt_add_mem_rsv(nf, reinterpret_cast<u64>(nf), kFdtSpace);
    fdt_pack(nf);
    auto* words = reinterpret_cast<volatile u32*>(stub);
    for (u32 i = 0; i < sizeof kRtasStub / sizeof kRtasStub[0]; ++i) words[i] = __builtin_bswap32(kRtasStub[i]);
    auto* v100 = at<volatile u32>(0x100);
    v100[0] = params->orig_100[0];
    v100[1] = params->orig_100[1];
    asm volatile("sync; icbi 0,%0; sync; isync" ::"r"(0x100UL) : "memory");
    shim_enter(nf, 0);
}
