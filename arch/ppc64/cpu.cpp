// POWER9 implementation of arch/arch.h, and the C++ side of partition exit and
// entry: the partition-visible SPRs are switched here.
#include <cstddef>

#include "arch/ppc64/asm.h"
#include "arch/ppc64/exit_decode.h"
#include "arch/ppc64/host_events.h"
#include "arch/ppc64/opal.h"
#include "arch/ppc64/spr.h"
#include "arch/ppc64/thread.h"
#include "arch/ppc64/vcpu_switch.h"
#include "arch/ppc64/vectors.h"
#include "arch/arch.h"
#include "base/lock_witness.h"
#include "hv/console.h"
#include "hv/host_event.h"
#include "hv/hv.h"
#include "hv/instruction_account.h"
#include "hv/probe.h"

static_assert(MSR_EE == pv::msr::EE && MSR_RI == pv::msr::RI && MSR_LE == pv::msr::LE, "arch/ppc64/asm.h");

extern "C" pv::arch::ThreadSlot pv_thread_slots[pv::kMaxThreads];
extern "C" void pv_enter_guest(pv::VcpuRegs* regs) __attribute__((noreturn));
extern "C" const char pv_enter_guest_end[];
pv::arch::ThreadSlot pv_thread_slots[pv::kMaxThreads];

