// Console input (docs/console.md): what is typed on the machine console
// (OPAL) goes to one partition at a time, the one with the console focus,
// which reads it with H_GET_TERM_CHAR. Ctrl-A then a key talks to the
// hypervisor instead: n next partition, l list, h help, Ctrl-A a literal Ctrl-A,
// c one hypervisor command line (hv/hv_command.h) up to Enter (Ctrl-C drops it).
#pragma once
#include "base/limits.h"
#include "base/spinlock.h"
#include "hv/hv_command.h"

namespace pv {

struct Partition;

inline constexpr char kConsoleEscape = 0x01;  // Ctrl-A
inline constexpr u32 kInputRingBytes = 256;   // typed-ahead bytes kept per partition
inline constexpr u32 kTermCharsMax = 16;      // H_GET_TERM_CHAR: r5 and r6

// Bytes typed for one partition, oldest first. Full, a new byte drops the
// oldest (counted): what was typed last is what the user looks at.
struct InputRing {
    char buf[kInputRingBytes]{};
    u32 head = 0, count = 0;
    u64 dropped = 0;
    void push(char c);
    u32 pop(char* out, u32 max);
};

class ConsoleInput {
public:
    // The machine console is read at most this often: an OPAL call is not free.
    static constexpr u64 kPollUs = 10'000;
    static constexpr u32 kReadChunk = 64;
    static constexpr u32 kMaxReadsPerPoll = 4;  // the rest waits in firmware's buffer

    // Timer work, from any thread: if a poll is due and no other thread is
    // polling, read the machine console, route what came, wake the partitions
    // that got input and show the focus's unfinished line. Returns the
    // timebase by which it wants to run again (an idle thread's deadline).
    u64 poll(u64 now);
    // A partition has ended: the next poll (any thread's next scheduler pass)
    // runs at once, so the focus moves on, and says so, while another
    // partition still runs, not up to kPollUs later when the machine may
    // already be powering off.
    void poll_soon() { __atomic_store_n(&next_poll_tb_, u64{0}, __ATOMIC_RELAXED); }
    // Route bytes typed on the machine console (poll's work after the read).
    void feed(const char* s, u32 n);
    // H_GET_TERM_CHAR: up to max bytes typed for p, oldest first (polls first
    // when none is waiting and a poll is due).
    u32 take(Partition& p, char* out, u32 max, u64 now);

    // The partition with the focus (nullptr before the first poll or when
    // none is running).
    Partition* focus();
    u32 waiting(const Partition& p);
    u64 dropped(const Partition& p);
    // Its slot is reused by another partition (hv/incoming_partition.cpp):
    // what was typed for the old one is dropped.
    void forget(const Partition& p);

private:
    void start_locked();
    void feed_locked(const char* s, u32 n, u32& woken);
    void escape_key(char c);
    void to_focus(char c, u32& woken);
    void command_key(char c);
    // The next running partition after `from`; prefer_clients: one the PSP
    // serves if any runs (an ended focus passes on to where input matters).
    bool move_focus(u32 from, bool prefer_clients);
    void check_focus_locked();
    void show_partial_locked();
    void announce();
    void list();
    void help();

    SpinLock poll_lock_{LockRank::ConsoleInput};  // the reader, the escape state, the focus
    SpinLock ring_lock_{LockRank::ConsoleRing};   // rings_
    u64 next_poll_tb_ = 0;
    bool started_ = false;
    bool escaped_ = false;    // Ctrl-A seen: the next key is the hypervisor's
    bool command_ = false;    // Ctrl-A c seen: a command line is being typed
    u32 line_len_ = 0;
    bool line_long_ = false;  // more was typed than the line holds
    char line_[kHvCommandLineMax + 1]{};
    i32 focus_ = -1;          // slot of the partition with the focus, -1 none
    u32 partial_seen_ = 0;    // the focus's unfinished line length at the last poll
    u64 unrouted_ = 0;        // bytes typed while no partition had the focus
    InputRing rings_[kMaxPartitions];
};

ConsoleInput& console_input();

// H_GET_TERM_CHAR's r5 and r6: n (<= 16) bytes, the first in the most
// significant byte of hi (Linux's hvc_get_chars stores them big-endian).
void pack_term_chars(const char* s, u32 n, u64& hi, u64& lo);

// A partition got input: its ceded vCPUs run again, its others' next H_CEDE
// returns at once (an H_PROD to each).
void wake_for_input(Partition& p);

}  // namespace pv
