#include "volgen/graph.h"

#include <gtest/gtest.h>

#include "common/volfile_text.h"
#include "support/status_matchers.h"

namespace gd2::volgen {
namespace {

using ::gd2::testing::StatusIs;

TEST(GraphTest, SerializeUsesGlusterdLayout) {
  Graph g;
  g.Add("v-posix", "storage/posix").SetOption("directory", "/b1");
  Xlator& top = g.Add("v", "debug/io-stats");
  top.subvolumes = {"v-posix"};
  EXPECT_EQ(Serialize(g).value_or("(refused)"),
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
  ASSERT_OK_AND_ASSIGN(std::string serialized, Serialize(g));
  ASSERT_OK_AND_ASSIGN(Graph again, Parse(serialized));
  EXPECT_EQ(Serialize(again).value_or("(refused)"), serialized);
}

// The serializer is the last guard: whatever a graph holds, it never writes text the volfile
// reader would run (backticks), cut (whitespace, '#'), quote or read as a keyword.
TEST(GraphTest, SerializeRefusesUnsafeTokensInEveryField) {
  const std::vector<std::string> unsafe = {"`touch /tmp/pwned`",
                                           "a`b",
                                           "$(id)",
                                           "a b",
                                           "a\nb",
                                           "a\tb",
                                           "\"q\"",
                                           "a\\b",
                                           "#c",
                                           "x#y",
                                           "",
                                           "volume",
                                           "end-volume",
                                           "type",
                                           "option",
                                           "subvolumes",
                                           "\xc3\xa9",
                                           std::string(kMaxVolfileTokenLength + 1, 'a')};
  auto good = [] {
    Graph g;
    g.Add("v-posix", "storage/posix").SetOption("directory", "/b1");
    Xlator& top = g.Add("v", "debug/io-stats");
    top.subvolumes = {"v-posix"};
    return g;
  };
  ASSERT_OK(Serialize(good()));
  for (const std::string& bad : unsafe) {
    std::vector<std::pair<std::string, Graph>> variants;
    Graph g = good();
    g.xlators[0].name = bad;
    g.xlators[1].subvolumes = {bad};
    variants.emplace_back("name", g);
    g = good();
    g.xlators[0].type = bad;
    variants.emplace_back("type", g);
    g = good();
    g.xlators[0].options = {{bad, "1"}};
    variants.emplace_back("option key", g);
    g = good();
    g.xlators[0].options = {{"directory", bad}};
    variants.emplace_back("option value", g);
    g = good();
    g.xlators[1].subvolumes = {"v-posix", bad};
    variants.emplace_back("subvolume", g);
    for (const auto& [field, graph] : variants) {
      EXPECT_THAT(Serialize(graph), StatusIs(StatusCode::kInvalidArgument))
          << field << ": " << PrintableText(bad);
    }
  }
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
