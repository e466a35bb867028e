// Host events on POWER9: HMIs, and system resets that interrupt the
// hypervisor itself (arch/ppc64/exceptions.S, pv_hv_interrupted).
#include "arch/ppc64/host_events.h"

#include "arch/ppc64/exit_decode.h"
#include "arch/ppc64/opal.h"
#include "arch/ppc64/spr.h"
#include "arch/ppc64/thread.h"
#include "hv/host_event.h"

extern "C" void pv_hv_fault(pv::arch::ThreadBlock* tb, pv::u64 vector) __attribute__((noreturn));

namespace pv::arch {
namespace {
// skiboot include/opal-api.h.
constexpr u64 kOpalHandleHmi = 98;
constexpr u64 kOpalHandleHmi2 = 166;
}  // namespace

u64 handle_hmi() {
    u64 hmer = spr::read<spr::HMER>();
    u64 flags = 0;  // big-endian OPAL_HMI_FLAGS_*: not used yet
    if (pv_opal_call(kOpalHandleHmi2, reinterpret_cast<u64>(&flags)) == opal::kSuccess) return hmer;
    if (pv_opal_call(kOpalHandleHmi) == opal::kSuccess) return hmer;
    spr::write<spr::HMER>(~hmer);  // mtspr ANDs
    return hmer;
}

}  // namespace pv::arch

// r3 = the thread block, r4 = the vector, r5 = the hypervisor's registers.
// Runs on the fault stack with MSR[RI] = 0. A system reset the hypervisor
// survives (RI was 1) is counted and noted without taking a lock (the
// interrupted code may hold any) and the hypervisor resumes; anything else
// stops the machine.
extern "C" pv::VcpuRegs* pv_hv_interrupt_c(pv::arch::ThreadBlock* tb, pv::u64 vector, pv::VcpuRegs* regs) {
    using namespace pv;
    if (static_cast<Vector>(vector) != Vector::SystemReset) pv_hv_fault(tb, vector);
    arch::ExitRegs r{};
    r.vector = vector;
    r.pc = r.srr0 = regs->pc;
    r.msr = r.srr1 = regs->msr;
    host_event_in_hypervisor(tb->cpu, arch::decode_exit(r), regs->pc);
    regs->msr = arch::resume_msr(regs->msr);
    return regs;
}
