#!/usr/bin/env bash
# Installs what building and testing Poolvisor needs on a Debian 12 machine:
# host packages through apt-get, and the ppc64el build of libfdt unpacked into
# the build tree (the machine's dpkg architecture list is left untouched).
set -euo pipefail

deps_dir=${1:-build/deps}
pkgs=(cmake make g++ libgtest-dev libfdt-dev device-tree-compiler
      g++-powerpc64le-linux-gnu binutils-powerpc64le-linux-gnu qemu-system-ppc)

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

# libfdt for the ppc64le image. Fetch the ppc64el .debs with a private apt
# state so the machine keeps its own architecture list.
fdt_root="$deps_dir/ppc64el"
if [ ! -f "$fdt_root/usr/lib/powerpc64le-linux-gnu/libfdt.a" ]; then
    state=$(mktemp -d)
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$fdt_root"
    opts=(-o APT::Architecture=ppc64el -o APT::Architectures::=ppc64el
          -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache")
    # A failing index of another suite (seen with the security suite) is not fatal.
    apt-get "${opts[@]}" update -q >"$state/update.log" 2>&1 || true
    (cd "$state" && apt-get "${opts[@]}" download libfdt-dev:ppc64el) \
        || { cat "$state/update.log" >&2; echo "setup: cannot download libfdt-dev:ppc64el" >&2; exit 1; }
    dpkg -x "$state"/libfdt-dev_*_ppc64el.deb "$fdt_root"
    rm -rf "$state"
fi
test -f "$fdt_root/usr/lib/powerpc64le-linux-gnu/libfdt.a"
echo "setup: ok (ppc64el libfdt in $fdt_root)"
