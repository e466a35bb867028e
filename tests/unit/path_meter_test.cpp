#include "hv/path_meter.h"

#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace pv {
namespace {

u64 lower_median(std::vector<u64> v) {
    std::sort(v.begin(), v.end());
    return v[(v.size() - 1) / 2];
}

TEST(PathMeter, EmptyHasNoFigures) {
    PathMeter m;
    EXPECT_EQ(m.median(), 0u);
    EXPECT_EQ(m.mean(), 0u);
    EXPECT_EQ(m.count, 0u);
}

TEST(PathMeter, MinMeanAndMedianOfFewPasses) {
    PathMeter m;
    for (u64 x : {500u, 300u, 100000u, 310u, 305u}) m.add(x);
    EXPECT_EQ(m.min, 300u);
    EXPECT_EQ(m.median(), 310u);  // the outlier moves the mean, not the median
    EXPECT_EQ(m.mean(), (500u + 300 + 100000 + 310 + 305) / 5);
}

TEST(PathMeter, MedianMatchesSortingForAnyOrder) {
    std::mt19937_64 rng(7);
    for (u32 n : {1u, 2u, 3u, 10u, 255u, 1024u}) {
        PathMeter m;
        std::vector<u64> all;
        for (u32 i = 0; i < n; ++i) {
            u64 x = 200 + rng() % 50;  // many equal values
            m.add(x);
            all.push_back(x);
        }
        EXPECT_EQ(m.median(), lower_median(all)) << n;
    }
}

TEST(PathMeter, ReservoirKeepsTheMedianOfManyPasses) {
    PathMeter m;
    // 1 of 10 passes is a 1e6 outlier, the rest 300..399: the median stays in the bulk.
    for (u32 i = 0; i < 100000; ++i) m.add(i % 10 == 0 ? 1000000 : 300 + i % 100);
    EXPECT_EQ(m.count, 100000u);
    EXPECT_GE(m.median(), 300u);
    EXPECT_LT(m.median(), 400u);
    EXPECT_GT(m.mean(), 100000u);
}

TEST(PathMeter, HugeCountsSaturateInTheSamples) {
    PathMeter m;
    m.add(u64{1} << 40);
    EXPECT_EQ(m.median(), 0xffffffffu);
    EXPECT_EQ(m.min, u64{1} << 40);
}

}  // namespace
}  // namespace pv
