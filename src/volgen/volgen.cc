#include "volgen/volgen.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "volgen/options.h"

namespace gd2::volgen {
namespace {

using api::Brick;
using api::BrickType;
using api::Subvol;
using api::SubvolType;
using api::Volume;

using Options = std::map<std::string, std::string>;

// Canonical, normalised copy of the volume's options, so later lookups need no alias handling.
StatusOr<Options> VolumeOptions(const OptionTable& table, const Volume& v) {
  StatusOr<Options> o = table.NormalizeAll(v.options);
  if (!o.ok()) return o.status().WithContext("volume " + v.name);
  return o;
}

// Value of a boolean option (set or default) as true/false.
// Aborts if the table lacks the option: the graph builders rely on the volume plugin's table.
bool IsOn(const OptionTable& table, const Options& opts, const std::string& key) {
  const OptionDef* def = table.Find(key);
  GD2_CHECK(def != nullptr && def->type == OptionType::kBool);
  auto it = opts.find(key);
  const std::string& v = it != opts.end() ? it->second : def->default_value;
  return v == "on" || v == "enable" || v == "true" || v == "yes";
}

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

// glusterd prints an xlator's options in reverse insertion order, so the options its builder
// sets first (volume-id, afr-pending-xattr, ...) come last and volume options come before
// them. Placing new options before these keys keeps our output byte-identical to glusterd's.
void SetVolumeOption(Xlator& x, const std::string& key, const std::string& value) {
  if (x.GetOption(key) != nullptr) {
    x.SetOption(key, value);
    return;
  }
  static const std::map<std::string, std::vector<std::string>> kFixedTail = {
      {"cluster/replicate",
       {"self-heal-daemon", "arbiter-count", "volume-id", "afr-pending-xattr"}},
      {"cluster/disperse", {"self-heal-daemon", "redundancy"}},
  };
  auto pos = x.options.end();
  if (auto it = kFixedTail.find(x.type); it != kFixedTail.end()) {
    pos = std::find_if(x.options.begin(), x.options.end(), [&](const auto& kv) {
      return std::find(it->second.begin(), it->second.end(), kv.first) != it->second.end();
    });
  }
  x.options.emplace(pos, key, value);
}

// Writes every set option that belongs to `graph_bit` into the xlators of its target types.
// Xlator toggles were already honoured while building the graph.
void ApplyOptions(const OptionTable& table, Graph& g, const Options& opts, unsigned graph_bit,
                  const Brick* brick) {
  for (const auto& [key, value] : opts) {
    const OptionDef* def = table.Find(key);
    if (def == nullptr || (def->graphs & graph_bit) == 0 || def->IsXlatorToggle()) continue;
    for (const XlatorTarget& t : def->targets) {
      std::string option = t.option;
      if (brick != nullptr) ReplaceAll(option, "{brick}", brick->path);
      if (option.find('{') != std::string::npos) continue;
      for (Xlator& x : g.xlators) {
        if (x.type == t.xlator_type) SetVolumeOption(x, option, value);
      }
    }
  }
}

// Adds `type` named "<vol>-<short type>" on top of `below` and returns its name.
std::string Stack(Graph& g, const std::string& vol, const std::string& type,
                  const std::string& below,
                  std::vector<std::pair<std::string, std::string>> options = {}) {
  std::string name = vol + "-" + type.substr(type.find('/') + 1);
  Xlator& x = g.Add(name, type);
  x.options = std::move(options);
  if (!below.empty()) x.subvolumes.push_back(below);
  return name;
}

const Brick* FindBrick(const Volume& v, const Brick& brick) {
  for (const Subvol& s : v.subvols) {
    for (const Brick& b : s.bricks) {
      if (b.peer_id == brick.peer_id && b.path == brick.path) return &b;
    }
  }
  return nullptr;
}

enum class ClientFlavour { kFuse, kShd };

// protocol/client xlators, one per brick in volume order, then one cluster xlator per
// replicate/disperse subvolume. Returns the names DHT (or io-stats for the shd) stacks on.
std::vector<std::string> AddClientsAndClusters(Graph& g, const Volume& v, ClientFlavour flavour,
                                               bool with_credentials,
                                               const std::string& address_family,
                                               const std::map<std::string, int>* ports) {
  const std::string& vol = v.name;
  std::vector<std::vector<std::string>> per_subvol;
  size_t index = 0;
  for (const Subvol& s : v.subvols) {
    std::vector<std::string> names;
    for (const Brick& b : s.bricks) {
      std::string name = api::ClientXlatorName(vol, index++);
      Xlator& x = g.Add(name, "protocol/client");
      if (flavour == ClientFlavour::kFuse) x.SetOption("send-gids", "true");
      x.SetOption("strict-locks", "off");
      x.SetOption("transport.socket.keepalive-count", "9");
      x.SetOption("transport.socket.keepalive-interval", "2");
      x.SetOption("transport.socket.keepalive-time", "20");
      x.SetOption("transport.tcp-user-timeout", "0");
      x.SetOption("transport.socket.ssl-enabled", "off");
      if (with_credentials && !v.auth.username.empty()) {
        x.SetOption("password", v.auth.password);
        x.SetOption("username", v.auth.username);
      }
      x.SetOption("transport.address-family", address_family);
      x.SetOption("transport-type", v.transport);
      x.SetOption("remote-subvolume", b.path);
      if (ports != nullptr) {
        if (auto it = ports->find(b.id); it != ports->end() && it->second > 0) {
          x.SetOption("remote-port", std::to_string(it->second));
        }
      }
      x.SetOption("remote-host", b.host);
      x.SetOption("ping-timeout", "42");
      names.push_back(std::move(name));
    }
    per_subvol.push_back(std::move(names));
  }

  const bool shd = flavour == ClientFlavour::kShd;
  std::vector<std::string> tops;
  for (size_t k = 0; k < v.subvols.size(); ++k) {
    const Subvol& s = v.subvols[k];
    std::vector<std::string>& clients = per_subvol[k];
    if (s.type == SubvolType::kDistribute) {
      tops.insert(tops.end(), clients.begin(), clients.end());
      continue;
    }
    if (s.type == SubvolType::kReplicate) {
      Xlator& x = g.Add(vol + "-replicate-" + std::to_string(k), "cluster/replicate");
      if (shd) x.SetOption("iam-self-heal-daemon", "yes");
      x.SetOption("use-anonymous-inode", "yes");
      x.SetOption("use-compound-fops", "off");
      if (shd) {
        x.SetOption("self-heal-daemon", "enable");
        x.SetOption("entry-self-heal", "on");
        x.SetOption("data-self-heal", "on");
        x.SetOption("metadata-self-heal", "on");
        x.SetOption("background-self-heal-count", "0");
      }
      if (s.arbiter_count > 0) x.SetOption("arbiter-count", std::to_string(s.arbiter_count));
      x.SetOption("volume-id", v.id);
      std::string pending;
      for (const std::string& c : clients) pending += (pending.empty() ? "" : ",") + c;
      x.SetOption("afr-pending-xattr", pending);
      x.subvolumes = clients;
      tops.push_back(x.name);
    } else {
      Xlator& x = g.Add(vol + "-disperse-" + std::to_string(k), "cluster/disperse");
      if (shd) {
        x.SetOption("iam-self-heal-daemon", "yes");
        x.SetOption("self-heal-daemon", "enable");
      }
      x.SetOption("redundancy", std::to_string(s.disperse_redundancy));
      x.subvolumes = clients;
      tops.push_back(x.name);
    }
  }
  return tops;
}

}  // namespace

StatusOr<Graph> BuildBrickGraph(const OptionTable& options, const Volume& v, const Brick& requested,
                                const BrickContext& ctx) {
  const Brick* brick = FindBrick(v, requested);
  if (brick == nullptr) {
    return NotFoundError("brick not in volume: volume=" + v.name + " peer_id=" + requested.peer_id +
                         " path=" + requested.path);
  }
  GD2_ASSIGN_OR_RETURN(Options opts, VolumeOptions(options, v));
  const std::string& vol = v.name;
  const std::string& path = brick->path;
  const bool disperse = !v.subvols.empty() && v.subvols.front().type == SubvolType::kDisperse;
  Graph g;
  std::string top = Stack(g, vol, "storage/posix", "",
                          {{"shared-brick-count", std::to_string(ctx.shared_brick_count)},
                           {"fips-mode-rchecksum", "on"},
                           {"volume-id", v.id},
                           {"directory", path}});
  if (brick->type == BrickType::kArbiter) top = Stack(g, vol, "features/arbiter", top);
  top = Stack(g, vol, "features/trash", top,
              {{"trash-internal-op", "off"}, {"brick-path", path}, {"trash-dir", ".trashcan"}});
  top = Stack(g, vol, "features/changelog", top,
              {{"changelog-barrier-timeout", "120"},
               {"changelog-notification", "off"},
               {"changelog-dir", path + "/.glusterfs/changelogs"},
               {"changelog-brick", path}});
  top = Stack(g, vol, "features/bitrot-stub", top, {{"bitrot", "disable"}, {"export", path}});
  top = Stack(g, vol, "features/access-control", top);
  top = Stack(g, vol, "features/locks", top, {{"enforce-mandatory-lock", "off"}});
  top = Stack(g, vol, "features/worm", top,
              {{"worm-files-deletable", "on"}, {"worm-file-level", "off"}, {"worm", "off"}});
  top = Stack(g, vol, "features/read-only", top, {{"read-only", "off"}});
  top = Stack(g, vol, "features/leases", top, {{"leases", "off"}});
  top = Stack(g, vol, "features/upcall", top, {{"cache-invalidation", "off"}});
  top = Stack(g, vol, "performance/io-threads", top);
  top = Stack(g, vol, "features/selinux", top, {{"selinux", "on"}});
  top = Stack(g, vol, "features/marker", top,
              {{"inode-quota", "off"},
               {"quota", "off"},
               {"gsync-force-xtime", "off"},
               {"xtime", "off"},
               {"quota-version", "0"},
               {"timestamp-file", ctx.workdir + "/vols/" + vol + "/marker.tstamp"},
               {"volume-uuid", v.id}});
  top =
      Stack(g, vol, "features/barrier", top, {{"barrier-timeout", "120"}, {"barrier", "disable"}});
  std::vector<std::pair<std::string, std::string>> index_opts;
  if (disperse) {
    index_opts = {{"xattrop64-watchlist", "trusted.ec.dirty"}};
  } else {
    index_opts = {{"xattrop-pending-watchlist", "trusted.afr." + vol + "-"},
                  {"xattrop-dirty-watchlist", "trusted.afr.dirty"}};
  }
  index_opts.emplace_back("index-base", path + "/.glusterfs/indices");
  top = Stack(g, vol, "features/index", top, std::move(index_opts));
  top = Stack(g, vol, "features/quota", top,
              {{"deem-statfs", "off"}, {"server-quota", "off"}, {"volume-uuid", vol}});

  Xlator& stats = g.Add(path, "debug/io-stats");
  stats.options = {
      {"global-threading", "off"}, {"count-fop-hits", "off"}, {"latency-measurement", "off"},
      {"threads", "16"},           {"log-level", "INFO"},     {"volume-id", v.id},
      {"unique-id", path}};
  stats.subvolumes = {top};

  Xlator& server = g.Add(vol + "-server", "protocol/server");
  server.SetOption("transport.listen-backlog", "1024");
  server.SetOption("transport.socket.keepalive-count", "9");
  server.SetOption("transport.socket.keepalive-interval", "2");
  server.SetOption("transport.socket.keepalive-time", "20");
  server.SetOption("transport.socket.ssl-enabled", "off");
  server.SetOption("transport.socket.keepalive", "1");
  server.SetOption("auth.addr." + path + ".allow", "*");
  server.SetOption("auth-path", path);
  if (!v.auth.username.empty()) {
    server.SetOption("auth.login." + v.auth.username + ".password", v.auth.password);
    server.SetOption("auth.login." + path + ".allow", v.auth.username);
  }
  server.SetOption("transport.address-family", ctx.address_family);
  if (ctx.listen_port > 0) {
    server.SetOption("transport.socket.listen-port", std::to_string(ctx.listen_port));
  }
  server.SetOption("transport-type", v.transport);
  server.subvolumes = {path};

  ApplyOptions(options, g, opts, kBrickGraph, brick);
  return g;
}

StatusOr<Graph> BuildClientGraph(const OptionTable& options, const Volume& v,
                                 const ClientContext& ctx) {
  GD2_ASSIGN_OR_RETURN(Options opts, VolumeOptions(options, v));
  if (v.subvols.empty()) return InvalidArgumentError("volume has no subvols: volume=" + v.name);
  const std::string& vol = v.name;
  Graph g;
  std::vector<std::string> tops = AddClientsAndClusters(g, v, ClientFlavour::kFuse, ctx.trusted,
                                                        ctx.address_family, &ctx.remote_ports);
  Xlator& dht = g.Add(vol + "-dht", "cluster/distribute");
  dht.options = {{"force-migration", "off"}, {"lock-migration", "off"}};
  dht.subvolumes = std::move(tops);
  std::string top = dht.name;

  if (IsOn(options, opts, "features.shard")) top = Stack(g, vol, "features/shard", top);
  if (IsOn(options, opts, "features.ctime")) {
    top = Stack(g, vol, "features/utime", top, {{"noatime", "on"}});
  }
  // Performance xlators stack in glusterd's table order.
  static constexpr std::pair<const char*, const char*> kPerf[] = {
      {"performance.write-behind", "performance/write-behind"},
      {"performance.read-ahead", "performance/read-ahead"},
      {"performance.readdir-ahead", "performance/readdir-ahead"},
      {"performance.io-cache", "performance/io-cache"},
      {"performance.open-behind", "performance/open-behind"},
      {"performance.quick-read", "performance/quick-read"},
      {"performance.nl-cache", "performance/nl-cache"},
      {"performance.stat-prefetch", "performance/md-cache"},
      {"performance.client-io-threads", "performance/io-threads"},
  };
  for (const auto& [key, type] : kPerf) {
    if (IsOn(options, opts, key)) top = Stack(g, vol, type, top);
  }
  Xlator& stats = g.Add(vol, "debug/io-stats");
  stats.options = {{"global-threading", "off"},
                   {"count-fop-hits", "off"},
                   {"latency-measurement", "off"},
                   {"threads", "16"},
                   {"log-level", "INFO"}};
  stats.subvolumes = {top};

  ApplyOptions(options, g, opts, kClientGraph, nullptr);
  return g;
}

bool HasShdGraph(const Volume& v) {
  for (const Subvol& s : v.subvols) {
    if (s.type == SubvolType::kReplicate || s.type == SubvolType::kDisperse) return true;
  }
  return false;
}

StatusOr<Graph> BuildShdGraph(const OptionTable& options, const Volume& v, const ShdContext& ctx) {
  if (!HasShdGraph(v)) {
    return FailedPreconditionError("volume has no self-heal daemon graph: volume=" + v.name +
                                   " type=" + std::string(api::VolumeTypeName(v.type)));
  }
  GD2_ASSIGN_OR_RETURN(Options opts, VolumeOptions(options, v));
  Graph g;
  std::vector<std::string> tops =
      AddClientsAndClusters(g, v, ClientFlavour::kShd, true, ctx.address_family, nullptr);
  Xlator& stats = g.Add(v.name, "debug/io-stats");
  stats.options = {{"threads", "16"}, {"log-level", "INFO"}};
  stats.subvolumes = std::move(tops);
  ApplyOptions(options, g, opts, kShdGraph, nullptr);
  return g;
}

StatusOr<std::string> BrickVolfile(const OptionTable& options, const Volume& v, const Brick& brick,
                                   const BrickContext& ctx) {
  GD2_ASSIGN_OR_RETURN(Graph g, BuildBrickGraph(options, v, brick, ctx));
  return Serialize(g);
}

StatusOr<std::string> FuseVolfile(const OptionTable& options, const Volume& v,
                                  const ClientContext& ctx) {
  GD2_ASSIGN_OR_RETURN(Graph g, BuildClientGraph(options, v, ctx));
  return Serialize(g);
}

StatusOr<std::string> ShdVolfile(const OptionTable& options, const Volume& v,
                                 const ShdContext& ctx) {
  GD2_ASSIGN_OR_RETURN(Graph g, BuildShdGraph(options, v, ctx));
  return Serialize(g);
}

std::string DashedPath(std::string_view brick_path) { return api::DashedBrickPath(brick_path); }

std::string BrickVolfileId(std::string_view volume_name, std::string_view host,
                           std::string_view brick_path) {
  return std::string(volume_name) + "." + std::string(host) + "." + DashedPath(brick_path);
}

}  // namespace gd2::volgen