namespace pv::arch {

namespace {
u64 g_timebase_hz = 512000000;
SpinLock g_opal_console_lock{LockRank::OpalConsole};

inline u64 mftb() {
    u64 v;
    asm volatile("mftb %0" : "=r"(v));
    return v;
}

// msgsnd/msgclr rB: message type (bits 32:36) 5 = hypervisor doorbell, target PIR below.
constexpr u64 kMsgHypervisorDoorbell = u64{5} << (63 - 36);

// PSSCR for idle_wait: EC = ESL = 0 (no state loss: continue after stop),
// PSLL and MTL (bits 44:47, 56:59) at the deepest level, RL (60:63) 0.
constexpr u64 psscr_psll(u64 v) { return (v & 0xf) << (63 - 47); }
constexpr u64 psscr_mtl(u64 v) { return (v & 0xf) << (63 - 59); }
constexpr u64 kPsscrStopNoLoss = psscr_psll(15) | psscr_mtl(15);
static_assert(kPsscrStopNoLoss == 0xf00f0);
}  // namespace

void set_timebase_hz(u64 hz) { g_timebase_hz = hz; }

// Adds delta (modulo 2^64, a multiple of 2^24) to this thread's timebase.
// TBU40 replaces the upper 40 bits and leaves the lower 24 counting: when
// those wrapped between the mftb and the mtspr, their carry into the upper
// bits was lost, and is added back. POWER9 in LPAR-per-thread mode keeps one
// TB per thread (docs/migration.md, "Timebase").
namespace {
void timebase_move(u64 delta) {
    constexpr u64 kLow = (u64{1} << 24) - 1;
    u64 target = mftb() + delta;
    spr::write<spr::TBU40>(target);
    if ((mftb() & kLow) < (target & kLow)) spr::write<spr::TBU40>(target + kLow + 1);
}
}  // namespace

ThreadBlock& thread_block(u32 index) { return pv_thread_slots[index].block; }
ThreadBlock& this_thread() { return *reinterpret_cast<ThreadBlock*>(spr::read<spr::HSPRG0>()); }

void console_write(const char* s, std::size_t n) {
    Guard g(g_opal_console_lock);
    opal::console_write(s, n);
}

// Not under the write lock: skiboot serialises its console itself, and a
// read never splits a line of ours.
std::size_t console_read(char* buf, std::size_t max) { return opal::console_read(buf, max); }

void firmware_poll() { pv_opal_call(opal::POLL_EVENTS, 0); }

u64 timebase() { return mftb(); }
u64 timebase_hz() { return g_timebase_hz; }

// Every translation of the partition, partition- and process-scoped: IS=2
// (match LPID), RIC=2 (TLB, page-walk cache and table caches).
void tlb_flush_partition(Lpid lpid) {
    u64 rb = 2 << 10, rs = lpid.value;
    asm volatile("ptesync\n"
                 "tlbie %0, %1, 2, 0, 1\n"
                 "tlbie %0, %1, 2, 1, 1\n"
                 "eieio; tlbsync; ptesync" : : "r"(rb), "r"(rs) : "memory");
}

// A vector's 7 instructions, pv_vector_common's 6 and pv_exit_common's 6 run
// before the exit path reads PMC5 (arch/ppc64/exceptions.S).
constexpr u64 kExitHeadInstructions = 19;

// The bias keeps the count continuous where a vCPU's own PMC5 was loaded.
u64 instructions() { return spr::read<spr::PMC5>() + this_thread().pmc5_bias; }
u64 instructions_at_exit() {
    const ThreadBlock& tb = this_thread();
    return tb.pmc_exit + tb.pmc5_bias - kExitHeadInstructions;
}
u64 entry_tail_instructions() {
    // pv_exit_c's return, then pv_enter_guest up to and including hrfid.
    return 2 + (reinterpret_cast<u64>(pv_enter_guest_end) - reinterpret_cast<u64>(pv_enter_guest)) / 4;
}

// Hypervisor doorbell: vector 0xE80 on the target, or a wake-up from stop.
void kick_thread(Pir pir) {
    u64 rb = kMsgHypervisorDoorbell | pir.value;
    asm volatile("sync; msgsnd %0" : : "r"(rb) : "memory");
}

void idle_wait(u64 deadline_tb) {
    u64 now = mftb();
    if (deadline_tb <= now) return;
    u64 ticks = deadline_tb - now;
    // The decrementer (LPCR[PECE1]) or a doorbell (PECEDH) ends the stop.
    // HDEC out of the way first: the last partition's LPCR (HDICE) may still
    // be loaded and its slice's HDEC runs on. Once it expires, the pending
    // HDEC exception ends every stop (PSSCR[EC] = 0) at once, and the thread
    // spins through stop until its next entry (make bench: 500 000 stops,
    // 99 % of them under 10 us, and busy threads' SMT siblings slowed; now
    // about 14 000). The next entry sets HDEC for its slice.
    spr::write<spr::HDEC>(0x7fffffff);
    spr::write<spr::DEC>(ticks > 0x7fffffff ? 0x7fffffff : ticks);
    spr::write<spr::PSSCR>(kPsscrStopNoLoss);
    asm volatile("sync; stop" : : : "memory");
    asm volatile("msgclr %0" : : "r"(kMsgHypervisorDoorbell) : "memory");
}

bool random64(u64& out) {
    for (int i = 0; i < 16; ++i) {
        u64 v;
        asm volatile("darn %0, 1" : "=r"(v));
        if (v != ~u64{0}) {
            out = v;
            return true;
        }
    }
    return false;
}

namespace {
u32 from_bcd(u64 v) { return static_cast<u32>((v >> 4) * 10 + (v & 0xf)); }

// Days since 1970-01-01 of a civil date, and back (proleptic Gregorian).
i64 days_from_civil(i64 y, u32 m, u32 d) {
    y -= m <= 2;
    i64 era = (y >= 0 ? y : y - 399) / 400;
    u64 yoe = static_cast<u64>(y - era * 400);
    u64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    u64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<i64>(doe) - 719468;
}

void civil_from_days(i64 z, u32& y, u32& m, u32& d) {
    z += 719468;
    i64 era = (z >= 0 ? z : z - 146096) / 146097;
    u64 doe = static_cast<u64>(z - era * 146097);
    u64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    u64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    u64 mp = (5 * doy + 2) / 153;
    d = static_cast<u32>(doy - (153 * mp + 2) / 5 + 1);
    m = static_cast<u32>(mp < 10 ? mp + 3 : mp - 9);
    y = static_cast<u32>(static_cast<i64>(yoe) + era * 400 + (m <= 2));
}

// The RTC is read once at boot (OPAL's RTC read is slow and not meant for
// concurrent callers); later times are that plus elapsed timebase.
i64 g_boot_epoch = -1;
u64 g_boot_tb = 0;
}  // namespace

namespace {
i64 rtc_read(Be32& ymd, Be64& hmsm) {
    i64 rc = 0;
    for (int tries = 0; tries < 100000; ++tries) {
        rc = pv_opal_call(3 /* OPAL_RTC_READ */, reinterpret_cast<u64>(&ymd), reinterpret_cast<u64>(&hmsm));
        if (rc != opal::kBusy && rc != opal::kBusyEvent) break;
        pv_opal_call(opal::POLL_EVENTS, 0);
    }
    return rc;
}
}  // namespace

// The RTC counts whole seconds: the timebase is taken when its second
// changes, so that two systems' wall clocks (and a partition that moves
// between them, docs/migration.md) agree to well under a second. At most
// about a second at boot, bounded by the timebase in case the RTC is stuck.
void init_wall_clock() {
    Be32 ymd;
    Be64 hmsm;
    if (rtc_read(ymd, hmsm) != opal::kSuccess) return;
    u64 first = hmsm.get() >> 40, deadline = mftb() + 2 * g_timebase_hz;
    Be32 ymd2;
    Be64 hmsm2;
    i64 rc = opal::kSuccess;
    while (mftb() < deadline && (rc = rtc_read(ymd2, hmsm2)) == opal::kSuccess && (hmsm2.get() >> 40) == first) {
    }
    if (rc == opal::kSuccess && (hmsm2.get() >> 40) != first) ymd = ymd2, hmsm = hmsm2;
    u32 d = ymd.get();
    u64 t = hmsm.get();
    i64 days = days_from_civil(from_bcd(d >> 24) * 100 + from_bcd((d >> 16) & 0xff), from_bcd((d >> 8) & 0xff),
                               from_bcd(d & 0xff));
    g_boot_epoch = days * 86400 + from_bcd(t >> 56) * 3600 + from_bcd((t >> 48) & 0xff) * 60 + from_bcd((t >> 40) & 0xff);
    g_boot_tb = mftb();
}

u64 wall_clock_ns() {
    if (g_boot_epoch < 0) return 0;
    u64 elapsed = mftb() - g_boot_tb;
    return static_cast<u64>(g_boot_epoch) * 1'000'000'000 + elapsed / g_timebase_hz * 1'000'000'000 +
           elapsed % g_timebase_hz * 1'000'000'000 / g_timebase_hz;
}

bool wall_clock(WallClock& out) {
    if (g_boot_epoch < 0) return false;
    u64 elapsed = mftb() - g_boot_tb;
    i64 now = g_boot_epoch + static_cast<i64>(elapsed / g_timebase_hz);
    civil_from_days(now / 86400, out.year, out.month, out.day);
    u64 secs = static_cast<u64>(now % 86400);
    out.hour = static_cast<u32>(secs / 3600);
    out.minute = static_cast<u32>(secs / 60 % 60);
    out.second = static_cast<u32>(secs % 60);
    out.nanosecond = static_cast<u32>((elapsed % g_timebase_hz) * 1000000000 / g_timebase_hz);
    return true;
}

[[noreturn]] void power_off() { opal::power_down(); }

[[noreturn]] void halt_this_thread() {
    for (;;) asm volatile("sync; stop" : : : "memory");
}

}  // namespace pv::arch

