#include "hv/console_input.h"

#include "arch/arch.h"
#include "hv/ams.h"
#include "hv/console.h"
#include "hv/hv.h"

namespace pv {
namespace {

constinit ConsoleInput g_console_input;

const char* state_text(const Partition& p) {
    switch (p.state) {
    case PartitionState::Running: return "running";
    case PartitionState::Stopped: return "stopped";
    case PartitionState::Killed: return "killed";
    }
    return "?";
}

// Rings are indexed like hv().partitions.
u32 slot_of(const Partition& p) { return static_cast<u32>(&p - hv().partitions); }

}  // namespace

ConsoleInput& console_input() { return g_console_input; }

void InputRing::push(char c) {
    if (count == kInputRingBytes) {
        head = (head + 1) % kInputRingBytes;
        --count;
        ++dropped;
    }
    buf[(head + count) % kInputRingBytes] = c;
    ++count;
}

u32 InputRing::pop(char* out, u32 max) {
    u32 n = count < max ? count : max;
    for (u32 i = 0; i < n; ++i) out[i] = buf[(head + i) % kInputRingBytes];
    head = (head + n) % kInputRingBytes;
    count -= n;
    return n;
}

void pack_term_chars(const char* s, u32 n, u64& hi, u64& lo) {
    hi = lo = 0;
    for (u32 i = 0; i < n && i < kTermCharsMax; ++i)
        (i < 8 ? hi : lo) |= u64{static_cast<u8>(s[i])} << (56 - 8 * (i % 8));
}

void wake_for_input(Partition& p) {
    Vcpu* wake[kMaxVcpusPerPartition];
    u32 n = 0;
    {
        Guard g(p.lock);
        if (!p.is_running()) return;
        for (u32 i = 0; i < p.vcpu_count; ++i) {
            Vcpu& v = p.vcpus[i];
            if (v.state == VcpuState::Ceded) {
                v.state = VcpuState::Runnable;
                wake[n++] = &v;
            } else if (v.state == VcpuState::Running || v.state == VcpuState::Runnable) {
                v.prodded = true;  // about to cede, perhaps: that cede returns at once
            }
        }
    }
    for (u32 i = 0; i < n; ++i) make_runnable(*wake[i]);
}

u64 ConsoleInput::poll(u64 now) {
    u64 due = __atomic_load_n(&next_poll_tb_, __ATOMIC_RELAXED);
    if (now < due) return due;
    if (hv().partition_count == 0) return ~u64{0};
    u64 interval = kPollUs * (arch::timebase_hz() / 1'000'000);
    if (!poll_lock_.try_lock()) return now + interval;  // another thread is polling
    u32 woken = 0;
    if (now >= next_poll_tb_) {
        __atomic_store_n(&next_poll_tb_, now + interval, __ATOMIC_RELAXED);
        if (!started_) start_locked();
        check_focus_locked();
        char buf[kReadChunk];
        for (u32 i = 0; i < kMaxReadsPerPoll; ++i) {
            u32 n = static_cast<u32>(arch::console_read(buf, sizeof buf));
            if (n) feed_locked(buf, n, woken);
            if (n < sizeof buf) break;
        }
        show_partial_locked();
    }
    u64 next = next_poll_tb_;
    poll_lock_.unlock();
    Hypervisor& h = hv();
    for (u32 i = 0; i < h.partition_count; ++i)
        if (woken & (1u << i)) wake_for_input(h.partitions[i]);
    return next;
}

void ConsoleInput::feed(const char* s, u32 n) {
    u32 woken = 0;
    {
        Guard g(poll_lock_);
        if (!started_) start_locked();
        feed_locked(s, n, woken);
    }
    Hypervisor& h = hv();
    for (u32 i = 0; i < h.partition_count; ++i)
        if (woken & (1u << i)) wake_for_input(h.partitions[i]);
}

u32 ConsoleInput::take(Partition& p, char* out, u32 max, u64 now) {
    u32 slot = slot_of(p);
    if (slot >= kMaxPartitions) return 0;
    InputRing& r = rings_[slot];
    {
        Guard g(ring_lock_);
        if (r.count) return r.pop(out, max);
    }
    poll(now);
    Guard g(ring_lock_);
    return r.pop(out, max);
}

Partition* ConsoleInput::focus() {
    Guard g(poll_lock_);
    return focus_ < 0 ? nullptr : &hv().partitions[focus_];
}

u32 ConsoleInput::waiting(const Partition& p) {
    Guard g(ring_lock_);
    u32 slot = slot_of(p);
    return slot < kMaxPartitions ? rings_[slot].count : 0;
}

u64 ConsoleInput::dropped(const Partition& p) {
    Guard g(ring_lock_);
    u32 slot = slot_of(p);
    return slot < kMaxPartitions ? rings_[slot].dropped : 0;
}

void ConsoleInput::forget(const Partition& p) {
    Guard g(ring_lock_);
    u32 slot = slot_of(p);
    if (slot < kMaxPartitions) rings_[slot] = InputRing{};
}

// The first running partition other than the paging service partition has
// the focus first (the PSP has a vty too, but nothing to say to a user).
void ConsoleInput::start_locked() {
    started_ = true;
    Hypervisor& h = hv();
    for (u32 pass = 0; pass < 2 && focus_ < 0; ++pass)
        for (u32 i = 0; i < h.partition_count && focus_ < 0; ++i)
            if (h.partitions[i].is_running() && (pass == 1 || !ams_is_psp(h.partitions[i]))) focus_ = static_cast<i32>(i);
    if (focus_ >= 0) announce();
}

void ConsoleInput::feed_locked(const char* s, u32 n, u32& woken) {
    for (u32 i = 0; i < n; ++i) {
        char c = s[i];
        if (command_) {
            command_key(c);
        } else if (escaped_) {
            escaped_ = false;
            if (c == kConsoleEscape) to_focus(c, woken);
            else escape_key(c);
        } else if (c == kConsoleEscape) {
            escaped_ = true;
        } else {
            to_focus(c, woken);
        }
    }
}

void ConsoleInput::to_focus(char c, u32& woken) {
    check_focus_locked();
    if (focus_ < 0) {
        ++unrouted_;
        return;
    }
    {
        Guard g(ring_lock_);
        rings_[focus_].push(c);
    }
    woken |= 1u << focus_;
}

void ConsoleInput::escape_key(char c) {
    switch (c) {
    case 'n':
    case 'N':
        if (move_focus(focus_, false)) announce();
        else if (focus_ >= 0) log("console: no other running partition; input stays with %s", hv().partitions[focus_].name);
        else log("console: no running partition takes input");
        break;
    case 'l':
    case 'L':
        list();
        break;
    case 'h':
    case 'H':
    case '?':
        help();
        break;
    case 'c':
    case 'C':
        command_ = true;
        line_len_ = 0;
        line_long_ = false;
        log("console: hypervisor command (Enter runs it, Ctrl-C drops it; 'help' lists them)");
        break;
    default:
        log("console: Ctrl-A 0x%02x: no such key (Ctrl-A h: help)", static_cast<unsigned>(static_cast<u8>(c)));
        break;
    }
}

// One byte of a command line. The line is not echoed as it is typed (the
// partitions' output would tear it); it is shown whole when Enter runs it.
void ConsoleInput::command_key(char c) {
    if (c == '\r' || c == '\n') {
        command_ = false;
        line_[line_len_] = 0;
        log("console: poolvisor> %s%s", line_, line_long_ ? "..." : "");
        HvCommand cmd;
        if (line_long_) log("command: line longer than %u characters: not run", kHvCommandLineMax);
        else if (parse_hv_command(line_, cmd) == Err::Ok) run_hv_command(cmd);
        else log("command: %s", cmd.error);
        return;
    }
    if (c == 0x03) {  // Ctrl-C
        command_ = false;
        log("console: command dropped; input to partition %s again", focus_ >= 0 ? hv().partitions[focus_].name : "(none)");
        return;
    }
    if (c == 0x7f || c == 0x08) {  // DEL, BS
        if (line_len_) --line_len_;
        return;
    }
    if (static_cast<u8>(c) < 0x20) return;  // other controls (arrow-key escapes start with ESC)
    if (line_len_ < kHvCommandLineMax) line_[line_len_++] = c;
    else line_long_ = true;
}

// The next running partition after slot `from` in config order, wrapping;
// false (focus unchanged) when there is none but `from` itself.
bool ConsoleInput::move_focus(u32 from, bool prefer_clients) {
    Hypervisor& h = hv();
    u32 count = h.partition_count;
    for (u32 pass = prefer_clients ? 0 : 1; pass < 2; ++pass)
        for (u32 k = 1; k <= count; ++k) {
            u32 i = (from + k) % count;
            if (i == from || !h.partitions[i].is_running() || (pass == 0 && ams_is_psp(h.partitions[i]))) continue;
            focus_ = static_cast<i32>(i);
            partial_seen_ = 0;
            return true;
        }
    return false;
}

// A focus that has ended passes to the next running partition (none left:
// the machine is about to power off, nothing is said). One that is
// rebooting keeps it.
void ConsoleInput::check_focus_locked() {
    if (focus_ < 0) return;
    const Partition& f = hv().partitions[focus_];
    if (f.is_running() || __atomic_load_n(&f.restart_requested, __ATOMIC_ACQUIRE)) return;
    const char* ended = hv().partitions[focus_].name;
    if (move_focus(static_cast<u32>(focus_), true)) {
        log("console: partition %s has ended", ended);
        announce();
    } else {
        focus_ = -1;
    }
}

// The focus's unfinished line (a prompt, the echo of what is being typed)
// is shown once it has stayed unfinished for a whole poll interval.
void ConsoleInput::show_partial_locked() {
    if (focus_ < 0) return;
    Partition& p = hv().partitions[focus_];
    Guard g(p.lock);
    if (p.console.len && p.console.len == partial_seen_) partition_console_show_partial(p);
    partial_seen_ = p.console.len;
}

void ConsoleInput::announce() {
    log("console: input to partition %s (Ctrl-A n: next, l: list, h: help)", hv().partitions[focus_].name);
}

void ConsoleInput::help() {
    log("console: Ctrl-A n: input to the next running partition; Ctrl-A l: list the partitions; "
        "Ctrl-A c: a hypervisor command (help, lssyscfg, lslparmigr, migrlpar); Ctrl-A h: this help; "
        "Ctrl-A Ctrl-A: send a Ctrl-A");
}

void ConsoleInput::list() {
    Hypervisor& h = hv();
    log("console: %u partition%s (* has the input), %lu bytes typed with no partition to take them",
        h.partition_count, h.partition_count == 1 ? "" : "s", unrouted_);
    for (u32 i = 0; i < h.partition_count; ++i) {
        const Partition& p = h.partitions[i];
        u32 waiting = 0;
        u64 dropped = 0;
        {
            Guard g(ring_lock_);
            waiting = rings_[i].count;
            dropped = rings_[i].dropped;
        }
        log("console: %c %-15s lpid %-4u %-8s %u bytes waiting, %lu dropped", static_cast<i32>(i) == focus_ ? '*' : ' ',
            p.name, p.lpid.value, state_text(p), waiting, dropped);
    }
}

}  // namespace pv
