#!/usr/bin/env bash
# boot.mig_move_forged: runs tools/pv-pair (the arguments) keeping the merged
# console, then checks that the movers' rejection counts are real and bounded
# by what the relay did: each side's PSP prints, per session, "N rejected
# records (F bad tag, R replayed, ...)" (partition/guest/psp/mover.cpp
# report); the relay's last line says "relay: F forged, R replayed, X cut".
# Without duplicated or corrupted frames nothing else makes a bad tag or a
# replay, so the two sides' sums cannot exceed the relay's counts (a forged
# or replayed frame that arrives once the session is over is not counted),
# and the target (B, which receives the records) must have refused some of
# each.
#   mig_reject_counts.sh LOG PV-PAIR-COMMAND...
set -uo pipefail
log=$1
shift
"$@" --log "$log"
rc=$?
relay=$(sed -n 's/^R| relay: \([0-9]*\) forged, \([0-9]*\) replayed, .*/\1 \2/p' "$log" | tail -n 1)
if [ -z "$relay" ]; then
    echo "FAIL: no relay forged/replayed line"
    exit 1
fi
read -r forged replays <<<"$relay"
# side: the sums of bad tag and replayed over that machine's session reports.
side() {
    sed -n "s/^$1| \\[psp\\] psp: mover: session [0-9a-f]*: [0-9]* rejected records (\\([0-9]*\\) bad tag, \\([0-9]*\\) replayed,.*/\\1 \\2/p" \
        "$log" | awk '{ b += $1; r += $2; n++ } END { printf "%d %d %d\n", b, r, n }'
}
read -r a_bad a_rep a_n < <(side A)
read -r b_bad b_rep b_n < <(side B)
echo "relay: $forged forged, $replays replayed; mover A ($a_n sessions): $a_bad bad tag, $a_rep replayed;" \
    "mover B ($b_n sessions): $b_bad bad tag, $b_rep replayed"
check() {
    if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; rc=1; fi
}
check '[ "$b_n" -ge 1 ] && [ "$b_bad" -ge 1 ]' "B's mover refused forged records ($b_bad bad tag)"
check '[ "$b_n" -ge 1 ] && [ "$b_rep" -ge 1 ]' "B's mover refused replayed records ($b_rep replayed)"
check '[ $((a_bad + b_bad)) -le "$forged" ]' "bad tags ($((a_bad + b_bad))) <= forged ($forged)"
check '[ $((a_rep + b_rep)) -le "$replays" ]' "replays refused ($((a_rep + b_rep))) <= replayed ($replays)"
exit $rc
