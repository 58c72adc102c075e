// Router: pattern matching and the precedence rule (the most specific pattern wins, compared
// segment by segment: literal > {param} > {param...}), whatever order routes were added in.
#include "rest/router.h"

#include <gtest/gtest.h>

#include "support/status_matchers.h"

namespace gd2::rest {
namespace {

using ::gd2::testing::StatusIs;

Route R(std::string name, Method m, std::string path) {
  Route r;
  r.name = std::move(name);
  r.method = m;
  r.path = std::move(path);
  r.handler = [](RequestContext&) -> StatusOr<Response> { return Response::NoContent(); };
  return r;
}

// The name of the route Find picks, "" for none, "405" for a known path with another method.
std::string Found(const Router& router, Method m, std::string_view path) {
  Router::Match match = router.Find(m, path);
  if (match.route != nullptr) return match.route->name;
  return match.path_known ? "405" : "";
}

TEST(RouterTest, LiteralSegmentsWinOverParametersInEitherOrder) {
  for (bool literal_first : {true, false}) {
    Router router;
    std::vector<Route> routes = {R("OptionGroupList", Method::kGet, "/v1/volumes/options-group"),
                                 R("VolumeInfo", Method::kGet, "/v1/volumes/{volname}"),
                                 R("VolumeDelete", Method::kDelete, "/v1/volumes/{volname}")};
    if (!literal_first) std::swap(routes[0], routes[2]);
    for (Route& r : routes) ASSERT_OK(router.Add(std::move(r)));
    EXPECT_EQ(Found(router, Method::kGet, "/v1/volumes/options-group"), "OptionGroupList");
    EXPECT_EQ(Found(router, Method::kGet, "/v1/volumes/gv0"), "VolumeInfo");
    EXPECT_EQ(Found(router, Method::kDelete, "/v1/volumes/gv0"), "VolumeDelete");
    // The literal path has no DELETE: 405, never the volume route with "options-group" as name.
    EXPECT_EQ(Found(router, Method::kDelete, "/v1/volumes/options-group"), "405");
  }
}

TEST(RouterTest, TheFirstDifferingSegmentDecides) {
  Router router;
  ASSERT_OK(router.Add(R("ParamThenTwoLiterals", Method::kGet, "/a/{x}/c/d")));
  ASSERT_OK(router.Add(R("LiteralThenParams", Method::kGet, "/a/b/{y}/{z}")));
  ASSERT_OK(router.Add(R("Rest", Method::kGet, "/a/{rest...}")));
  ASSERT_OK(router.Add(R("ParamThenRest", Method::kGet, "/a/{x}/{rest...}")));
  // More literals in total, but "b" at the second segment is more specific than {x}.
  EXPECT_EQ(Found(router, Method::kGet, "/a/b/c/d"), "LiteralThenParams");
  EXPECT_EQ(Found(router, Method::kGet, "/a/q/c/d"), "ParamThenTwoLiterals");
  // {x} beats {rest...} at the same segment.
  EXPECT_EQ(Found(router, Method::kGet, "/a/q/r"), "ParamThenRest");
  EXPECT_EQ(Found(router, Method::kGet, "/a/q"), "Rest");
  EXPECT_EQ(Found(router, Method::kGet, "/b"), "");
}

TEST(RouterTest, RestParameterTakesSlashes) {
  Router router;
  ASSERT_OK(
      router.Add(R("VolumeOptionGet", Method::kGet, "/v1/volumes/{volname}/options/{optname...}")));
  ASSERT_OK(router.Add(R("VolumeOptionsGet", Method::kGet, "/v1/volumes/{volname}/options")));
  Router::Match m =
      router.Find(Method::kGet, "/v1/volumes/gv0/options/cluster/replicate.eager-lock");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->name, "VolumeOptionGet");
  EXPECT_EQ(m.params["volname"], "gv0");
  EXPECT_EQ(m.params["optname"], "cluster/replicate.eager-lock");
  EXPECT_EQ(Found(router, Method::kGet, "/v1/volumes/gv0/options"), "VolumeOptionsGet");
  // Empty segments never match a parameter.
  EXPECT_EQ(Found(router, Method::kGet, "/v1/volumes/gv0/options/a//b"), "");
}

TEST(RouterTest, DuplicatesAndMalformedPatternsAreRefused) {
  Router router;
  ASSERT_OK(router.Add(R("A", Method::kGet, "/v1/x/{id}")));
  EXPECT_THAT(router.Add(R("A", Method::kPost, "/v1/y")), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(router.Add(R("B", Method::kGet, "/v1/x/{id}")), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(router.Add(R("C", Method::kGet, "/v1/{rest...}/x")),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(router.Add(R("D", Method::kGet, "v1")), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace gd2::rest
