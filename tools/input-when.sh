# shellcheck shell=bash
# Typing on a QEMU serial console once the machine has printed something:
# the --input-when of tests/boot/boot_test.sh and tools/pv-pair. Sourced.
#
#   input_when_fifo DIR
#       makes DIR/in, a FIFO to be QEMU's stdin, and keeps it open read-write
#       in this shell: opening it never blocks, and QEMU never sees end of file.
#   input_when_watch LOG N REGEX TEXT FIFO MARK
#       in the background ($! is its pid): once N lines of LOG match REGEX
#       (grep -E), writes TEXT into FIFO with printf %b ('\r' is Enter, '\x01'
#       Ctrl-A) and creates MARK.
#   input_when_lsvcpu FIFO TIMEOUT [ENDED]
#       in the background ($! is its pid): 20 s before TIMEOUT (seconds; not
#       when TIMEOUT is 40 or less), unless the file ENDED exists by then (the
#       machine is gone), types Ctrl-A c lsvcpu (docs/console.md), so that a
#       machine about to be killed says what its threads and vCPUs do. Its
#       sleep goes with it when it is killed.
#   input_when_result MARK WHAT
#       "ok: typed WHAT", or "FAIL: not typed: WHAT" and status 1.

input_when_fifo() {
    local fd
    mkfifo "$1/in" || return 1
    exec {fd}<>"$1/in"
}

input_when_watch() {
    local log=$1 n=$2 re=$3 text=$4 fifo=$5 mark=$6
    (until [ "$(grep -Ec -- "$re" "$log")" -ge "$n" ]; do sleep 0.02; done
     printf '%b' "$text" >"$fifo" && touch "$mark") &
}

input_when_lsvcpu() {
    local fifo=$1 timeout_s=$2 ended=${3:-}
    ([ "$timeout_s" -gt 40 ] || exit 0
     trap 'kill $s 2>/dev/null; exit 0' TERM; sleep $((timeout_s - 20)) & s=$!; wait $s
     [ -n "$ended" ] && [ -e "$ended" ] || printf '\001clsvcpu\r' >"$fifo") </dev/null >/dev/null 2>&1 &
}

input_when_result() {
    if [ -e "$1" ]; then echo "ok: typed $2"; else echo "FAIL: not typed: $2"; return 1; fi
}
