#include "plugins/peer/peer_store.h"

#include <algorithm>

#include <map>
#include <optional>

#include "api/json.h"
#include "common/uuid.h"
#include "store/store.h"
#include "store/view.h"

namespace gd2::plugins::peer {
namespace {

StatusOr<api::Peer> ParsePeer(const std::string& value) {
  auto p = api::DecodeJson<api::Peer>(value);
  if (!p.ok()) return InternalError("corrupt peer record in store: " + p.status().message());
  return p;
}

// The value of each of `keys` (nullopt where there is none), in as few etcd requests as a
// transaction's op limit allows.
StatusOr<std::vector<std::optional<store::KeyValue>>> GetMany(
    store::Store& store, const std::vector<std::string>& keys) {
  constexpr size_t kOpsPerRequest = 64;
  std::vector<std::optional<store::KeyValue>> out;
  for (size_t first = 0; first < keys.size(); first += kOpsPerRequest) {
    size_t last = std::min(keys.size(), first + kOpsPerRequest);
    std::vector<store::Op> ops;
    for (size_t i = first; i < last; ++i) ops.push_back(store::Op::Get(keys[i]));
    GD2_ASSIGN_OR_RETURN(store::TxnResult r, store.Txn({}, std::move(ops)));
    for (size_t i = first; i < last; ++i) {
      const auto& kvs = r.results.at(i - first).kvs;
      out.push_back(kvs.empty() ? std::nullopt : std::optional<store::KeyValue>(kvs.front()));
    }
  }
  return out;
}

int64_t ParseAlivePid(const std::string& value) {
  nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
  if (j.is_object() && j.contains("pid") && j["pid"].is_number_integer()) return j["pid"].get<int64_t>();
  return 0;
}

}  // namespace

namespace {

// The index entries of a peer: each address with and without its port.
std::vector<std::string> IndexedAddresses(const api::Peer& p) {
  std::vector<std::string> out;
  auto add = [&](const std::string& a) {
    if (!a.empty() && std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  };
  for (const auto* list : {&p.client_addresses, &p.peer_addresses}) {
    for (const auto& a : *list) {
      add(a);
      add(a.substr(0, a.rfind(':')));
    }
  }
  return out;
}

}  // namespace

Status PutPeer(store::Store& store, const store::KeySpace& keys, const api::Peer& peer) {
  GD2_ASSIGN_OR_RETURN(std::string key, keys.Peer(peer.id));
  api::Peer stored = peer;
  stored.online = false;  // liveness lives in alive/<id>, not in the record
  stored.pid = 0;
  nlohmann::json j = stored;
  j.erase("online");
  std::vector<store::Op> ops = {store::Op::Put(key, j.dump())};
  for (const auto& a : IndexedAddresses(peer)) {
    auto k = keys.PeerAddress(a);
    if (k.ok()) ops.push_back(store::Op::Put(*k, peer.id));
  }
  return store.Txn({}, ops, {}).status();
}

Status DeletePeer(store::Store& store, const store::KeySpace& keys, const api::Peer& peer) {
  GD2_ASSIGN_OR_RETURN(std::string peer_key, keys.Peer(peer.id));
  GD2_ASSIGN_OR_RETURN(std::string alive_key, keys.Alive(peer.id));
  GD2_RETURN_IF_ERROR(
      store.Txn({}, {store::Op::Delete(peer_key), store::Op::Delete(alive_key)}, {}).status());
  for (const auto& a : IndexedAddresses(peer)) {
    auto k = keys.PeerAddress(a);
    if (!k.ok()) continue;
    // Only if it still names this peer (another may have registered the address since).
    GD2_RETURN_IF_ERROR(
        store.Txn({store::Compare::ValueEquals(*k, peer.id)}, {store::Op::Delete(*k)}, {}).status());
  }
  return OkStatus();
}

bool PeerMatches(const api::Peer& p, const std::string& who) {
  if (p.id == who || p.name == who) return true;
  for (const auto* list : {&p.client_addresses, &p.peer_addresses}) {
    for (const auto& a : *list) {
      if (a == who || a.substr(0, a.rfind(':')) == who) return true;
    }
  }
  return false;
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

StatusOr<api::Peer> StoredPeers::GetPeer(const std::string& peer_id) const {
  return peer::GetPeer(store_, keys_, peer_id);
}

StatusOr<api::Peer> StoredPeers::FindPeer(const std::string& who) const {
  GD2_ASSIGN_OR_RETURN(auto found, FindPeers({who}));
  return std::move(found.at(who));
}

StatusOr<std::map<std::string, api::Peer>> StoredPeers::FindPeers(
    const std::vector<std::string>& whos) const {
  // 1. The id each one names: itself, this peer's, or from the address index.
  std::vector<std::string> distinct;
  for (const auto& who : whos) {
    if (std::find(distinct.begin(), distinct.end(), who) == distinct.end()) distinct.push_back(who);
  }
  std::map<std::string, std::string> id_of;
  std::vector<std::string> indexed, index_keys;
  for (const auto& who : distinct) {
    if (who == "localhost") {
      id_of[who] = self_id_;
    } else if (IsUuid(who)) {
      id_of[who] = who;
    } else if (auto k = keys_.PeerAddress(who); k.ok()) {
      indexed.push_back(who);
      index_keys.push_back(*k);
    }
  }
  GD2_ASSIGN_OR_RETURN(auto index, GetMany(store_, index_keys));
  for (size_t i = 0; i < indexed.size(); ++i) {
    if (index[i]) id_of[indexed[i]] = index[i]->value;
  }

  // 2. Those peers' records and liveness keys, in one more request.
  std::vector<std::string> ids, record_keys;
  for (const auto& [who, id] : id_of) {
    auto record = keys_.Peer(id);
    auto alive = keys_.Alive(id);
    if (!record.ok() || !alive.ok()) continue;
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) continue;
    ids.push_back(id);
    record_keys.push_back(*record);
    record_keys.push_back(*alive);
  }
  GD2_ASSIGN_OR_RETURN(auto records, GetMany(store_, record_keys));
  std::map<std::string, api::Peer> by_id;
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto& record = records[2 * i];
    if (!record) continue;
    GD2_ASSIGN_OR_RETURN(api::Peer p, ParsePeer(record->value));
    const auto& alive = records[2 * i + 1];
    p.online = alive.has_value();
    p.pid = alive ? ParseAlivePid(alive->value) : 0;
    by_id[ids[i]] = std::move(p);
  }

