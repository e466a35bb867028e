// Live migration: the state of every logical page while it moves, on both
// sides, and the pre-copy convergence policy. Portable bookkeeping only: the
// caller copies data, asks the PSP for reads and writes, and tells these
// trackers what happened. Storage comes from the caller, one byte per
// logical page, sized at boot. Not internally locked (the caller's lock).
// States, transitions and who triggers them: docs/migration-state.md.
#pragma once
#include <optional>
#include <span>

#include "base/result.h"
#include "hv/mig_decode.h"
#include "hv/mig_records.h"
#include "mm/pool.h"

namespace pv {

// What the source sends for a pool page now: its kind, or busy (a page-in
// is in flight: try it again later in the round).
struct MigClass {
    MigPageKind kind;
    bool busy;
};
MigClass mig_classify(const PageInfo& pg);

// Source side.
enum class MigSrcPage : u8 {
    Unsent,     // nothing of it sent yet
    Reading,    // paged out: the source PSP reads it from the paging device into chunks
    ReadStale,  // Reading, and changed since the read started: re-send once it completes
    Sent,       // the target holds it as it is now (kind: what it was sent as)
    Dirty,      // sent, changed since: re-send in the next round
    Failed,     // sent as Failed: nothing more to send unless the partition clears it
    Sending,    // taken for a snapshot (start_send): its records are being made
    SendStale,  // Sending, and changed since start_send: re-send once sent
};
inline constexpr u32 kMigSrcStates = 8;

enum class MigPhase : u8 {
    Precopy,    // the partition runs at the source
    Suspended,  // suspended at the source: the final round
    Done,       // target: resumed (the source stays Suspended until the target confirms)
};

class MigSourcePages {
public:
    // storage: one byte per logical page (all Unsent). Invalid if empty or
    // over 2^32 pages.
    [[nodiscard]] Err init(std::span<u8> storage);
    u64 pages() const { return states_.size(); }
    MigPhase phase() const { return phase_; }
    u32 round() const { return round_; }
    MigSrcPage state(LogicalPage lp) const;
    // The kind the target holds lp as (nullopt: nothing sent yet).
    std::optional<MigPageKind> sent_kind(LogicalPage lp) const;

    // The next Unsent or Dirty page at or after the round's cursor (the
    // cursor moves past it), nullopt at the end of the round. Each page
    // comes at most once per round.
    std::optional<LogicalPage> next_to_send();
    // A page the caller finds busy (mig_classify) is left as it is: it is
    // still to send and comes again in the next round.
    // Sent now as kind (Zero, Resident*, Failed): Unsent/Dirty/Sending ->
    // Sent or Failed; SendStale -> Dirty (sent, but changed meanwhile).
    [[nodiscard]] Err sent(LogicalPage lp, MigPageKind kind);
    // PagedOut: Unsent/Dirty/Sending -> Reading, SendStale -> ReadStale (the PSP read is started).
    [[nodiscard]] Err start_read(LogicalPage lp);
    // Taken for a snapshot outside the caller's lock (Unsent/Dirty ->
    // Sending): a change between here and sent/start_read makes it
    // SendStale instead of being lost. The snapshot's own C clear is no change.
    [[nodiscard]] Err start_send(LogicalPage lp);
    // Sending/SendStale page found busy: back to Unsent (never sent) or Dirty.
    [[nodiscard]] Err cancel_send(LogicalPage lp);
    // The PSP read completed. ok: its chunks are sent (Reading -> Sent as
    // PagedOut; ReadStale -> Dirty, also sent). !ok: nothing sent, back to
    // Unsent or Dirty (read_failures counts it).
    [[nodiscard]] Err read_done(LogicalPage lp, bool ok);
    // lp's contents or kind changed (written, discarded, its page-in failed
    // or its error cleared): Sent/Failed -> Dirty, Reading -> ReadStale,
    // Sending -> SendStale.
    // Page-outs and page-ins change nothing. After the suspend a change is
    // still recorded but counted (late_changes): nothing should touch a
    // suspended partition.
    [[nodiscard]] Err note_changed(LogicalPage lp);

    // Ends the current round; the next one starts at page 0.
    void next_round();
    // The partition is suspended at the source: the final round starts.
    void suspend();
    // Pages still to send: Unsent + Dirty + ReadStale + Reading + Sending + SendStale.
    u64 remaining() const;
    // Every page Sent or Failed.
    bool complete() const;
    u64 count(MigSrcPage s) const { return counts_[static_cast<u32>(s)]; }
    // What the target holds, by kind (Complete record).
    MigTotals totals(u32 vcpu_count) const;
    u64 read_failures() const { return read_failures_; }
    u64 late_changes() const { return late_changes_; }
    u64 data_pages_sent() const { return data_pages_sent_; }
    // Counters equal a recount (tests).
    bool check_invariants() const;

private:
    static constexpr u8 kNoKind = 7;
    static MigSrcPage state_of(u8 b) { return static_cast<MigSrcPage>(b & 7); }
    static u8 kind_of(u8 b) { return static_cast<u8>((b >> 3) & 7); }
    bool in_range(LogicalPage lp) const { return lp.value < states_.size(); }
    void set(u64 i, MigSrcPage s, u8 kind);

