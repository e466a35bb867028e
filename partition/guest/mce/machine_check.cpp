// mce-guest's machine-check handler: where the failed page is (FWNMI error
// log, or H_PV_GET_ERROR_LOG after a 0x200 interrupt), whose it is, and what
// follows: the owning process is terminated and its page cleared, a kernel
// page terminates the partition (ibm,os-term).
//
// The log layout is the one Linux parses (arch/powerpc/include/asm/rtas.h,
// rtas-types.h; platforms/pseries/ras.c): a big-endian struct rtas_error_log,
// a version-6 extended log, and a "MC" section (struct pseries_mc_errorlog).
#include <stdarg.h>
#include <string.h>

#include "base/rtas_error_log.h"
#include "partition/guest/mce/kernel.h"
#include "partition/guest/rt/console.h"
#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/hcall.h"
#include "partition/guest/rt/platform.h"

namespace mce {
namespace {

// PAPR hypercalls beyond base/papr.h's.
constexpr u64 H_PAGE_INIT = 0x2C;
constexpr u64 H_ZERO_PAGE = u64{1} << (63 - 48);
constexpr u64 H_PV_GET_ERROR_LOG = 0xF100;  // Poolvisor: this partition's failed page-ins
constexpr i64 H_NOT_FOUND = -61;
constexpr u32 kErrorLogEntries = 64;         // indexes H_PV_GET_ERROR_LOG accepts

// Linux's names for the log's fields.
constexpr u8 RTAS_V6EXT_LOG_FORMAT_EVENT_LOG = 14;
constexpr u32 RTAS_V6EXT_COMPANY_ID_IBM = ('I' << 24) | ('B' << 16) | ('M' << 8);
constexpr u16 PSERIES_ELOG_SECT_ID_MCE = ('M' << 8) | 'C';
constexpr u8 MC_ERROR_TYPE_UE = 0x00;
constexpr u8 UE_EFFECTIVE_ADDR_PROVIDED = 0x40, UE_LOGICAL_ADDR_PROVIDED = 0x20;
constexpr u8 MC_EFFECTIVE_ADDR_PROVIDED = 0x80;  // error types other than UE
// The pieces (base/rtas_error_log.h), back to back in the buffer.
using pv::rtaslog::ErrorLogHeader, pv::rtaslog::ExtLogV6Header, pv::rtaslog::SectionHeader, pv::rtaslog::McSection;
using pv::load_layout, pv::store_layout;
constexpr u32 kElogHeader = sizeof(ErrorLogHeader);  // rtas_error_log up to buffer[]
constexpr u32 kExtVendorLog = sizeof(ExtLogV6Header);  // rtas_ext_event_log_v6.vendor_log
constexpr u32 kSectHeader = sizeof(SectionHeader);   // pseries_errorlog up to data[]
constexpr u32 kMcSection = sizeof(McSection);        // sizeof(struct pseries_mc_errorlog)
constexpr u64 kMsrDr = 0x10;

alignas(64) constinit McArea g_area[kMaxCpus];
constinit McCounts g_counts{};
constinit McMode g_mode = McMode::Vector;
alignas(8) constinit u8 g_sim_buffer[8 + 128];  // mce_simulate's "FWNMI buffer"

struct Failure {
    bool have_la = false, have_ea = false;
    u64 la = 0, ea = 0;
};

// Bytes of the FWNMI buffer at `at` we may read: inside the RTAS area (where
// Linux's VALID_FWNMI_BUFFER wants it), or our own simulated buffer.
u64 buffer_room(u64 at, u64 kind) {
    if (kind == MC_KIND_SIMULATED) return at == reinterpret_cast<uintptr_t>(g_sim_buffer) ? sizeof g_sim_buffer : 0;
    const Platform& p = platform();
    if ((at & 7) || at < p.rtas_base || at + 16 > p.rtas_base + p.rtas_size) return 0;
    return p.rtas_base + p.rtas_size - at;
}

// Copies [saved r3][rtas_error_log + extended log] into `out`; its length, or 0.
u32 copy_log(u64 at, u64 kind, u8 (&out)[kMcLogMax]) {
    u64 room = buffer_room(at, kind);
    if (room < 8 + kElogHeader) return 0;
    auto* src = reinterpret_cast<const volatile u8*>(at);
    for (u32 i = 0; i < 8 + kElogHeader; ++i) out[i] = src[i];
    u64 n = 8 + kElogHeader + u64{load_layout<ErrorLogHeader>(out + 8).extended_log_length.get()};
    if (n > room) n = room;
    if (n > kMcLogMax) n = kMcLogMax;
    for (u64 i = 8 + kElogHeader; i < n; ++i) out[i] = src[i];
    return static_cast<u32>(n);
}

// As Linux's get_pseries_errorlog() followed by the MC section's decoding.
Failure parse_log(const u8* buf, u32 n, u32 cpu, u64 srr1) {
    Failure f;
    const u8* elog = buf + 8;
    auto head = load_layout<ErrorLogHeader>(elog);
    u8 byte1 = head.byte1;
    u32 ext_len = head.extended_log_length.get();
    if (n < 8 + kElogHeader + ext_len) ext_len = n - 8 - kElogHeader;
    const u8* ext = elog + kElogHeader;
    const u8* sect = nullptr;
    bool v6_ok = false;
    if ((byte1 & 0x04) && ext_len >= kExtVendorLog + 1) {
        auto v6 = load_layout<ExtLogV6Header>(ext);
        v6_ok = (v6.byte2 & 0x0f) == RTAS_V6EXT_LOG_FORMAT_EVENT_LOG && v6.company_id.get() == RTAS_V6EXT_COMPANY_ID_IBM;
    }
    if (v6_ok) {
        for (const u8 *p = ext + kExtVendorLog, *end = ext + ext_len; p + kSectHeader <= end;) {
            auto sh = load_layout<SectionHeader>(p);
            u16 len = sh.length.get();
            if (sh.id.get() == PSERIES_ELOG_SECT_ID_MCE && len >= kSectHeader + kMcSection && p + len <= end) {
                sect = p;
                break;
            }
            if (len < kSectHeader) break;
            p += len;
        }
    }
    u8 type = 0xff, sub = 0;
    if (sect) {
        auto d = load_layout<McSection>(sect + kSectHeader);
        type = d.error_type;
        sub = d.sub_err_type;
        f.ea = d.effective_address.get();
        f.la = d.logical_address.get();
        if (type == MC_ERROR_TYPE_UE) {
            f.have_ea = sub & UE_EFFECTIVE_ADDR_PROVIDED;
            f.have_la = sub & UE_LOGICAL_ADDR_PROVIDED;
        } else {
            f.have_ea = sub & MC_EFFECTIVE_ADDR_PROVIDED;
        }
    }
    // Our data accesses are untranslated: an effective address is logical.
    if (!f.have_la && f.have_ea && !(srr1 & kMsrDr)) f.la = f.ea, f.have_la = true;
    panic_log("FWNMI log on vCPU %u: version %u severity %u disposition %u initiator %u, %u extended bytes, "
              "%s error type %u sub-type 0x%x",
              cpu, head.byte0, byte1 >> 5, (byte1 >> 3) & 3, head.byte2 >> 4, ext_len,
              sect ? "MC section:" : "no MC section", sect ? type : 0, sub);
    return f;
}

// After a 0x200 interrupt: the newest failed page-in of this vCPU that we
// have not handled yet (any vCPU's if none names us).
Failure from_error_log(McArea& a, u32 hwid, u64 dar) {
    Failure f;
    u64 best_tb = 0, fallback_tb = 0, fallback_la = 0;
    bool found = false, fallback = false;
    for (u32 i = 0; i < kErrorLogEntries && !found; ++i) {
        u64 out[6] = {};
        i64 rc = rt_hcall_ret6(H_PV_GET_ERROR_LOG, out, i);
        if (rc != papr::H_SUCCESS) {
            if (rc != H_NOT_FOUND || i == 0) panic_log("H_PV_GET_ERROR_LOG(%u): %ld", i, rc);
            break;
        }
        u64 la = out[0], vcpu = out[1], tb = out[4];
        if (tb <= a.last_error_tb) break;  // newest first: the rest are older still
        if (vcpu == hwid) {
            f.la = la, best_tb = tb, found = true;
            panic_log("paging error log %u: page 0x%lx, vCPU %lu, device %lu, status 0x%lx, timebase %lu", i, la,
                      vcpu, out[2], out[3], tb);
        } else if (!fallback) {
            fallback = true, fallback_la = la, fallback_tb = tb;
        }
    }
    if (!found && fallback) f.la = fallback_la, best_tb = fallback_tb, found = true;
    if (!found) return f;
    a.last_error_tb = best_tb;
    f.have_la = true;
    // The hypervisor sets DAR to the failed access (as for a real UE).
    f.have_ea = true;
    f.ea = align_down(dar, kPageSize) == align_down(f.la, kPageSize) ? dar : f.la;
    return f;
}

// RTAS from the handler: no lock (the interrupted code may hold it), our own
// arguments, and the interrupted code's RTAS stack pointer kept.
i32 rtas_from_handler(McArea& a, u32 depth, Rtas call, u32 nargs, const u32* in) {
    u64 sp = this_cpu().rtas_sp;
    i32 s = rtas_call_unlocked(a.rtas_args[depth - 1].a, call, nargs, in, 1, nullptr);
    this_cpu().rtas_sp = sp;
    return s;
}

[[noreturn]] void terminate_partition(McArea& a, u32 depth, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
void terminate_partition(McArea& a, u32 depth, const char* fmt, ...) {
    char* msg = a.os_term_msg[depth - 1];
    va_list ap;
    va_start(ap, fmt);
    vformat(msg, sizeof a.os_term_msg[0], fmt, ap);
    va_end(ap);
    panic_log("%s", msg);
    if (rtas_available(Rtas::IbmOsTerm)) {
        const u32 in[] = {static_cast<u32>(reinterpret_cast<uintptr_t>(msg))};
        i32 s = rtas_from_handler(a, depth, Rtas::IbmOsTerm, 1, in);
        panic_log("ibm,os-term returned %d: power-off", s);
    } else {
        panic_log("no ibm,os-term: power-off");
    }
    power_off();
}

const char* kind_name(u64 kind) {
    return kind == MC_KIND_FWNMI ? "FWNMI" : kind == MC_KIND_VECTOR ? "0x200" : "FWNMI (simulated)";
}

}  // namespace

void mc_init_cpu(u32 cpu) {
    g_area[cpu].depth = 0;
    rt::cpu(cpu).scratch[MC_SCR_AREA] = reinterpret_cast<uintptr_t>(&g_area[cpu]);
}

McMode mc_setup(bool want_fwnmi) {
    const Platform& p = platform();
    g_mode = McMode::Vector;
    if (!want_fwnmi) {
        log("machine checks at 0x200 (fwnmi=off)");
    } else if (!p.le_interrupts) {
        // Both entries are little-endian code; our interrupts would arrive big-endian.
        log("interrupts are big-endian: no ibm,nmi-register, machine checks cannot be handled");
    } else if (!rtas_available(Rtas::IbmNmiRegister) || !rtas_available(Rtas::IbmNmiInterlock)) {
        log("no ibm,nmi-register/ibm,nmi-interlock in /rtas: machine checks at 0x200");
    } else {
        auto sreset = static_cast<u32>(reinterpret_cast<uintptr_t>(&mce_fwnmi_system_reset));
        auto mc = static_cast<u32>(reinterpret_cast<uintptr_t>(&mce_fwnmi_machine_check));
        i32 s = rtas_call(Rtas::IbmNmiRegister, 1, nullptr, sreset, mc);
        if (s == kRtasSuccess) {
            g_mode = McMode::Fwnmi;
            log("machine checks: FWNMI handler at 0x%x (ibm,nmi-register)", mc);
        } else {
            log("ibm,nmi-register: status %d: machine checks at 0x200", s);
        }
    }
    return g_mode;
}

McCounts mc_counts() { return g_counts; }

// The buffer FWNMI would give for a UE on a load at `addr` (what the
// hypervisor writes; the hypervisor's own unit test checks it against Linux).
void mc_simulate(u64 addr) {
    u8* b = g_sim_buffer;
    memset(b, 0, sizeof g_sim_buffer);
    pv::store_be<u64>(b, reinterpret_cast<uintptr_t>(b));  // "saved r3": the argument mce_simulate got
    u8* elog = b + 8;
    ErrorLogHeader head{};
    head.byte0 = 6;                        // version 6
    head.byte1 = 3 << 5 | 2 << 3 | 1 << 2; // ERROR_SYNC, NOT_RECOVERED, extended log present
    head.byte2 = 1 << 4 | 4;               // initiator CPU, target memory
    head.extended_log_length.set(kExtVendorLog + kSectHeader + kMcSection);
    store_layout(elog, head);
    u8* ext = elog + kElogHeader;
    ExtLogV6Header v6{};
    v6.byte0 = 0x80 | 0x40 | 0x04 | 0x02;  // valid, unrecoverable, new log, big-endian
    v6.byte2 = 0x80 | RTAS_V6EXT_LOG_FORMAT_EVENT_LOG;
    v6.company_id.set(RTAS_V6EXT_COMPANY_ID_IBM);
    store_layout(ext, v6);
    u8* sect = ext + kExtVendorLog;
    SectionHeader sh{};
    sh.id.set(PSERIES_ELOG_SECT_ID_MCE);
    sh.length.set(kSectHeader + kMcSection);
    sh.version = 1;
    store_layout(sect, sh);
    McSection d{};
    d.proc_id.set(this_cpu().hwid);
    d.error_type = MC_ERROR_TYPE_UE;
    d.sub_err_type = UE_EFFECTIVE_ADDR_PROVIDED | UE_LOGICAL_ADDR_PROVIDED | 3;  // load/store UE
    d.effective_address.set(addr);
    d.logical_address.set(align_down(addr, kPageSize));
    store_layout(sect + kSectHeader, d);
    mce_simulate(b);
}

}  // namespace mce

using namespace mce;

// From entry.S, on this vCPU's machine-check stack for the current depth.
// Returns the frame to resume, or never returns.
extern "C" McFrame* mce_handle(McFrame* f) {
    CpuLocal& me = this_cpu();
    McArea& a = g_area[me.index];
    u32 depth = a.depth;  // 1, or 2 for a machine check while handling one
    if (depth > 1) panic_log("machine check while handling one on vCPU %u (at 0x%lx)", me.hwid, f->srr0);

    Failure fail;
    if (f->kind == MC_KIND_VECTOR) {
        __atomic_fetch_add(&g_counts.vector, 1, __ATOMIC_RELAXED);
        fail = from_error_log(a, me.hwid, f->dar);
    } else {
        __atomic_fetch_add(f->kind == MC_KIND_FWNMI ? &g_counts.fwnmi : &g_counts.simulated, 1, __ATOMIC_RELAXED);
        // Copy the log, then release the buffer at once (as Linux's
        // pseries_machine_check_realmode): until then the hypervisor cannot
        // deliver another machine check to this vCPU, and nothing we do later
        // (console, scheduler) must depend on that.
        u8* log = a.log[depth - 1];
        u32 n = copy_log(f->log, f->kind, a.log[depth - 1]);
        if (f->kind == MC_KIND_FWNMI) {
            i32 s = rtas_from_handler(a, depth, Rtas::IbmNmiInterlock, 0, nullptr);
            if (s != kRtasSuccess) panic_log("ibm,nmi-interlock: status %d", s);
        }
        if (n)
            fail = parse_log(log, n, me.hwid, f->srr1);
        else
            panic_log("FWNMI: r3 0x%lx is not a machine-check buffer in RTAS", f->log);
    }

    if (!fail.have_la)
        terminate_partition(a, depth, "machine check at 0x%lx without a logical address: terminating the partition",
                            f->srr0);
    u64 page = align_down(fail.la, kPageSize);
    panic_log("machine check: logical page 0x%lx (EA 0x%lx) via %s on vCPU %u at 0x%lx", page,
              fail.have_ea ? fail.ea : fail.la, kind_name(f->kind), me.hwid, f->srr0);

    Process* p = owner_of(page);
    if (!p) terminate_partition(a, depth, "machine check in kernel page 0x%lx: terminating the partition", page);

    kill(*p);
    panic_log("process %u terminated (uses the failed page)", p->id);
    // A fresh zeroed page in place of the lost one (nobody reads it again,
    // but the partition's memory is whole again).
    i64 rc = rt_hcall(H_PAGE_INIT, H_ZERO_PAGE, page, 0);
    if (rc != papr::H_SUCCESS) panic_log("H_PAGE_INIT(H_ZERO_PAGE, 0x%lx): %ld", page, rc);

    // The process made the access (only it touches its pages): its vCPU goes
    // back to the kernel as if it had yielded, and it never runs again.
    if (depth == 1 && current(me.index) == p) {
        a.depth = 0;
        mce_context_load(&scheduler_context(me.index));
    }
    // Someone else touched the page (or we were nested): resume it.
    a.depth = depth - 1;
    return f;
}
