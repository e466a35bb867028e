#include "hv/rtas.h"

#include "base/format.h"
#include "base/rtas_args.h"
#include "hv/ams.h"
#include "arch/arch.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "base/papr.h"

namespace pv {
namespace {

// RTAS status values (PAPR 7.2).
constexpr i32 kRtasSuccess = 0;
constexpr i32 kRtasHardwareError = -1;
constexpr i32 kRtasParameterError = -3;

class Call {
public:
    Call(Vcpu& v, RtasArgs& a) : v_(v), a_(a) {}
    Vcpu& vcpu() { return v_; }
    Partition& part() { return *v_.part; }
    u32 nargs() const { return a_.nargs.get(); }
    u32 nret() const { return a_.nret.get(); }
    u32 arg(u32 i) const { return a_.args[i].get(); }
    void set_ret(u32 i, u32 value) {
        if (i < nret()) a_.args[nargs() + i].set(value);
    }
    void status(i32 s) { set_ret(0, static_cast<u32>(s)); }
    bool shape(u32 want_args, u32 want_rets) {
        if (nargs() == want_args && nret() >= want_rets) return true;
        status(kRtasParameterError);
        return false;
    }

private:
    Vcpu& v_;
    RtasArgs& a_;
};

Next rtas_get_time_of_day(Call& c) {
    if (!c.shape(0, 8)) return Next::Resume;
    arch::WallClock t;
    if (!arch::wall_clock(t)) {
        c.status(kRtasHardwareError);
        return Next::Resume;
    }
    u32 fields[] = {t.year, t.month, t.day, t.hour, t.minute, t.second, t.nanosecond};
    for (u32 i = 0; i < 7; ++i) c.set_ret(i + 1, fields[i]);
    c.status(kRtasSuccess);
    return Next::Resume;
}

Next rtas_power_off(Call& c) {
    if (!c.shape(2, 1)) return Next::Resume;
    c.status(kRtasSuccess);
    stop_partition(c.part(), PartitionState::Stopped, "power-off requested");
    return Next::Stop;
}

// A partition boots again once all its vCPUs have stopped (restart_partition;
// a shared-memory one once its paging I/O is over, too). The paging service
// partition stops instead, and says so: every shared partition's paging
// depends on its channel and device.
Next rtas_system_reboot(Call& c) {
    if (!c.shape(0, 1)) return Next::Resume;
    c.status(kRtasSuccess);
    Partition& p = c.part();
    if (!ams_is_psp(p)) {
        {
            Guard g(p.lock);
            if (p.is_running()) p.restart_requested = true;
        }
        stop_partition(p, PartitionState::Stopped, "system-reboot requested");
    } else {
        stop_partition(p, PartitionState::Stopped,
                       "system-reboot requested (restart of the paging service partition is not supported)");
    }
    return Next::Stop;
}

Next rtas_start_cpu(Call& c) {
    if (!c.shape(3, 1)) return Next::Resume;
    Partition& p = c.part();
    Vcpu* t = p.vcpu_by_id(c.arg(0));
    u64 start = c.arg(1);
    if (!t || !p.logical_range_ok(start, 4) || (start & 3)) {
        c.status(kRtasParameterError);
        return Next::Resume;
    }
    {
        Guard g(p.lock);
        if (t->state != VcpuState::Stopped) {
            c.status(kRtasHardwareError);  // already started
            return Next::Resume;
        }
        t->regs = VcpuRegs{};
        t->sprs = VcpuSprs{};
        t->regs.pc = start;
        t->regs.msr = msr::SF | msr::ME;  // like the boot vCPU: big-endian, real mode
        t->regs.gpr[3] = c.arg(2);
        t->sprs.dec = 0x7fffffff;
        t->mc_in_progress = false;
        t->state = VcpuState::Runnable;
    }
    make_runnable(*t);
    c.status(kRtasSuccess);
    return Next::Resume;
}

Next rtas_stop_self(Call& c) {
    if (!c.shape(0, 1)) return Next::Resume;
    c.status(kRtasSuccess);
    return Next::Stop;
}

// 0: stopped, 2: not stopped (running or ceded).
Next rtas_query_cpu_stopped_state(Call& c) {
    if (!c.shape(1, 2)) return Next::Resume;
    Vcpu* t = c.part().vcpu_by_id(c.arg(0));
    if (!t) {
        c.status(kRtasParameterError);
        return Next::Resume;
    }
    c.set_ret(1, t->state == VcpuState::Stopped ? 0 : 2);
    c.status(kRtasSuccess);
    return Next::Resume;
}

// The operator panel (PAPR display-character): Linux writes its progress
// codes here while it prints the same boot to the console, so the panel is
// kept apart and shown as whole lines of the hypervisor's log, not mixed
// into the console stream.
Next rtas_display_character(Call& c) {
    if (!c.shape(1, 1)) return Next::Resume;
    char ch = static_cast<char>(c.arg(0));
    Partition& p = c.part();
    char text[sizeof p.panel.text + 1];
    bool flush = false;
    {
        Guard g(p.lock);
        ConsoleLine& panel = p.panel;
        bool end = ch == '\n' || ch == '\r' || ch == '\f';
        if (!end && panel.len < sizeof panel.text - 1) {
            bool printable = ch >= 0x20 && ch < 0x7f;
            panel.text[panel.len++] = printable ? ch : '.';
        }
        if ((end || panel.len == sizeof panel.text - 1) && panel.len) {
            for (u32 i = 0; i < panel.len; ++i) text[i] = panel.text[i];
            text[panel.len] = 0;
            panel.len = 0;
            flush = true;
        }
    }
    if (flush) log("partition %s: panel: %s", p.name, text);
    c.status(kRtasSuccess);
    return Next::Resume;
}

// FWNMI (Linux fwnmi_init, QEMU spapr_rtas.c): the partition's system-reset and
// machine-check handlers, logical real-mode addresses. Machine checks are then
// delivered there (hv/machine_check.cpp) instead of at 0x200.
Next rtas_ibm_nmi_register(Call& c) {
    if (!c.shape(2, 1)) return Next::Resume;
    Partition& p = c.part();
    u64 sreset = c.arg(0), mc = c.arg(1);
    if (!p.logical_range_ok(sreset, 4) || (sreset & 3) || !p.logical_range_ok(mc, 4) || (mc & 3)) {
        c.status(kRtasParameterError);
        return Next::Resume;
    }
    {
        Guard g(p.lock);
        p.fwnmi_sreset_addr = sreset;
        p.fwnmi_mc_addr = mc;
        p.fwnmi_registered = true;
    }
    c.status(kRtasSuccess);
    return Next::Resume;
}

// The calling vCPU is done with its machine-check buffer. Without a machine
// check in progress it still succeeds: Linux also calls it after a system
// reset, and PowerVM and QEMU answer 0 then. Before ibm,nmi-register: -3.
Next rtas_ibm_nmi_interlock(Call& c) {
    if (!c.shape(0, 1)) return Next::Resume;
    Partition& p = c.part();
    bool registered;
    {
        Guard g(p.lock);
        registered = p.fwnmi_registered;
        if (registered) c.vcpu().mc_in_progress = false;
    }
    c.status(registered ? kRtasSuccess : kRtasParameterError);
    return Next::Resume;
}

// The operating system gives up (Linux: on panic, when /rtas has
// ibm,extended-os-term). The partition stops with its message as the reason.
Next rtas_ibm_os_term(Call& c) {
    if (!c.shape(1, 1)) return Next::Resume;
    Partition& p = c.part();
    constexpr u32 kMax = 100;
    char msg[kMax + 1];
    u32 len = 0;
    // Page by page up to the first byte that cannot be read (outside the
    // partition, or a shared page that is not resident).
    for (u64 a = c.arg(0); len < kMax;) {
        u64 chunk = kPageSize - (a & (kPageSize - 1));
        if (chunk > kMax - len) chunk = kMax - len;
        if (!p.copy_from(a, msg + len, chunk)) break;
        len += static_cast<u32>(chunk);
        a += chunk;
    }
    u32 n = 0;
    while (n < len && msg[n]) ++n;
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r' || msg[n - 1] == ' ')) --n;
    for (u32 i = 0; i < n; ++i)
        if (static_cast<u8>(msg[i]) < 0x20 || static_cast<u8>(msg[i]) > 0x7e) msg[i] = '?';
    msg[n] = 0;
    c.status(kRtasSuccess);
    stop_partition(p, PartitionState::Stopped, "os-term: %s", len ? msg : "(message not readable)");
    return Next::Stop;
}

// ibm,get-system-parameter (PAPR 7.3.16). Only the CMO characteristics
// (parameter 44) are known: "PrPSP=n,SecPSP=n,CMOPageSize=log2", where a
// paging service partition number of -1 means no CMO. Linux's parser acts on
// a pair only when a ',' follows it, hence the trailing comma. The buffer
// receives a be16 length and the NUL-terminated string.
constexpr u32 kSysparmCmoCharacteristics = 44;

Next rtas_ibm_get_system_parameter(Call& c) {
    if (!c.shape(3, 1)) return Next::Resume;
    u32 param = c.arg(0), buf = c.arg(1), buf_len = c.arg(2);
    if (param != kSysparmCmoCharacteristics) {
        c.status(kRtasParameterError);
        return Next::Resume;
    }
    struct {
        Be16 len;
        char text[62];
    } data{};
    u32 n = format(data.text, sizeof data.text, "PrPSP=%d,SecPSP=-1,CMOPageSize=%u,",
                   ams_paging_service_number(c.part()), static_cast<u32>(kPageShift));
    data.len.set(static_cast<u16>(n + 1));
    u32 bytes = static_cast<u32>(sizeof data.len) + n + 1;
    if (buf_len < bytes) {
        c.status(kRtasParameterError);
        return Next::Resume;
    }
    HeldArea held;
    if (!held.hold(c.vcpu(), buf, bytes)) return Next::Block;
    if (!c.part().copy_to(buf, &data, bytes)) {
        c.status(kRtasParameterError);
        return Next::Resume;
    }
    ams_note_written(c.part(), buf, bytes);
    c.status(kRtasSuccess);
    return Next::Resume;
}

struct RtasCall {
    RtasToken token;
    Next (*handler)(Call&);
};

// Tokens are arbitrary but stable; 0x2000 + index keeps them recognisable.
constexpr RtasCall kCalls[] = {
    {{"get-time-of-day", 0x2001}, rtas_get_time_of_day},
    {{"power-off", 0x2002}, rtas_power_off},
    {{"system-reboot", 0x2003}, rtas_system_reboot},
    {{"start-cpu", 0x2004}, rtas_start_cpu},
    {{"stop-self", 0x2005}, rtas_stop_self},
    {{"query-cpu-stopped-state", 0x2006}, rtas_query_cpu_stopped_state},
    {{"display-character", 0x2007}, rtas_display_character},
    {{"ibm,nmi-register", 0x2008}, rtas_ibm_nmi_register},
    {{"ibm,nmi-interlock", 0x2009}, rtas_ibm_nmi_interlock},
    {{"ibm,os-term", 0x200a}, rtas_ibm_os_term},
    {{"ibm,get-system-parameter", 0x200b}, rtas_ibm_get_system_parameter},
};

constexpr auto make_token_list() {
    struct List {
        RtasToken t[sizeof kCalls / sizeof kCalls[0]];
    } l{};
    for (std::size_t i = 0; i < sizeof kCalls / sizeof kCalls[0]; ++i) l.t[i] = kCalls[i].token;
    return l;
}
constexpr auto kTokenList = make_token_list();

}  // namespace

std::span<const RtasToken> rtas_tokens() { return kTokenList.t; }

// The arguments are copied in and the results copied back: the buffer may
// cross pages, and the partition may change it while we work.
Next rtas_call(Vcpu& v, u64 args_addr) {
    Partition& p = *v.part;
    RtasArgs args{};
    constexpr u64 kHeader = offsetof(RtasArgs, args);
    // The results are marked written: the pager must not drop them.
    HeldArea held;
    if (!held.hold(v, args_addr, sizeof args)) return Next::Block;
    if ((args_addr & 3) || !p.copy_from(args_addr, &args, kHeader)) {
        v.regs.gpr[3] = static_cast<u64>(papr::H_PARAMETER);
        return Next::Resume;
    }
    u64 words = u64{args.nargs.get()} + args.nret.get();
    if (words > RtasArgs::kMaxCells || !p.copy_from(args_addr + kHeader, args.args, words * sizeof(Be32))) {
        v.regs.gpr[3] = static_cast<u64>(papr::H_PARAMETER);
        return Next::Resume;
    }
    v.regs.gpr[3] = papr::H_SUCCESS;
    Call c(v, args);
    Next next = Next::Resume;
    bool known = false;
    for (const RtasCall& rc : kCalls)
        if (rc.token.token == args.token.get()) next = rc.handler(c), known = true;
    if (next == Next::Block) return next;  // re-executed once the page is in
    if (!known) c.status(kRtasParameterError);
    u64 rets_at = kHeader + sizeof(Be32) * args.nargs.get();
    if (!p.copy_to(args_addr + rets_at, &args.args[args.nargs.get()], sizeof(Be32) * args.nret.get()))
        v.regs.gpr[3] = static_cast<u64>(papr::H_PARAMETER);
    else
        ams_note_written(p, args_addr + rets_at, sizeof(Be32) * args.nret.get());
    return next;
}

}  // namespace pv
