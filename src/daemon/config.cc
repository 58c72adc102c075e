#include "daemon/config.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <functional>
#include <sstream>

#include <CLI/CLI.hpp>
#include "common/log.h"
#include <toml++/toml.h>

namespace gd2::daemon {
namespace {

struct Option {
  std::string key;
  std::string help;
  std::function<Status(Config&, const std::string&)> set;
  std::function<std::string(const Config&)> get;
  bool secret = false;
};

Status ParseBool(const std::string& key, const std::string& v, bool* out) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") {
    *out = true;
  } else if (v == "false" || v == "0" || v == "no" || v == "off") {
    *out = false;
  } else {
    return InvalidArgumentError(key + ": not a boolean: " + v);
  }
  return OkStatus();
}

std::vector<std::string> SplitList(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

// The host and port of "http(s)://host:port" (port 0 when it has none).
StatusOr<HostPort> UrlHostPort(const std::string& url) {
  return ParseHostPort(url.substr(url.find("//") + 2), 0);
}

Status CheckUrl(const std::string& key, const std::string& url) {
  if (!(url.starts_with("http://") || url.starts_with("https://"))) {
    return InvalidArgumentError(key + ": want http://host:port or https://host:port, got: " + url);
  }
  GD2_ASSIGN_OR_RETURN(HostPort hp, UrlHostPort(url));
  if (hp.port == 0 || hp.host.empty()) return InvalidArgumentError(key + ": URL needs host and port: " + url);
  return OkStatus();
}

Option StringOpt(std::string key, std::string help, std::string Config::*field, bool secret = false) {
  return Option{key, std::move(help),
                [field](Config& c, const std::string& v) {
                  c.*field = v;
                  return OkStatus();
                },
                [field](const Config& c) { return c.*field; }, secret};
}

Option AddressOpt(std::string key, std::string help, HostPort Config::*field, int default_port) {
  return Option{key, std::move(help),
                [key, field, default_port](Config& c, const std::string& v) -> Status {
                  auto hp = ParseHostPort(v, default_port);
                  if (!hp.ok()) return hp.status().WithContext(key);
                  c.*field = *hp;
                  return OkStatus();
                },
                [field](const Config& c) { return (c.*field).ToString(); }};
}

std::vector<Option> Options() {
  return {
      StringOpt("workdir", "directory for all state (peer id, auth secret, etcd data)",
                &Config::workdir),
      StringOpt("rundir", "directory for pid files and sockets (default <workdir>/run)",
                &Config::rundir),
      StringOpt("logdir", "directory for brick and etcd logs (default <workdir>/log)",
                &Config::logdir),
      StringOpt("peer-name", "name of this peer (default: host name)", &Config::peer_name),
      AddressOpt("peer-address", "host:port for daemon-to-daemon RPC", &Config::peer_address, 24008),
      Option{"peer-listen-all",
             "listen for peer RPC on every interface instead of the peer address's host only",
             [](Config& c, const std::string& v) {
               return ParseBool("peer-listen-all", v, &c.peer_listen_all);
             },
             [](const Config& c) { return std::string(c.peer_listen_all ? "true" : "false"); }},
      StringOpt("cluster-secret-file",
                "file with the secret shared by every node of the cluster, taken as the auth "
                "secret at first start (then peer add needs no --peer-secret-file)",
                &Config::cluster_secret_file),
      AddressOpt("client-address", "host:port of the ReST API and volfile service",
                 &Config::client_address, 24007),
      Option{"etcd-endpoints", "comma-separated URLs of an external etcd (none: embedded etcd)",
             [](Config& c, const std::string& v) -> Status {
               c.etcd_endpoints = SplitList(v);
               for (const auto& e : c.etcd_endpoints) GD2_RETURN_IF_ERROR(CheckUrl("etcd-endpoints", e));
               return OkStatus();
             },
             [](const Config& c) { return Join(c.etcd_endpoints); }},
      StringOpt("etcd-client-url",
                "embedded etcd client URL, https only (default https://<client host>:2379)",
                &Config::etcd_client_url),
      StringOpt("etcd-peer-url",
                "embedded etcd peer URL, https only (default https://<client host>:2380)",
                &Config::etcd_peer_url),
      StringOpt("etcd-ca-file",
                "external etcd: CA bundle that signed its server certificates (default: the "
                "system's)",
                &Config::etcd_ca_file),
      StringOpt("etcd-cert-file", "external etcd: client certificate (PEM) to present",
                &Config::etcd_cert_file),
      StringOpt("etcd-key-file", "external etcd: key of etcd-cert-file (PEM)",
                &Config::etcd_key_file, true),
      Option{"log-level", "debug, info, warn or error",
             [](Config& c, const std::string& v) -> Status {
               GD2_RETURN_IF_ERROR(log::ParseLevel(v).status().WithContext("log-level"));
               c.log_level = v;
               return OkStatus();
             },
             [](const Config& c) { return c.log_level; }},
      Option{"log-format", "logfmt or json",
             [](Config& c, const std::string& v) -> Status {
               GD2_RETURN_IF_ERROR(log::ParseFormat(v).status().WithContext("log-format"));
               c.log_format = v;
               return OkStatus();
             },
             [](const Config& c) { return c.log_format; }},
      StringOpt("log-file", "log file, - for stderr", &Config::log_file),
      StringOpt("cert-file", "TLS certificate for the ReST API", &Config::cert_file),
      StringOpt("key-file", "TLS key for the ReST API", &Config::key_file, true),
      Option{"rest-auth", "require JWT auth on the ReST API (turn off for development only)",
             [](Config& c, const std::string& v) { return ParseBool("rest-auth", v, &c.rest_auth); },
             [](const Config& c) { return std::string(c.rest_auth ? "true" : "false"); }},
      Option{"lease-ttl", "seconds before a dead peer is shown offline",
             [](Config& c, const std::string& v) -> Status {
               int n = 0;
               auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
               if (ec != std::errc() || p != v.data() + v.size() || n < 2 || n > 300) {
                 return InvalidArgumentError("lease-ttl: want seconds in 2..300, got: " + v);
               }
               c.lease_ttl_seconds = n;
               return OkStatus();
             },
             [](const Config& c) { return std::to_string(c.lease_ttl_seconds); }},
      Option{"etcd-members", "etcd members the cluster keeps among its peers (embedded mode)",
             [](Config& c, const std::string& v) -> Status {
               int n = 0;
               auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
               if (ec != std::errc() || p != v.data() + v.size() || n < 1 || n > 7) {
                 return InvalidArgumentError("etcd-members: want 1..7, got: " + v);
               }
               c.etcd_members = n;
               return OkStatus();
             },
             [](const Config& c) { return std::to_string(c.etcd_members); }},
  };
}

std::string EnvName(const std::string& key) {
  std::string out = "GD2_";
  for (char c : key) out += (c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

StatusOr<std::string> TomlValueText(const std::string& key, const toml::node& n) {
  if (auto s = n.value<std::string>()) return *s;
  if (n.is_boolean()) return std::string(*n.value<bool>() ? "true" : "false");
  if (n.is_integer()) return std::to_string(*n.value<int64_t>());
  if (const toml::array* a = n.as_array()) {
    std::vector<std::string> items;
    for (const auto& e : *a) {
      auto s = e.value<std::string>();
      if (!s) return InvalidArgumentError(key + ": array items must be strings");
      items.push_back(*s);
    }
    return Join(items);
  }
  return InvalidArgumentError(key + ": unsupported value type");
}

// The embedded etcd always runs with the cluster CA's certificates (<workdir>/tls); the
// etcd-*-file options describe an external etcd's.
Status CheckEtcdTls(const Config& c) {
  bool files = !c.etcd_ca_file.empty() || !c.etcd_cert_file.empty() || !c.etcd_key_file.empty();
  if (c.embedded_etcd()) {
    if (files) {
      return InvalidArgumentError(
          "etcd-ca-file, etcd-cert-file and etcd-key-file are for an external etcd "
          "(etcd-endpoints); the embedded etcd uses the cluster CA in <workdir>/tls");
    }
    for (const auto& [key, url] : {std::pair<std::string, std::string>{"etcd-client-url",
                                                                       c.etcd_client_url},
                                   {"etcd-peer-url", c.etcd_peer_url}}) {
      if (!url.starts_with("https://")) {
        return InvalidArgumentError(key + ": the embedded etcd serves only https, got: " + url);
      }
    }
    return OkStatus();
  }
  if (c.etcd_cert_file.empty() != c.etcd_key_file.empty()) {
    return InvalidArgumentError("etcd-cert-file and etcd-key-file must be given together");
  }
  if (files) {
    for (const auto& e : c.etcd_endpoints) {
      if (!e.starts_with("https://")) {
        return InvalidArgumentError("etcd-endpoints: TLS files given (etcd-ca-file, "
                                    "etcd-cert-file) but the endpoint is not https://: " + e);
      }
    }
  }
  return OkStatus();
}

bool IsWildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::";
}

// Two of the daemon's listeners on one port would fail at start with "address in use" after the
// store is already up; say which options clash instead.
Status CheckDistinctPorts(const Config& c) {
  std::vector<std::pair<std::string, HostPort>> listeners = {
      {"client-address", c.client_address},
      {"peer-address", HostPort{c.PeerListenHost(), c.peer_address.port}}};
  if (c.embedded_etcd()) {
    // Both URLs passed CheckUrl already.
    listeners.push_back({"etcd-client-url", UrlHostPort(c.etcd_client_url).value_or(HostPort{})});
    listeners.push_back({"etcd-peer-url", UrlHostPort(c.etcd_peer_url).value_or(HostPort{})});
  }
  for (size_t i = 0; i < listeners.size(); ++i) {
    for (size_t j = i + 1; j < listeners.size(); ++j) {
      const auto& [key_a, a] = listeners[i];
      const auto& [key_b, b] = listeners[j];
      if (a.port == 0 || a.port != b.port) continue;
      if (a.host != b.host && !IsWildcard(a.host) && !IsWildcard(b.host)) continue;
      return InvalidArgumentError(key_a + " and " + key_b + " both use port " +
                                  std::to_string(a.port) + "; give each its own port");
    }
  }
  return OkStatus();
}

Status Validate(Config& c) {
  if (c.workdir.empty() || c.workdir.front() != '/') {
    return InvalidArgumentError("workdir: must be an absolute path, got: " + c.workdir);
  }
  while (c.workdir.size() > 1 && c.workdir.back() == '/') c.workdir.pop_back();
  if (c.rundir.empty()) c.rundir = c.workdir + "/run";
  if (c.logdir.empty()) c.logdir = c.workdir + "/log";
  if (c.rundir.front() != '/') return InvalidArgumentError("rundir: must be an absolute path");
  if (c.logdir.front() != '/') return InvalidArgumentError("logdir: must be an absolute path");
  // The daemon changes into its rundir at start; a relative log file is taken from where it was
  // started, as the admin meant it.
  if (!c.log_file.empty() && c.log_file != "-" && c.log_file.front() != '/') {
    std::error_code ec;
    auto abs = std::filesystem::absolute(c.log_file, ec);
    if (ec) return InvalidArgumentError("log-file: cannot resolve " + c.log_file + ": " + ec.message());
    c.log_file = abs.string();
  }
  if (c.peer_name.empty()) {
    char host[256] = {0};
    ::gethostname(host, sizeof(host) - 1);
    c.peer_name = host;
  }
  if (c.cert_file.empty() != c.key_file.empty()) {
    return InvalidArgumentError("cert-file and key-file must be given together");
  }
  std::string host = c.client_address.ConnectHost();
  if (c.etcd_client_url.empty()) c.etcd_client_url = "https://" + host + ":2379";
  if (c.etcd_peer_url.empty()) c.etcd_peer_url = "https://" + host + ":2380";
  GD2_RETURN_IF_ERROR(CheckUrl("etcd-client-url", c.etcd_client_url));
  GD2_RETURN_IF_ERROR(CheckUrl("etcd-peer-url", c.etcd_peer_url));
  GD2_RETURN_IF_ERROR(CheckEtcdTls(c));
  GD2_RETURN_IF_ERROR(CheckDistinctPorts(c));
  return OkStatus();
}

}  // namespace

std::string Config::PeerListenHost() const {
  const std::string& h = peer_address.host;
  if (peer_listen_all || h == "0.0.0.0") return "0.0.0.0";
  if (h == "::") return "::";
  return peer_address.ConnectHost();
}

std::string HostPort::ToString() const { return host + ":" + std::to_string(port); }
std::string HostPort::ConnectHost() const {
  return (host.empty() || host == "0.0.0.0") ? "127.0.0.1" : host;
}

StatusOr<HostPort> ParseHostPort(std::string_view s, int default_port) {
  if (s.empty()) return InvalidArgumentError("empty address");
  HostPort hp;
  size_t colon = s.rfind(':');
  std::string_view host = s;
  if (colon != std::string_view::npos) {
    host = s.substr(0, colon);
    std::string_view port = s.substr(colon + 1);
    int p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p < 0 || p > 65535) {
      return InvalidArgumentError("bad port in address: " + std::string(s));
    }
    hp.port = p;
  } else {
    hp.port = default_port;
  }
  for (char c : host) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    if (!ok) return InvalidArgumentError("bad host in address: " + std::string(s));
  }
  hp.host = std::string(host);
  return hp;
}

