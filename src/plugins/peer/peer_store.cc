#include "plugins/peer/peer_store.h"

#include <map>

#include "api/json.h"
#include "store/store.h"

namespace gd2::plugins::peer {
namespace {

StatusOr<api::Peer> ParsePeer(const std::string& value) {
  auto p = api::DecodeJson<api::Peer>(value);
  if (!p.ok()) return InternalError("corrupt peer record in store: " + p.status().message());
  return p;
}

int64_t ParseAlivePid(const std::string& value) {
  nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
  if (j.is_object() && j.contains("pid") && j["pid"].is_number_integer()) return j["pid"].get<int64_t>();
  return 0;
}

}  // namespace

Status PutPeer(store::Store& store, const store::KeySpace& keys, const api::Peer& peer) {
  GD2_ASSIGN_OR_RETURN(std::string key, keys.Peer(peer.id));
  api::Peer stored = peer;
  stored.online = false;  // liveness lives in alive/<id>, not in the record
  stored.pid = 0;
  nlohmann::json j = stored;
  j.erase("online");
  return store.Put(key, j.dump()).status();
}

Status PutAlive(store::Store& store, const store::KeySpace& keys, const std::string& peer_id,
                int64_t pid, int64_t lease) {
  GD2_ASSIGN_OR_RETURN(std::string key, keys.Alive(peer_id));
  return store.Put(key, nlohmann::json{{"pid", pid}}.dump(), lease).status();
}

StatusOr<std::vector<api::Peer>> ListPeers(store::Store& store, const store::KeySpace& keys) {
  GD2_ASSIGN_OR_RETURN(std::vector<store::KeyValue> records, store.List(keys.PeersPrefix()));
  GD2_ASSIGN_OR_RETURN(std::vector<store::KeyValue> alive, store.List(keys.AlivePrefix()));
  std::map<std::string, int64_t> pids;
  for (const auto& kv : alive) pids[kv.key.substr(keys.AlivePrefix().size())] = ParseAlivePid(kv.value);
  std::vector<api::Peer> out;
  out.reserve(records.size());
  for (const auto& kv : records) {
    GD2_ASSIGN_OR_RETURN(api::Peer p, ParsePeer(kv.value));
    auto it = pids.find(p.id);
    p.online = it != pids.end();
    p.pid = p.online ? it->second : 0;
    out.push_back(std::move(p));
  }
  return out;
}

StatusOr<api::Peer> GetPeer(store::Store& store, const store::KeySpace& keys,
                            const std::string& peer_id) {
  auto key = keys.Peer(peer_id);
  if (!key.ok()) return NotFoundError("peer not found");
  GD2_ASSIGN_OR_RETURN(std::optional<store::KeyValue> record, store.Get(*key));
  if (!record) return NotFoundError("peer not found");
  GD2_ASSIGN_OR_RETURN(api::Peer p, ParsePeer(record->value));
  GD2_ASSIGN_OR_RETURN(std::string alive_key, keys.Alive(peer_id));
  GD2_ASSIGN_OR_RETURN(std::optional<store::KeyValue> alive, store.Get(alive_key));
  p.online = alive.has_value();
  p.pid = alive ? ParseAlivePid(alive->value) : 0;
  return p;
}

}  // namespace gd2::plugins::peer
