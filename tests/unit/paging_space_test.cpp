// Paging regions against the paging device's size (issue 8): the boot-time
// check (check_paging_device in hv/config_check.cpp, logged by
// hv/paging_space.cpp) on configurations parsed by the real parser.
#include <gtest/gtest.h>

#include <string>

#include "arch/arch.h"
#include "hv/config.h"
#include "hv/paging_space.h"

namespace pv::arch {
extern std::string g_fake_console;
extern PagingDevice g_fake_paging_device;
extern bool g_fake_paging_device_present;
}  // namespace pv::arch

using namespace pv;

namespace {

constexpr u64 kMiB = u64{1} << 20;
constexpr u64 kBlocksPerMiB = kMiB / 512;

// The pool (lines 1-3) and the paging VIOS partition (lines 4-8).
const std::string kHead =
    "[shared_pool]\npool_mem = 64M\npaging_vios = psp\n"
    "[partition psp]\ndesired_procs = 1\ndesired_mem = 16M\nmem_mode = ded\nimage = psp\n";

// A shared partition: 7 lines with an offset (paging_offset on its 7th), 6 without.
std::string shared(const std::string& name, const std::string& mem, const std::string& offset = "",
                   const std::string& device = "nvme0") {
    std::string s = "[partition " + name + "]\ndesired_procs = 1\ndesired_mem = " + mem +
                    "\nmem_mode = shared\nimage = img\npaging_device = " + device + "\n";
    if (!offset.empty()) s += "paging_offset = " + offset + "\n";
    return s;
}

SystemConfig parsed(const std::string& text) {
    SystemConfig cfg{};
    ConfigError err{};
    bool ok = parse_config(text, cfg, err);
    EXPECT_TRUE(ok) << err.line << ": " << err.field << ": " << err.message;
    return cfg;
}

std::string formatted(const ConfigError& e) {
    char buf[256];
    format_config_error(e, buf, sizeof buf);
    return buf;
}

// The formatted error of checking `text` against nvme0 of `mib` MiB, or "ok".
std::string check(const std::string& text, u64 mib, const char* device = "nvme0") {
    SystemConfig cfg = parsed(text);
    ConfigError err{};
    err.line = 99;  // must be overwritten
    if (check_paging_device(cfg, device, mib * kBlocksPerMiB, 512, err)) return "ok";
    return formatted(err);
}

}  // namespace

TEST(PagingSpace, TheIssueCaseIsRejectedNamingPartitionDeviceAndSize) {
    // A 32 MiB region at 128 MiB of a 128 MiB disk (tests/boot/configs/paging_past_end.cfg).
    EXPECT_EQ(check(kHead + shared("s1", "32M", "128M"), 128),
              "config:15: paging_offset: paging region 128M..160M of partition 's1' ends past the end of paging "
              "device 'nvme0' (128M: 262144 blocks of 512 bytes)");
}

TEST(PagingSpace, RegionsThatFitAreAccepted) {
    // Two regions, the second ending exactly at the end of the device.
    EXPECT_EQ(check(kHead + shared("a", "16M", "0M") + shared("b", "16M", "16M"), 32), "ok");
    // The paging_half configuration on the boot tests' default 64 MiB disk.
    EXPECT_EQ(check(kHead + shared("s1", "16M", "0M") + shared("s2", "16M", "16M"), 64), "ok");
}

TEST(PagingSpace, OnePageTooFarIsRejected) {
    EXPECT_EQ(check(kHead + shared("a", "16M", "4K"), 16),
              "config:15: paging_offset: paging region 4K..16388K of partition 'a' ends past the end of paging "
              "device 'nvme0' (16M: 32768 blocks of 512 bytes)");
}

TEST(PagingSpace, DefaultOffsetIsReportedAtThePagingDeviceLine) {
    // No paging_offset key: the region starts at 0; the error goes to paging_device (line 14).
    EXPECT_EQ(check(kHead + shared("a", "64M"), 32),
              "config:14: paging_offset: paging region 0..64M of partition 'a' ends past the end of paging device "
              "'nvme0' (32M: 65536 blocks of 512 bytes)");
}

TEST(PagingSpace, TheFirstOffendingPartitionIsReported) {
    // a fits, b does not, c does not either: b (its paging_offset on line 9 + 7 + 7 - 1 = 22).
    EXPECT_EQ(check(kHead + shared("a", "16M", "0M") + shared("b", "16M", "48M") + shared("c", "16M", "64M"), 48),
              "config:22: paging_offset: paging region 48M..64M of partition 'b' ends past the end of paging device "
              "'nvme0' (48M: 98304 blocks of 512 bytes)");
}

