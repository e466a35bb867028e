// Host stand-in for arch/ppc64: lets GoogleTest link the real hv/ and mm/.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "arch/arch.h"

namespace pv::arch {

std::string g_fake_console;  // tests inspect what the core printed

void console_write(const char* s, std::size_t n) { g_fake_console.append(s, n); }

// What the "machine console" has been typed: tests append, console_read takes.
std::string g_fake_console_input;
u64 g_fake_console_reads = 0;
std::size_t console_read(char* buf, std::size_t max) {
    ++g_fake_console_reads;
    std::size_t n = g_fake_console_input.size() < max ? g_fake_console_input.size() : max;
    g_fake_console_input.copy(buf, n);
    g_fake_console_input.erase(0, n);
    return n;
}

u64 timebase() {
    using namespace std::chrono;
    return static_cast<u64>(duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count() / 2);
}
u64 timebase_hz() { return 512'000'000; }

void tlb_flush_partition(Lpid) {}
bool wall_clock(WallClock& out) {
    out = WallClock{2026, 11, 24, 12, 0, 0, 0};
    return true;
}
// Tests set the wall clock a migration target sees (0: none).
u64 g_fake_wall_clock_ns = 0;
u64 wall_clock_ns() { return g_fake_wall_clock_ns; }
bool random64(u64& out) {
    out = static_cast<u64>(std::rand());
    return true;
}
// Tests read which thread was kicked last and how often (hv/xics.cpp delivery).
u64 g_fake_kicks = 0;
Pir g_fake_last_kick{};
void kick_thread(Pir pir) {
    ++g_fake_kicks;
    g_fake_last_kick = pir;
}
void dma_unmap_deferred(u64) {}
void dma_revoke_all() {}
TceKillCounts tce_kill_counts() { return {}; }
u64 instructions() { return 0; }
u64 instructions_at_exit() { return 0; }
u64 entry_tail_instructions() { return 0; }
void vcpu_leaves_thread(Vcpu&) {}  // the fake keeps no vCPU state in registers
void idle_wait(u64) {}
u64 g_fake_firmware_polls = 0;
void firmware_poll() { ++g_fake_firmware_polls; }

// No paging device unless a test sets one (name, blocks, block_bytes).
PagingDevice g_fake_paging_device;
bool g_fake_paging_device_present = false;

bool paging_device_attach(u64 dma_pages, PagingDevice& out, char* err, u32 errlen) {
    if (!g_fake_paging_device_present) {
        std::snprintf(err, errlen, "no paging device on the host");
        return false;
    }
    out = g_fake_paging_device;
    out.dma_pages = dma_pages;
    return true;
}
bool dma_map(u64, HostReal, bool, bool, u64) { return true; }
void dma_unmap(u64, u64) {}

// No network device unless a test sets one.
struct FakeNetDma {
    u64 index;
    HostReal phys;
    u64 npages;
};
NetDevice g_fake_net_device;
bool g_fake_net_device_present = false;

bool net_device_attach(u64 dma_pages, NetDevice& out, char* err, u32 errlen) {
    if (!g_fake_net_device_present) {
        std::snprintf(err, errlen, "no network device on the host");
        return false;
    }
    out = g_fake_net_device;
    out.dma_pages = dma_pages;
    return true;
}
FakeNetDma g_fake_net_dma;  // the last net_dma_map
bool net_dma_map(u64 index, HostReal phys, u64 npages) {
    g_fake_net_dma = FakeNetDma{index, phys, npages};
    return true;
}
bool net_device_thaw() { return false; }
bool net_device_reset() { return true; }

// What the machine said, for death tests that expect it to power off.
[[noreturn]] void power_off() {
    std::fputs(g_fake_console.c_str(), stderr);
    std::exit(0);
}
[[noreturn]] void halt_this_thread() { std::abort(); }

}  // namespace pv::arch
