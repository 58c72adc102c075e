// VolfileInputsDiffer: which changes of a volume record make the volume watch tell processes to
// fetch their volfiles again.
#include <gtest/gtest.h>

#include "plugins/volume/plugin.h"

namespace gd2::plugins::volume {
namespace {

api::Volume Rep2() {
  api::Volume v;
  v.id = "6f1c3e9a-7d2b-4b8e-9a51-0c2d3e4f5a6b";
  v.name = "v1";
  v.type = api::VolumeType::kReplicate;
  api::Subvol sv;
  sv.type = api::SubvolType::kReplicate;
  for (const char* path : {"/b/1", "/b/2"}) {
    api::Brick b;
    b.peer_id = "0d9a2c4e-5f6b-4c7d-8e9f-a0b1c2d3e4f5";
    b.host = "127.0.0.1";
    b.path = path;
    sv.bricks.push_back(b);
  }
  v.subvols.push_back(sv);
  v.options["cluster.eager-lock"] = "on";
  v.version = 3;
  return v;
}

TEST(VolfileInputsTest, AChangeOfStateOnlyChangesNoVolfile) {
  api::Volume before = Rep2();
  api::Volume started = before;
  started.state = api::VolumeState::kStarted;
  started.version = 4;
  EXPECT_FALSE(VolfileInputsDiffer(before, started));
  EXPECT_FALSE(VolfileInputsDiffer(started, before));
}

TEST(VolfileInputsTest, OptionsBricksAndAuthChangeVolfiles) {
  api::Volume before = Rep2();
  api::Volume option = before;
  option.options["cluster.eager-lock"] = "off";
  EXPECT_TRUE(VolfileInputsDiffer(before, option));
  api::Volume brick = before;
  brick.subvols[0].bricks[1].path = "/b/3";
  EXPECT_TRUE(VolfileInputsDiffer(before, brick));
  api::Volume auth = before;
  auth.auth.password = "changed";
  EXPECT_TRUE(VolfileInputsDiffer(before, auth));
  api::Volume transport = before;
  transport.transport = "rdma";
  EXPECT_TRUE(VolfileInputsDiffer(before, transport));
}

}  // namespace
}  // namespace gd2::plugins::volume
