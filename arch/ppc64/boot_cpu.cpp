// POWER9 thread bring-up (arch/ppc64/boot_cpu.h).
#include "arch/ppc64/boot_cpu.h"

#include <cstring>

#include "arch/ppc64/spr.h"

extern "C" char pv_vectors[], pv_vectors_end[];

namespace pv::arch {
namespace {

constexpr u64 kCacheLine = 128;

void sync_icache(const void* p, u64 n) {
    auto a = reinterpret_cast<u64>(p) & ~(kCacheLine - 1);
    u64 end = reinterpret_cast<u64>(p) + n;
    for (u64 x = a; x < end; x += kCacheLine) asm volatile("dcbst 0, %0" : : "r"(x));
    asm volatile("sync");
    for (u64 x = a; x < end; x += kCacheLine) asm volatile("icbi 0, %0" : : "r"(x));
    asm volatile("sync; isync");
}

}  // namespace

Pir this_pir() { return Pir{static_cast<u32>(spr::read<spr::PIR>())}; }

u64 toc_pointer() {
    u64 r2;
    asm("mr %0, 2" : "=r"(r2));
    return r2;
}

void init_thread(ThreadBlock& tb, u64 ptcr) {
    spr::write<spr::HSPRG0>(reinterpret_cast<u64>(&tb));
    spr::write<spr::LPCR>(lpcr::kHypervisor);
    spr::write<spr::LPIDR>(0);
    spr::write<spr::MMCR0>(0);  // PMC5 counts instructions
    spr::write<spr::AMOR>(~u64{0});  // partitions own every AMR/IAMR/UAMOR key (switched per vCPU)
    if (ptcr) spr::write<spr::PTCR>(ptcr);
    asm volatile("isync");
    spr::set_recoverable(true);
}

void install_vectors() {
    u64 n = static_cast<u64>(pv_vectors_end - pv_vectors);
    void* low = nullptr;
    asm("" : "+r"(low));  // real address 0 is memory here, not a null pointer
    std::memcpy(low, pv_vectors, n);
    sync_icache(low, n);
}

}  // namespace pv::arch