    std::span<u8> states_{};
    MigPhase phase_ = MigPhase::Precopy;
    u32 round_ = 0;
    u64 cursor_ = 0;
    u64 counts_[kMigSrcStates]{};
    u64 kinds_[kMigPageKindLast + 1]{};  // pages the target holds, by kind
    u64 read_failures_ = 0, late_changes_ = 0, data_pages_sent_ = 0;
};

// The pre-copy rounds: after each, another round or the suspend. A round
// must shrink what is left by min_shrink_pct or it counts as stalled.
struct MigPolicy {
    u64 switch_pages = 64;     // suspend once at most this many pages remain
    u32 max_rounds = 16;       // pre-copy rounds at most (the first full pass included)
    u32 min_shrink_pct = 20;
    u32 max_stalled = 3;       // consecutive stalled rounds before suspending anyway
    u64 max_final_pages = ~u64{0};  // forced to stop with more left than this: abort (downtime bound)
};
enum class MigDecision : u8 { NextRound, Suspend, Abort };

class MigConvergence {
public:
    explicit MigConvergence(const MigPolicy& p) : policy_(p) {}
    // A pre-copy round ended with `remaining` pages left to send.
    MigDecision after_round(u64 remaining);
    u32 rounds() const { return rounds_; }
    u32 stalled() const { return stalled_; }

private:
    MigPolicy policy_;
    u32 rounds_ = 0;
    u32 stalled_ = 0;
    u64 last_ = 0;
};

// Target side.
enum class MigTgtPage : u8 {
    Unknown,         // no state received yet
    Zero,            // reads as zeros (no data)
    AwaitData,       // its state says data follows
    WritingStorage,  // assembled, being written to the target's paging device
    WritingMemory,   // assembled, being copied into a target frame (after the suspend)
    Stored,          // on the target's paging device (faults in through AMS after resume)
    InMemory,        // in a target frame, resident dirty
    Failed,          // touching it machine-checks, as at the source
};
inline constexpr u32 kMigTgtStates = 8;
enum class MigDest : u8 { PagingStorage, Memory };

class MigTargetPages {
public:
    [[nodiscard]] Err init(std::span<u8> storage);
    u64 pages() const { return states_.size(); }
    MigPhase phase() const { return phase_; }
    MigTgtPage state(LogicalPage lp) const;
    // A page-state run entry. Ok: prev says what copy the page had (the
    // caller drops a Stored or InMemory copy when the kind has no data).
    // Busy: a write of it is in flight (apply it again after write_done).
    // Invalid after resume, NotFound outside the partition.
    [[nodiscard]] Err on_state(LogicalPage lp, MigPageKind kind, MigTgtPage* prev = nullptr);
    // All of a page-state batch, or nothing (Busy/NotFound: none applied).
    [[nodiscard]] Err on_states(const MigPageStatesView& batch);
    // A whole page arrived (AwaitData -> Writing*): where to put it. Before
    // the suspend always the paging storage; after it memory when the caller
    // has a frame. Invalid when its state announced no data.
    [[nodiscard]] Result<MigDest> on_data(LogicalPage lp, bool frame_available);
    // The write finished: Stored / InMemory; failed: AwaitData again (the
    // mover asks for it again or aborts).
    [[nodiscard]] Err write_done(LogicalPage lp, bool ok);
    void source_suspended();
    // Every page Zero, Stored, InMemory or Failed.
    bool ready_to_resume() const;
    // Precopy/Suspended -> Done when ready_to_resume (Busy otherwise).
    [[nodiscard]] Err resume();
    u64 count(MigTgtPage s) const { return counts_[static_cast<u32>(s)]; }
    u64 write_failures() const { return write_failures_; }
    bool check_invariants() const;

private:
    bool in_range(LogicalPage lp) const { return lp.value < states_.size(); }
    void set(u64 i, MigTgtPage s);

    std::span<u8> states_{};
    MigPhase phase_ = MigPhase::Precopy;
    u64 counts_[kMigTgtStates]{};
    u64 write_failures_ = 0;
};

// The chunks of one page put together (any order, each once, one page at a time).
class MigPageAssembler {
public:
    enum class Step : u8 { Partial, Complete, Rejected };
    Step add(const MigChunkView& c);
    void reset() { active_ = false, mask_ = 0; }
    bool active() const { return active_; }
    LogicalPage page() const { return page_; }
    MigPageKind kind() const { return kind_; }
    const u8* data() const { return buf_; }

private:
    bool active_ = false;
    LogicalPage page_{};
    u32 round_ = 0;
    MigPageKind kind_ = MigPageKind::Zero;
    u8 mask_ = 0;
    alignas(16) u8 buf_[kPageSize]{};
};

}  // namespace pv
