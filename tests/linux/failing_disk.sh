#!/usr/bin/env bash
# A boot test whose paging disk fails reads on demand: nbdkit serves IMAGE (a
# fresh sparse file of SIZE) through nbd_failing.py, the machine's NVMe disk
# is that NBD export (tools/pv-run PV_NBD), and the fail list starts empty.
# The boot test's --run-when commands find the list's path in PV_FAILLIST and
# arm failures while the machine runs (fail_blocks.sh). nbdkit's own log (one
# line per failed read) follows the boot test's output.
# Usage: failing_disk.sh --image IMAGE [--size SIZE] -- BOOT_TEST_ARGS...
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
img= size=1G
while [ $# -gt 0 ]; do
    case $1 in
        --image) img=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "failing_disk: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$img" ] || { echo "usage: $0 --image IMAGE [--size SIZE] -- BOOT_TEST_ARGS..." >&2; exit 2; }
command -v nbdkit >/dev/null || { echo "FAIL: nbdkit not installed (tools/setup.sh: nbdkit nbdkit-plugin-python)"; exit 1; }
work=$(mktemp -d)
list=$img.faillist
rm -f "$img" "$list" && truncate -s "$size" "$img" && : >"$list" || exit 1
nbdkit -f --exit-with-parent -U "$work/nbd.sock" python "$here/nbd_failing.py" file="$img" faillist="$list" \
    2>"$work/nbdkit.log" &
nbd=$!
for _ in $(seq 200); do [ -S "$work/nbd.sock" ] && break; kill -0 $nbd 2>/dev/null || break; sleep 0.05; done
if [ ! -S "$work/nbd.sock" ]; then
    echo "FAIL: nbdkit did not start"
    cat "$work/nbdkit.log"
    kill $nbd 2>/dev/null
    rm -rf "$work"
    exit 1
fi
PV_NBD=$work/nbd.sock PV_FAILLIST=$list "$here/../boot/boot_test.sh" "$@"
rc=$?
kill $nbd 2>/dev/null
wait $nbd 2>/dev/null
echo "---- nbdkit (fail list $list)"
# Without the Python traceback nbdkit prints for each injected error.
awk '/pread: error: Traceback/ { skip = 1; next } skip && /injected read error/ { skip = 0; next }
     !skip && NF' "$work/nbdkit.log"
rm -rf "$work"
exit $rc