  // 3. An id's record answers for it; an address only for the peer that has it; anything else
  // (a name, an address registered before the index) from the peer list.
  std::map<std::string, api::Peer> out;
  std::vector<std::string> rest;
  for (const auto& who : distinct) {
    auto id = id_of.find(who);
    auto p = id == id_of.end() ? by_id.end() : by_id.find(id->second);
    bool direct = who == "localhost" || IsUuid(who);
    if (p != by_id.end() && (direct || PeerMatches(p->second, who))) {
      out[who] = p->second;
    } else if (who != "localhost") {
      rest.push_back(who);
    }
  }
  if (!rest.empty()) {
    GD2_ASSIGN_OR_RETURN(std::vector<api::Peer> all, peer::ListPeers(store_, keys_));
    for (const auto& who : rest) {
      for (const auto& p : all) {
        if (PeerMatches(p, who)) {
          out[who] = p;
          break;
        }
      }
    }
  }
  for (const auto& who : whos) {
    if (out.count(who) == 0) return NotFoundError("peer not found: " + who);
  }
  return out;
}

StatusOr<std::vector<api::Peer>> StoredPeers::ListPeers() const {
  return peer::ListPeers(store_, keys_);
}

StatusOr<std::set<std::string>> StoredPeers::OnlinePeers(
    const std::vector<std::string>& peer_ids) const {
  // One read of every liveness key.
  std::vector<std::string> ids, alive_keys;
  for (const auto& id : std::set<std::string>(peer_ids.begin(), peer_ids.end())) {
    auto key = keys_.Alive(id);
    if (!key.ok()) continue;  // not a peer id, so not an online peer
    ids.push_back(id);
    alive_keys.push_back(*key);
  }
  GD2_ASSIGN_OR_RETURN(auto alive, GetMany(store_, alive_keys));
  std::set<std::string> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (alive[i]) out.insert(ids[i]);
  }
  return out;
}

Status KeepPeers(store::View& view, const store::KeySpace& keys) {
  GD2_RETURN_IF_ERROR(view.Keep(keys.PeersPrefix(), [](const store::KeyValue& kv) -> std::any {
    auto p = api::DecodeJson<api::Peer>(kv.value);
    if (!p.ok()) return {};  // readers report the corrupt record (ParsePeer)
    return *std::move(p);
  }));
  return view.Keep(keys.AlivePrefix(),
                   [](const store::KeyValue& kv) -> std::any { return ParseAlivePid(kv.value); });
}

namespace {

// The peer of a view entry with online/pid from its liveness entry in the same snapshot.
StatusOr<api::Peer> PeerFromView(const store::ViewSnapshot& view, const std::string& alive_prefix,
                                 const store::ViewEntry& record) {
  const api::Peer* decoded = record.As<api::Peer>();
  api::Peer p;
  if (decoded != nullptr) {
    p = *decoded;
  } else {
    GD2_ASSIGN_OR_RETURN(p, ParsePeer(record.kv.value));
  }
  const store::ViewEntry* alive = view.Get(alive_prefix + p.id);
  const int64_t* pid = alive != nullptr ? alive->As<int64_t>() : nullptr;
  p.online = alive != nullptr;
  p.pid = pid != nullptr ? *pid : 0;
  return p;
}

}  // namespace

StatusOr<std::vector<api::Peer>> ListPeers(const store::ViewSnapshot& view,
                                           const store::KeySpace& keys) {
  std::string alive_prefix = keys.AlivePrefix();
  std::vector<const store::ViewEntry*> records = view.List(keys.PeersPrefix());
  std::vector<api::Peer> out;
  out.reserve(records.size());
  for (const store::ViewEntry* record : records) {
    GD2_ASSIGN_OR_RETURN(api::Peer p, PeerFromView(view, alive_prefix, *record));
    out.push_back(std::move(p));
  }
  return out;
}

StatusOr<api::Peer> GetPeer(const store::ViewSnapshot& view, const store::KeySpace& keys,
                            const std::string& peer_id) {
  auto key = keys.Peer(peer_id);
  if (!key.ok()) return NotFoundError("peer not found");
  const store::ViewEntry* record = view.Get(*key);
  if (record == nullptr) return NotFoundError("peer not found");
  return PeerFromView(view, keys.AlivePrefix(), *record);
}

}  // namespace gd2::plugins::peer
