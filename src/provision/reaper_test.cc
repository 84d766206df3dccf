#include "provision/reaper.h"

#include <gtest/gtest.h>

#include "provider/simulated_market.h"
#include "testing/test_util.h"

namespace standby {
namespace {

TEST(ReaperTest, DestroysUnownedLabelledInstancesAfterTheGracePeriod) {
  FakeClock clock;
  SimulatedMarket market(VastLikeProfile(), &clock, 3);
  ASSERT_OK_AND_ASSIGN(auto offers, market.SearchOffers({}));
  auto create = [&](size_t i, const std::string& label) {
    LaunchSpec spec;
    spec.label = label;
    auto created = market.Create(offers[i], spec);
    EXPECT_TRUE(created.has_value());
    return created->id;
  };
  std::string owned = create(0, "standby:c1:provision:a");
  std::string orphan = create(1, "standby:c1:provision:b");  // e.g. a create whose answer was lost
  std::string other_controller = create(2, "standby:c2:provision:c");
  std::string not_ours = create(3, "someone-else");

  ASSERT_OK_AND_ASSIGN(auto young, ReapOrphans(&market, nullptr, ControllerLabelPrefix("c1"),
                                               {owned}, std::chrono::seconds(600), &clock));
  EXPECT_TRUE(young.destroyed.empty());
  EXPECT_EQ(young.kept_young, std::vector<std::string>{orphan});

  clock.Advance(std::chrono::seconds(601));
  ASSERT_OK_AND_ASSIGN(auto reaped, ReapOrphans(&market, nullptr, ControllerLabelPrefix("c1"),
                                                {owned}, std::chrono::seconds(600), &clock));
  EXPECT_EQ(reaped.destroyed, std::vector<std::string>{orphan});
  EXPECT_OK(market.Get(owned));
  EXPECT_OK(market.Get(other_controller));
  EXPECT_OK(market.Get(not_ours));
  EXPECT_FALSE(market.Get(orphan).has_value());

  EXPECT_FALSE(
      ReapOrphans(&market, nullptr, "someone", {}, std::chrono::seconds(0), &clock).has_value());
}

}  // namespace
}  // namespace standby
