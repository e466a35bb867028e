#!/usr/bin/env bash
# Installs what building and testing Poolvisor needs on a Debian 12 machine:
# host packages through apt-get, the ppc64el build of libfdt unpacked into
# the build tree (the machine's dpkg architecture list is left untouched), and
# Debian's ppc64el installer kernel and initrd (the Linux guest, label `linux`).
set -euo pipefail

deps_dir=${1:-build/deps}
pkgs=(cmake make g++ libgtest-dev libfdt-dev device-tree-compiler
      g++-powerpc64le-linux-gnu binutils-powerpc64le-linux-gnu qemu-system-ppc
      gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross cpio nbdkit nbdkit-plugin-python
      libbearssl-dev qemu-user)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    [ "$(id -u)" = 0 ] || { echo "setup: run as root to install packages" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q || echo "setup: apt-get update reported errors; continuing with the lists it got"
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# ppc64el libraries for the image (libfdt; BearSSL for migration record
# authentication, docs/migration-transport.md): their .debs are fetched with a
# private apt state so the machine keeps its own architecture list, and
# unpacked into one root. fetch_ppc64el PACKAGE FILE: only when FILE is missing.
fdt_root="$deps_dir/ppc64el"
fetch_ppc64el() {
    local pkg=$1 file=$2 state
    [ -f "$fdt_root/$file" ] && return 0
    state=$(mktemp -d)
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$fdt_root"
    local opts=(-o APT::Architecture=ppc64el -o APT::Architectures::=ppc64el
                -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache")
    # A failing index of another suite (seen with the security suite) is not fatal.
    apt-get "${opts[@]}" update -q >"$state/update.log" 2>&1 || true
    (cd "$state" && apt-get "${opts[@]}" download "$pkg:ppc64el") \
        || { cat "$state/update.log" >&2; echo "setup: cannot download $pkg:ppc64el" >&2; exit 1; }
    dpkg -x "$state"/"$pkg"_*_ppc64el.deb "$fdt_root"
    rm -rf "$state"
    test -f "$fdt_root/$file"
}
fetch_ppc64el libfdt-dev usr/lib/powerpc64le-linux-gnu/libfdt.a
fetch_ppc64el libbearssl-dev usr/lib/powerpc64le-linux-gnu/libbearssl.a

# The Linux guest: Debian 12's ppc64el netboot kernel and installer initrd.
# The package is Architecture: all, so the machine's own lists serve it.
linux_dir="$deps_dir/linux"
if [ ! -f "$linux_dir/vmlinux" ] || [ ! -f "$linux_dir/initrd.gz" ]; then
    state=$(mktemp -d)
    echo "setup: fetching debian-installer-12-netboot-ppc64el (about 31 MB)"
    (cd "$state" && apt-get download -q debian-installer-12-netboot-ppc64el) \
        || { apt-get update -q || true; (cd "$state" && apt-get download -q debian-installer-12-netboot-ppc64el); } \
        || { echo "setup: cannot download debian-installer-12-netboot-ppc64el" >&2; rm -rf "$state"; exit 1; }
    dpkg -x "$state"/debian-installer-12-netboot-ppc64el_*_all.deb "$state/x"
    images="$state/x/usr/lib/debian-installer/images/12/ppc64el/text/debian-installer/ppc64el"
    mkdir -p "$linux_dir"
    # initrd first: vmlinux is what says the directory is complete.
    cp "$images/initrd.gz" "$linux_dir/initrd.gz.tmp" && mv "$linux_dir/initrd.gz.tmp" "$linux_dir/initrd.gz"
    cp "$images/vmlinux" "$linux_dir/vmlinux.tmp" && mv "$linux_dir/vmlinux.tmp" "$linux_dir/vmlinux"
    rm -rf "$state"
fi
test -f "$linux_dir/vmlinux"
echo "setup: ok (ppc64el libfdt and BearSSL in $fdt_root, Linux guest in $linux_dir)"
