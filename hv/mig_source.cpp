// The source's pre-copy engine (docs/migration-state.md "The source engine").
// Every record is made only when the one before it was accepted, so the
// order in which records are made is the order on the wire: making a record
// commits it (it is never dropped, never made twice), and state changes that
// depend on it happen when it is made. A page's 4 chunks are made one after
// the other with nothing between them.
#include "hv/mig_source.h"

#include <cstring>

#include "hv/hv.h"
#include "hv/pager.h"

namespace pv {

const char* mig_source_fail_name(MigSourceFail f) {
    switch (f) {
    case MigSourceFail::None: return "none";
    case MigSourceFail::NotStarted: return "not started";
    case MigSourceFail::Converge: return "pre-copy does not converge";
    case MigSourceFail::Encode: return "record encoding failed";
    case MigSourceFail::ReadFailures: return "too many paging-device read failures";
    case MigSourceFail::Tracking: return "page snapshot refused";
    case MigSourceFail::Aborted: return "aborted";
    }
    return "?";
}

Err MigSource::begin(Partition& p, const PartitionConfig& cfg, Pager& pager, std::span<u8> page_states,
                     const MigPolicy& policy, const MigSourceIo& io, u64 max_read_failures) {
    if (active()) return Err::Busy;
    if (!io.send || !io.read_block || p.mem_mode != MemMode::Shared) return Err::Invalid;
    if (page_states.size() != p.mem_bytes / kPageSize) return Err::Invalid;
    if (Err e = src_.init(page_states); e != Err::Ok) return e;
    if (Err e = pager.mig_track_begin(p, src_); e != Err::Ok) return e;
    Result<u32> r = mig_encode_start(p, cfg, rec_);
    if (!r.ok()) {
        pager.mig_track_end(p);
        return r.err;
    }
    // Every field again: a MigSource is reused without a (large) temporary.
    p_ = &p, pager_ = &pager, io_ = io;
    conv_ = MigConvergence(policy);
    max_read_failures_ = max_read_failures;
    failure_ = MigSourceFail::None;
    stats_ = MigSourceStats{};
    begin_tb_ = now_tb_ = guest_tb_ = wall_ns_ = 0;
    started_ = cursor_done_ = snapped_ = last_ = false;
    rec_len_ = r.value;
    cur_ = Cur::None, cur_idx_ = cur_chunk_ = 0;
    batch_n_ = batch_next_ = batch_round_ = 0;
    to_read_head_ = to_read_n_ = 0;
    for (ReadSlot& s : slots_) s.state = Slot::Free;
    ready_head_ = ready_n_ = 0;
    fin_step_ = err_first_ = 0;
    phase_ = Phase::Precopy;
    return Err::Ok;
}

MigSource::Step MigSource::step() const {
    switch (phase_) {
    case Phase::Idle:
    case Phase::Failed: return Step::Failed;
    case Phase::Done: return Step::Done;
    case Phase::WaitSuspend: return Step::SuspendNow;
    default: return Step::Working;
    }
}

void MigSource::fail(MigSourceFail why) {
    if (!active()) return;
    failure_ = why;
    phase_ = Phase::Failed;
    rec_len_ = 0;
    pager_->mig_track_end(*p_);  // the C bits it cleared are recorded in the pool: nothing is lost
}

void MigSource::abort() { fail(MigSourceFail::Aborted); }

MigSource::Step MigSource::pump(u64 now_tb) {
    if (phase_ == Phase::Idle) {
        failure_ = MigSourceFail::NotStarted;
        return Step::Failed;
    }
    if (!active()) return step();
    if (!started_) begin_tb_ = now_tb, started_ = true;
    now_tb_ = now_tb;
    snapped_ = false;
    for (u32 n = 0; n < kMigSourcePumpRecords && active();) {
        if (rec_len_) {
            if (!io_.send(io_.ctx, rec_, rec_len_)) {
                ++stats_.refused;
                break;
            }
            ++stats_.records, ++n;
            stats_.bytes += rec_len_;
            rec_len_ = 0;
            if (last_) {
                phase_ = Phase::Done;
                pager_->mig_track_end(*p_);
                break;
            }
        }
        issue_reads();
        if (!active() || !produce()) break;
    }
    if (active()) issue_reads();
    stats_.source_page_ins = pager_->mig_stats(*p_).source_page_ins;
    return step();
}

// Makes the next record into rec_ (or changes the phase): false when there
// is nothing to make now.
bool MigSource::produce() {
    switch (phase_) {
    case Phase::Precopy:
    case Phase::Final:
        return produce_pages(true) || (active() && end_of_pass());
    case Phase::WaitSuspend:
        return produce_pages(false);  // what is due, nothing new
    case Phase::FinalRecords:
        return produce_final();
    default:
        return false;
    }
}

bool MigSource::produce_pages(bool new_batch) {
    if (cur_ != Cur::None) return chunk();
    // The batch's data pages, in its order (its states record went out first).
    while (batch_next_ < batch_n_) {
        u32 i = batch_next_++;
        if (batch_snap_[i].busy || !batch_snap_[i].data) continue;
        cur_ = Cur::Batch, cur_idx_ = i, cur_chunk_ = 0;
        return chunk();
    }
    if (ready_n_) {
        cur_ = Cur::Read, cur_idx_ = ready_[ready_head_], cur_chunk_ = 0;
        ready_head_ = (ready_head_ + 1) % kMigSourceReadSlots, --ready_n_;
        return chunk();
    }
    // A new batch once the last one's reads are all asked for (their list is one batch long).
    if (!new_batch || cursor_done_ || snapped_ || to_read_n_) return false;
    return take_batch();
}

bool MigSource::encoded(Result<u32> r) {
    if (!r.ok()) {
        fail(MigSourceFail::Encode);
        return false;
    }
    rec_len_ = r.value;
    return true;
}

// One chunk of the current page.
bool MigSource::chunk() {
    LogicalPage lp;
    u32 round;
    MigPageKind kind;
    const u8* data;
    if (cur_ == Cur::Batch) {
        lp = batch_lp_[cur_idx_], round = batch_round_, kind = batch_snap_[cur_idx_].kind;
        data = batch_data_ + u64{cur_idx_} * kPageSize;
    } else {
        const ReadSlot& s = slots_[cur_idx_];
        lp = s.lp, round = s.round, kind = MigPageKind::PagedOut, data = s.data;
    }
    if (!encoded(mig_encode_page_chunk(lp, round, kind, data, cur_chunk_, rec_))) return false;
    if (++cur_chunk_ < kMigChunksPerPage) return true;
    // The last chunk is made: the page is out (nothing can come between).
    ++stats_.data_pages;
    if (cur_ == Cur::Read) {
        slots_[cur_idx_].state = Slot::Free;
        Guard lk(pager_->lock());
        (void)src_.read_done(lp, true);  // Reading -> Sent, ReadStale -> Dirty
    }
    cur_ = Cur::None;
    return true;
}

// Up to one batch of the round's next pages: marked Sending under the pager
// lock, snapshotted (the pager takes its lock), then marked sent or reading
// under the lock again; a change in between makes them Send/ReadStale.
bool MigSource::take_batch() {
    u32 n = 0;
    {
        Guard lk(pager_->lock());
        batch_round_ = src_.round();
        while (n < kMigSourceBatchPages) {
            std::optional<LogicalPage> lp = src_.next_to_send();
            if (!lp) {
                cursor_done_ = true;
                break;
            }
            (void)src_.start_send(*lp);
            batch_lp_[n++] = *lp;
        }
    }
    snapped_ = true;
    if (n == 0) return false;  // the round's end: produce() ends the pass
    batch_n_ = n, batch_next_ = 0;
    Err e = pager_->mig_snapshot(*p_, std::span<const LogicalPage>(batch_lp_, n), std::span<MigSnapPage>(batch_snap_, n),
                                 batch_data_);
    MigRunBuilder runs(batch_round_);
    {
        Guard lk(pager_->lock());
        for (u32 i = 0; i < n; ++i) {
            MigSnapPage& s = batch_snap_[i];
            if (e != Err::Ok || s.busy) {
                (void)src_.cancel_send(batch_lp_[i]);  // left for the next round
                s.busy = true;
                if (e == Err::Ok) ++stats_.busy;
                continue;
            }
            if (s.kind == MigPageKind::PagedOut) (void)src_.start_read(batch_lp_[i]);
            else (void)src_.sent(batch_lp_[i], s.kind);
            (void)runs.add(batch_lp_[i], s.kind);  // ascending, one batch < kMigRunsPerRecord runs
            ++stats_.pages[static_cast<u32>(s.kind)];
        }
    }
    if (e != Err::Ok) {
        fail(MigSourceFail::Tracking);
        return false;
    }
    for (u32 i = 0; i < n; ++i)
        if (!batch_snap_[i].busy && batch_snap_[i].kind == MigPageKind::PagedOut)
            to_read_[(to_read_head_ + to_read_n_++) % kMigSourceBatchPages] =
                ToRead{batch_lp_[i], batch_snap_[i].block, batch_round_};
    if (runs.empty()) return true;  // all busy: nothing to send
    return encoded(runs.encode(rec_));
}

// The PSP reads of pages whose state is made: the state goes out before any
// chunk (chunks are made only after it was accepted).
void MigSource::issue_reads() {
    while (to_read_n_) {
        u32 free = kMigSourceReadSlots;
        for (u32 i = 0; i < kMigSourceReadSlots; ++i)
            if (slots_[i].state == Slot::Free) {
                free = i;
                break;
            }
        if (free == kMigSourceReadSlots) return;
        const ToRead& t = to_read_[to_read_head_];
        ReadSlot& s = slots_[free];
        s.state = Slot::Issued, s.lp = t.lp, s.round = t.round;  // before the call: it may answer at once
        if (!io_.read_block(io_.ctx, t.lp, t.block)) {
            if (s.state == Slot::Issued) s.state = Slot::Free;
            return;
        }
        ++stats_.reads;
        to_read_head_ = (to_read_head_ + 1) % kMigSourceBatchPages, --to_read_n_;
    }
}

void MigSource::read_done(LogicalPage lp, const u8* data) {
    if (!active()) return;  // an answer after abort or failure
    u32 i = 0;
    while (i < kMigSourceReadSlots && !(slots_[i].state == Slot::Issued && slots_[i].lp == lp)) ++i;
    if (i == kMigSourceReadSlots) {
        ++stats_.stray_reads;
        return;
    }
    if (!data) {
        slots_[i].state = Slot::Free;
        ++stats_.read_failures;
        u64 failures;
        {
            Guard lk(pager_->lock());
            (void)src_.read_done(lp, false);  // Unsent or Dirty: a later pass sends it
            failures = src_.read_failures();
        }
        if (failures > max_read_failures_) fail(MigSourceFail::ReadFailures);
        return;
    }
    std::memcpy(slots_[i].data, data, kPageSize);
    slots_[i].state = Slot::Ready;
    ready_[(ready_head_ + ready_n_++) % kMigSourceReadSlots] = static_cast<u8>(i);
}

// The round's cursor is at its end and everything of its batches is made.
bool MigSource::end_of_pass() {
    if (!cursor_done_) return false;
    if (phase_ == Phase::Precopy) {
        // A round ends when its reads are answered: their failures go to the next one.
        if (to_read_n_) return false;
        for (const ReadSlot& s : slots_)
            if (s.state != Slot::Free) return false;
        (void)pager_->mig_harvest(*p_);
        u64 remaining;
        {
            Guard lk(pager_->lock());
            remaining = src_.remaining();
        }
        ++stats_.rounds;
        switch (conv_.after_round(remaining)) {
        case MigDecision::NextRound: {
            Guard lk(pager_->lock());
            src_.next_round();
            cursor_done_ = false;
            return true;
        }
        case MigDecision::Suspend:
            phase_ = Phase::WaitSuspend;
            stats_.precopy_tb = now_tb_ - begin_tb_;
            return false;
        case MigDecision::Abort:
            fail(MigSourceFail::Converge);
            return false;
        }
        return false;
    }
    // Final: passes until every page is out; reads still in flight are waited for.
    Guard lk(pager_->lock());
    if (src_.complete()) {
        ++stats_.rounds;
        stats_.late_changes = src_.late_changes();
        phase_ = Phase::FinalRecords;
        return true;
    }
    if (src_.count(MigSrcPage::Unsent) + src_.count(MigSrcPage::Dirty) == 0) return false;
    ++stats_.rounds;
    src_.next_round();
    cursor_done_ = false;
    return true;
}

void MigSource::suspended(u64 now_tb, u64 guest_tb, u64 wall_ns) {
    if (phase_ != Phase::WaitSuspend) return;
    now_tb_ = now_tb, guest_tb_ = guest_tb, wall_ns_ = wall_ns;
    (void)pager_->mig_harvest(*p_);  // the hypervisor's last VPA/DTL stores count too
    Guard lk(pager_->lock());
    src_.suspend();
    cursor_done_ = false;
    phase_ = Phase::Final;
}

bool MigSource::produce_final() {
    const Partition& p = *p_;
    const u32 vcpu_records = 2 * p.vcpu_count;
    if (fin_step_ < vcpu_records) {
        const Vcpu& v = p.vcpus[fin_step_ / 2];
        bool core = fin_step_ % 2 == 0;
        ++fin_step_;
        return encoded(core ? mig_encode_vcpu_core(v, now_tb_, rec_) : mig_encode_vcpu_fp(v, rec_));
    }
    const PagingErrorLog& log = hv().paging_errors;
    if (fin_step_ == vcpu_records) {
        u32 pinned;
        {
            Guard lk(pager_->lock());
            pinned = static_cast<u32>(pager_->pool().stats(p.slot).pinned);
        }
        ++fin_step_;
        return encoded(mig_encode_partition_state(p, log, guest_tb_, pinned, rec_, wall_ns_));
    }
    if (fin_step_ == vcpu_records + 1) {
        Result<u32> r = mig_encode_error_log(log, p.slot, err_first_, rec_);
        if (r.ok()) {
            err_first_ += load_be<u32>(rec_ + sizeof(MigRecordHeader) + offsetof(MigErrorLog, count));
            rec_len_ = r.value;
            return true;
        }
        if (r.err != Err::NotFound) return encoded(r);
        ++fin_step_;  // every retained error is out
    }
    MigTotals t;
    {
        Guard lk(pager_->lock());
        t = src_.totals(p.vcpu_count);
    }
    if (!encoded(mig_encode_complete(t, rec_))) return false;
    last_ = true;
    ++fin_step_;
    return true;
}

}  // namespace pv
