#!/usr/bin/env bash
# make_test_elfs.sh GUEST.elf OUTDIR: the ELF images of the loader's boot tests
# (tests/boot/elf.cmake), made from one of our guests' .elf files:
#   truncated.elf  cut in the middle of its PT_LOAD segment's data
#   x86.elf        e_machine set to EM_X86_64 (62)
#   big.elf        a Linux-sized kernel: the guest with its first PT_LOAD
#                  stretched over zeros to 45 MiB (zeros also cover its bss)
#   big-initrd     15 MiB of text
set -euo pipefail
src=$1 out=$2
mkdir -p "$out"
num() { od -An --endian=little -t "u$3" -j "$2" -N "$3" "$1" | tr -d ' '; }
put() {  # put FILE OFFSET VALUE BYTES: little-endian, in place
    local s= i
    for ((i = 0; i < $4; i++)); do s+=$(printf '\\%03o' $((($3 >> (8 * i)) & 255))); done
    printf "$s" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
phoff=$(num "$src" 32 8)
[ "$(num "$src" "$phoff" 4)" = 1 ] || { echo "make_test_elfs: $src: first program header is not PT_LOAD" >&2; exit 1; }
offset=$(num "$src" $((phoff + 8)) 8) filesz=$(num "$src" $((phoff + 32)) 8) memsz=$(num "$src" $((phoff + 40)) 8)

head -c $((offset + filesz / 2)) "$src" >"$out/truncated.elf"

cp "$src" "$out/x86.elf"
put "$out/x86.elf" 18 62 2

big=$((45 << 20))
head -c $((offset + filesz)) "$src" >"$out/big.elf"
truncate -s "$big" "$out/big.elf"
seg=$((big - offset))
put "$out/big.elf" $((phoff + 32)) "$seg" 8
put "$out/big.elf" $((phoff + 40)) $((seg > memsz ? seg : memsz)) 8
put "$out/big.elf" 40 0 8  # no section headers: they were cut off
put "$out/big.elf" 60 0 4  # e_shnum, e_shstrndx

yes "initrd" | head -c $((15 << 20)) >"$out/big-initrd" || true
[ "$(stat -c %s "$out/big-initrd")" = $((15 << 20)) ]
