#!/usr/bin/env bash
# One boot test: run the machine under a timeout and check its console.
#   boot_test.sh --elf E --bundle B [--timeout S] [--smp N]
#                [--expect REGEX]... [--reject REGEX]... [--qemu ARG]...
#                [--disk FILE]   (a fresh 64 MiB NVMe disk image, see tools/pv-run)
#                [--disk-size SIZE]  (its size instead, as truncate -s takes it: 128M)
#                [--blkdebug RULES]  (QEMU blkdebug rules for that disk: injected I/O errors)
#                [--monitor-when N REGEX CMD]...  (QEMU monitor command CMD, e.g. nmi, once N console
#                 lines match REGEX; the test fails if they never did and CMD was not sent)
#                [--input-when N REGEX TEXT]...  (TEXT typed on the machine's serial console once N
#                 console lines match REGEX; printf %b escapes: '\r' Enter, '\x01' Ctrl-A; the test
#                 fails if it was never typed)
#                [--run-when N REGEX CMD]...  (host command CMD, run by sh with PV_LINE set to the
#                 N-th complete console line matching REGEX, once there is one, and PV_LOG to the
#                 console log so far; the test fails if it never ran or exited non-zero; e.g. to
#                 arm a failing disk, tests/linux)
# Fails when QEMU cannot run, the machine does not power off by itself in
# time, an --expect pattern (grep -E) is missing or a --reject one appears.
# QEMU's own stderr (block-layer errors such as "aio failed" under a failing
# disk) goes to a file of its own, printed after the console and searched
# with it: written into the console's file it can cut a console line in two,
# and a check that reads whole lines (check_sigbus.sh) then misses it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../tools/input-when.sh"
timeout_s=120 smp=4 elf= bundle= disk= disk_size=64M blkdebug=
expects=() rejects=() qemu_args=() monitor_ns=() monitor_res=() monitor_cmds=() mondir=
input_ns=() input_res=() input_texts=() indir= stdin_src=/dev/null
run_ns=() run_res=() run_cmds=() rundir=
while [ $# -gt 0 ]; do
    case $1 in
        --elf) elf=$2; shift 2 ;;
        --bundle) bundle=$2; shift 2 ;;
        --timeout) timeout_s=$2; shift 2 ;;
        --smp) smp=$2; shift 2 ;;
        --expect) expects+=("$2"); shift 2 ;;
        --reject) rejects+=("$2"); shift 2 ;;
        --qemu) qemu_args+=("$2"); shift 2 ;;
        --disk) disk=$2; shift 2 ;;
        --disk-size) disk_size=$2; shift 2 ;;
        --blkdebug) blkdebug=$2; shift 2 ;;
        --monitor-when) monitor_ns+=("$2"); monitor_res+=("$3"); monitor_cmds+=("$4"); shift 4 ;;
        --input-when) input_ns+=("$2"); input_res+=("$3"); input_texts+=("$4"); shift 4 ;;
        --run-when) run_ns+=("$2"); run_res+=("$3"); run_cmds+=("$4"); shift 4 ;;
        *) echo "boot_test: unknown argument $1" >&2; exit 2 ;;
    esac
