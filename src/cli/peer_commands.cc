#include "cli/commands.h"
#include "common/files.h"

namespace gd2::cli {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

void AddPeerCommands(CLI::App& app, Context& ctx, int* rc) {
  CLI::App* peer = app.add_subcommand("peer", "Manage the peers of the cluster");
  peer->require_subcommand(1);

  struct ListArgs {
    std::string key, value;
  };
  auto list_args = std::make_shared<ListArgs>();
  auto list = [&ctx, rc, list_args](bool with_status) {
    *rc = ctx.WithClient([&](client::Client& c) {
      auto peers = c.ListPeers(list_args->key, list_args->value, ctx.info());
      if (!peers.ok()) return ctx.Fail(peers.status());
      ctx.Print(*peers, [&] {
        std::vector<std::vector<std::string>> rows;
        for (const auto& p : *peers) {
          std::vector<std::string> row = {p.id, p.name, Join(p.client_addresses),
                                          Join(p.peer_addresses)};
          if (with_status) {
            row.push_back(p.online ? "yes" : "no");
            row.push_back(p.online ? std::to_string(p.pid) : "");
          }
          rows.push_back(std::move(row));
        }
        std::vector<std::string> header = {"ID", "NAME", "CLIENT ADDRESSES", "PEER ADDRESSES"};
        if (with_status) {
          header.push_back("ONLINE");
          header.push_back("PID");
        }
        PrintTable(header, rows);
      });
      return 0;
    });
  };

  struct AddArgs {
    std::string address, zone;
    std::vector<std::string> metadata;
    std::string peer_secret_file;
    std::string id;
    bool force = false;
  };
  auto add_args = std::make_shared<AddArgs>();
  auto parse_md = [](const std::vector<std::string>& kvs, std::map<std::string, std::string>* out) -> Status {
    for (const auto& kv : kvs) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) return InvalidArgumentError("metadata must be KEY=VALUE: " + kv);
      (*out)[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return OkStatus();
  };
  auto print_peer = [&ctx](const api::Peer& p) {
    ctx.Print(p, [&] {
      std::printf("Peer ID: %s\nName: %s\nPeer addresses: %s\nClient addresses: %s\nOnline: %s\n",
                  p.id.c_str(), p.name.c_str(), Join(p.peer_addresses).c_str(),
                  Join(p.client_addresses).c_str(), p.online ? "yes" : "no");
      for (const auto& [k, v] : p.metadata) std::printf("Metadata %s: %s\n", k.c_str(), v.c_str());
    });
  };

  CLI::App* add = peer->add_subcommand(
      "add",
      "Add the glusterd2 at ADDRESS (its peer address, default port 24008) to this cluster.\n"
      "It must be a single-node cluster without volumes. It joins only if this cluster\n"
      "knows its secret: give its <workdir>/auth with --peer-secret-file, or start every\n"
      "node with the same --cluster-secret-file.\n"
      "Example: glustercli peer add 10.0.0.12 --peer-secret-file ./node12.auth --zone rack2");
  add->add_option("address", add_args->address, "peer address host[:port]")->required();
  add->add_option("--zone", add_args->zone, "failure zone of the peer (default: its id)");
  add->add_option("--metadata", add_args->metadata, "KEY=VALUE labels (repeatable)");
  add->add_option("--peer-secret-file", add_args->peer_secret_file,
                  "file holding the new peer's own secret (its <workdir>/auth); default: this "
                  "cluster's secret, for nodes started with a shared cluster secret");
  add->callback([&ctx, rc, add_args, parse_md, print_peer] {
    api::PeerAddReq req;
    req.addresses = {add_args->address};
    req.zone = add_args->zone;
    if (Status s = parse_md(add_args->metadata, &req.metadata); !s.ok()) {
      std::fprintf(stderr, "Error: %s\n", s.message().c_str());
      *rc = 2;
      return;
    }
    if (!add_args->peer_secret_file.empty()) {
      auto secret = ReadFile(add_args->peer_secret_file);
      if (!secret.ok()) {
        std::fprintf(stderr, "Error: --peer-secret-file: %s\n", secret.status().message().c_str());
        *rc = 2;
        return;
      }
      req.peer_secret = *secret;
      // Trimmed as the daemon trims its own <workdir>/auth.
      while (!req.peer_secret.empty() &&
             (req.peer_secret.back() == '\n' || req.peer_secret.back() == ' ')) {
        req.peer_secret.pop_back();
      }
    }
    *rc = ctx.WithClient([&](client::Client& c) {
      auto p = c.AddPeer(req, ctx.info());
      if (!p.ok()) return ctx.Fail(p.status());
      if (!ctx.opts.json) std::printf("Peer add successful\n");
      print_peer(*p);
      return 0;
    });
  });

  CLI::App* remove = peer->add_subcommand(
      "remove", "Remove a peer from the cluster; it becomes a single-node cluster again.\n"
                "Refused while it hosts bricks unless --force.\n"
                "Example: glustercli peer remove 5e0c9303-507d-4f2c-b606-70235ed9fd7f");
  remove->add_option("peerid", add_args->id, "peer id")->required();
  remove->add_flag("-f,--force", add_args->force, "remove even if it hosts bricks or is down");
  remove->callback([&ctx, rc, add_args] {
    if (!ctx.Confirm("Remove peer " + add_args->id + " from the cluster?")) {
      *rc = 1;
      return;
    }
    *rc = ctx.WithClient([&](client::Client& c) {
      Status s = c.RemovePeer(add_args->id, add_args->force, ctx.info());
      if (!s.ok()) return ctx.Fail(s);
      ctx.Print(nlohmann::json::object(), [] { std::printf("Peer remove successful\n"); });
      return 0;
    });
  });

  CLI::App* edit = peer->add_subcommand(
      "edit", "Set a peer's zone and metadata labels.\n"
              "Example: glustercli peer edit <peerid> --zone rack1 --metadata owner=ops");
  edit->add_option("peerid", add_args->id, "peer id")->required();
  edit->add_option("--zone", add_args->zone, "failure zone");
  edit->add_option("--metadata", add_args->metadata, "KEY=VALUE labels (repeatable)");
  edit->callback([&ctx, rc, add_args, parse_md, print_peer] {
    api::PeerEditReq req;
    req.zone = add_args->zone;
    if (Status s = parse_md(add_args->metadata, &req.metadata); !s.ok() ||
        (req.zone.empty() && req.metadata.empty())) {
      std::fprintf(stderr, "Error: %s\n", s.ok() ? "give --zone and/or --metadata" : s.message().c_str());
      *rc = 2;
      return;
    }
    *rc = ctx.WithClient([&](client::Client& c) {
      auto p = c.EditPeer(add_args->id, req, ctx.info());
      if (!p.ok()) return ctx.Fail(p.status());
      print_peer(*p);
      return 0;
    });
  });

  CLI::App* ls = peer->add_subcommand("list", "List the peers (ID, name, addresses)");
  ls->add_option("--key", list_args->key, "only peers with this metadata key");
  ls->add_option("--value", list_args->value, "only peers with a metadata value equal to this");
  ls->callback([list] { list(false); });

  CLI::App* status = peer->add_subcommand("status", "List the peers with their online state and pid");
  status->add_option("--key", list_args->key, "only peers with this metadata key");
  status->add_option("--value", list_args->value, "only peers with a metadata value equal to this");
  status->callback([list] { list(true); });
}

void AddServiceCommands(CLI::App& app, Context& ctx, int* rc) {
  app.add_subcommand("version", "Show the glustercli and glusterd2 versions")->callback([&ctx, rc] {
    *rc = ctx.WithClient([&](client::Client& c) {
      auto v = c.Version(ctx.info());
      if (!v.ok()) return ctx.Fail(v.status());
      ctx.Print(*v, [&] {
        std::printf("glustercli version: %s\n", GD2_VERSION);
        std::printf("glusterd2 version: %s\nAPI version: %d\n", v->glusterd_version.c_str(),
                    v->api_version);
      });
      return 0;
    });
  });
  app.add_subcommand("healthz", "Check the daemon and its store (etcd) members")
      ->callback([&ctx, rc] {
        *rc = ctx.WithClient([&](client::Client& c) {
          auto h = c.Health(ctx.info());
          if (!h.ok()) return ctx.Fail(h.status());
          ctx.Print(*h, [&] {
            std::printf("healthy: %s\nstore: %s, reachable\n", h->healthy ? "yes" : "no",
                        h->store_mode.c_str());
            std::vector<std::vector<std::string>> rows;
            for (const auto& m : h->members) {
              rows.push_back(
                  {m.name, m.endpoint, m.healthy ? "yes" : "no", m.healthy ? m.version : m.error});
            }
            PrintTable({"MEMBER", "ENDPOINT", "HEALTHY", "VERSION/ERROR"}, rows);
          });
          return h->healthy ? 0 : 1;
        });
      });
}

}  // namespace gd2::cli
