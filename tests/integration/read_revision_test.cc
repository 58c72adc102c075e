// Read-your-writes against real daemons whose GETs read their local view of the store: every
// answer that wrote names the store revision of its writes (X-Gd2-Revision); a read that names a
// revision (X-Gd2-Min-Revision) reflects at least that revision on any peer; a read on the peer
// that wrote sees the write without naming it; and a peer's online state follows its liveness.
#include <gtest/gtest.h>
#include <httplib.h>

#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "api/peer.h"
#include "common/files.h"
#include "common/jwt.h"
#include "support/daemon_process.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;

struct Answer {
  int status = 0;
  nlohmann::json body;
  int64_t revision = 0;  // X-Gd2-Revision; 0 when absent
  bool has_revision = false;
};

// One signed request; `min_revision` goes in X-Gd2-Min-Revision unless empty.
Answer Send(const DaemonProcess& d, const std::string& method, const std::string& path,
            const std::string& body = "", const std::string& min_revision = "") {
  httplib::Client c(d.endpoint());
  c.set_read_timeout(30, 0);
  httplib::Headers h = {
      {"Authorization",
       "Bearer " + jwt::SignRequest(d.secret(), {method, path, ""}, body, std::time(nullptr))}};
  if (!min_revision.empty()) h.emplace("X-Gd2-Min-Revision", min_revision);
  httplib::Result res = method == "GET"    ? c.Get(path, h)
                        : method == "POST" ? c.Post(path, h, body, "application/json")
                                           : c.Delete(path, h);
  Answer a;
  if (!res) {
    ADD_FAILURE() << method << " " << path << ": " << httplib::to_string(res.error());
    return a;
  }
  a.status = res->status;
  a.body = nlohmann::json::parse(res->body, nullptr, false);
  std::string rev = res->get_header_value("X-Gd2-Revision");
  a.has_revision = !rev.empty();
  if (a.has_revision) {
    auto [end, ec] = std::from_chars(rev.data(), rev.data() + rev.size(), a.revision);
    EXPECT_TRUE(ec == std::errc() && end == rev.data() + rev.size()) << "X-Gd2-Revision: " << rev;
  }
  return a;
}

std::string EditBody(const std::string& key, const std::string& value) {
  return nlohmann::json{{"metadata", {{key, value}}}}.dump();
}

std::string MetadataOf(const nlohmann::json& peer, const std::string& key) {
  if (!peer.is_object() || !peer.contains("metadata") || !peer["metadata"].contains(key)) return "";
  return peer["metadata"][key].get<std::string>();
}

TEST(ReadRevisionTest, WritesNameTheirRevisionAndReadsReflectIt) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  Answer list = Send(d, "GET", "/v1/peers");
  ASSERT_EQ(list.status, 200);
  ASSERT_TRUE(list.body.is_array() && list.body.size() == 1u);
  // A read answered from the view names the revision it reflects.
  EXPECT_GT(list.revision, 0);
  std::string self = list.body[0]["id"].get<std::string>();
  std::string path = "/v1/peers/" + self;

  int64_t last = list.revision;
  for (int i = 0; i < 20; ++i) {
    std::string value = "v" + std::to_string(i);
    Answer edit = Send(d, "POST", path, EditBody("round", value));
    ASSERT_EQ(edit.status, 200) << edit.body.dump();
    ASSERT_TRUE(edit.has_revision);
    EXPECT_GT(edit.revision, last);
    last = edit.revision;
    // The peer that wrote answers with the write, named or not.
    Answer plain = Send(d, "GET", path);
    ASSERT_EQ(plain.status, 200);
    EXPECT_EQ(MetadataOf(plain.body, "round"), value);
    EXPECT_GE(plain.revision, edit.revision);
    Answer named = Send(d, "GET", path, "", std::to_string(edit.revision));
    ASSERT_EQ(named.status, 200);
    EXPECT_EQ(MetadataOf(named.body, "round"), value);
    EXPECT_GE(named.revision, edit.revision);
  }

  // A revision the store has not reached: the view waits a bounded time, then etcd answers.
  auto t0 = std::chrono::steady_clock::now();
  Answer ahead = Send(d, "GET", path, "", std::to_string(last + 1000000));
  EXPECT_EQ(ahead.status, 200);
  EXPECT_EQ(MetadataOf(ahead.body, "round"), "v19");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(Send(d, "GET", "/v1/peers", "", std::to_string(last + 1000000)).status, 200);

  for (const char* bad : {"abc", "-1", "12x", "99999999999999999999999"}) {
    Answer refused = Send(d, "GET", path, "", bad);
    EXPECT_EQ(refused.status, 400) << bad;
  }
  // A request refused before it wrote anything names no revision.
  Answer refused = Send(d, "POST", path, R"({"bogus": 1})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_FALSE(refused.has_revision);
}

