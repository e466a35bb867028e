#include <gtest/gtest.h>
#include <libfdt.h>

#include <vector>

#include "hv/machine.h"

using namespace pv;

namespace {

// A device tree shaped like skiboot's on QEMU powernv9.
std::vector<char> machine_fdt(int cpus, bool with_memory = true, uint32_t heartbeat_ms = 0) {
    std::vector<char> buf(16384);
    void* f = buf.data();
    fdt_create(f, static_cast<int>(buf.size()));
    fdt_add_reservemap_entry(f, 0x30000000, 0x600000);
    fdt_finish_reservemap(f);
    fdt_begin_node(f, "");
    fdt_property_string(f, "model", "IBM PowerNV (emulated by qemu)");
    fdt_property_u32(f, "#address-cells", 2);
    fdt_property_u32(f, "#size-cells", 2);
    if (with_memory) {
        fdt_begin_node(f, "memory@0");
        fdt_property_string(f, "device_type", "memory");
        fdt32_t reg[4] = {cpu_to_fdt32(0), cpu_to_fdt32(0), cpu_to_fdt32(1), cpu_to_fdt32(0)};
        fdt_property(f, "reg", reg, sizeof reg);
        fdt_end_node(f);
    }
    fdt_begin_node(f, "cpus");
    for (int i = 0; i < cpus; ++i) {
        char name[32];
        snprintf(name, sizeof name, "PowerPC,POWER9@%x", i * 4);
        fdt_begin_node(f, name);
        fdt_property_string(f, "device_type", "cpu");
        fdt_property_u32(f, "timebase-frequency", 512000000);
        fdt_property_u32(f, "ibm,ppc-interrupt-server#s", static_cast<uint32_t>(i * 4));
        fdt_end_node(f);
    }
    fdt_end_node(f);
    fdt_begin_node(f, "reserved-memory");
    fdt_property_u32(f, "#address-cells", 2);
    fdt_property_u32(f, "#size-cells", 2);
    fdt_begin_node(f, "ibm,firmware-code@30000000");
    fdt32_t r[4] = {cpu_to_fdt32(0), cpu_to_fdt32(0x30000000), cpu_to_fdt32(0), cpu_to_fdt32(0x600000)};
    fdt_property(f, "reg", r, sizeof r);
    fdt_end_node(f);
    fdt_end_node(f);
    if (heartbeat_ms) {
        fdt_begin_node(f, "ibm,opal");
        fdt_property_u32(f, "ibm,heartbeat-ms", heartbeat_ms);
        fdt_end_node(f);
    }
    fdt_begin_node(f, "chosen");
    fdt_property_u64(f, "linux,initrd-start", 0x28000000);
    fdt_property_u64(f, "linux,initrd-end", 0x28004000);
    fdt_end_node(f);
    fdt_end_node(f);
    fdt_finish(f);
    return buf;
}

}  // namespace

TEST(MachineFdt, ReadsMemoryThreadsReservedAndInitrd) {
    auto fdt = machine_fdt(4);
    MachineInfo m;
    char err[128];
    ASSERT_TRUE(scan_machine_fdt(fdt.data(), m, err, sizeof err)) << err;
    EXPECT_EQ(m.thread_count, 4u);
    EXPECT_EQ(m.threads[3].value, 12u);
    ASSERT_EQ(m.mem_count, 1u);
    EXPECT_EQ(m.mem[0].size, u64{4} << 30);
    EXPECT_EQ(m.reserved_count, 2u);
    EXPECT_EQ(m.initrd_start, 0x28000000u);
    EXPECT_EQ(m.initrd_end, 0x28004000u);
    EXPECT_EQ(m.timebase_hz, 512000000u);
    EXPECT_STREQ(m.model, "IBM PowerNV (emulated by qemu)");
    EXPECT_EQ(m.heartbeat_ms, kDefaultHeartbeatMs) << "no /ibm,opal: skiboot's usual interval";
}

TEST(MachineFdt, ReadsTheFirmwareHeartbeat) {
    auto fdt = machine_fdt(1, true, 250);
    MachineInfo m;
    char err[128];
    ASSERT_TRUE(scan_machine_fdt(fdt.data(), m, err, sizeof err)) << err;
    EXPECT_EQ(m.heartbeat_ms, 250u);
}

TEST(MachineFdt, RejectsGarbageAndTreesWithoutMemory) {
    MachineInfo m;
    char err[128];
    std::vector<char> junk(256, 'x');
    EXPECT_FALSE(scan_machine_fdt(junk.data(), m, err, sizeof err));
    EXPECT_NE(std::string(err).find("header"), std::string::npos);
    auto fdt = machine_fdt(2, false);
    EXPECT_FALSE(scan_machine_fdt(fdt.data(), m, err, sizeof err));
    EXPECT_STREQ(err, "no memory node");
}
