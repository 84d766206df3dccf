#include "base/json_fields.h"

#include <gtest/gtest.h>

namespace standby {
namespace {

using nlohmann::json;

TEST(JsonFieldsTest, ReadsWellTypedFields) {
  json j = {{"name", "a"},        {"n", 3}, {"x", 1.5}, {"ok", true}, {"list", {"p", "q"}},
            {"inner", {{"k", 1}}}};
  JsonFields f(j, "thing");
  EXPECT_EQ(f.String("name"), "a");
  EXPECT_EQ(f.Int("n", 0, 10), 3);
  EXPECT_EQ(f.Number("x", 0, 2), 1.5);
  EXPECT_TRUE(f.Bool("ok"));
  EXPECT_EQ(f.Strings("list"), (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(f.Object("inner")["k"], 1);
  EXPECT_FALSE(f.OptionalString("absent").has_value());
  EXPECT_TRUE(f.status().has_value());
}

TEST(JsonFieldsTest, WrongTypesAndRangesAreErrorsNamingTheFieldNeverExceptions) {
  struct Case {
    json input;
    std::function<void(JsonFields&)> read;
    std::string field;
  };
  std::vector<Case> cases = {
      {{{"protocol", "1"}}, [](JsonFields& f) { f.Int("protocol"); }, "protocol"},
      {{{"n", -1}}, [](JsonFields& f) { f.Int("n", 0, 5); }, "n"},
      {{{"n", 18446744073709551615ull}}, [](JsonFields& f) { f.Int("n"); }, "n"},
      {{{"n", 1.5}}, [](JsonFields& f) { f.Int("n"); }, "n"},
      {{{"s", 7}}, [](JsonFields& f) { f.String("s"); }, "s"},
      {{{"s", std::string(5000, 'x')}}, [](JsonFields& f) { f.String("s"); }, "s"},
      {{{"b", "yes"}}, [](JsonFields& f) { f.Bool("b"); }, "b"},
      {{{"gpus", {1}}}, [](JsonFields& f) { f.Strings("gpus"); }, "gpus"},
      {{{"data", "x"}}, [](JsonFields& f) { f.Object("data"); }, "data"},
      {json::object(), [](JsonFields& f) { f.String("missing"); }, "missing"},
  };
  for (Case& c : cases) {
    JsonFields f(c.input, "agent result");
    c.read(f);
    ASSERT_FALSE(f.status().has_value()) << c.input.dump();
    EXPECT_EQ(f.status().error().code, ErrorCode::kCorruption);
    EXPECT_NE(f.status().error().message.find("\"" + c.field + "\""), std::string::npos)
        << f.status().error().message;
  }
  JsonFields not_object(json::array(), "agent result");
  EXPECT_FALSE(not_object.status().has_value());
}

}  // namespace
}  // namespace standby
