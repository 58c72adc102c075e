#include "volgen/graph.h"

#include <gtest/gtest.h>

#include "support/status_matchers.h"

namespace gd2::volgen {
namespace {

using ::gd2::testing::StatusIs;

TEST(GraphTest, SerializeUsesGlusterdLayout) {
  Graph g;
  g.Add("v-posix", "storage/posix").SetOption("directory", "/b1");
  Xlator& top = g.Add("v", "debug/io-stats");
  top.subvolumes = {"v-posix"};
  EXPECT_EQ(Serialize(g),
            "volume v-posix\n"
            "    type storage/posix\n"
            "    option directory /b1\n"
            "end-volume\n"
            "\n"
            "volume v\n"
            "    type debug/io-stats\n"
            "    subvolumes v-posix\n"
            "end-volume\n");
}

TEST(GraphTest, SetOptionReplacesInPlace) {
  Xlator x{"a", "t", {}, {}};
  x.SetOption("k1", "1");
  x.SetOption("k2", "2");
  x.SetOption("k1", "3");
  ASSERT_EQ(x.options.size(), 2u);
  EXPECT_EQ(x.options[0].second, "3");
  EXPECT_EQ(*x.GetOption("k2"), "2");
  EXPECT_EQ(x.GetOption("k3"), nullptr);
}

TEST(GraphTest, ParseRoundTrips) {
  const std::string text =
      "# comment\n"
      "volume a\n  type protocol/client\n  option remote-host vm\nend-volume\n"
      "volume b\n  type protocol/client\nend-volume\n"
      "volume top\n\ttype cluster/replicate\n    subvolumes a b\nend-volume\n";
  ASSERT_OK_AND_ASSIGN(Graph g, Parse(text));
  ASSERT_EQ(g.xlators.size(), 3u);
  EXPECT_EQ(g.Top().name, "top");
  EXPECT_EQ(g.Top().subvolumes, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*g.Find("a")->GetOption("remote-host"), "vm");
  ASSERT_OK_AND_ASSIGN(Graph again, Parse(Serialize(g)));
  EXPECT_EQ(Serialize(again), Serialize(g));
}

TEST(GraphTest, ParseRejectsMalformedVolfiles) {
  const char* bad[] = {
      "",
      "volume a\n type t\n",                                             // no end-volume
      "volume a\nend-volume\n",                                          // no type
      "type t\n",                                                        // outside a volume
      "volume a\n type t\n subvolumes b\nend-volume\n",                  // undefined subvolume
      "volume a\n type t\nend-volume\nvolume a\n type t\nend-volume\n",  // duplicate
      "volume a\n type t\n option k\nend-volume\n",                      // option without value
      "volume a\n type t\n frobnicate\nend-volume\n",                    // unknown statement
  };
  for (const char* text : bad) {
    EXPECT_THAT(Parse(text), StatusIs(StatusCode::kInvalidArgument)) << text;
  }
}

}  // namespace
}  // namespace gd2::volgen
