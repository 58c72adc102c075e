#include "cli/commands.h"

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
    auto c = ctx.Client();
    if (!c.ok()) {
      *rc = ctx.Fail(c.status());
      return;
    }
    auto peers = (*c)->ListPeers(list_args->key, list_args->value);
    if (!peers.ok()) {
      *rc = ctx.Fail(peers.status());
      return;
    }
    ctx.Print(*peers, [&] {
      std::vector<std::vector<std::string>> rows;
      for (const auto& p : *peers) {
        std::vector<std::string> row = {p.id, p.name, Join(p.client_addresses), Join(p.peer_addresses)};
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
    *rc = 0;
  };

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
    auto c = ctx.Client();
    if (!c.ok()) {
      *rc = ctx.Fail(c.status());
      return;
    }
    auto v = (*c)->Version();
    if (!v.ok()) {
      *rc = ctx.Fail(v.status());
      return;
    }
    ctx.Print(*v, [&] {
      std::printf("glustercli version: %s\n", GD2_VERSION);
      std::printf("glusterd2 version: %s\nAPI version: %d\n", v->glusterd_version.c_str(),
                  v->api_version);
    });
    *rc = 0;
  });
  app.add_subcommand("healthz", "Check the daemon and its store (etcd) members")
      ->callback([&ctx, rc] {
        auto c = ctx.Client();
        if (!c.ok()) {
          *rc = ctx.Fail(c.status());
          return;
        }
        auto h = (*c)->Health();
        if (!h.ok()) {
          *rc = ctx.Fail(h.status());
          return;
        }
        ctx.Print(*h, [&] {
          std::printf("healthy: %s\nstore: %s, reachable\n", h->healthy ? "yes" : "no",
                      h->store_mode.c_str());
          std::vector<std::vector<std::string>> rows;
          for (const auto& m : h->members) {
            rows.push_back({m.name, m.endpoint, m.healthy ? "yes" : "no",
                            m.healthy ? m.version : m.error});
          }
          PrintTable({"MEMBER", "ENDPOINT", "HEALTHY", "VERSION/ERROR"}, rows);
        });
        *rc = h->healthy ? 0 : 1;
      });
}

}  // namespace gd2::cli