std::string Config::Describe() const {
  std::string out;
  for (const Option& o : Options()) {
    std::string v = o.get(*this);
    if (o.secret && !v.empty()) v = "********";
    out += o.key + " = " + v + "\n";
  }
  return out;
}

std::map<std::string, std::string> CurrentEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

StatusOr<Config> LoadConfig(int argc, const char* const* argv,
                            const std::map<std::string, std::string>& env, std::string* help_text) {
  std::vector<Option> options = Options();
  CLI::App app("glusterd2: GlusterFS cluster management daemon.\n"
               "Precedence: flags > GD2_* environment variables > --config TOML file > defaults.",
               "glusterd2");
  Config cfg;
  std::string config_file;
  app.add_option("--config", config_file, "TOML configuration file");
  app.set_version_flag("--version", std::string("glusterd2 ") + GD2_VERSION);
  std::map<std::string, std::string> flag_values;
  for (const Option& o : options) {
    app.add_option("--" + o.key, flag_values[o.key], o.help + " [env " + EnvName(o.key) + "]");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    *help_text = app.help();
    return Status(StatusCode::kCancelled, "help");
  } catch (const CLI::CallForVersion&) {
    *help_text = std::string("glusterd2 ") + GD2_VERSION + "\n";
    return Status(StatusCode::kCancelled, "version");
  } catch (const CLI::ParseError& e) {
    return InvalidArgumentError(std::string("command line: ") + e.what());
  }
  if (config_file.empty()) {
    auto it = env.find("GD2_CONFIG");
    if (it != env.end()) config_file = it->second;
  }
  if (!config_file.empty()) {
    cfg.config_file = config_file;
    toml::table tbl;
    try {
      tbl = toml::parse_file(config_file);
    } catch (const toml::parse_error& e) {
      return InvalidArgumentError("config file " + config_file + ": " + std::string(e.description()));
    }
    for (const auto& [k, node] : tbl) {
      std::string key(k.str());
      const Option* opt = nullptr;
      for (const Option& o : options) {
        if (o.key == key) opt = &o;
      }
      if (opt == nullptr) return InvalidArgumentError("config file " + config_file + ": unknown key: " + key);
      GD2_ASSIGN_OR_RETURN(std::string text, TomlValueText(key, node));
      Status s = opt->set(cfg, text);
      if (!s.ok()) return s.WithContext("config file " + config_file);
    }
  }
  for (const Option& o : options) {
    auto it = env.find(EnvName(o.key));
    if (it == env.end()) continue;
    Status s = o.set(cfg, it->second);
    if (!s.ok()) return s.WithContext("environment " + EnvName(o.key));
  }
  for (const Option& o : options) {
    if (app.count("--" + o.key) == 0) continue;
    Status s = o.set(cfg, flag_values[o.key]);
    if (!s.ok()) return s.WithContext("flag --" + o.key);
  }
  GD2_RETURN_IF_ERROR(Validate(cfg));
  return cfg;
}

}  // namespace gd2::daemon
