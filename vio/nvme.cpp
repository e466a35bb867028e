// Polling NVMe driver: see nvme.h. Register and structure layouts are those
// of the NVM Express base specification (1.4); all of them little-endian.
#include "vio/nvme.h"

#include "base/endian.h"

namespace pv::nvme {
namespace {

// Controller registers.
constexpr u32 kRegCap = 0x00, kRegVs = 0x08, kRegCc = 0x14, kRegCsts = 0x1c, kRegAqa = 0x24, kRegAsq = 0x28,
              kRegAcq = 0x30;
constexpr u32 kCcEnable = 1, kCcShnNormal = 1u << 14, kCcShnMask = 3u << 14;
constexpr u32 kCcIosqes = 6u << 16, kCcIocqes = 4u << 20;  // 64-byte SQEs, 16-byte CQEs; MPS 0 = 4 KiB; CSS 0 = NVM
constexpr u32 kCstsRdy = 1, kCstsCfs = 2, kCstsShstMask = 3u << 2, kCstsShstDone = 2u << 2;

// Opcodes.
constexpr u8 kAdminCreateSq = 0x01, kAdminCreateCq = 0x05, kAdminIdentify = 0x06, kAdminSetFeatures = 0x09;
constexpr u8 kIoFlush = 0x00, kIoWrite = 0x01, kIoRead = 0x02;
constexpr u32 kFeatureNumQueues = 0x07;

// Pages of the DMA area (then the slots' PRP lists).
enum Page : u32 { kAdminSq, kAdminCq, kIoSq, kIoCq, kIdentify, kPrpLists };
static_assert(kPrpLists == 5);

constexpr u32 kMaxTransferPages = kPrpListEntries;  // a slot's PRP list, PRP1 besides
constexpr u32 kSlotBits = 5;                        // cid = generation << 5 | slot

constexpr bool kHostLittle = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
constexpr u32 le32(u32 v) { return kHostLittle ? v : byteswap(v); }
constexpr u64 le64(u64 v) { return kHostLittle ? v : byteswap(v); }

u32 load_le32(const u8* p) { return u32{p[0]} | u32{p[1]} << 8 | u32{p[2]} << 16 | u32{p[3]} << 24; }
u64 load_le64(const u8* p) { return load_le32(p) | u64{load_le32(p + 4)} << 32; }

void zero(void* p, u64 n) { __builtin_memset(p, 0, n); }

// Identify strings are space-padded ASCII without a terminator.
void copy_id_string(char* out, const u8* in, u32 n) {
    u32 len = 0;
    for (u32 i = 0; i < n; ++i) {
        char c = static_cast<char>(in[i]);
        out[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
        if (c != ' ' && c != 0) len = i + 1;
    }
    out[len] = 0;
}

}  // namespace

const char* status_name(u32 s) {
    switch (s) {
    case kOk: return "ok";
    case kTimeout: return "timeout";
    case kFatal: return "controller fatal status";
    case kUnsupported: return "unsupported controller";
    case kBadLbaFormat: return "namespace 1 does not use 512-byte blocks";
    case kNoNamespace: return "no namespace 1";
    case kInvalid: return "invalid request";
    default: break;
    }
    switch (sct_of(s)) {
    case 0:
        switch (sc_of(s)) {
        case 0x01: return "invalid opcode";
        case 0x02: return "invalid field";
        case 0x04: return "data transfer error";
        case 0x06: return "internal error";
        case 0x0b: return "invalid namespace";
        case 0x80: return "LBA out of range";
        default: return "generic command error";
        }
    case 1: return "command specific error";
    case 2:
        switch (sc_of(s)) {
        case 0x80: return "write fault";
        case 0x81: return "unrecovered read error";
        default: return "media error";
        }
    case 3: return "path error";
    default: return "vendor specific error";
    }
}

u64 NvmeDriver::deadline(u32 ms) const { return clock_.now(clock_.ctx) + u64{ms} * clock_.ticks_per_ms; }
bool NvmeDriver::expired(u64 dl) const { return static_cast<i64>(clock_.now(clock_.ctx) - dl) > 0; }

u32 NvmeDriver::wait_ready(bool want) {
    u64 dl = deadline(ready_timeout_ms_);
    for (;;) {
        u32 csts = hw_.read32(hw_.ctx, kRegCsts);
        if (csts == ~u32{0}) return kFatal;  // nothing answers at the BAR
        if (want && (csts & kCstsCfs)) return kFatal;
        if (((csts & kCstsRdy) != 0) == want) return kOk;
        if (expired(dl)) return kTimeout;
    }
}

u32 NvmeDriver::init() {
    enabled_ = io_ready_ = false;
    if (!dma_.base || dma_.size < kDmaAreaBytes || (reinterpret_cast<u64>(dma_.base) & (kNvmePage - 1)) ||
        !dma_.dma_addr || !clock_.now || !clock_.ticks_per_ms)
        return kInvalid;
    cap_ = hw_.read64(hw_.ctx, kRegCap);
    vs_ = hw_.read32(hw_.ctx, kRegVs);
    if (cap_ == ~u64{0}) return kFatal;
    u32 mqes = static_cast<u32>(cap_ & 0xffff) + 1;
    u32 mpsmin = static_cast<u32>(cap_ >> 48) & 0xf;
    bool nvm_css = (cap_ >> 37) & 1;
    if (mpsmin != 0 || !nvm_css || mqes < 2) return kUnsupported;
    depth_ = mqes < kQueueDepth ? mqes : kQueueDepth;
    stride_ = 4u << ((cap_ >> 32) & 0xf);
    u32 to_ms = static_cast<u32>((cap_ >> 24) & 0xff) * 500;
    ready_timeout_ms_ = to_ms > cfg_.min_ready_timeout_ms ? to_ms : cfg_.min_ready_timeout_ms;

    // Disable. A controller still coming up (EN=1, RDY=0) is let finish first.
    u32 cc = hw_.read32(hw_.ctx, kRegCc);
    if (cc & kCcEnable) {
        if (!(hw_.read32(hw_.ctx, kRegCsts) & kCstsRdy)) (void)wait_ready(true);
        hw_.write32(hw_.ctx, kRegCc, cc & ~kCcEnable);
    }
    if (u32 s = wait_ready(false)) return s;

    zero(page(kAdminSq), kNvmePage);
    zero(page(kAdminCq), kNvmePage);
    admin_ = Queue{reinterpret_cast<Sqe*>(page(kAdminSq)), reinterpret_cast<Cqe*>(page(kAdminCq)), 0, 0, 0, 1};
    io_ = Queue{};
    reset_slots();
    hw_.write32(hw_.ctx, kRegAqa, (depth_ - 1) << 16 | (depth_ - 1));
    hw_.write64(hw_.ctx, kRegAsq, dma_of(admin_.sq));
    hw_.write64(hw_.ctx, kRegAcq, dma_of(admin_.cq));
    hw_.write32(hw_.ctx, kRegCc, kCcIocqes | kCcIosqes | kCcEnable);
    if (u32 s = wait_ready(true)) return s;
    enabled_ = true;
    return kOk;
}

u32 NvmeDriver::submit_and_wait(Queue& q, Sqe cmd, u32* dw0_out) {
    if (next_cid_ == 0xffff) next_cid_ = 0;  // 0xffff means "no command" in error logs
    u16 cid = next_cid_++;
    u16 next_tail = static_cast<u16>((q.tail + 1) % depth_);
    if (next_tail == q.sq_head) return kTimeout;  // full of commands that never completed

    Sqe* e = &q.sq[q.tail];
    e->cdw0 = le32((cmd.cdw0 & 0xffff) | u32{cid} << 16);
    e->nsid = le32(cmd.nsid);
    e->rsvd2 = e->rsvd3 = 0;
    e->mptr = 0;
    e->prp1 = le64(cmd.prp1);
    e->prp2 = le64(cmd.prp2);
    e->cdw10 = le32(cmd.cdw10);
    e->cdw11 = le32(cmd.cdw11);
    e->cdw12 = le32(cmd.cdw12);
    e->cdw13 = le32(cmd.cdw13);
    e->cdw14 = le32(cmd.cdw14);
    e->cdw15 = le32(cmd.cdw15);
    q.tail = next_tail;
    hw_.write32(hw_.ctx, sq_doorbell(q.id), q.tail);  // orders the entry before the doorbell

    u64 dl = deadline(cfg_.command_timeout_ms);
    for (;;) {
        volatile Cqe* c = &q.cq[q.head];
        u32 dw3 = le32(c->dw3);
        if (((dw3 >> 16) & 1) != q.phase) {
            if (expired(dl)) {
                u32 csts = hw_.read32(hw_.ctx, kRegCsts);
                return (csts == ~u32{0} || (csts & kCstsCfs)) ? kFatal : kTimeout;
            }
            continue;
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);  // the rest of the entry (and the data) after the phase
        u32 dw0 = le32(c->dw0), dw2 = le32(c->dw2);
        q.sq_head = static_cast<u16>(dw2 & 0xffff);
        if (++q.head == depth_) {
            q.head = 0;
            q.phase ^= 1;
        }
        hw_.write32(hw_.ctx, cq_doorbell(q.id), q.head);
        if ((dw3 & 0xffff) != cid) continue;  // late completion of a command we gave up on
        if (dw0_out) *dw0_out = dw0;
        return (dw3 >> 17) & 0x7ff;  // SCT and SC (CRD, More and DNR dropped)
    }
}

u32 NvmeDriver::identify() {
    if (!enabled_) return kInvalid;
    u8* id = page(kIdentify);
    zero(id, kNvmePage);
    Sqe c{};
    c.cdw0 = kAdminIdentify;
    c.prp1 = dma_of(id);
    c.cdw10 = 1;  // CNS 1: controller
    if (u32 s = submit_and_wait(admin_, c)) return s;
    copy_id_string(serial_, id + 4, 20);
    copy_id_string(model_, id + 24, 40);
    copy_id_string(firmware_, id + 64, 8);
    u32 mdts = id[77];
    u32 nn = load_le32(id + 516);
    u64 max_pages = kMaxTransferPages;
    if (mdts && mdts < 20 && (u64{1} << mdts) < max_pages) max_pages = u64{1} << mdts;
    u64 blocks = max_pages * kNvmePage / kLbaBytes;
    max_blocks_ = static_cast<u32>(blocks > 0x10000 ? 0x10000 : blocks);
    if (nn == 0) return kNoNamespace;

    zero(id, kNvmePage);
    c = Sqe{};
    c.cdw0 = kAdminIdentify;
    c.nsid = 1;
    c.prp1 = dma_of(id);
    c.cdw10 = 0;  // CNS 0: namespace
    if (u32 s = submit_and_wait(admin_, c)) return s == 0x0b ? kNoNamespace : s;
    u64 nsze = load_le64(id);
    if (nsze == 0) return kNoNamespace;
    u32 nlbaf = id[25];
    u32 flbas = id[26] & 0xf;
    if (flbas > nlbaf) return kBadLbaFormat;
    u32 lbaf = load_le32(id + 128 + 4 * flbas);
    u32 ms = lbaf & 0xffff, lbads = (lbaf >> 16) & 0xff;
    if (lbads != 9 || ms != 0) return kBadLbaFormat;
    blocks_ = nsze;
    return kOk;
}

u32 NvmeDriver::create_io_queues() {
    if (!enabled_) return kInvalid;
    io_ready_ = false;
    Sqe c{};
    c.cdw0 = kAdminSetFeatures;
    c.cdw10 = kFeatureNumQueues;
    c.cdw11 = 0;  // one submission and one completion queue (0-based counts)
    if (u32 s = submit_and_wait(admin_, c)) return s;

    zero(page(kIoSq), kNvmePage);
    zero(page(kIoCq), kNvmePage);
    Queue q{reinterpret_cast<Sqe*>(page(kIoSq)), reinterpret_cast<Cqe*>(page(kIoCq)), 1, 0, 0, 1};
    c = Sqe{};
    c.cdw0 = kAdminCreateCq;
    c.prp1 = dma_of(q.cq);
    c.cdw10 = (depth_ - 1) << 16 | q.id;
    c.cdw11 = 1;  // physically contiguous, interrupts off
    if (u32 s = submit_and_wait(admin_, c)) return s;
    c = Sqe{};
    c.cdw0 = kAdminCreateSq;
    c.prp1 = dma_of(q.sq);
    c.cdw10 = (depth_ - 1) << 16 | q.id;
    c.cdw11 = u32{q.id} << 16 | 1;  // completions to CQ 1, physically contiguous
    if (u32 s = submit_and_wait(admin_, c)) return s;
    io_ = q;
    reset_slots();
    io_ready_ = true;
    return kOk;
}

void NvmeDriver::reset_slots() {
    for (Slot& sl : slots_) sl = Slot{};
    in_flight_ = in_flight_async_ = 0;
    // At most depth - 1 commands: neither queue can then overflow (the SQ
    // entries we know taken never exceed the commands not yet completed).
    slot_limit_ = depth_ - 1 < kCommandSlots ? depth_ - 1 : kCommandSlots;
    async_limit_ = slot_limit_ - 1;  // one slot always left for read()/write()
}

u32 NvmeDriver::start(u8 opcode, u64 lba, u32 count, u64 dma, const u64* pages, u32 n, bool async, u64 cookie,
                      u32& slot) {
    if (!io_ready_) return kInvalid;
    Sqe c{};
    c.cdw0 = opcode;
    c.nsid = 1;
    u64 rest = 0;       // PRP entries after PRP1
    u64 next = 0;       // contiguous: the first page after PRP1's
    if (opcode != kIoFlush) {
        if (pages) {
            u64 blocks = u64{n} * (kNvmePage / kLbaBytes);
            if (n == 0 || n > kMaxTransferPages || blocks > max_blocks_ || lba >= blocks_ || blocks > blocks_ - lba)
                return kInvalid;
            for (u32 i = 0; i < n; ++i)
                if (pages[i] & (kNvmePage - 1)) return kInvalid;
            count = static_cast<u32>(blocks);
            c.prp1 = pages[0];
            rest = n - 1;
        } else {
            if (count == 0 || count > max_blocks_ || (dma & 3) || lba >= blocks_ || count > blocks_ - lba)
                return kInvalid;
            u64 bytes = u64{count} * kLbaBytes, first = kNvmePage - (dma & (kNvmePage - 1));
            c.prp1 = dma;
            next = (dma & ~(kNvmePage - 1)) + kNvmePage;
            rest = bytes > first ? (bytes - first + kNvmePage - 1) / kNvmePage : 0;
        }
        c.cdw10 = static_cast<u32>(lba);
        c.cdw11 = static_cast<u32>(lba >> 32);
        c.cdw12 = count - 1;
    }
    if (in_flight_ >= slot_limit_ || (async && in_flight_async_ >= async_limit_)) return kBusy;
    u16 next_tail = static_cast<u16>((io_.tail + 1) % depth_);
    if (next_tail == io_.sq_head) return kBusy;  // cannot happen within slot_limit_; never overrun the SQ
    u32 i = 0;
    while (slots_[i].state != kSlotFree) ++i;  // in_flight_ < slot_limit_ ≤ kCommandSlots: one is free
    if (rest == 1) {
        c.prp2 = pages ? pages[1] : next;
    } else if (rest > 1) {
        u64* list = prp_list(i);
        for (u64 k = 0; k < rest; ++k) list[k] = le64(pages ? pages[k + 1] : next + k * kNvmePage);
        c.prp2 = dma_of(list);
    }
    if (++generation_ == (0xffff >> kSlotBits)) generation_ = 0;  // cid 0xffff means "no command"
    Slot& sl = slots_[i];
    sl = Slot{cookie, deadline(cfg_.command_timeout_ms), 0, static_cast<u16>(generation_ << kSlotBits | i),
              async ? kSlotAsync : kSlotSync, async, false};
    ++in_flight_;
    if (async) ++in_flight_async_;

    Sqe* e = &io_.sq[io_.tail];
    e->cdw0 = le32(c.cdw0 | u32{sl.cid} << 16);
    e->nsid = le32(c.nsid);
    e->rsvd2 = e->rsvd3 = 0;
    e->mptr = 0;
    e->prp1 = le64(c.prp1);
    e->prp2 = le64(c.prp2);
    e->cdw10 = le32(c.cdw10);
    e->cdw11 = le32(c.cdw11);
    e->cdw12 = le32(c.cdw12);
    e->cdw13 = e->cdw14 = e->cdw15 = 0;
    io_.tail = next_tail;
    // The entry and the PRP list before the doorbell. The fence keeps the
    // compiler's order; for the device, the write accessor's own barrier does
    // it (sync on POWER: lwsync does not order against a cache-inhibited store).
    __atomic_thread_fence(__ATOMIC_RELEASE);
    hw_.write32(hw_.ctx, sq_doorbell(io_.id), io_.tail);
    slot = i;
    return kOk;
}

void NvmeDriver::reap() {
    bool consumed = false;
    for (;;) {
        volatile Cqe* c = &io_.cq[io_.head];
        u32 dw3 = le32(c->dw3);
        if (((dw3 >> 16) & 1) != io_.phase) break;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);  // the rest of the entry (and the data) after the phase
        dw3 = le32(c->dw3);
        u32 dw2 = le32(c->dw2);
        io_.sq_head = static_cast<u16>(dw2 & 0xffff);
        if (++io_.head == depth_) {
            io_.head = 0;
            io_.phase ^= 1;
        }
        consumed = true;
        u16 cid = static_cast<u16>(dw3 & 0xffff);
        Slot& sl = slots_[cid & (kCommandSlots - 1)];
        if (sl.cid != cid) continue;  // not a command of ours (any more)
        if (sl.state == kSlotLost) {  // the late answer of a command given up on: its slot is free again
            sl.state = kSlotFree;
            --in_flight_;
            if (sl.async) --in_flight_async_;
            continue;
        }
        if (sl.state != kSlotAsync && sl.state != kSlotSync) continue;
        sl.status = (dw3 >> 17) & 0x7ff;  // SCT and SC (CRD, More and DNR apart)
        sl.dnr = dw3 >> 31;
        sl.state = kSlotDone;
    }
    // One head update for everything consumed: the CQ slots are free again.
    if (consumed) hw_.write32(hw_.ctx, cq_doorbell(io_.id), io_.head);
}

u32 NvmeDriver::lost_status() const {
    u32 csts = hw_.read32(hw_.ctx, kRegCsts);
    return (csts == ~u32{0} || (csts & kCstsCfs)) ? kFatal : kTimeout;
}

u32 NvmeDriver::poll(IoCompletion* out, u32 max) {
    if (!io_ready_ || in_flight_async_ == 0) return 0;
    reap();
    u32 n = 0;
    for (u32 i = 0; i < kCommandSlots && n < max; ++i) {
        Slot& sl = slots_[i];
        if (!sl.async) continue;
        if (sl.state == kSlotDone) {
            out[n++] = IoCompletion{sl.cookie, sl.status, sl.dnr};
            sl.state = kSlotFree;
            --in_flight_;
            --in_flight_async_;
        } else if (sl.state == kSlotAsync && expired(sl.deadline)) {
            out[n++] = IoCompletion{sl.cookie, lost_status(), false};
            sl.state = kSlotLost;  // still counted in flight: it may still read its PRP list
        }
    }
    return n;
}

u32 NvmeDriver::wait_slot(u32 i) {
    Slot& sl = slots_[i];
    for (;;) {
        reap();
        if (sl.state == kSlotDone) {
            sl.state = kSlotFree;
            --in_flight_;
            last_dnr_ = sl.dnr;
            return sl.status;
        }
        if (expired(sl.deadline)) {
            sl.state = kSlotLost;
            return lost_status();
        }
    }
}

u32 NvmeDriver::sync_io(u8 opcode, u64 lba, u32 count, u64 dma, const u64* pages, u32 n) {
    last_dnr_ = false;
    u32 slot = 0;
    u32 s = start(opcode, lba, count, dma, pages, n, false, 0, slot);
    if (s == kBusy) return kTimeout;  // every slot held by commands that never completed
    return s ? s : wait_slot(slot);
}

u32 NvmeDriver::submit(bool write, u64 lba, u32 count, u64 dma, u64 cookie) {
    u32 slot = 0;
    return start(write ? kIoWrite : kIoRead, lba, count, dma, nullptr, 0, true, cookie, slot);
}
u32 NvmeDriver::submit_pages(bool write, u64 lba, const u64* pages, u32 n, u64 cookie) {
    u32 slot = 0;
    if (!pages) return kInvalid;
    return start(write ? kIoWrite : kIoRead, lba, 0, 0, pages, n, true, cookie, slot);
}

u32 NvmeDriver::read(u64 lba, u32 count, u64 dma) { return sync_io(kIoRead, lba, count, dma, nullptr, 0); }
u32 NvmeDriver::write(u64 lba, u32 count, u64 dma) { return sync_io(kIoWrite, lba, count, dma, nullptr, 0); }
u32 NvmeDriver::read_pages(u64 lba, const u64* pages, u32 n) {
    return pages ? sync_io(kIoRead, lba, 0, 0, pages, n) : kInvalid;
}
u32 NvmeDriver::write_pages(u64 lba, const u64* pages, u32 n) {
    return pages ? sync_io(kIoWrite, lba, 0, 0, pages, n) : kInvalid;
}
u32 NvmeDriver::flush() { return sync_io(kIoFlush, 0, 0, 0, nullptr, 0); }

u32 NvmeDriver::shutdown() {
    if (!enabled_) return kOk;
    enabled_ = io_ready_ = false;
    u32 cc = hw_.read32(hw_.ctx, kRegCc);
    hw_.write32(hw_.ctx, kRegCc, (cc & ~kCcShnMask) | kCcShnNormal);
    u64 dl = deadline(ready_timeout_ms_);
    u32 result = kOk;
    for (;;) {
        u32 csts = hw_.read32(hw_.ctx, kRegCsts);
        if (csts == ~u32{0}) return kFatal;
        if ((csts & kCstsShstMask) == kCstsShstDone) break;
        if (expired(dl)) {
            result = kTimeout;
            break;
        }
    }
    hw_.write32(hw_.ctx, kRegCc, hw_.read32(hw_.ctx, kRegCc) & ~(kCcEnable | kCcShnMask));
    u32 s = wait_ready(false);
    return result ? result : s;
}

}  // namespace pv::nvme
