// hv/net_attach: the network device's owner found at boot (or no partition
// starts), and at its boot: registers mapped, memory open to the device, the
// /poolvisor-network node (arch/fake stands in for the PCI side).
#include <libfdt.h>

#include "hv/config.h"
#include "hv/net_attach.h"
#include "tests/unit/host_partition.h"

namespace pv::arch {
struct FakeNetDma {
    u64 index;
    HostReal phys;
    u64 npages;
};
extern NetDevice g_fake_net_device;
extern bool g_fake_net_device_present;
extern FakeNetDma g_fake_net_dma;
extern std::string g_fake_console;
}  // namespace pv::arch

namespace pv {
namespace {

constexpr u64 kRegsPhys = 0x600c081800000;

// Cell pair i of a property of 64-bit values (properties are only 4-byte aligned).
u64 prop_u64(const void* p, int i) {
    fdt64_t v;
    std::memcpy(&v, static_cast<const u8*>(p) + 8 * i, sizeof v);
    return fdt64_to_cpu(v);
}

class NetAttachTest : public test::HostPartitionTest {
protected:
    void SetUp() override {
        set_up_partition(1);
        arch::g_fake_net_device_present = true;
        arch::g_fake_net_device = arch::NetDevice{};
        arch::g_fake_net_device.name = "eth0";
        arch::g_fake_net_device.regs_phys = kRegsPhys;
        arch::g_fake_net_device.regs_size = 128 << 10;
        arch::g_fake_net_device.vendor = 0x8086;
        arch::g_fake_net_device.device = 0x10d3;
        arch::g_fake_net_dma = {};
        arch::g_fake_console.clear();
    }
    void TearDown() override {
        arch::g_fake_net_device_present = false;
        SystemConfig none{};
        (void)net_init(none);
        test::HostPartitionTest::TearDown();
    }
    SystemConfig config(const std::string& extra) {
        std::string text = "[partition mover]\ndesired_procs = 1\ndesired_mem = 16M\nmem_mode = ded\nimage = img\n" + extra;
        SystemConfig cfg{};
        ConfigError err{};
        EXPECT_TRUE(parse_config(text, cfg, err)) << err.message;
        return cfg;
    }
};

TEST_F(NetAttachTest, NoOwnerNeedsNoDevice) {
    arch::g_fake_net_device_present = false;
    EXPECT_TRUE(net_init(config("")));
    EXPECT_FALSE(net_is_owner(*p_));
}

TEST_F(NetAttachTest, MissingDeviceStopsTheBoot) {
    arch::g_fake_net_device_present = false;
    EXPECT_FALSE(net_init(config("network_device = eth0\n")));
    EXPECT_NE(arch::g_fake_console.find("config:6: network_device: partition mover names 'eth0', which this machine "
                                  "cannot give it: no network device on the host"),
              std::string::npos)
        << arch::g_fake_console;
    EXPECT_FALSE(net_is_owner(*p_));
}

TEST_F(NetAttachTest, OtherNameStopsTheBoot) {
    EXPECT_FALSE(net_init(config("network_device = eth1\n")));
    EXPECT_NE(arch::g_fake_console.find("names 'eth1', which this machine does not have (its network device is 'eth0')"),
              std::string::npos)
        << arch::g_fake_console;
}

TEST_F(NetAttachTest, OwnerGetsRegistersMemoryAndNode) {
    ASSERT_TRUE(net_init(config("network_device = eth0\n")));
    ASSERT_TRUE(net_is_owner(*p_));
    std::vector<u8> fdt(8192);
    ASSERT_EQ(fdt_create_empty_tree(fdt.data(), 1024), 0);
    ASSERT_TRUE(net_attach(*p_, fdt.data(), static_cast<u32>(fdt.size())));
    // BAR0, page by page, at kNetRegsLogical; nothing past it.
    for (u64 off = 0; off < (128 << 10); off += kPageSize) {
        auto f = p_->radix.lookup(page_of(LogicalAddr{kNetRegsLogical + off}));
        ASSERT_TRUE(f.has_value()) << off;
        EXPECT_EQ(f->value, frame_of(HostReal{kRegsPhys + off}).value);
    }
    EXPECT_FALSE(p_->radix.lookup(page_of(LogicalAddr{kNetRegsLogical + (128 << 10)})).has_value());
    // All of its memory at TCE 0: bus address = logical address.
    EXPECT_EQ(arch::g_fake_net_dma.index, 0u);
    EXPECT_EQ(arch::g_fake_net_dma.phys.value, p_->mem_base.value);
    EXPECT_EQ(arch::g_fake_net_dma.npages, p_->mem_bytes / kPageSize);
    int node = fdt_node_offset_by_compatible(fdt.data(), -1, "poolvisor,network-v1");
    ASSERT_GE(node, 0);
    int len = 0;
    const void* regs = fdt_getprop(fdt.data(), node, "e1000e-regs", &len);
    ASSERT_EQ(len, 16);
    EXPECT_EQ(prop_u64(regs, 0), kNetRegsLogical);
    EXPECT_EQ(prop_u64(regs, 1), u64{128 << 10});
    const void* win = fdt_getprop(fdt.data(), node, "dma-window", &len);
    ASSERT_EQ(len, 16);
    EXPECT_EQ(prop_u64(win, 0), 0u);
    EXPECT_EQ(prop_u64(win, 1), p_->mem_bytes);
    EXPECT_STREQ(static_cast<const char*>(fdt_getprop(fdt.data(), node, "device-name", nullptr)), "eth0");
}

}  // namespace
}  // namespace pv
