// What the device tree tells a test partition, read once by vCPU 0.
#pragma once
#include "partition/guest/rt/layout.h"
#include "partition/guest/rt/types.h"

namespace rt {

struct Platform {
    const void* fdt = nullptr;
    u64 fdt_size = 0;
    u64 mem_size = 0;          // /memory@0 reg size
    char bootargs[256] = {};   // /chosen/bootargs ("" if none)
    u32 vtermno = 0;           // reg of /vdevice/vty@...
    u32 cpus = 0;              // vCPUs we use (at most RT_MAX_CPUS)
    u32 cpus_in_tree = 0;      // cpu nodes under /cpus
    u32 cpu_hwid[RT_MAX_CPUS] = {};  // reg of each; [0] is the boot vCPU
    u64 timebase_hz = 0;
    u64 rtas_base = 0, rtas_entry = 0, rtas_size = 0;
    bool le_interrupts = false;  // H_SET_MODE(LE) succeeded
    u32 boot_count = 0;          // /chosen poolvisor,boot-count: system-reboots so far
};

// vCPU 0, first thing: H_SET_MODE(LE), device tree, console, RTAS. On false
// the partition cannot continue (a message has been printed if possible).
bool init(const void* fdt, const char* image_name);
const Platform& platform();

// Bootargs are space-separated words. Word i (0-based), or false.
bool bootarg_word(u32 i, const char** word, size_t* len);
// The value of the first word "key=value", or false.
bool bootarg(const char* key, const char** value, size_t* len);
// bootarg(key) as a decimal (or 0x hex) number; `def` if absent or not a number.
u64 bootarg_u64(const char* key, u64 def);
bool bootarg_is(const char* key, const char* value);

// Memory the image may use freely: from the end of its .bss (1 MiB aligned)
// up to mem_size - 2 MiB, avoiding the reserve map, the device tree and RTAS.
struct Range {
    u64 base, end;
};
Range free_memory();

}  // namespace rt
