#include "hv/mig_target.h"

#include <new>

#include "arch/arch.h"
#include "base/format.h"
#include "hv/ams.h"
#include "hv/hv.h"
#include "hv/mig_install.h"
#include "hv/pager.h"
#include "hv/paging_error_log.h"

namespace pv {

Err MigTarget::init(const MigTargetIo& io, std::span<u8> page_states) {
    if (!io.create || !io.write_page || !io.pin || !io.unpin || !io.destroy || !io.pager || !io.errors ||
        page_states.empty())
        return Err::Invalid;
    io_ = io;
    storage_ = page_states;
    reset();
    return Err::Ok;
}

// In place: the staging copy is far larger than a hypervisor stack frame.
void MigTarget::clear_staging() {
    staging_.~MigStaging();
    new (&staging_) MigStaging{};
}

void MigTarget::reset() {
    phase_ = Phase::Idle;
    part_ = nullptr;
    clear_staging();
    pages_ = MigTargetPages{};
    asm_.reset();
    held_ = Held{};
    issuing_ = early_done_ = early_ok_ = false;
    state_installed_ = false;
    pinned_ = 0;
    received_ = 0;
    broken_ = false;
    error_ = MigError::Ok;
    why_[0] = 0;
}

Err MigTarget::fail(MigError e, const char* what) {
    error_ = e;
    format(why_, sizeof why_, "%s: %s", what, mig_error_name(e));
    ++stats_.rejected;
    return Err::Invalid;
}

Err MigTarget::on_record(const u8* rec, u32 len) {
    if (phase_ == Phase::Installed) return fail(MigError::OutOfOrder, "after install");
    MigRecordType type{};
    if (MigError e = mig_check_header(rec, len, type); e != MigError::Ok) return fail(e, "header");
    // While a whole page waits for room, only the chunk that completed it may come (again).
    if (held_.active && type != MigRecordType::PageChunk) return fail(MigError::OutOfOrder, "a page waits for room");
    Err r = Err::Invalid;
    switch (type) {
    case MigRecordType::Start: r = on_start(rec, len); break;
    case MigRecordType::PageStates: r = on_page_states(rec, len); break;
    case MigRecordType::PageChunk: r = on_chunk(rec, len); break;
    case MigRecordType::Complete: r = on_complete(rec, len); break;
    default: r = on_state_record(rec, len, type); break;
    }
    if (r == Err::Ok) ++stats_.records;
    if (r == Err::Busy) ++stats_.busy;
    return r;
}

Err MigTarget::on_start(const u8* rec, u32 len) {
    if (phase_ != Phase::Idle) return fail(MigError::Duplicate, "Start");
    if (MigError e = staging_.apply(rec, len); e != MigError::Ok) return fail(e, "Start");
    const MigStagedStart& s = staging_.start;
    // Only shared partitions move (their pages travel through paging storage).
    if (s.mem_mode != MemMode::Shared) {
        clear_staging();
        return fail(MigError::BadValue, "Start: not a shared-memory partition");
    }
    if (s.logical_pages > storage_.size()) {
        clear_staging();
        return fail(MigError::BadCount, "Start: more pages than this target tracks");
    }
    char why[64] = "";
    Partition* p = io_.create(io_.ctx, s, why, sizeof why);
    if (!p) {
        clear_staging();
        error_ = MigError::Inconsistent;
        format(why_, sizeof why_, "Start: cannot create the partition: %s", why);
        ++stats_.rejected;
        return Err::Invalid;
    }
    if (p->mem_bytes != s.mem_bytes || p->vcpu_count != s.vcpu_count || p->mem_mode != MemMode::Shared ||
        pages_.init(storage_.first(s.logical_pages)) != Err::Ok) {
        io_.destroy(io_.ctx, *p);
        clear_staging();
        return fail(MigError::Inconsistent, "Start: the created partition is not the one staged");
    }
    part_ = p;
    phase_ = Phase::Receiving;
    return Err::Ok;
}

// VcpuCore, VcpuFp, PartitionState, ErrorLog: the final state, sent after the suspend.
Err MigTarget::on_state_record(const u8* rec, u32 len, MigRecordType type) {
    if (phase_ != Phase::Receiving) return fail(MigError::OutOfOrder, "state before Start");
    if (staging_.have_complete) return fail(MigError::OutOfOrder, "state after Complete");
    if (asm_.active()) return fail(MigError::OutOfOrder, "state inside a page's chunks");
    if (MigError e = staging_.apply(rec, len); e != MigError::Ok) return fail(e, "state record");
    (void)type;
    pages_.source_suspended();
    return Err::Ok;
}

Err MigTarget::on_page_states(const u8* rec, u32 len) {
    if (phase_ != Phase::Receiving) return fail(MigError::OutOfOrder, "PageStates before Start");
    if (staging_.have_complete) return fail(MigError::OutOfOrder, "PageStates after Complete");
    if (asm_.active()) return fail(MigError::OutOfOrder, "PageStates inside a page's chunks");
    MigPageStatesView b{};
    if (MigError e = staging_.decode_page_states(rec, len, b); e != MigError::Ok) return fail(e, "PageStates");
    // Count Stored copies that a state without data drops (before they change).
    u64 dropped = 0;
    for (u32 r = 0; r < b.run_count; ++r) {
        if (mig_kind_has_data(b.runs[r].kind)) continue;
        for (u64 i = b.runs[r].first_page; i < u64{b.runs[r].first_page} + b.runs[r].count; ++i)
            dropped += pages_.state(LogicalPage{i}) == MigTgtPage::Stored;
    }
    Err e = pages_.on_states(b);
    if (e == Err::Busy) return Err::Busy;
    if (e != Err::Ok) return fail(MigError::BadIndex, "PageStates");
    stats_.stored_dropped += dropped;
    // The pool says what the newest settled contents are: a page that waits
    // for data reads as zero until its write lands (nothing runs before resume).
    for (u32 r = 0; r < b.run_count; ++r) {
        const auto& run = b.runs[r];
        Err pe = run.kind == MigPageKind::Failed
                     ? io_.pager->mig_page_failed(*part_, LogicalPage{run.first_page}, run.count)
                     : io_.pager->mig_page_zero(*part_, LogicalPage{run.first_page}, run.count);
        if (pe != Err::Ok) return fail(MigError::Inconsistent, "PageStates: the pool refused a page");
    }
    return Err::Ok;
}

Err MigTarget::on_chunk(const u8* rec, u32 len) {
    if (phase_ != Phase::Receiving) return fail(MigError::OutOfOrder, "PageChunk before Start");
    MigChunkView c{};
    if (MigError e = staging_.decode_chunk(rec, len, c); e != MigError::Ok) return fail(e, "PageChunk");
    if (held_.active) {
        if (c.page != held_.page || c.round != held_.round || c.chunk != held_.chunk)
            return fail(MigError::OutOfOrder, "PageChunk: a page waits for room");
        return start_write(c.page);
    }
    // Data only for a page whose newest state announced it (after Complete:
    // a page asked for again after a failed write).
    if (pages_.state(c.page) != MigTgtPage::AwaitData) return fail(MigError::OutOfOrder, "PageChunk: no state asks for data");
    if (asm_.add(c) == MigPageAssembler::Step::Rejected) return fail(MigError::Duplicate, "PageChunk");
    if (asm_.active()) return Err::Ok;  // partial
    ++stats_.pages_received;
    ++received_;
    held_ = Held{true, c.page, c.round, c.chunk};
    return start_write(c.page);
}

// The assembled page of held_ to the paging device (the source still runs,
// or the final round: the pages reach memory by page-in after resume).
Err MigTarget::start_write(LogicalPage lp) {
    issuing_ = true, issuing_lp_ = lp, early_done_ = false;
    bool started = io_.write_page(io_.ctx, *part_, lp, asm_.data());
    issuing_ = false;
    if (!started) {
        ++stats_.writes_refused;
        return Err::Busy;  // still AwaitData, held: the same chunk comes again
    }
    held_ = Held{};
    ++stats_.writes_started;
    // AwaitData (checked when its first chunk came, unchanged since) -> WritingStorage.
    (void)pages_.on_data(lp, false);
    if (early_done_) write_done(lp, early_ok_);
    return Err::Ok;
}

void MigTarget::write_done(LogicalPage lp, bool ok) {
    if (issuing_ && lp == issuing_lp_) {
        early_done_ = true, early_ok_ = ok;
        return;
    }
    if (phase_ != Phase::Receiving || pages_.write_done(lp, ok) != Err::Ok) return;  // stale (after abort)
    ++stats_.writes_done;
    if (!ok) {
        ++stats_.write_failures;
        return;
    }
    if (io_.pager->mig_page_stored(*part_, lp) != Err::Ok) {
        broken_ = true;
        error_ = MigError::Inconsistent;
        format(why_, sizeof why_, "page 0x%lx: the pool refused its stored copy", lp.value);
    }
}

std::optional<LogicalPage> MigTarget::awaiting_data(LogicalPage from) const {
    if (!staging_.have_complete) return std::nullopt;
    for (u64 i = from.value; i < pages_.pages(); ++i)
        if (pages_.state(LogicalPage{i}) == MigTgtPage::AwaitData) return LogicalPage{i};
    return std::nullopt;
}

Err MigTarget::on_complete(const u8* rec, u32 len) {
    if (phase_ != Phase::Receiving) return fail(MigError::OutOfOrder, "Complete before Start");
    if (asm_.active()) return fail(MigError::OutOfOrder, "Complete inside a page's chunks");
    if (staging_.have_complete) return fail(MigError::Duplicate, "Complete");
    if (MigError e = staging_.apply(rec, len); e != MigError::Ok) return fail(e, "Complete");
    MigError bad = !staging_.complete() ? MigError::OutOfOrder
                   : !totals_match() || staging_.totals.data_pages_sent != received_
                       ? MigError::Inconsistent
                       : MigError::Ok;
    if (bad != MigError::Ok) {
        // apply_complete staged only these two.
        staging_.have_complete = false;
        staging_.totals = MigTotals{};
        return fail(bad, bad == MigError::OutOfOrder ? "Complete before the final state"
                                                     : "Complete: totals differ from the pages received");
    }
    pages_.source_suspended();
    return Err::Ok;
}

// Every page's newest state is in: Zero and Failed as the totals say, the
// rest announced data (written, being written, or asked for again).
bool MigTarget::totals_match() const {
    const MigTotals& t = staging_.totals;
    u64 data = t.pages[static_cast<u32>(MigPageKind::ResidentClean)] +
               t.pages[static_cast<u32>(MigPageKind::ResidentDirty)] +
               t.pages[static_cast<u32>(MigPageKind::PagedOut)];
    u64 have_data = pages_.count(MigTgtPage::AwaitData) + pages_.count(MigTgtPage::WritingStorage) +
                    pages_.count(MigTgtPage::WritingMemory) + pages_.count(MigTgtPage::Stored) +
                    pages_.count(MigTgtPage::InMemory);
    return pages_.count(MigTgtPage::Unknown) == 0 &&
           pages_.count(MigTgtPage::Zero) == t.pages[static_cast<u32>(MigPageKind::Zero)] &&
           pages_.count(MigTgtPage::Failed) == t.pages[static_cast<u32>(MigPageKind::Failed)] && have_data == data;
}

bool MigTarget::ready() const {
    return phase_ == Phase::Receiving && staging_.have_complete && staging_.complete() && !held_.active && !broken_ && pages_.ready_to_resume() && totals_match();
}

Err MigTarget::install(u64 now_tb) {
    if (phase_ != Phase::Receiving) return Err::Invalid;
    if (!ready()) return Err::Busy;
    Partition& p = *part_;
    // Pins first: a pin that pages in parks the vCPU it was made for; the
    // staged state installed after it is what the vCPU resumes with.
    if (Err e = pin_areas(); e != Err::Ok) return e;
    if (!state_installed_) {
        // Oldest first, for the new slot and LPID (the newest stays newest).
        // Reversed in place (a copy would not fit a hypervisor stack frame).
        PagingError* e = staging_.errors;
        u32 n = staging_.error_count;
        for (u32 i = 0; i < n / 2; ++i) {
            PagingError t = e[i];
            e[i] = e[n - 1 - i];
            e[n - 1 - i] = t;
        }
        for (u32 i = 0; i < n; ++i) e[i].partition_slot = p.slot, e[i].lpid = p.lpid;
        if (io_.errors->adopt(p.slot, e, n, staging_.part.paging_errors) != Err::Ok)
            return fail(MigError::Inconsistent, "install: the paging error log refused the entries");
        mig_install_partition(staging_.part, p);
        for (u32 i = 0; i < p.vcpu_count; ++i) mig_install_vcpu(staging_.vcpus[i], p.vcpus[i], now_tb);
        register_areas();
        state_installed_ = true;
    }
    if (pages_.resume() != Err::Ok) return fail(MigError::Inconsistent, "install: pages not settled");
    phase_ = Phase::Installed;
    return Err::Ok;
}

namespace {

// The registrations that pin, in pin order: per vCPU its VPA, DTL and SLB
// shadow, then the process table and the RTAS area.
struct AreaRef {
    Vcpu* v;
    u64 addr, len;
    VpaArea* area;  // vCPU areas; nullptr: the partition's
};

AreaRef area_at(Partition& p, const MigStaging& s, u32 k) {
    u32 n = p.vcpu_count;
    if (k < 3 * n) {
        Vcpu& v = p.vcpus[k / 3];
        const MigStagedVcpu& sv = s.vcpus[k / 3];
        const MigStagedArea& a = k % 3 == 0 ? sv.vpa : k % 3 == 1 ? sv.dtl : sv.slb;
        VpaArea* dst = k % 3 == 0 ? &v.vpa.vpa : k % 3 == 1 ? &v.vpa.dtl : &v.vpa.slb;
        return {&v, a.addr, a.len, dst};
    }
    if (k == 3 * n) return {&p.vcpus[0], s.part.prtb_pin_base, s.part.prtb_pin_len, nullptr};
    return {&p.vcpus[0], s.part.rtas_base, s.part.rtas_size, nullptr};
}

u8* host_of(const Partition& p, u64 addr) {
    auto frame = p.radix.lookup(page_of(LogicalAddr{addr}));
    if (!frame) return nullptr;
    return static_cast<u8*>(arch::host_ptr(HostReal{base_of(*frame).value + (addr & (kPageSize - 1))}));
}

}  // namespace

Err MigTarget::pin_areas() {
    Partition& p = *part_;
    const u32 total = 3 * p.vcpu_count + 2;
    for (; pinned_ < total; ++pinned_) {
        AreaRef a = area_at(p, staging_, pinned_);
        if (a.len) {
            switch (io_.pin(io_.ctx, *a.v, a.addr, a.len)) {
            case PinResult::Pinned: break;
            case PinResult::Blocked: return Err::Busy;
            default: return fail(MigError::BadAddress, "install: an area cannot be pinned");
            }
        }
    }
    return Err::Ok;
}

// Every area pinned and the vCPUs installed (which leaves them unregistered):
// the registrations, at the same logical addresses.
void MigTarget::register_areas() {
    Partition& p = *part_;
    for (u32 k = 0; k < 3 * p.vcpu_count; ++k) {
        AreaRef a = area_at(p, staging_, k);
        *a.area = VpaArea{a.addr, static_cast<u32>(a.len), a.addr ? host_of(p, a.addr) : nullptr};
    }
    p.process_table = staging_.part.process_table;
    p.prtb_pin_base = staging_.part.prtb_pin_base, p.prtb_pin_len = staging_.part.prtb_pin_len;
    if (PartitionTableEntry* t = hv().partition_table) t[p.lpid.value].dw1.set(p.process_table);
}

void MigTarget::unpin_all() {
    Partition& p = *part_;
    for (u32 k = 0; k < pinned_; ++k) {
        AreaRef a = area_at(p, staging_, k);
        if (a.len) io_.unpin(io_.ctx, p, a.addr, a.len);
        if (a.area) *a.area = VpaArea{};
    }
    p.process_table = 0, p.prtb_pin_base = p.prtb_pin_len = 0;
    pinned_ = 0;
}

void MigTarget::release() {
    if (phase_ == Phase::Installed) reset();
}

void MigTarget::abort() {
    if (phase_ == Phase::Installed) return;
    if (part_) {
        unpin_all();
        io_.destroy(io_.ctx, *part_);
    }
    reset();
    ++stats_.aborts;
}

}  // namespace pv
