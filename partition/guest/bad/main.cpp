// bad-guest: misbehaves in the way the first bootargs word asks, so that the
// hypervisor's containment can be tested:
//   oob   store beyond the partition's memory (mem_size + 64 MiB)
//   priv  mtspr LPCR, a hypervisor-only instruction (0x700 holds 0x00000000)
//   spin  loop forever with MSR[EE] = 0 and no hypervisor calls
//   ok    power off normally (the control case)
#include <string.h>

#include "partition/guest/rt/console.h"
#include "partition/guest/rt/cpu.h"
#include "partition/guest/rt/platform.h"

using namespace rt;

namespace {

constexpr u64 kBeyond = 64 * MiB;

bool is(const char* word, size_t len, const char* mode) { return len == strlen(mode) && memcmp(word, mode, len) == 0; }

[[noreturn]] void oob() {
    auto* p = reinterpret_cast<volatile u64*>(platform().mem_size + kBeyond);
    *p = 0xbadbadbadbadULL;
    log("oob store survived");
    power_off();
}

[[noreturn]] void priv() {
    asm volatile("mtspr 318, %0" ::"r"(u64{0}) : "memory");  // LPCR
    log("priv survived");
    power_off();
}

[[noreturn]] void spin() {
    log("spinning");
    irq_disable();
    for (;;) asm volatile("b ." ::: "memory");
}

}  // namespace

extern "C" [[noreturn]] void pv_main(const void* fdt) {
    if (!init(fdt, "bad-guest")) halt();
    const char* mode = "";
    size_t len = 0;
    bootarg_word(0, &mode, &len);
    char word[sizeof platform().bootargs];  // a bootargs word always fits
    memcpy(word, mode, len);
    word[len] = '\0';
    log("%s", word);
    if (is(mode, len, "oob")) oob();
    if (is(mode, len, "priv")) priv();
    if (is(mode, len, "spin")) spin();
    if (is(mode, len, "ok")) {
        log("ok");
        power_off();
    }
    log("unknown mode");
    power_off();
}