namespace pv {
namespace {

static_assert(offsetof(Vcpu, regs) == 0, "the exit path hands us &vcpu.regs");

// The partition-visible SPRs into v (SRR0/SRR1: the exit path saved them in
// the thread block), and what the exit's decoding needs.
[[gnu::always_inline]] inline arch::ExitRegs save_sprs(arch::ThreadBlock& tb, Vcpu& v, u64 vector) {
    VcpuSprs& s = v.sprs;
    s.srr0 = tb.srr0;
    s.srr1 = tb.srr1;
    s.dar = spr::read<spr::DAR>();
    s.dsisr = spr::read<spr::DSISR>();
    s.sprg[0] = spr::read<spr::SPRG0>();
    s.sprg[1] = spr::read<spr::SPRG1>();
    s.sprg[2] = spr::read<spr::SPRG2>();
    s.sprg[3] = spr::read<spr::SPRG3>();
    s.dec = static_cast<u64>(static_cast<i64>(static_cast<int32_t>(spr::read<spr::DEC>())));
    s.dec_tb = arch::timebase();
    // The partition writes PID itself (a radix guest's context switch): the
    // register now holds its value, whatever was loaded at entry. Without
    // this, the next vCPU of the same partition whose saved PID equals the
    // stale cache would run in this one's address space.
    tb.loaded_pid = s.pid = spr::read<spr::PID>();
    arch::ExitRegs r;
    r.vector = vector;
    r.pc = v.regs.pc;
    r.msr = v.regs.msr;
    r.srr0 = s.srr0;
    r.srr1 = s.srr1;
    switch (static_cast<Vector>(vector)) {
    case Vector::HDSI:
        r.hdar = s.hdar = spr::read<spr::HDAR>();
        r.hdsisr = s.hdsisr = spr::read<spr::HDSISR>();
        r.asdr = s.asdr = spr::read<spr::ASDR>();
        break;
    case Vector::HISI: r.asdr = s.asdr = spr::read<spr::ASDR>(); break;
    case Vector::HEmulAssist: r.heir = s.heir = spr::read<spr::HEIR>(); break;
    case Vector::HFacility: r.hfscr = spr::read<spr::HFSCR>(); break;
    case Vector::HDoorbell: asm volatile("msgclr %0" : : "r"(arch::kMsgHypervisorDoorbell)); break;
    default: break;
    }
    return r;
}

[[gnu::noinline]] void entry_slow(arch::ThreadBlock& tb, Vcpu& v) {
    if (arch::lazy_switch_needed(tb, v)) arch::lazy_switch_in(tb, v);
    if (probe_entry_armed(tb.cpu)) probe_entry(tb.cpu, arch::instructions());
}

void load_sprs(arch::ThreadBlock& tb, Vcpu& v) {
    const VcpuSprs& s = v.sprs;
    Partition& p = *v.part;
    PhysCpu& cpu = tb.cpu;
    if (tb.loaded_lpid != p.lpid.value) spr::write<spr::LPIDR>(tb.loaded_lpid = p.lpid.value);
    u64 lpcr = p.lpcr | v.icp.lpcr_mer;  // MER: an XICS interrupt waits for MSR[EE] (hv/xics.h)
    if (tb.loaded_lpcr != lpcr) spr::write<spr::LPCR>(tb.loaded_lpcr = lpcr);
    if (tb.loaded_pid != s.pid) spr::write<spr::PID>(tb.loaded_pid = s.pid);
    asm volatile("isync");
    spr::write<spr::DAR>(s.dar);
    spr::write<spr::DSISR>(s.dsisr);
    spr::write<spr::SPRG0>(s.sprg[0]);
    spr::write<spr::SPRG1>(s.sprg[1]);
    spr::write<spr::SPRG2>(s.sprg[2]);
    spr::write<spr::SPRG3>(s.sprg[3]);
    u64 now = arch::timebase();
    // The decrementer kept counting while the vCPU was off the thread.
    i64 dec = static_cast<i64>(s.dec) - static_cast<i64>(now - s.dec_tb);
    spr::write<spr::DEC>(static_cast<u64>(dec < -1 ? -1 : dec));
    i64 slice = static_cast<i64>(cpu.slice_end_tb - now);
    spr::write<spr::HDEC>(static_cast<u64>(slice < 512 ? 512 : slice));
    v.regs.msr &= ~msr::HV;
    v.entry_tb = now;
    tb.srr0 = s.srr0;  // pv_enter_guest loads them last
    tb.srr1 = s.srr1;
    // One test for both rare cases: a different vCPU's FP/VMX/VSX and lazy
    // SPRs in the registers (hv/lazy_state.h), an armed entry probe.
    if (__builtin_expect((arch::lazy_key_diff(tb, v) | cpu.resume_completion_instructions) != 0, 0))
        entry_slow(tb, v);
    // Last: from here to the exit the TB is the partition's (host TB + its
    // offset, a partition that migrated in), which nothing on the entry path reads.
    if (__builtin_expect(p.tb_offset != 0, 0)) {
        arch::timebase_move(p.tb_offset);
        tb.tb_offset_applied = p.tb_offset;
    }
}

}  // namespace

[[noreturn]] void enter_first(arch::ThreadBlock& tb);

}  // namespace pv

