#include "hv/machine_check.h"

#include "base/endian.h"
#include "hv/ppc_defs.h"
#include "hv/rtas_error_log.h"

namespace pv {
namespace {

static_assert(8 + rtaslog::kMcLogBytes <= kFwnmiSlotBytes);

// SRR0/SRR1/DAR/DSISR as the processor sets them for a synchronous machine
// check on a load or store: SRR0 = the instruction, SRR1 = its MSR with the
// interrupt-specific bits replaced (MSR[RI] among those kept, so the partition
// knows it may recover).
void set_interrupt_registers(Vcpu& v, u64 effective_addr) {
    v.sprs.srr0 = v.regs.pc;
    v.sprs.srr1 = (v.regs.msr & ~kSrr1InterruptBits) | kSrr1McLoadStore;
    v.sprs.dar = effective_addr;
    v.sprs.dsisr = kDsisrMcUe;
}

// MSR on entry to a handler: 64-bit, real mode, machine checks enabled,
// little-endian if the partition asked for LE interrupts (H_SET_MODE).
u64 handler_msr(const Partition& p) { return msr::SF | msr::ME | ((p.lpcr & lpcr::ILE) ? msr::LE : 0); }

}  // namespace

u64 fwnmi_buffer_addr(const Partition& p, const Vcpu& v) {
    return p.rtas_base + kFwnmiLogOffset + u64{v.id.value} * kFwnmiSlotBytes;
}

McDelivery deliver_machine_check(Vcpu& v, u64 effective_addr, u64 logical_addr) {
    Partition& p = *v.part;
    bool fwnmi, nested;
    u64 handler;
    {
        Guard g(p.lock);
        fwnmi = p.fwnmi_registered;
        handler = p.fwnmi_mc_addr;
        nested = v.mc_in_progress;
    }

    if (!fwnmi) {
        set_interrupt_registers(v, effective_addr);
        v.regs.pc = static_cast<u64>(Vector::MachineCheck);
        v.regs.msr = handler_msr(p);
        return McDelivery::Architected;
    }
    if (nested) return McDelivery::Nested;

    // The buffer: the interrupted r3 (big-endian), then the RTAS error log.
    u8 buf[kFwnmiSlotBytes];
    store_be<u64>(buf, v.regs.gpr[3]);
    rtaslog::McErrorInfo info;
    info.effective_addr = effective_addr;
    info.logical_addr = logical_addr;
    info.proc_id = v.id.value;
    u32 n = rtaslog::encode_mc_error_log(info, buf + 8, sizeof buf - 8);
    u64 at = fwnmi_buffer_addr(p, v);
    u64 end = kFwnmiLogOffset + u64{v.id.value + 1} * kFwnmiSlotBytes;  // this slot's end, from rtas_base
    if (n == 0 || end > p.rtas_size || !p.copy_to(at, buf, 8 + n)) return McDelivery::Failed;

    set_interrupt_registers(v, effective_addr);
    v.regs.gpr[3] = at;
    v.regs.pc = handler;
    v.regs.msr = handler_msr(p);
    {
        Guard g(p.lock);
        v.mc_in_progress = true;
    }
    return McDelivery::Fwnmi;
}

}  // namespace pv