TEST(PagingSpace, DeviceSizeNotAMultipleOfAMiB) {
    // 1000 blocks (500K): a 16M region cannot fit; the size is shown as it is.
    SystemConfig cfg = parsed(kHead + shared("a", "16M", "0M"));
    ConfigError err{};
    ASSERT_FALSE(check_paging_device(cfg, "nvme0", 1000, 512, err));
    EXPECT_EQ(err.line, 15u);
    EXPECT_STREQ(err.field, "paging_offset");
    EXPECT_NE(std::string(err.message).find("(500K: 1000 blocks of 512 bytes)"), std::string::npos) << err.message;
}

TEST(PagingSpace, HugeDevicesDoNotOverflow) {
    SystemConfig cfg = parsed(kHead + shared("a", "1G", "1024G"));
    ConfigError err{};
    EXPECT_TRUE(check_paging_device(cfg, "nvme0", ~u64{0}, 512, err));
    EXPECT_TRUE(check_paging_device(cfg, "nvme0", ~u64{0} / 512, 512, err));
    EXPECT_TRUE(check_paging_device(cfg, "nvme0", 1025 * 1024 * kBlocksPerMiB, 512, err));
    EXPECT_FALSE(check_paging_device(cfg, "nvme0", 1025 * 1024 * kBlocksPerMiB - 1, 512, err));
}

TEST(PagingSpace, DedicatedPartitionsAndConfigsWithoutSharedOnesNeedNoSpace) {
    EXPECT_EQ(check(kHead, 0), "ok");
    EXPECT_EQ(check("[partition d]\ndesired_procs = 1\ndesired_mem = 64M\nmem_mode = ded\nimage = i\n", 0), "ok");
}

TEST(PagingSpace, APartitionOnAnotherDeviceIsRejected) {
    // The machine has one paging device; a region on any other name would land on it unchecked.
    EXPECT_EQ(check(kHead + shared("a", "16M", "0M") + shared("b", "16M", "0M", "nvme1"), 1024),
              "config:21: paging_device: partition 'b' pages to 'nvme1', which this machine does not have (its "
              "paging device is 'nvme0')");
}

class PagingSpaceBoot : public ::testing::Test {
protected:
    void SetUp() override { arch::g_fake_console.clear(); }
    void TearDown() override {
        arch::g_fake_paging_device_present = false;
        arch::g_fake_paging_device = arch::PagingDevice{};
    }
    // Attaches the fake device as ams_init does.
    arch::PagingDevice attach(u64 blocks, u32 block_bytes) {
        arch::g_fake_paging_device.name = "nvme0";
        arch::g_fake_paging_device.blocks = blocks;
        arch::g_fake_paging_device.block_bytes = block_bytes;
        arch::g_fake_paging_device_present = true;
        arch::PagingDevice dev;
        char err[64];
        EXPECT_TRUE(arch::paging_device_attach(4096 + 32, dev, err, sizeof err));
        EXPECT_EQ(dev.dma_pages, 4096u + 32);
        return dev;
    }
};

TEST_F(PagingSpaceBoot, LogsTheConfigurationError) {
    SystemConfig cfg = parsed(kHead + shared("s1", "32M", "128M"));
    EXPECT_FALSE(check_paging_space(cfg, attach(128 * kBlocksPerMiB, 512)));
    EXPECT_EQ(arch::g_fake_console,
              "poolvisor: config:15: paging_offset: paging region 128M..160M of partition 's1' ends past the end of "
              "paging device 'nvme0' (128M: 262144 blocks of 512 bytes)\n");
}

TEST_F(PagingSpaceBoot, SilentWhenAllFit) {
    SystemConfig cfg = parsed(kHead + shared("s1", "32M", "96M"));
    EXPECT_TRUE(check_paging_space(cfg, attach(128 * kBlocksPerMiB, 512)));
    EXPECT_EQ(arch::g_fake_console, "");
}

TEST_F(PagingSpaceBoot, BlocksOtherThan512BytesAreRefused) {
    // Paging requests address the device in 512-byte blocks.
    SystemConfig cfg = parsed(kHead + shared("s1", "32M", "0M"));
    EXPECT_FALSE(check_paging_space(cfg, attach(128 * 256, 4096)));
    EXPECT_EQ(arch::g_fake_console, "poolvisor: paging device nvme0 has 4096-byte blocks; paging needs 512-byte blocks\n");
}

TEST(PagingSpaceFake, NoDeviceUnlessATestSetsOne) {
    arch::PagingDevice dev;
    char err[64];
    EXPECT_FALSE(arch::paging_device_attach(16, dev, err, sizeof err));
    EXPECT_STREQ(err, "no paging device on the host");
}