extern "C" void pv_hv_fault(pv::arch::ThreadBlock* tb, pv::u64 vector) __attribute__((noreturn));

namespace pv {
namespace {

// The exit path found MSR[HV] set: not the partition but the hypervisor was
// interrupted (at v.regs.pc, a system reset's SRR0), between publishing the vCPU in the thread block and
// hrfid, or before the exit path had unpublished it. One case survives: a
// system reset on the first instruction of a vector that keeps its resume
// point in HSRR0/1. The exit that vector began is untouched (the registers
// saved are the partition's): the reset is the partition's host event and
// that exit is replayed; returns its vector. The partition's SRR0/SRR1 are
// the reset's now: lost unless its MSR[RI] was 1 (host_event stops then).
[[gnu::cold, gnu::noinline]] u64 replay_exit(arch::ThreadBlock& tb, Vcpu& v, u64 vector) {
    if (static_cast<Vector>(vector) != Vector::SystemReset) pv_hv_fault(&tb, vector);
    u64 at = v.regs.pc, reset_srr1 = v.regs.msr;
    if (!arch::is_hsrr_vector(at))
        // The vector (e.g. 0xc00, sc 1) keeps the partition's resume point in
        // SRR0/1, which the reset overwrote while MSR[RI]=0: lost by the architecture.
        host_stop_machine("host system reset on thread %u in the hypervisor's partition entry/exit path "
                          "with MSR[RI]=0 (pc 0x%lx): not recoverable, the partition's state is lost",
                          tb.cpu.index, at);
    v.regs.pc = spr::read<spr::HSRR0>();
    v.regs.msr = spr::read<spr::HSRR1>();
    Exit reset;
    reset.kind = ExitKind::SystemReset;
    reset.vector = Vector::SystemReset;
    reset.lost = !(v.regs.msr & msr::RI);
    reset.cause = reset_srr1 & arch::kSrr1InterruptBits;
    (void)host_event(tb.cpu, v, reset);
    return at;
}

}  // namespace
}  // namespace pv

