#!/usr/bin/env bash
# linux.sigbus's verdict, run by boot_test.sh --run-when on Linux's
# "PV-LINUX: sigbus PASS" line (PV_LOG: the console so far):
#   check_sigbus.sh COUNT INDEX...
# INDEXes are the pages (of COUNT) whose blocks were failed. The pool decides
# which pages are out on the disk when they are touched, so an armed page may
# still be resident (then it reads back intact). It checks that every failed
# page-in the hypervisor reports is one of the armed pages, that exactly those
# pages raised SIGBUS (BUS_MCEERR_AR) and no other, that at least one did, and
# that every other page came back intact.
set -euo pipefail
count=$1
shift
armed=" $* "
# Linux's hvc0 sends 16 bytes per H_PUT_TERM_CHAR, so a kernel message can
# land inside a line of the program's: "[linux] PV-LINUX: pages t[ 124.1] Memory
# failure: ...", more kernel lines, then "[linux] ouched pid=98 ...". The
# partition's program lines are joined back (kernel messages, which start with
# a printk timestamp, are left out of them). A kernel line can be cut by the
# program's text too ("[linux] [ 78.0] Memory failure: ... recovery asigbus
# page=2 ..."): that is matched by its tail. The program's lines are looked
# for in both, the console as it is and joined back.
rejoin() {
    awk '
        /^\[linux\] / {
            x = substr($0, 9)
            if (x ~ /^\[ *[0-9]+\.[0-9]+\] /) next                  # a whole kernel line
            if (match(x, /\[ *[0-9]+\.[0-9]+\] /)) { cut = cut substr(x, 1, RSTART - 1); next }
            print "[linux] " cut x; cut = ""; next
        }
        { print }'
}
log=$(tr -d '\r' <"$PV_LOG")
joined=$(printf '%s\n' "$log" | rejoin)
both=$(printf '%s\n%s\n' "$log" "$joined")
line=$(grep -m1 -E 'PV-LINUX: pages pid=[0-9]+ pfns=' <<<"$both")
pfns=$(printf '%s\n' "$line" | sed -n 's/.* pfns=\([0-9a-fx,]*\) pagesize=.*/\1/p')
pagesize=$(printf '%s\n' "$line" | sed -n 's/.* pagesize=\([0-9]*\).*/\1/p')
IFS=, read -r -a pfn <<<"$pfns"
[ ${#pfn[@]} -eq "$count" ] || { echo "check_sigbus: ${#pfn[@]} PFNs, not $count"; exit 1; }
# The hypervisor's failed page-ins of linux, as page indexes of the buffer.
failed=" "
for la in $(printf '%s\n' "$log" | sed -n 's/^poolvisor: paging: page-in of linux logical page \(0x[0-9a-f]*\) from block [0-9]* failed (status 0x281): machine check.*/\1/p'); do
    idx=
    for i in "${!pfn[@]}"; do [ $((pfn[i] * pagesize)) -eq $((la)) ] && idx=$i; done
    [ -n "$idx" ] || { echo "check_sigbus: failed page-in of $la is not in the buffer"; exit 1; }
    case $armed in *" $idx "*) ;; *) echo "check_sigbus: page $idx failed but was not armed"; exit 1 ;; esac
    failed="$failed$idx "
done
# The pages that raised SIGBUS (a line may be cut by a kernel message: tails only).
sigbus=" "
# Each page as often as the console or its joined copy, whichever has more,
# shows it: a page that raised SIGBUS twice still counts twice.
sigbus_pages() { sed -n 's/.*sigbus page=\([0-9]*\) addr=0x[0-9a-f]* code=4 (BUS_MCEERR_AR)$/\1/p' <<<"$1" | sort -n | uniq -c; }
for idx in $({ sigbus_pages "$log"; sigbus_pages "$joined"; } |
             awk '$1 > most[$2] { most[$2] = $1 } END { for (p in most) for (k = 0; k < most[p]; k++) print p }' | sort -n); do
    sigbus="$sigbus$idx "
done
n=$(echo $sigbus | wc -w)
norm() { tr ' ' '\n' <<<"$1" | grep . | sort -n | tr '\n' ' '; }
[ "$(norm "$failed")" = "$(norm "$sigbus")" ] || { echo "check_sigbus: failed page-ins ($failed) != SIGBUS pages ($sigbus)"; exit 1; }
[ "$n" -ge 1 ] || { echo "check_sigbus: no armed page was out on the disk: nothing tested"; exit 1; }
grep -Eq "touched pid=[0-9]+ intact=$((count - n))/$count corrupt=0 sigbus=$n$" <<<"$both" ||
    { echo "check_sigbus: no 'intact=$((count - n))/$count corrupt=0 sigbus=$n'"; exit 1; }
echo "check_sigbus: pages$sigbus(of armed$armed) raised SIGBUS BUS_MCEERR_AR, $((count - n)) of $count intact"
