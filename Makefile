# Thin wrapper over CMake and ctest. `make demo` / `make test` install what is
# missing on a Debian 12 machine (tools/setup.sh) first.
BUILD ?= build
JOBS ?= $(shell nproc)
HOST := $(BUILD)/host
# OFF: the label-linux tests are configured but disabled (a machine without the kernel's time to spare).
LINUX_TESTS ?= ON

.PHONY: all setup build demo migrate linux linux-shared test test-linux unit bench clean
all: build

setup:
	tools/setup.sh $(BUILD)/deps

build: setup
	cmake -S . -B $(HOST) -DCMAKE_BUILD_TYPE=Release -DPV_DEPS_DIR=$(abspath $(BUILD)/deps) \
	    -DPV_LINUX_TESTS=$(LINUX_TESTS)
	cmake --build $(HOST) -j$(JOBS)

# The demo's shared partitions page to an NVMe disk backed by a fresh image.
demo: build
	rm -f $(HOST)/demo-disk.img
	PV_DISK=$(HOST)/demo-disk.img tools/pv-run $(HOST)/image/poolvisor.elf $(HOST)/demo.bundle </dev/null

# Live migration (docs/migration.md): two Poolvisor systems joined by an
# emulated Ethernet link; on system A, `migrlpar -o m -p shared1 -t sysb` is
# typed once A's mover is up, and shared1 (an smp-guest that has written its
# memory and waits) moves to B while it runs; B sends it back to A
# (`migrlpar -o m -p shared1 -t sysa`), where it checks every byte again
# (the same steps as the test boot.mig_move_back).
migrate: build
	PV_DISK_SIZE=160M tools/pv-pair --elf $(HOST)/image/poolvisor.elf --a $(HOST)/mig_back_a.bundle \
	    --b $(HOST)/mig_b.bundle --disk-a $(HOST)/migrate-a.img --disk-b $(HOST)/migrate-b.img --timeout 400 \
	    --input-when A 1 '^poolvisor: mover: the paging service partition is the mover' '\x01cmigrlpar -o m -p shared1 -t sysb\r' \
	    --input-when B 1 '^poolvisor: migration: the session sysa opened has ended \(closed\)' '\x01cmigrlpar -o m -p shared1 -t sysa\r' \
	    --input-when B 1 '^poolvisor: migration: shared1 runs on sysa: ending it here' 'x\r' \
	    --input-when A 1 '^poolvisor: migration: shared1 from sysb resumed here' 'y\r' \
	    --input-when A 2 '^poolvisor: console: input to partition shared1' 'go\r' \
	    --expect '^B\| poolvisor: migration: shared1 from sysa resumed here' \
	    --expect '^A\| poolvisor: migration: shared1 from sysb resumed here' \
	    --expect '^A\| \[shared1\] smp-guest: hold: checked [0-9]+ MiB again: 0 mismatches'

# Debian 12's ppc64el kernel (2 vCPUs, dedicated) with an interactive shell
# on hvc0, beside a test partition (partition/linux.cfg, README.md "Linux").
linux: build
	PV_STDIO_SIGNAL=off tools/pv-run $(HOST)/image/poolvisor.elf $(HOST)/linux.bundle

# The same kernel in shared memory (partition/linux_shared.cfg), paged to a fresh 1 GiB disk.
linux-shared: build
	rm -f $(HOST)/linux-shared.img
	PV_STDIO_SIGNAL=off PV_DISK=$(HOST)/linux-shared.img PV_DISK_SIZE=1G \
	    tools/pv-run $(HOST)/image/poolvisor.elf $(HOST)/linux_shared_demo.bundle

# Unit tests (built with AddressSanitizer, UndefinedBehaviorSanitizer and the
# lock witness) and boot tests (the *.witness ones boot poolvisor-witness.elf).
test: build
	cd $(HOST) && ctest --output-on-failure -j$(JOBS)

# Only the Debian-kernel tests (label linux).
test-linux:
	$(MAKE) build LINUX_TESTS=ON
	cd $(HOST) && ctest --output-on-failure -j$(JOBS) -L linux

# With the Linux guest: linux_boot_ratio (Poolvisor ÷ QEMU pseries, same kernel and initrd).
bench: build
	tools/pv-bench $(HOST)/image/poolvisor.elf $(HOST)/bench.bundle \
	    $(HOST)/linux_bench.bundle $(abspath $(BUILD)/deps/linux/vmlinux) $(HOST)/linux/initrd.gz \
	    $(HOST)/linux_bench_shared.bundle $(HOST)/mig_move_a.bundle $(HOST)/mig_b.bundle

unit: build
	cd $(HOST) && ctest --output-on-failure -L unit

clean:
	rm -rf $(HOST)