done
command -v qemu-system-ppc64 >/dev/null || { echo "FAIL: qemu-system-ppc64 not installed"; exit 1; }
log=$(mktemp)
trap 'rm -f "$log" "$log.stderr"; [ -z "$mondir" ] || rm -rf "$mondir"; [ -z "$indir" ] || rm -rf "$indir"; [ -z "$rundir" ] || rm -rf "$rundir"' EXIT
if [ -n "$disk" ]; then rm -f "$disk" || exit 1; fi
watchers=()
if [ ${#monitor_res[@]} -gt 0 ]; then
    # A second monitor on a pipe (pv-run's own is off): commands in, replies out.
    mondir=$(mktemp -d)
    mkfifo "$mondir/mon.in" "$mondir/mon.out" || exit 1
    qemu_args+=(-chardev "pipe,id=pvmon,path=$mondir/mon" -mon chardev=pvmon,mode=readline)
    cat "$mondir/mon.out" >"$mondir/monitor.log" &
    watchers+=($!)
    for i in "${!monitor_res[@]}"; do
        (until [ "$(grep -Ec -- "${monitor_res[$i]}" "$log")" -ge "${monitor_ns[$i]}" ]; do sleep 0.02; done
         printf '%s\n' "${monitor_cmds[$i]}" | timeout 5 tee "$mondir/mon.in" >/dev/null && touch "$mondir/sent.$i") &
        watchers+=($!)
    done
fi
if [ ${#input_res[@]} -gt 0 ]; then
    # QEMU's serial console reads its stdin (tools/input-when.sh).
    indir=$(mktemp -d)
    input_when_fifo "$indir" || exit 1
    stdin_src=$indir/in
    for i in "${!input_res[@]}"; do
        input_when_watch "$log" "${input_ns[$i]}" "${input_res[$i]}" "${input_texts[$i]}" "$indir/in" "$indir/sent.$i"
        watchers+=($!)
    done
    # Still running 20 s before the timeout: the machine says what its threads
    # and vCPUs do (tools/input-when.sh), so a hang shows where.
    input_when_lsvcpu "$indir/in" "$timeout_s"
    watchers+=($!)
fi
if [ ${#run_res[@]} -gt 0 ]; then
    # Complete lines only (up to the last newline): a half-written line is not yet the line.
    rundir=$(mktemp -d)
    for i in "${!run_res[@]}"; do
        (until head -n "$(wc -l <"$log")" "$log" | tr -d '\r' | grep -E -- "${run_res[$i]}" | sed -n "${run_ns[$i]}p" >"$rundir/line.$i" &&
               [ -s "$rundir/line.$i" ]; do sleep 0.02; done
         PV_LINE=$(cat "$rundir/line.$i") PV_LOG=$log sh -c "${run_cmds[$i]}" >"$rundir/out.$i" 2>&1 && touch "$rundir/ran.$i") &
        watchers+=($!)
    done
fi
PV_BLKDEBUG=$blkdebug PV_DISK=$disk PV_DISK_SIZE=$disk_size PV_SMP=$smp timeout "$timeout_s" "$here/../../tools/pv-run" "$elf" "$bundle" "${qemu_args[@]}" <"$stdin_src" >"$log" 2>"$log.stderr"
rc=$?
for w in "${watchers[@]}"; do kill "$w" 2>/dev/null; done
tr -d '\r' <"$log" >"$log.clean" && mv "$log.clean" "$log"
verdict=$(mktemp)
fail=0
{
for i in "${!monitor_res[@]}"; do
    what="'${monitor_cmds[$i]}' after ${monitor_ns[$i]} lines /${monitor_res[$i]}/"
    if [ -e "$mondir/sent.$i" ]; then echo "ok: sent $what"; else echo "FAIL: not sent: $what"; fail=1; fi
done
for i in "${!input_res[@]}"; do
    input_when_result "$indir/sent.$i" "input '${input_texts[$i]}' after ${input_ns[$i]} lines /${input_res[$i]}/" ||
        fail=1
done
for i in "${!run_res[@]}"; do
    what="'${run_cmds[$i]}' after ${run_ns[$i]} lines /${run_res[$i]}/"
    [ ! -s "$rundir/out.$i" ] || sed 's/^/run-when: /' "$rundir/out.$i"
    if [ -e "$rundir/ran.$i" ]; then echo "ok: ran $what"
    elif [ -e "$rundir/out.$i" ]; then echo "FAIL: unfinished or exited non-zero: $what"; fail=1
    else echo "FAIL: not run: $what"; fail=1; fi
done
if [ $rc -eq 124 ]; then echo "FAIL: machine still running after ${timeout_s}s"; fail=1; fi
if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then echo "FAIL: qemu exited with $rc"; fail=1; fi
for re in "${expects[@]}"; do
    if grep -Eq -- "$re" "$log" "$log.stderr"; then echo "ok: found /$re/"; else echo "FAIL: missing /$re/"; fail=1; fi
done
for re in "${rejects[@]}"; do
    if grep -Eq -- "$re" "$log" "$log.stderr"; then
        echo "FAIL: unexpected /$re/ in:"; grep -Eh -- "$re" "$log" "$log.stderr" | head -n 5 | sed 's/^/    /'; fail=1
    else echo "ok: absent /$re/"; fi
done
[ ${#expects[@]} -gt 0 ] || { echo "FAIL: a boot test without expectations checks nothing"; fail=1; }
} >"$verdict"
# The verdict's failures first: a CI log shows a failed test's first lines and may cut the rest.
if grep -q '^FAIL' "$verdict"; then
    echo "==== boot_test failed:"; grep -A5 -E '^(FAIL|run-when: )' "$verdict" | grep -v '^ok: ' | grep -v '^--$'; echo "===="
fi
cat "$log"
[ ! -s "$log.stderr" ] || { echo "---- qemu stderr"; cat "$log.stderr"; }
[ -z "$mondir" ] || { echo "---- monitor"; tr -d '\r' <"$mondir/monitor.log"; echo; }
echo "----"
cat "$verdict"
rm -f "$verdict"
# And the console's end last, where a log cut in the middle still shows it.
[ "$fail" = 0 ] || { echo "---- the last 30 lines of the console:"; tail -n 30 "$log"; }
exit $fail
