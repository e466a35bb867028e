// Boot sequence: from skiboot's hand-over to partitions running on every
// hardware thread.

#include <libfdt.h>

#include "arch/ppc64/boot_cpu.h"
#include "arch/ppc64/opal.h"
#include "arch/ppc64/thread.h"
#include "hv/ams.h"
#include "arch/arch.h"
#include "hv/console.h"
#include "hv/firmware_heartbeat.h"
#include "hv/hv.h"

extern "C" {
extern pv::u64 pv_boot_args[3];          // FDT, OPAL base, OPAL entry
extern pv::u64 pv_secondary_handoff[2];  // stack, r13 for the next secondary
extern char __image_end[];
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
void pv_exit_common();
void pv_secondary_start();
}

namespace pv::arch {
void set_timebase_hz(u64 hz);
void init_wall_clock();
void nvme_selftest();  // arch/ppc64/nvme_selftest.cpp: silent without an NVMe device
}

namespace pv {
[[noreturn]] void enter_first(arch::ThreadBlock& tb);

namespace {

constexpr u64 kStackBytes = 64 << 10;
constexpr u64 kFaultStackBytes = 16 << 10;
constexpr u64 kImageBase = 0x20000000;
constexpr u64 kLowReserved = 0x10000;  // exception vectors

alignas(16) unsigned char g_stacks[kMaxThreads][kStackBytes];
alignas(16) unsigned char g_fault_stacks[kMaxThreads][kFaultStackBytes];
volatile u32 g_threads_online = 0;

arch::ThreadBlock& init_thread_block(u32 index, Pir pir) {
    arch::ThreadBlock& tb = arch::thread_block(index);
    tb.stack_top = reinterpret_cast<u64>(&g_stacks[index][kStackBytes]);
    tb.fault_stack = reinterpret_cast<u64>(&g_fault_stacks[index][kFaultStackBytes]);
    tb.toc = arch::toc_pointer();
    tb.exit_entry = reinterpret_cast<u64>(&pv_exit_common);
    tb.regs = nullptr;
    tb.cpu.pir = pir;
    tb.cpu.index = index;
    hv().threads[index] = &tb.cpu;
    return tb;
}

// What every thread sets before it may take a hypervisor interrupt.
void init_this_thread(arch::ThreadBlock& tb) { arch::init_thread(tb, hv().ptcr); }

void setup_memory(const MachineInfo& m, const void* fdt) {
    FrameAllocator& f = hv().frames;
    for (u32 i = 0; i < m.mem_count; ++i) f.add_usable(m.mem[i]);
    for (u32 i = 0; i < m.reserved_count; ++i) f.reserve(m.reserved[i]);
    f.reserve({0, kLowReserved});
    f.reserve({kImageBase, reinterpret_cast<u64>(__image_end) - kImageBase});
    f.reserve({reinterpret_cast<u64>(fdt), fdt_totalsize(fdt)});
    if (m.initrd_end > m.initrd_start) f.reserve({m.initrd_start, m.initrd_end - m.initrd_start});
}

void print_machine(const MachineInfo& m) {
    u64 total = 0;
    for (u32 i = 0; i < m.mem_count; ++i) total += m.mem[i].size;
    log("Poolvisor hypervisor for POWER9 (%s)", m.model[0] ? m.model : "unknown machine");
    log("machine: %u hardware threads, %lu MiB memory in %u range%s, %u reserved ranges, timebase %lu MHz, "
        "firmware heartbeat %u ms",
        m.thread_count, total >> 20, m.mem_count, m.mem_count == 1 ? "" : "s", m.reserved_count,
        m.timebase_hz / 1000000, m.heartbeat_ms);
    log("free for partitions: %lu MiB", hv().frames.free_bytes() >> 20);
}

bool start_secondary(u32 index, Pir pir) {
    arch::ThreadBlock& tb = init_thread_block(index, pir);
    u32 before = g_threads_online;
    pv_secondary_handoff[0] = tb.stack_top;
    pv_secondary_handoff[1] = reinterpret_cast<u64>(&tb);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);  // the hand-over before the thread starts
    i64 rc = pv_opal_call(opal::START_CPU, pir.value, reinterpret_cast<u64>(&pv_secondary_start));
    if (rc != opal::kSuccess) {
        log("thread PIR 0x%x: OPAL_START_CPU failed (%ld)", pir.value, rc);
        return false;
    }
    // Hand-over slots are reused: wait until this thread has taken its own.
    u64 deadline = arch::timebase() + arch::timebase_hz();  // 1 s
    while (g_threads_online == before)
        if (arch::timebase() > deadline) {
            log("thread PIR 0x%x did not come up", pir.value);
            return false;
        }
    return true;
}

void start_secondaries(const MachineInfo& m, Pir boot_pir) {
    u32 index = 1;
    for (u32 i = 0; i < m.thread_count; ++i) {
        if (m.threads[i] == boot_pir) continue;
        if (start_secondary(index, m.threads[i])) ++index;
    }
    hv().thread_count = index;
    log("%u of %u hardware threads online", index, m.thread_count);
}

}  // namespace

}  // namespace pv

extern "C" [[noreturn]] void pv_secondary_main() {
    using namespace pv;
    auto& tb = *reinterpret_cast<arch::ThreadBlock*>(pv_secondary_handoff[1]);
    init_this_thread(tb);
    __atomic_add_fetch(&g_threads_online, 1, __ATOMIC_RELEASE);
    enter_first(tb);
}

extern "C" [[noreturn]] void pv_boot_main() {
    using namespace pv;
    for (auto* f = __init_array_start; f != __init_array_end; ++f) (*f)();
    const void* fdt = reinterpret_cast<const void*>(pv_boot_args[0]);
    Pir boot_pir = arch::this_pir();
    arch::ThreadBlock& tb = init_thread_block(0, boot_pir);
    // HV interrupts must arrive little-endian before we can take any.
    i64 rc = pv_opal_call(opal::REINIT_CPUS, opal::kReinitHileLe | opal::kReinitMmuRadix);
    init_this_thread(tb);
    arch::install_vectors();

    MachineInfo& m = hv().machine;
    char err[128];
    if (!scan_machine_fdt(fdt, m, err, sizeof err)) {
        log("cannot use the machine's device tree: %s", err);
        arch::power_off();
    }
    arch::set_timebase_hz(m.timebase_hz);
    firmware_heartbeat_init(u64{m.heartbeat_ms} * (m.timebase_hz / 1000), arch::timebase());
    arch::init_wall_clock();
    setup_memory(m, fdt);
    print_machine(m);
    if (rc != opal::kSuccess) log("warning: OPAL_REINIT_CPUS returned %ld", rc);

    if (m.initrd_end <= m.initrd_start) {
        log("no partition bundle (pass one as the initrd); nothing to run");
        arch::power_off();
    }
    log("partition bundle at 0x%lx, %lu KiB", m.initrd_start, (m.initrd_end - m.initrd_start) >> 10);
    if (!start_partitions(reinterpret_cast<const u8*>(m.initrd_start), m.initrd_end - m.initrd_start))
        arch::power_off();
    // An NVMe disk that no shared pool pages to is the hypervisor's to test;
    // a paging device belongs to the paging service partition.
    if (!ams_enabled()) arch::nvme_selftest();
    init_this_thread(tb);  // PTCR is known now
    start_secondaries(m, boot_pir);
    launch_partitions();
    enter_first(tb);
}
