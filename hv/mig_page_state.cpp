#include "hv/mig_page_state.h"

namespace pv {

MigClass mig_classify(const PageInfo& pg) {
    // A failed read-ahead (error without lost) keeps its device copy: PagedOut.
    if (pg.lost) return {MigPageKind::Failed, false};
    switch (pg.state) {
    case PageState::NotResident:
        return {pg.on_device ? MigPageKind::PagedOut : MigPageKind::Zero, false};
    case PageState::PageInPending:
        return {MigPageKind::Zero, true};
    case PageState::Resident:
    case PageState::PageOutPending:  // the frame still holds the data
        break;
    }
    if (!pg.on_device_valid) return {MigPageKind::ResidentDirty, false};
    // Clean against zero-fill: the frame holds zeros (docs/shared-pool.md).
    return {pg.on_device ? MigPageKind::ResidentClean : MigPageKind::Zero, false};
}

// ---- source ----

Err MigSourcePages::init(std::span<u8> storage) {
    if (storage.empty() || storage.size() > (u64{1} << 32)) return Err::Invalid;
    *this = MigSourcePages{};
    states_ = storage;
    for (u8& b : states_) b = static_cast<u8>(MigSrcPage::Unsent) | kNoKind << 3;
    counts_[static_cast<u32>(MigSrcPage::Unsent)] = storage.size();
    return Err::Ok;
}

MigSrcPage MigSourcePages::state(LogicalPage lp) const {
    return in_range(lp) ? state_of(states_[lp.value]) : MigSrcPage::Unsent;
}

std::optional<MigPageKind> MigSourcePages::sent_kind(LogicalPage lp) const {
    if (!in_range(lp) || kind_of(states_[lp.value]) == kNoKind) return std::nullopt;
    return static_cast<MigPageKind>(kind_of(states_[lp.value]));
}

void MigSourcePages::set(u64 i, MigSrcPage s, u8 kind) {
    u8 old = states_[i];
    --counts_[static_cast<u32>(state_of(old))];
    ++counts_[static_cast<u32>(s)];
    if (kind_of(old) != kNoKind) --kinds_[kind_of(old)];
    if (kind != kNoKind) ++kinds_[kind];
    states_[i] = static_cast<u8>(static_cast<u8>(s) | kind << 3);
}

std::optional<LogicalPage> MigSourcePages::next_to_send() {
    while (cursor_ < states_.size()) {
        u64 i = cursor_++;
        MigSrcPage s = state_of(states_[i]);
        if (s == MigSrcPage::Unsent || s == MigSrcPage::Dirty) return LogicalPage{i};
    }
    return std::nullopt;
}

Err MigSourcePages::sent(LogicalPage lp, MigPageKind kind) {
    if (!in_range(lp)) return Err::NotFound;
    if (static_cast<u8>(kind) > kMigPageKindLast || kind == MigPageKind::PagedOut) return Err::Invalid;
    MigSrcPage s = state_of(states_[lp.value]);
    if (s != MigSrcPage::Unsent && s != MigSrcPage::Dirty && s != MigSrcPage::Sending && s != MigSrcPage::SendStale)
        return Err::Invalid;
    if (mig_kind_has_data(kind)) ++data_pages_sent_;
    MigSrcPage next = s == MigSrcPage::SendStale    ? MigSrcPage::Dirty
                      : kind == MigPageKind::Failed ? MigSrcPage::Failed
                                                    : MigSrcPage::Sent;
    set(lp.value, next, static_cast<u8>(kind));
    return Err::Ok;
}

Err MigSourcePages::start_send(LogicalPage lp) {
    if (!in_range(lp)) return Err::NotFound;
    u8 b = states_[lp.value];
    MigSrcPage s = state_of(b);
    if (s != MigSrcPage::Unsent && s != MigSrcPage::Dirty) return Err::Invalid;
    set(lp.value, MigSrcPage::Sending, kind_of(b));
    return Err::Ok;
}

Err MigSourcePages::cancel_send(LogicalPage lp) {
    if (!in_range(lp)) return Err::NotFound;
    u8 b = states_[lp.value];
    MigSrcPage s = state_of(b);
    if (s != MigSrcPage::Sending && s != MigSrcPage::SendStale) return Err::Invalid;
    set(lp.value, kind_of(b) == kNoKind ? MigSrcPage::Unsent : MigSrcPage::Dirty, kind_of(b));
    return Err::Ok;
}

Err MigSourcePages::start_read(LogicalPage lp) {
    if (!in_range(lp)) return Err::NotFound;
    u8 b = states_[lp.value];
    MigSrcPage s = state_of(b);
    if (s != MigSrcPage::Unsent && s != MigSrcPage::Dirty && s != MigSrcPage::Sending && s != MigSrcPage::SendStale)
        return Err::Invalid;
    // The target still holds the old kind.
    set(lp.value, s == MigSrcPage::SendStale ? MigSrcPage::ReadStale : MigSrcPage::Reading, kind_of(b));
    return Err::Ok;
}

Err MigSourcePages::read_done(LogicalPage lp, bool ok) {
    if (!in_range(lp)) return Err::NotFound;
    u8 b = states_[lp.value];
    MigSrcPage s = state_of(b);
    if (s != MigSrcPage::Reading && s != MigSrcPage::ReadStale) return Err::Invalid;
    if (!ok) {
        ++read_failures_;
        set(lp.value, kind_of(b) == kNoKind ? MigSrcPage::Unsent : MigSrcPage::Dirty, kind_of(b));
        return Err::Ok;
    }
    ++data_pages_sent_;
    u8 k = static_cast<u8>(MigPageKind::PagedOut);
    set(lp.value, s == MigSrcPage::Reading ? MigSrcPage::Sent : MigSrcPage::Dirty, k);
    return Err::Ok;
}

Err MigSourcePages::note_changed(LogicalPage lp) {
    if (!in_range(lp)) return Err::NotFound;
    if (phase_ != MigPhase::Precopy) ++late_changes_;
    u8 b = states_[lp.value];
    switch (state_of(b)) {
    case MigSrcPage::Sent:
    case MigSrcPage::Failed:
        set(lp.value, MigSrcPage::Dirty, kind_of(b));
        break;
    case MigSrcPage::Reading:
        set(lp.value, MigSrcPage::ReadStale, kind_of(b));
        break;
    case MigSrcPage::Sending:
        set(lp.value, MigSrcPage::SendStale, kind_of(b));
        break;
    case MigSrcPage::Unsent:
    case MigSrcPage::Dirty:
    case MigSrcPage::ReadStale:
    case MigSrcPage::SendStale:
        break;
    }
    return Err::Ok;
}

void MigSourcePages::next_round() {
    ++round_;
    cursor_ = 0;
}

void MigSourcePages::suspend() {
    if (phase_ != MigPhase::Precopy) return;
    phase_ = MigPhase::Suspended;
    next_round();
}

u64 MigSourcePages::remaining() const {
    return count(MigSrcPage::Unsent) + count(MigSrcPage::Dirty) + count(MigSrcPage::ReadStale) +
           count(MigSrcPage::Reading) + count(MigSrcPage::Sending) + count(MigSrcPage::SendStale);
}

bool MigSourcePages::complete() const { return !states_.empty() && remaining() == 0; }

MigTotals MigSourcePages::totals(u32 vcpu_count) const {
    MigTotals t{};
    t.rounds = round_ + 1;
    t.vcpu_count = vcpu_count;
    for (u32 k = 0; k <= kMigPageKindLast; ++k) t.pages[k] = kinds_[k];
    t.data_pages_sent = data_pages_sent_;
    return t;
}

bool MigSourcePages::check_invariants() const {
    u64 c[kMigSrcStates]{}, k[kMigPageKindLast + 1]{};
    for (u8 b : states_) {
        if (static_cast<u32>(state_of(b)) >= kMigSrcStates || (b >> 6)) return false;
        u8 kind = kind_of(b);
        MigSrcPage s = state_of(b);
        if (kind != kNoKind && kind > kMigPageKindLast) return false;
        // Sent and Failed pages have the kind they were sent as; Unsent none.
        if (s == MigSrcPage::Unsent && kind != kNoKind) return false;
        if (s == MigSrcPage::Sent && (kind == kNoKind || kind == static_cast<u8>(MigPageKind::Failed))) return false;
        if (s == MigSrcPage::Failed && kind != static_cast<u8>(MigPageKind::Failed)) return false;
        if (s == MigSrcPage::Dirty && kind == kNoKind) return false;
        ++c[static_cast<u32>(s)];
        if (kind != kNoKind) ++k[kind];
    }
    for (u32 i = 0; i < kMigSrcStates; ++i)
        if (c[i] != counts_[i]) return false;
    for (u32 i = 0; i <= kMigPageKindLast; ++i)
        if (k[i] != kinds_[i]) return false;
    return true;
}

// ---- convergence ----

MigDecision MigConvergence::after_round(u64 remaining) {
    ++rounds_;
    if (remaining <= policy_.switch_pages) return MigDecision::Suspend;
    // Shrunk by less than min_shrink_pct since the previous round: stalled.
    if (rounds_ > 1 && remaining * 100 > last_ * (100 - policy_.min_shrink_pct)) ++stalled_;
    else stalled_ = 0;
    last_ = remaining;
    if (rounds_ >= policy_.max_rounds || stalled_ >= policy_.max_stalled)
        return remaining <= policy_.max_final_pages ? MigDecision::Suspend : MigDecision::Abort;
    return MigDecision::NextRound;
}

// ---- target ----

Err MigTargetPages::init(std::span<u8> storage) {
    if (storage.empty() || storage.size() > (u64{1} << 32)) return Err::Invalid;
    *this = MigTargetPages{};
    states_ = storage;
    for (u8& b : states_) b = static_cast<u8>(MigTgtPage::Unknown);
    counts_[static_cast<u32>(MigTgtPage::Unknown)] = storage.size();
    return Err::Ok;
}

MigTgtPage MigTargetPages::state(LogicalPage lp) const {
    return in_range(lp) ? static_cast<MigTgtPage>(states_[lp.value]) : MigTgtPage::Unknown;
}

void MigTargetPages::set(u64 i, MigTgtPage s) {
    --counts_[states_[i]];
    ++counts_[static_cast<u32>(s)];
    states_[i] = static_cast<u8>(s);
}

Err MigTargetPages::on_state(LogicalPage lp, MigPageKind kind, MigTgtPage* prev) {
    if (phase_ == MigPhase::Done || static_cast<u8>(kind) > kMigPageKindLast) return Err::Invalid;
    if (!in_range(lp)) return Err::NotFound;
    MigTgtPage s = state(lp);
    if (s == MigTgtPage::WritingStorage || s == MigTgtPage::WritingMemory) return Err::Busy;
    if (prev) *prev = s;
    MigTgtPage next = kind == MigPageKind::Zero     ? MigTgtPage::Zero
                      : kind == MigPageKind::Failed ? MigTgtPage::Failed
                                                    : MigTgtPage::AwaitData;
    set(lp.value, next);
    return Err::Ok;
}

Err MigTargetPages::on_states(const MigPageStatesView& batch) {
    if (phase_ == MigPhase::Done) return Err::Invalid;
    if (batch.run_count > kMigRunsPerRecord) return Err::Invalid;
    for (u32 r = 0; r < batch.run_count; ++r) {
        const auto& run = batch.runs[r];
        if (run.first_page >= states_.size() || run.count > states_.size() - run.first_page) return Err::NotFound;
        if (static_cast<u8>(run.kind) > kMigPageKindLast) return Err::Invalid;
        for (u64 i = run.first_page; i < u64{run.first_page} + run.count; ++i) {
            auto s = static_cast<MigTgtPage>(states_[i]);
            if (s == MigTgtPage::WritingStorage || s == MigTgtPage::WritingMemory) return Err::Busy;
        }
    }
    for (u32 r = 0; r < batch.run_count; ++r)
        for (u64 i = batch.runs[r].first_page; i < u64{batch.runs[r].first_page} + batch.runs[r].count; ++i)
            (void)on_state(LogicalPage{i}, batch.runs[r].kind);
    return Err::Ok;
}

Result<MigDest> MigTargetPages::on_data(LogicalPage lp, bool frame_available) {
    if (phase_ == MigPhase::Done) return Result<MigDest>::failure(Err::Invalid);
    if (!in_range(lp)) return Result<MigDest>::failure(Err::NotFound);
    if (state(lp) != MigTgtPage::AwaitData) return Result<MigDest>::failure(Err::Invalid);
    // The patent's branch: while the source still runs, to paging storage.
    MigDest d = phase_ == MigPhase::Suspended && frame_available ? MigDest::Memory : MigDest::PagingStorage;
    set(lp.value, d == MigDest::Memory ? MigTgtPage::WritingMemory : MigTgtPage::WritingStorage);
    return Result<MigDest>::success(d);
}

Err MigTargetPages::write_done(LogicalPage lp, bool ok) {
    if (!in_range(lp)) return Err::NotFound;
    MigTgtPage s = state(lp);
    if (s != MigTgtPage::WritingStorage && s != MigTgtPage::WritingMemory) return Err::Invalid;
    if (!ok) {
        ++write_failures_;
        set(lp.value, MigTgtPage::AwaitData);
    } else {
        set(lp.value, s == MigTgtPage::WritingMemory ? MigTgtPage::InMemory : MigTgtPage::Stored);
    }
    return Err::Ok;
}

void MigTargetPages::source_suspended() {
    if (phase_ == MigPhase::Precopy) phase_ = MigPhase::Suspended;
}

bool MigTargetPages::ready_to_resume() const {
    return !states_.empty() && count(MigTgtPage::Unknown) == 0 && count(MigTgtPage::AwaitData) == 0 &&
           count(MigTgtPage::WritingStorage) == 0 && count(MigTgtPage::WritingMemory) == 0;
}

Err MigTargetPages::resume() {
    if (phase_ != MigPhase::Suspended) return Err::Invalid;
    if (!ready_to_resume()) return Err::Busy;
    phase_ = MigPhase::Done;
    return Err::Ok;
}

bool MigTargetPages::check_invariants() const {
    u64 c[kMigTgtStates]{};
    for (u8 b : states_) {
        if (b >= kMigTgtStates) return false;
        ++c[b];
    }
    for (u32 i = 0; i < kMigTgtStates; ++i)
        if (c[i] != counts_[i]) return false;
    // Frames are taken only after the suspend.
    if (phase_ == MigPhase::Precopy && (c[static_cast<u32>(MigTgtPage::WritingMemory)] ||
                                        c[static_cast<u32>(MigTgtPage::InMemory)]))
        return false;
    return true;
}

// ---- assembler ----

MigPageAssembler::Step MigPageAssembler::add(const MigChunkView& c) {
    if (c.chunk >= kMigChunksPerPage || !mig_kind_has_data(c.kind) || c.data == nullptr) return Step::Rejected;
    if (active_ && (c.page != page_ || c.round != round_ || c.kind != kind_)) return Step::Rejected;
    u8 bit = static_cast<u8>(1u << c.chunk);
    if (active_ && (mask_ & bit)) return Step::Rejected;
    if (!active_) {
        active_ = true;
        page_ = c.page, round_ = c.round, kind_ = c.kind, mask_ = 0;
    }
    for (u32 i = 0; i < kMigChunkBytes; ++i) buf_[c.chunk * kMigChunkBytes + i] = c.data[i];
    mask_ |= bit;
    if (mask_ != (1u << kMigChunksPerPage) - 1) return Step::Partial;
    active_ = false;  // data() stays valid until the next add
    return Step::Complete;
}

}  // namespace pv
