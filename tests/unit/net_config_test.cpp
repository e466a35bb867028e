// network_device: the partition that owns the NIC (hv/config_check.cpp
// check_network, docs/config.md).
#include <gtest/gtest.h>

#include <string>

#include "hv/config.h"
#include "tests/unit/config_parse.h"

using namespace pv;

namespace {

using test::Parsed;
using test::parse;

std::string part(const std::string& name, const std::string& extra = "", const std::string& mode = "ded") {
    return "[partition " + name + "]\ndesired_procs = 1\ndesired_mem = 64M\nmem_mode = " + mode + "\nimage = img\n" +
           extra;
}

void expect_error(const std::string& text, u32 line, const std::string& needle) {
    Parsed p = parse(text);
    ASSERT_FALSE(p.ok) << text;
    EXPECT_EQ(p.err.line, line) << p.err.message;
    EXPECT_STREQ(p.err.field, "network_device");
    EXPECT_NE(std::string(p.err.message).find(needle), std::string::npos) << p.err.message;
}

TEST(NetConfig, OwnerAndDefault) {
    Parsed p = parse(part("a") + part("mover", "network_device = eth0\n"));
    ASSERT_TRUE(p.ok) << p.err.message;
    EXPECT_STREQ(p.cfg.partitions[0].network_device, "");
    EXPECT_EQ(p.cfg.partitions[0].network_device_line, 0u);
    EXPECT_STREQ(p.cfg.partitions[1].network_device, "eth0");
    EXPECT_EQ(p.cfg.partitions[1].network_device_line, 11u);
}

TEST(NetConfig, KeyBeforeMemMode) {
    Parsed p = parse("[partition m]\nnetwork_device = eth0\ndesired_procs = 1\ndesired_mem = 16M\nmem_mode = ded\n"
                     "image = img\n");
    ASSERT_TRUE(p.ok) << p.err.message;
    EXPECT_STREQ(p.cfg.partitions[0].network_device, "eth0");
}

TEST(NetConfig, BadName) {
    expect_error(part("a", "network_device = Eth0\n"), 6, "not a valid device name");
    expect_error(part("a", "network_device = eth0eth0eth0eth0\n"), 6, "not a valid device name");
}

TEST(NetConfig, OneOwner) {
    expect_error(part("a", "network_device = eth0\n") + part("b", "network_device = eth0\n"), 12,
                 "already owned by partition 'a' (line 6)");
    expect_error(part("a", "network_device = eth0\n") + part("b", "network_device = eth1\n"), 12,
                 "this machine has one network device");
}

TEST(NetConfig, OwnerNeedsDedicatedMemory) {
    std::string pool = "[shared_pool]\npool_mem = 64M\npaging_vios = psp\n";
    expect_error(pool + part("psp") + part("s", "network_device = eth0\npaging_device = nvme0\n", "shared"), 14,
                 "must use dedicated memory");
}

TEST(NetConfig, Duplicate) {
    Parsed p = parse(part("a", "network_device = eth0\nnetwork_device = eth0\n"));
    ASSERT_FALSE(p.ok);
    EXPECT_EQ(p.err.line, 7u);
}

}  // namespace
