#!/usr/bin/env bash
# Arms failures on the failing paging disk (failing_disk.sh): adds byte ranges
# to the fail list $PV_FAILLIST (a new file renamed over it: nbd_failing.py
# never reads half a list) and prints each range with what it is.
#   fail_blocks.sh pages PAGING_OFFSET INDEX...
#       $PV_LINE is pv-pagemap-touch's "PV-LINUX: pages pid=P pfns=A,B,...
#       pagesize=S count=K" line: for each INDEX (0-based, into the pfns list)
#       the first 4 KiB hypervisor page of that Linux page fails, i.e. bytes
#       PAGING_OFFSET + PFN*S for 4096 (a partition's logical page N is at
#       paging_offset + N*4096 of its paging device, hv/pager.cpp device_block).
#   fail_blocks.sh addr PAGING_OFFSET ADDR
#       the 4 KiB hypervisor page at logical address ADDR fails.
# Numbers in decimal or 0x hex.
set -euo pipefail
[ -n "${PV_FAILLIST:-}" ] || { echo "fail_blocks: PV_FAILLIST is not set (run under failing_disk.sh)" >&2; exit 2; }
[ $# -ge 2 ] || { echo "usage: $0 pages PAGING_OFFSET INDEX... | addr PAGING_OFFSET ADDR" >&2; exit 2; }
mode=$1 base=$(($2))
shift 2
ranges=()
case $mode in
    pages)
        line=${PV_LINE:-}
        pfns=$(printf '%s\n' "$line" | sed -n 's/.* pfns=\([0-9a-fx,]*\) pagesize=.*/\1/p')
        pagesize=$(printf '%s\n' "$line" | sed -n 's/.* pagesize=\([0-9]*\).*/\1/p')
        [ -n "$pfns" ] && [ -n "$pagesize" ] || { echo "fail_blocks: no pfns/pagesize in '$line'" >&2; exit 1; }
        IFS=, read -r -a pfn <<<"$pfns"
        for i in "$@"; do
            [ "$i" -lt ${#pfn[@]} ] || { echo "fail_blocks: index $i beyond ${#pfn[@]} pages" >&2; exit 1; }
            la=$((pfn[i] * pagesize))
            ranges+=("$((base + la)) 4096 # page $i pfn ${pfn[i]} logical $(printf 0x%x $la)")
        done
        ;;
    addr)
        [ $# -eq 1 ] || { echo "usage: $0 addr PAGING_OFFSET ADDR" >&2; exit 2; }
        la=$(($1 & ~4095))
        ranges+=("$((base + la)) 4096 # logical $(printf 0x%x $la)")
        ;;
    *) echo "fail_blocks: unknown mode $mode" >&2; exit 2 ;;
esac
{ cat "$PV_FAILLIST" 2>/dev/null || true; printf '%s\n' "${ranges[@]}"; } >"$PV_FAILLIST.new"
mv "$PV_FAILLIST.new" "$PV_FAILLIST"
for r in "${ranges[@]}"; do echo "fail_blocks: failing bytes $r"; done