TEST(ReadRevisionTest, AWriteThroughOnePeerIsReadThroughTheOtherAtItsRevision) {
  TempDir tmp;
  std::string shared = tmp.path() + "/cluster-secret";
  ASSERT_OK(WriteFileAtomic(shared, "shared-cluster-secret-for-the-test\n", 0600));
  DaemonOptions o;
  // One etcd member (the first peer's): the second peer can die without costing the quorum.
  o.extra_args = {"--cluster-secret-file", shared, "--etcd-members", "1"};
  DaemonProcess a(o), b(o);
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  api::PeerAddReq req;
  req.addresses = {b.peer_address()};
  ASSERT_OK_AND_ASSIGN(api::Peer added, a.NewClient()->AddPeer(req));
  std::string b_id = added.id;
  Answer list = Send(a, "GET", "/v1/peers");
  ASSERT_EQ(list.status, 200);
  std::string a_id;
  for (const auto& p : list.body) {
    if (p["id"] != b_id) a_id = p["id"].get<std::string>();
  }
  ASSERT_FALSE(a_id.empty()) << list.body.dump();

  // Peer records: written through b, read through a.
  for (int i = 0; i < 30; ++i) {
    std::string value = "n" + std::to_string(i);
    Answer edit = Send(b, "POST", "/v1/peers/" + a_id, EditBody("round", value));
    ASSERT_EQ(edit.status, 200) << edit.body.dump();
    ASSERT_TRUE(edit.has_revision);
    Answer read = Send(a, "GET", "/v1/peers/" + a_id, "", std::to_string(edit.revision));
    ASSERT_EQ(read.status, 200);
    EXPECT_EQ(MetadataOf(read.body, "round"), value) << "round " << i;
    EXPECT_GE(read.revision, edit.revision);
  }

  // Volumes: a transaction on b (create, then delete), its info read through a.
  std::filesystem::create_directories(tmp.path() + "/bricks");
  for (int i = 0; i < 3; ++i) {
    std::string name = "rev" + std::to_string(i);
    nlohmann::json create = {
        {"name", name},
        {"subvols",
         {{{"type", "distribute"},
           {"bricks", {{{"peerid", b_id}, {"path", tmp.path() + "/bricks/" + name}}}}}}},
        {"force", true},
        {"flags", {{"create-brick-dir", true}}}};
    Answer created = Send(b, "POST", "/v1/volumes", create.dump());
    ASSERT_EQ(created.status, 201) << created.body.dump();
    ASSERT_TRUE(created.has_revision);
    Answer info = Send(a, "GET", "/v1/volumes/" + name, "", std::to_string(created.revision));
    ASSERT_EQ(info.status, 200) << info.body.dump();
    EXPECT_EQ(info.body["name"], name);
    Answer listed = Send(a, "GET", "/v1/volumes", "", std::to_string(created.revision));
    ASSERT_EQ(listed.status, 200);
    bool found = false;
    for (const auto& v : listed.body) found = found || v["name"] == name;
    EXPECT_TRUE(found) << listed.body.dump();

    Answer deleted = Send(b, "DELETE", "/v1/volumes/" + name);
    ASSERT_EQ(deleted.status, 204);
    ASSERT_TRUE(deleted.has_revision);
    EXPECT_GT(deleted.revision, created.revision);
    EXPECT_EQ(Send(a, "GET", "/v1/volumes/" + name, "", std::to_string(deleted.revision)).status,
              404);
  }

  // Online state comes from liveness keys: b's expire after it dies, and come back with it.
  auto online = [&](const std::string& id) {
    Answer p = Send(a, "GET", "/v1/peers/" + id);
    return p.status == 200 && p.body.value("online", false);
  };
  ASSERT_TRUE(online(b_id));
  b.Kill();
  EXPECT_TRUE(WaitFor([&] { return !online(b_id); }, 30s));
  Answer all = Send(a, "GET", "/v1/peers");
  for (const auto& p : all.body) EXPECT_EQ(p.value("online", false), p["id"] == a_id) << p.dump();
  ASSERT_TRUE(b.Start());
  EXPECT_TRUE(WaitFor([&] { return online(b_id); }, 30s));
}

}  // namespace
}  // namespace gd2::testing
