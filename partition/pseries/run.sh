#!/usr/bin/env bash
# Run a test partition image under QEMU's pseries machine (QEMU's own PAPR
# hcalls and RTAS, no firmware, no Poolvisor) to check the guest by itself.
#   partition/pseries/run.sh BUILD_DIR IMAGE.bin 'bootargs' [VCPUS] [QEMU ARGS...]
# BUILD_DIR is the cross build (holds pseries-shim.bin: cmake --build BUILD_DIR
# --target pseries-shim). Env: MEM (default 256M, pseries wants 256 MiB
# multiples), TIMEOUT (seconds, default 120). Exits with QEMU's status: 0 after
# the guest's power-off, 124 on timeout (expected for bad-guest oob/priv/spin:
# QEMU pseries has no watchdog, and a real-mode store beyond memory just
# succeeds there).
# Example: partition/pseries/run.sh build-h3/image build-h3/image/smp-guest.bin rounds=2 2
set -euo pipefail
build=$1 image=$2 bootargs=$3 vcpus=${4:-1}
shift $(( $# < 4 ? $# : 4 ))
shim=$build/pseries-shim.bin
[ -f "$shim" ] || { echo "run.sh: no $shim (cmake --build $build --target pseries-shim)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$image" "$bootargs" "$tmp" <<'PY'
import struct, sys
image, bootargs, tmp = sys.argv[1:4]
b = bytearray(open(image, 'rb').read())
orig = bytes(b[0x100:0x108])
b[0x100:0x108] = struct.pack('>II', (18 << 26) | 0x1000000 | 2, 0)  # ba 0x1000000, read big-endian
open(tmp + '/bios.bin', 'wb').write(b)
open(tmp + '/params.bin', 'wb').write(orig + bytes(8) + bootargs.encode()[:239] + b'\0')
PY
status=0
timeout "${TIMEOUT:-120}" qemu-system-ppc64 -nographic -nodefaults -serial mon:stdio -no-reboot \
    -M pseries,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off -cpu POWER9 \
    -smp "$vcpus" -m "${MEM:-256M}" -bios "$tmp/bios.bin" \
    -device loader,file="$shim",addr=0x1000000,force-raw=on \
    -device loader,file="$tmp/params.bin",addr=0x1100000,force-raw=on "$@" || status=$?
exit $status
