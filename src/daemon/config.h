// The daemon's configuration: defaults, then a TOML file (--config), then GD2_* environment
// variables, then command-line flags (highest precedence). Unknown keys and bad values are
// errors; main() exits 2 on them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace gd2::daemon {

struct HostPort {
  std::string host;  // "" means all interfaces
  int port = 0;
  std::string ToString() const;
  // The address others should use: host, or 127.0.0.1 when bound to all interfaces.
  std::string ConnectHost() const;
};
// Parses "host:port", ":port" or "host" (then `default_port`). kInvalidArgument on bad input.
StatusOr<HostPort> ParseHostPort(std::string_view s, int default_port);

struct Config {
  std::string config_file;
  std::string workdir = "/var/lib/glusterd2";
  std::string rundir;  // default <workdir>/run
  std::string logdir;  // default <workdir>/log
  std::string peer_name;  // default: the host name
  HostPort peer_address{"", 24008};
  // The peer port listens on the peer address's host only, unless this is set (or that host is
  // 0.0.0.0 / ::), then on every interface.
  bool peer_listen_all = false;
  // File holding a secret every node of the cluster is started with (a Kubernetes Secret, ...):
  // taken as <workdir>/auth at first start, so `peer add` needs no per-node secret.
  std::string cluster_secret_file;
  HostPort client_address{"", 24007};
  std::vector<std::string> etcd_endpoints;  // empty: embedded etcd
  std::string etcd_client_url;              // embedded: default https://<client host>:2379
  std::string etcd_peer_url;                // embedded: default https://<client host>:2380
  std::string etcd_ca_file, etcd_cert_file, etcd_key_file;
  std::string log_level = "info";
  std::string log_format = "logfmt";
  std::string log_file = "-";
  std::string cert_file, key_file;
  bool rest_auth = true;
  int lease_ttl_seconds = 10;
  // How many etcd members the cluster keeps among its peers (embedded mode): a joining peer
  // becomes a member while there are fewer, otherwise a client.
  int etcd_members = 3;

  bool embedded_etcd() const { return etcd_endpoints.empty(); }
  // Where the peer port listens (see peer_listen_all).
  std::string PeerListenHost() const;
  // Effective configuration as "key = value" lines, secrets masked.
  std::string Describe() const;
};

// Loads the configuration from argv and the environment. Returns kInvalidArgument naming the
// key and the source on any bad input. `help_text` is set (and kCancelled returned) when
// --help or --version was asked for; the caller prints it and exits 0.
StatusOr<Config> LoadConfig(int argc, const char* const* argv,
                            const std::map<std::string, std::string>& env, std::string* help_text);

// Environment as a map (for LoadConfig).
std::map<std::string, std::string> CurrentEnvironment();

}  // namespace gd2::daemon
