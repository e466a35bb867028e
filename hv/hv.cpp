// Boot-time creation of partitions from the bundle's config.
#include "hv/hv.h"

#include <cstring>
#include <new>

#include <libfdt.h>

#include "hv/ams.h"
#include "arch/arch.h"
#include "hv/bundle.h"
#include "hv/console.h"
#include "hv/elf_loader.h"
#include "base/format.h"
#include "hv/guest_fdt.h"
#include "hv/mig_control.h"
#include "hv/mig_key.h"
#include "hv/net_attach.h"
#include "base/papr.h"
#include "hv/rtas.h"
#include "hv/vpa.h"
#include "mm/host_translation.h"

namespace pv {
namespace {

Hypervisor g_hv;

// Partition logical memory layout: the image at 0; at the top, the RTAS
// area (the stub, later the error-log buffer) and the device tree.
constexpr u64 kRtasFromTop = 1 << 20;
constexpr u64 kRtasSize = 64 << 10;
constexpr u64 kFdtFromTop = 512 << 10;
constexpr u32 kFdtMax = 64 << 10;
constexpr u64 kReservedTop = 2 << 20;  // what images must leave free

constexpr u32 kPartitionTableEntries = kMaxLpid + 1;  // LPIDs 0..4095 (64 KiB)
constexpr u64 kPartitionTableBytes = kPartitionTableEntries * sizeof(PartitionTableEntry);

// A dedicated partition's tree: its memory and device mappings.
u64 table_bytes_for(u64 mem_bytes) { return radix::fixed_table_bytes(7) + radix::sized_table_bytes(mem_bytes); }

// What goes into a partition's logical memory at boot, decided for every
// partition before any is created: a bad image stops them all.
struct BootImage {
    BundleEntry image;
    bool elf;
    ElfPlan plan;  // elf only
    u64 entry;
    u64 end;  // one past the image's highest byte (a raw image: its size)
    BundleEntry initrd;  // size 0: none
    u64 initrd_addr;
};

BootImage g_boot[kMaxPartitions];

// Linux with 64 KiB pages reserves the initrd by whole pages.
constexpr u64 kInitrdAlign = 64 << 10;

[[nodiscard]] bool plan_elf_image(const PartitionConfig& pc, BootImage& b, u64 limit) {
    ElfDiag d{};
    if (plan_elf(b.image.data, b.image.size, limit, b.plan, &d)) {
        b.entry = b.plan.entry;
        b.end = b.plan.end;
        return true;
    }
    char where[96] = "";
    if (d.fault == ElfFault::SegmentTooBig || d.fault == ElfFault::SegmentOverlap)
        format(where, sizeof where, " (program header %u, logical 0x%lx-0x%lx, desired_mem %lu MiB)", d.segment,
               d.addr, d.end, pc.mem_bytes >> 20);
    else if (d.fault == ElfFault::FileSizeOverMem || d.fault == ElfFault::SegmentOutsideFile ||
             d.fault == ElfFault::TooManySegments)
        format(where, sizeof where, " (program header %u)", d.segment);
    log("config:%u: image: partition %s: ELF image '%s' (%lu KiB) cannot be loaded: %s%s", pc.line, pc.name,
        pc.image, b.image.size >> 10, elf_fault_text(d.fault), where);
    return false;
}

// ELF: just above the image's highest byte. Raw: at the top of the usable
// memory, since a raw image does not say how much bss follows it.
[[nodiscard]] bool plan_initrd(const PartitionConfig& pc, const Bundle& bundle, BootImage& b, u64 limit) {
    if (!pc.initrd[0]) return true;
    auto rd = bundle.find(pc.initrd);
    if (!rd) {
        log("config:%u: initrd: partition %s names initrd '%s', which is not in the bundle", pc.line, pc.name,
            pc.initrd);
        return false;
    }
    if (rd->size == 0) {
        log("config:%u: initrd: partition %s: initrd '%s' is empty", pc.line, pc.name, pc.initrd);
        return false;
    }
    u64 low = align_up(b.end, kInitrdAlign);
    bool fits = low <= limit && rd->size <= limit - low;
    b.initrd = *rd;
    b.initrd_addr = !fits || b.elf ? low : (limit - rd->size) & ~(kInitrdAlign - 1);
    if (!fits) {
        log("config:%u: desired_mem: partition %s: initrd '%s' (%lu KiB) does not fit between the image's end "
            "(0x%lx) and 0x%lx (%lu MiB less the 2 MiB the hypervisor keeps at the top)",
            pc.line, pc.name, pc.initrd, rd->size >> 10, b.end, limit, pc.mem_bytes >> 20);
        return false;
    }
    return true;
}

bool plan_images(const SystemConfig& cfg, const Bundle& bundle) {
    bool ok = true;
    for (u32 i = 0; i < cfg.partition_count; ++i) {
        const PartitionConfig& pc = cfg.partitions[i];
        BootImage& b = g_boot[i];
        b = {};
        u64 limit = pc.mem_bytes - kReservedTop;
        auto img = bundle.find(pc.image);
        if (!img) {
            log("config:%u: image: partition %s names image '%s', which is not in the bundle", pc.line, pc.name,
                pc.image);
            ok = false;
            continue;
        }
        b.image = *img;
        b.elf = is_elf(img->data, img->size);
        bool placed = true;
        if (b.elf) {
            placed = plan_elf_image(pc, b, limit);
        } else if (img->size > limit) {
            log("config:%u: desired_mem: partition %s: image '%s' (%lu KiB) does not fit in %lu MiB", pc.line,
                pc.name, pc.image, img->size >> 10, pc.mem_bytes >> 20);
            placed = false;
        } else {
            b.end = img->size;
        }
        if (!placed || !plan_initrd(pc, bundle, b, limit)) ok = false;
    }
    return ok;
}

[[nodiscard]] bool map_memory(Partition& p, const PartitionConfig& pc) {
    auto mem = g_hv.frames.alloc(pc.mem_bytes, 2 << 20);
    u64 tbytes = table_bytes_for(pc.mem_bytes);
    auto tables = g_hv.frames.alloc(tbytes, 64 << 10);
    if (!mem.ok() || !tables.ok()) {
        log("partition %s: not enough memory for %lu MiB (%lu MiB free)", pc.name, pc.mem_bytes >> 20,
            g_hv.frames.free_bytes() >> 20);
        return false;
    }
    p.mem_base = mem.value;
    p.mem_bytes = pc.mem_bytes;
    // Fresh memory must not show a partition what was there before.
    std::memset(arch::host_ptr(p.mem_base), 0, p.mem_bytes);
    p.table_chunk = {tables.value.value, tables.value.value + tbytes};
    if (p.radix.init(TablePool{bump_table_alloc, &p.table_chunk}) != Err::Ok) return false;
    for (u64 off = 0; off < p.mem_bytes; off += kPageSize) {
        if (p.radix.map(page_of(LogicalAddr{off}), frame_of(HostReal{p.mem_base.value + off}), Perm::RWX) != Err::Ok) {
            log("partition %s: page-table pool exhausted", pc.name);
            return false;
        }
    }
    return true;
}

// Boot-time contents go in through the partition's own mapping: contiguous
// memory for dedicated partitions, pool frames for shared ones.
[[nodiscard]] bool place(Partition& p, u64 addr, const void* data, u64 len) {
    if (p.mem_mode == MemMode::Shared) return ams_populate(p, addr, data, len);
    std::memcpy(p.logical_ptr(addr), data, len);
    return true;
}

alignas(8) u8 g_fdt_buffer[kFdtMax];  // boot is single-threaded

// Only p_filesz bytes are written: the rest of each segment (bss) is in fresh memory, which reads as zero.
[[nodiscard]] bool place_image(Partition& p, const BootImage& b) {
    bool ok = true;
    if (!b.elf) {
        ok = place(p, 0, b.image.data, b.image.size);
    } else {
        for (u32 i = 0; ok && i < b.plan.count; ++i) {
            const ElfSegment& s = b.plan.segment[i];
            ok = place(p, s.addr, b.image.data + s.file_offset, s.file_size);
        }
    }
    if (ok && b.initrd.size) ok = place(p, b.initrd_addr, b.initrd.data, b.initrd.size);
    if (!ok) log("partition %s: the shared memory pool is too small for its image and initrd", p.name);
    return ok;
}

// At boot the device tree is built in g_fdt_buffer (boot is single-threaded).
// A restart runs beside other partitions: a dedicated partition's tree is then
// built in its own memory, where it goes anyway.
[[nodiscard]] bool load_partition(Partition& p, const PartitionConfig& pc, const BootImage& b) {
    if (!place_image(p, b)) return false;
    bool in_place = p.restarts > 0 && p.mem_mode == MemMode::Dedicated;

    p.rtas_base = p.mem_bytes - kRtasFromTop;
    p.rtas_size = kRtasSize;
    Be32 stub[sizeof kRtasStub / sizeof kRtasStub[0]];
    for (u32 i = 0; i < sizeof kRtasStub / sizeof kRtasStub[0]; ++i) stub[i].set(kRtasStub[i]);
    if (!place(p, p.rtas_base, stub, sizeof stub)) return false;
    // The hypervisor writes machine-check logs into the RTAS area while the
    // partition runs: never paged out (docs/pinning.md).
    if (!ams_pin_boot_area(p, p.rtas_base, p.rtas_size)) {
        log("partition %s: cannot pin its RTAS area in the shared pool", p.name);
        return false;
    }

    u64 fdt_addr = p.mem_bytes - kFdtFromTop;
    GuestFdtParams fp{};
    fp.partition_name = p.name;
    fp.lpid = p.lpid;
    fp.vcpus = p.vcpu_count;
    fp.mem_bytes = p.mem_bytes;
    fp.bootargs = pc.bootargs;
    if (b.initrd.size) {
        fp.initrd_start = b.initrd_addr;
        fp.initrd_end = b.initrd_addr + b.initrd.size;
    }
    fp.rtas_base = p.rtas_base;
    fp.rtas_size = static_cast<u32>(p.rtas_size);
    fp.rtas_entry = p.rtas_base;
    fp.rtas_tokens = rtas_tokens();
    fp.vty_reg = static_cast<u32>(papr::kVtermno);
    fp.timebase_hz = arch::timebase_hz();
    fp.reserve_base[0] = p.rtas_base;
    fp.reserve_size[0] = p.rtas_size;
    fp.reserve_base[1] = fdt_addr;
    fp.reserve_size[1] = kFdtMax;
    fp.reserve_count = 2;
    fp.boot_count = p.restarts;
    void* fdt = in_place ? p.logical_ptr(fdt_addr) : g_fdt_buffer;
    if (Err e = build_guest_fdt(fp, fdt, kFdtMax); e != Err::Ok) {
        log("partition %s: cannot build its device tree (error %u)", p.name, static_cast<unsigned>(e));
        return false;
    }
    if (ams_is_psp(p) && !ams_attach_psp(p, g_fdt_buffer, kFdtMax)) {
        log("partition %s: cannot attach the paging device to it", p.name);
        return false;
    }
    if (net_is_owner(p) && !net_attach(p, fdt, kFdtMax)) {
        log("partition %s: cannot attach the network device to it", p.name);
        return false;
    }
    if (ams_is_psp(p) && !mig_attach_mover(p, fdt, kFdtMax)) return false;
    if (!in_place && !place(p, fdt_addr, g_fdt_buffer, fdt_totalsize(g_fdt_buffer))) {
        log("partition %s: the shared memory pool is too small for its boot pages", p.name);
        return false;
    }

    // PAPR/kexec entry: real mode, big-endian, r3 = device tree, r4 = load address, r5 = 0.
    Vcpu& boot = p.vcpus[0];
    boot.regs.pc = b.entry;
    boot.regs.msr = msr::SF | msr::ME;
    boot.regs.gpr[3] = fdt_addr;
    boot.regs.gpr[4] = 0;
    boot.regs.gpr[5] = 0;
    boot.sprs.dec = 0x7fffffff;
    if (b.elf) {
        u64 low = b.end;
        for (u32 i = 0; i < b.plan.count; ++i) low = b.plan.segment[i].addr < low ? b.plan.segment[i].addr : low;
        log("partition %s: ELF image %s: %u segment%s in logical 0x%lx-0x%lx, entry 0x%lx", p.name, pc.image,
            b.plan.count, b.plan.count == 1 ? "" : "s", low, b.end, b.entry);
    }
    if (b.initrd.size)
        log("partition %s: initrd %s (%lu KiB) at logical 0x%lx-0x%lx", p.name, pc.initrd, b.initrd.size >> 10,
            b.initrd_addr, b.initrd_addr + b.initrd.size);
    return true;
}

// "partition x: facilities denied: TAR, EBB (HFSCR 0x...)".
void log_denied_facilities(const Partition& p) {
    char names[96] = "";
    u32 n = 0;
    for (u32 f = 0; f < 64; ++f) {
        if (!(kGuestHfscr & facility::bit(f)) || (p.hfscr & facility::bit(f))) continue;
        n += format(names + n, sizeof names - n, "%s%s", n ? ", " : "", facility::display_name(f));
    }
    log("partition %s: facilities denied: %s (HFSCR 0x%lx)", p.name, names, p.hfscr);
}

[[nodiscard]] bool create_partition(Partition& p, const PartitionConfig& pc, u32 slot, const BootImage& b) {
    const BundleEntry& image = b.image;
    init_partition(p, pc);
    if (p.hfscr != kGuestHfscr) log_denied_facilities(p);
    p.slot = slot;
    bool shared = pc.mem_mode == MemMode::Shared;
    if (!(shared ? ams_create_partition(p, pc, slot) : map_memory(p, pc)) || !load_partition(p, pc, b)) return false;
    PartitionTableEntry& e = g_hv.partition_table[p.lpid.value];
    e.dw0.set(p.radix.partition_table_dw0());
    e.dw1.set(make_prte_dw1_guest_radix(HostReal{0}, 0));  // radix guest, no process table yet
    if (shared)
        log("partition %s: lpid %u, %u vCPU%s, %lu MiB shared (entitled %lu MiB, weight %u, paging %s at %lu MiB), "
            "image %s (%lu KiB)",
            p.name, p.lpid.value, p.vcpu_count, p.vcpu_count == 1 ? "" : "s", p.mem_bytes >> 20,
            pc.io_entitled_bytes >> 20, pc.mem_weight, pc.paging_device, pc.paging_offset >> 20, pc.image,
            image.size >> 10);
    else
        log("partition %s: lpid %u, %u vCPU%s, %lu MiB dedicated at 0x%lx, image %s (%lu KiB)%s", p.name,
            p.lpid.value, p.vcpu_count, p.vcpu_count == 1 ? "" : "s", p.mem_bytes >> 20, p.mem_base.value, pc.image,
            image.size >> 10, ams_is_psp(p) ? ", paging service partition" : "");
    return true;
}

[[nodiscard]] bool setup_partition_table() {
    auto t = g_hv.frames.alloc(kPartitionTableBytes, kPartitionTableBytes);
    if (!t.ok()) return false;
    g_hv.partition_table_base = t.value;
    g_hv.partition_table = static_cast<PartitionTableEntry*>(arch::host_ptr(t.value));
    std::memset(static_cast<void*>(g_hv.partition_table), 0, kPartitionTableBytes);
    // PTCR: table base | PATS, where the table holds 2^(12 + PATS) bytes.
    g_hv.ptcr = t.value.value | (__builtin_ctzll(kPartitionTableBytes) - 12);
    // LPID 0, the hypervisor: the map its relocated vectors need (mm/host_translation.h).
    constexpr u64 kHostTableBytes = 128 << 10;
    auto chunk = g_hv.frames.alloc(kHostTableBytes, kHostTableBytes);
    if (!chunk.ok()) return false;
    static BumpChunk host_tables;
    host_tables = BumpChunk{chunk.value.value, chunk.value.value + kHostTableBytes};
    return build_host_translation(TablePool{bump_table_alloc, &host_tables}, g_hv.partition_table[0]) == Err::Ok;
}

}  // namespace

Hypervisor& hv() { return g_hv; }

void init_partition(Partition& p, const PartitionConfig& pc) {
    format(p.name, sizeof p.name, "%s", pc.name);
    p.lpid = pc.lpid;
    p.mem_mode = pc.mem_mode;
    p.vcpu_count = pc.vcpus;
    p.watchdog_tb = pc.watchdog_us * (arch::timebase_hz() / 1000000);
    p.lpcr = lpcr::kGuestBase;
    p.hfscr = pc.hfscr;
    for (u32 i = 0; i < p.vcpu_count; ++i) {
        p.vcpus[i].part = &p;
        p.vcpus[i].id = VcpuId{i};
        p.vcpus[i].lazy_sprs.hfscr = p.hfscr;
    }
}

Partition* find_partition(const char* name) {
    for (u32 i = 0; i < g_hv.partition_count; ++i)
        if (!g_hv.partitions[i].gone && std::strcmp(g_hv.partitions[i].name, name) == 0) return &g_hv.partitions[i];
    return nullptr;
}

bool start_partitions(const u8* bundle_data, u64 bundle_size) {
    BundleDiag diag{};
    auto bundle = Bundle::parse(bundle_data, bundle_size, &diag);
    if (!bundle.ok()) {
        log("partition bundle at %p (%lu bytes) is not valid: %s (entry %u); no partition started", bundle_data,
            bundle_size, bundle_error_text(diag.fault), diag.entry);
        return false;
    }
    auto cfg_entry = bundle.value.find("poolvisor.cfg");
    if (!cfg_entry) {
        log("the partition bundle has no poolvisor.cfg; no partition started");
        return false;
    }
    ConfigError err{};
    const char* text = reinterpret_cast<const char*>(cfg_entry->data);
    if (!parse_config(std::string_view(text, cfg_entry->size), g_hv.config, err)) {
        char msg[256];
        format_config_error(err, msg, sizeof msg);
        log("%s", msg);
        log("the configuration has errors; no partition started");
        return false;
    }
    const SystemConfig& cfg = g_hv.config;
    if (!plan_images(cfg, bundle.value)) {
        log("the configuration has errors; no partition started");
        return false;
    }
    g_hv.slice_tb = cfg.hdec_slice_us * (arch::timebase_hz() / 1000000);
    static u8 key[kMigKeyBytes];
    if (!mig_load_key(bundle.value, cfg, key)) {
        log("the configuration has errors; no partition started");
        return false;
    }
    mig_control_init(cfg, key);
    if (!setup_partition_table() || !ams_init(cfg) || !net_init(cfg)) {
        log("no partition started");
        return false;
    }
    // The paging service partition first: shared partitions' boot pages need no PSP, but it is their server.
    for (u32 i = 0; i < cfg.partition_count; ++i) {
        const PartitionConfig& pc = cfg.partitions[i];
        if (cfg.pool.present && std::strcmp(pc.name, cfg.pool.paging_vios) == 0) ams_mark_psp(g_hv.partitions[i]);
    }
    for (u32 i = 0; i < cfg.partition_count; ++i) {
        const PartitionConfig& pc = cfg.partitions[i];
        if (!create_partition(g_hv.partitions[i], pc, i, g_boot[i])) {
            log("no partition started");
            return false;
        }
    }
    g_hv.partition_count = cfg.partition_count;
    g_hv.live_partitions = cfg.partition_count;
    return true;
}

namespace {

// Every vCPU and the partition's MMU, LPCR and FWNMI state as at boot (the
// statistics stay). Caller holds p.lock; p's vCPUs are stopped, off their threads.
void reset_for_restart(Partition& p) {
    partition_console_flush(p);
    p.panel.len = 0;
    for (u32 i = 0; i < p.vcpu_count; ++i) {
        Vcpu& v = p.vcpus[i];
        VcpuStats stats = v.stats;
        VcpuFaultState fault = v.fault;  // its owner, slot, threshold and counters (detached already)
        v.~Vcpu();
        new (&v) Vcpu{};
        v.part = &p;
        v.id = VcpuId{i};
        v.lazy_sprs.hfscr = p.hfscr;
        v.stats = stats;
        v.fault = fault;
        v.fault.phase = FaultPhase::Running;
        v.fault.waiting_on = nullptr;
        v.fault.outstanding = 0;
    }
    p.lpcr = lpcr::kGuestBase;
    p.process_table = 0;
    p.fwnmi_registered = false;
    p.fwnmi_sreset_addr = p.fwnmi_mc_addr = 0;
    PartitionTableEntry& e = g_hv.partition_table[p.lpid.value];
    e.dw1.set(make_prte_dw1_guest_radix(HostReal{0}, 0));
    arch::tlb_flush_partition(p.lpid);
}

// Caller holds p.lock.
void run_again(Partition& p) {
    p.reason[0] = 0;
    p.restart_requested = false;
    p.state = PartitionState::Running;
    make_runnable(p.vcpus[0]);
}

// Pool frames for what load_partition places: image, initrd, RTAS area, device tree.
u64 boot_pages(const BootImage& b) {
    u64 pages = (kRtasSize + kFdtMax) / kPageSize + 2;
    if (!b.elf) pages += align_up(b.image.size, kPageSize) / kPageSize;
    for (u32 i = 0; b.elf && i < b.plan.count; ++i)
        pages += align_up(b.plan.segment[i].file_size, kPageSize) / kPageSize + 1;
    if (b.initrd.size) pages += align_up(b.initrd.size, kPageSize) / kPageSize + 1;
    return pages;
}

// A shared partition's restart waits this long at most for pool frames.
constexpr u64 kRestartRoomMs = 10000;

// One step of a shared partition's restart (restart_stage held by this
// thread, no lock held): false while it must wait (paging I/O in flight,
// no room in the pool yet).
bool shared_restart_step(Partition& p) {
    Pager& pager = g_hv.ams.pager;
    if (!p.restart_unpinned) {
        vpa_partition_stopped(p);  // VPA, DTL, process table: the hypervisor writes none of them any more
        p.restart_unpinned = true;
    }
    // Its pages are scanned once; while its I/O drains only the requests are
    // looked at (a Linux partition has 100k pages and more), then a last sweep.
    if (p.restart_scanned && pager.io_pending(p)) return false;
    p.restart_scanned = true;
    if (!pager.reset_partition(p, &p.restart_dropped)) return false;  // pages with I/O in flight: their completions free them
    if (!p.restart_room_tb)
        log("partition %s: paging state cleared for its restart (%lu paging-device copies dropped)", p.name,
            p.restart_dropped);
    const BootImage& b = g_boot[p.slot];
    u64 now = arch::timebase();
    if (!p.restart_room_tb) p.restart_room_tb = now;
    bool late = now - p.restart_room_tb > kRestartRoomMs * (arch::timebase_hz() / 1000);
    if (!pager.make_room(boot_pages(b)) && !late) return false;
    arch::tlb_flush_partition(p.lpid);  // the emptied partition-scoped table: no translation survives
    bool ok;
    {
        Guard g(p.lock);
        reset_for_restart(p);
        ++p.restarts;
        log("partition %s: restarting (system-reboot, boot %u)", p.name, p.restarts + 1);
    }
    // The pool lock ranks above the partition's: loading (populate) runs without it.
    ok = load_partition(p, g_hv.config.partitions[p.slot], b);
    if (!ok) {
        --p.restarts;
        if (!late) {
            (void)pager.reset_partition(p);  // others took the frames meanwhile: again, from scratch
            return false;
        }
    }
    p.restart_unpinned = false;
    p.restart_scanned = false;
    p.restart_room_tb = 0;
    p.restart_dropped = 0;
    if (!ok) (void)pager.reset_partition(p);
    {
        // Under p.lock: a system-reboot of its new boot (maybe_finish, under
        // the lock too) must find the restart over, or it would be lost.
        Guard g(p.lock);
        if (ok) {
            run_again(p);
        } else {
            p.restart_requested = false;  // it ends now (vcpu_stopped below finishes it)
            format(p.reason, sizeof p.reason, "system-reboot requested; the restart failed");
        }
        __atomic_store_n(&p.restart_stage, u8{0}, __ATOMIC_RELEASE);
        __atomic_sub_fetch(&g_hv.restarts_pending, 1, __ATOMIC_ACQ_REL);
    }
    if (!ok) vcpu_stopped(p.vcpus[0]);
    return true;
}

}  // namespace

bool restart_partition(Partition& p) {
    if (ams_is_psp(p)) return false;
    if (p.mem_mode == MemMode::Shared) {
        // Its frames and paging I/O are the pager's (the pool lock ranks above
        // p.lock): restart_shared_partitions does the rest, from the scheduler.
        if (p.restart_stage) return true;
        g_hv.ams.pager.partition_ended(p);  // its vCPUs leave every request
        __atomic_store_n(&p.restart_stage, u8{1}, __ATOMIC_RELEASE);
        __atomic_add_fetch(&g_hv.restarts_pending, 1, __ATOMIC_ACQ_REL);
        return true;
    }
    const PartitionConfig& pc = g_hv.config.partitions[p.slot];
    // The NIC it owns may still have rings armed in that memory: stopped first.
    if (net_is_owner(p) && !arch::net_device_reset())
        log("partition %s: its network device did not reset; it restarts without it being quiet", p.name);
    std::memset(arch::host_ptr(p.mem_base), 0, p.mem_bytes);  // nothing of the last boot is seen
    reset_for_restart(p);
    ++p.restarts;
    log("partition %s: restarting (system-reboot, boot %u)", p.name, p.restarts + 1);
    if (!load_partition(p, pc, g_boot[p.slot])) {
        --p.restarts;
        return false;
    }
    run_again(p);
    return true;
}

void restart_shared_partitions() {
    if (!__atomic_load_n(&g_hv.restarts_pending, __ATOMIC_ACQUIRE)) return;
    for (u32 i = 0; i < g_hv.partition_count; ++i) {
        Partition& p = g_hv.partitions[i];
        // Stage 1: waiting; 2: a thread is at it (one at a time: the device
        // tree is built in g_fdt_buffer).
        u8 expected = 1;
        if (!__atomic_compare_exchange_n(&p.restart_stage, &expected, u8{2}, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        static u32 busy = 0;
        u32 free_ = 0;
        if (!__atomic_compare_exchange_n(&busy, &free_, 1u, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&p.restart_stage, u8{1}, __ATOMIC_RELEASE);
            return;
        }
        if (!shared_restart_step(p)) __atomic_store_n(&p.restart_stage, u8{1}, __ATOMIC_RELEASE);
        __atomic_store_n(&busy, 0u, __ATOMIC_RELEASE);
    }
}

void launch_partitions() {
    for (u32 i = 0; i < g_hv.partition_count; ++i) make_runnable(g_hv.partitions[i].vcpus[0]);
}

}  // namespace pv