extern "C" pv::VcpuRegs* pv_exit_c(pv::arch::ThreadBlock* tb, pv::u64 vector, pv::VcpuRegs* regs) {
    using namespace pv;
    Vcpu& v = *reinterpret_cast<Vcpu*>(regs);
    // The host's TB back first: everything after reads it (an HMI's timebase
    // resync too, which then finds no partition offset on this thread).
    if (__builtin_expect(tb->tb_offset_applied != 0, 0)) {
        arch::timebase_move(-tb->tb_offset_applied);
        tb->tb_offset_applied = 0;
    }
    if (__builtin_expect((v.regs.msr & msr::HV) != 0, 0)) vector = replay_exit(*tb, v, vector);
    u64 exit_i = arch::instructions_at_exit(), idle_i = tb->cpu.idle_instructions;  // before a switch moves the bias
    account_exit(v, exit_i);
    arch::ExitRegs r = save_sprs(*tb, v, vector);
    v.regs.msr = arch::resume_msr(r.msr);
    if (static_cast<Vector>(vector) == Vector::HMaint) r.hmer = arch::handle_hmi();
    Vcpu& next = handle_exit(tb->cpu, v, arch::decode_exit(r));
    load_sprs(*tb, next);
    account_instructions(v, next, exit_i, arch::instructions() + arch::entry_tail_instructions(),
                         tb->cpu.idle_instructions - idle_i);
    lock_witness_assert_none_held("partition entry");  // no hypervisor lock is held across a partition's run
    return &next.regs;
}

// First entry of a thread into a partition.
[[noreturn]] void pv::enter_first(arch::ThreadBlock& tb) {
    Vcpu& v = schedule(tb.cpu);
    load_sprs(tb, v);
    account_first_entry(v, arch::instructions() + arch::entry_tail_instructions());
    lock_witness_assert_none_held("partition entry");
    pv_enter_guest(&v.regs);
}

// The hypervisor itself took an interrupt: a bug. Report and stop the machine.
extern "C" void pv_hv_fault(pv::arch::ThreadBlock* tb, pv::u64 vector) {
    using namespace pv;
    log("HYPERVISOR FAULT: vector 0x%lx on thread %u: hsrr0 0x%lx hsrr1 0x%lx srr0 0x%lx srr1 0x%lx dar 0x%lx "
        "dsisr 0x%lx hdar 0x%lx",
        vector, tb->cpu.index, spr::read<spr::HSRR0>(), spr::read<spr::HSRR1>(), spr::read<spr::SRR0>(),
        spr::read<spr::SRR1>(), spr::read<spr::DAR>(), spr::read<spr::DSISR>(), spr::read<spr::HDAR>());
    arch::power_off();
}

extern "C" void pv_stack_check_failed() {
    pv::log("HYPERVISOR FAULT: stack protector check failed");
    pv::arch::power_off();
}
