// The firmware heartbeat: one OPAL_POLL_EVENTS per interval, however many
// threads look, and the next deadline for idle threads.
#include <gtest/gtest.h>

#include "hv/firmware_heartbeat.h"

namespace pv::arch {
extern u64 g_fake_firmware_polls;
}

using namespace pv;

namespace {

TEST(FirmwareHeartbeat, OnePollPerIntervalWhoeverLooks) {
    arch::g_fake_firmware_polls = 0;
    firmware_heartbeat_init(1000, 5000);
    EXPECT_EQ(firmware_heartbeat(5999), 6000u);
    EXPECT_EQ(arch::g_fake_firmware_polls, 0u);
    EXPECT_EQ(firmware_heartbeat(6000), 7000u);
    EXPECT_EQ(arch::g_fake_firmware_polls, 1u);
    // Other threads passing the same moment find the deadline moved.
    EXPECT_EQ(firmware_heartbeat(6000), 7000u);
    EXPECT_EQ(firmware_heartbeat(6500), 7000u);
    EXPECT_EQ(arch::g_fake_firmware_polls, 1u);
    // A long quiet spell: one late beat, then the interval from then on.
    EXPECT_EQ(firmware_heartbeat(20000), 21000u);
    EXPECT_EQ(arch::g_fake_firmware_polls, 2u);
}

TEST(FirmwareHeartbeat, NeverWithoutAnInterval) {
    arch::g_fake_firmware_polls = 0;
    firmware_heartbeat_init(0, 0);
    EXPECT_EQ(firmware_heartbeat(~u64{0} - 1), ~u64{0});
    EXPECT_EQ(arch::g_fake_firmware_polls, 0u);
}

}  // namespace
