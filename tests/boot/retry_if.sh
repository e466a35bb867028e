#!/usr/bin/env bash
# retry_if.sh REGEX COMMAND...: run COMMAND; if it fails and its output matches
# REGEX, run it once more. For a boot test whose injected event is, by the
# architecture, unrecoverable in a short window (a system reset that lands
# while MSR[RI]=0): that outcome is a correct machine stop, not a pass, so the
# test is run again instead; any other failure fails at once.
set -uo pipefail
re=$1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1
rc=$?
cat "$out"
if [ $rc -ne 0 ] && grep -Eq -- "$re" "$out"; then
    echo "==== retry_if: the run ended in /$re/ (unrecoverable by the architecture): once more"
    "$@"
    rc=$?
fi
exit $rc
