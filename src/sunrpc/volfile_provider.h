// Where the volfile service gets volfile text: VolfileProviders, each answering one kind of
// volfile id (sunrpc/volfile_id.h), collected in a VolfileRegistry that GETSPEC consults. Plugins
// register providers for the kinds they own (the volume plugin: client, brick and self-heal
// daemon volfiles); the service never reads files itself.
#pragma once

#include <compare>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "sunrpc/dict.h"
#include "sunrpc/volfile_id.h"

namespace gd2::sunrpc {

class VolfileProvider {
 public:
  virtual ~VolfileProvider() = default;

  // Returns the volfile text for a GETSPEC key. `volfile_id` is the key exactly as the process
  // sent it (for FUSE clients with its leading "/"); it has already passed ParseVolfileId
  // (sunrpc/volfile_id.h), whose kind is one this provider was registered for. `xdata` is the
  // request dict (min-op-version, max-op-version, brick_name for bricks).
  // Errors become the GETSPEC reply op_ret -1 with op_errno: kNotFound -> ENOENT,
  // kInvalidArgument -> EINVAL, kFailedPrecondition -> ENOTSUP (op-version outside the client's
  // range), kUnavailable -> EAGAIN, anything else -> EIO.
  // Called concurrently from connection threads; must be thread-safe. A slow call delays only the
  // connection that asked.
  virtual StatusOr<std::string> GetVolfile(std::string_view volfile_id, const Dict& xdata) = 0;

  // Extra dict for a successful GETSPEC reply, e.g. {"pidfile": "/var/run/gluster/shd/<vol>/
  // <vol>-shd.pid"} for "shd/<vol>" as glusterd sends. Default: none. Same threading rules.
  virtual Dict GetVolfileReplyXdata(std::string_view volfile_id) {
    (void)volfile_id;
    return {};
  }
};

// A provider made of functions, for a plugin that answers several kinds from one object.
class VolfileFunctions : public VolfileProvider {
 public:
  using GetFn =
      std::function<StatusOr<std::string>(std::string_view volfile_id, const Dict& xdata)>;
  using XdataFn = std::function<Dict(std::string_view volfile_id)>;
  // `get` is required; without `xdata` replies carry no extra dict.
  explicit VolfileFunctions(GetFn get, XdataFn xdata = nullptr)
      : get_(std::move(get)), xdata_(std::move(xdata)) {}
  StatusOr<std::string> GetVolfile(std::string_view volfile_id, const Dict& xdata) override {
    return get_(volfile_id, xdata);
  }
  Dict GetVolfileReplyXdata(std::string_view volfile_id) override {
    return xdata_ ? xdata_(volfile_id) : Dict();
  }

 private:
  const GetFn get_;
  const XdataFn xdata_;
};

// What one provider answers: a kind of volfile id and, for VolfileKind::kDaemon, the daemon
// ("shd", "rebalance", ...; "" for every other kind).
struct VolfileProviderKey {
  VolfileKind kind = VolfileKind::kClient;
  std::string daemon;

  static VolfileProviderKey Of(const VolfileId& id);
  static VolfileProviderKey Daemon(std::string daemon) {
    return {VolfileKind::kDaemon, std::move(daemon)};
  }
  // "client", "daemon/shd", "snapshot-brick", ...
  std::string ToString() const;
  auto operator<=>(const VolfileProviderKey&) const = default;
};

// The providers GETSPEC asks, by key. Which peers may fetch which kinds is the session's rule
// (RpcSession: only client kinds over TCP), not the provider's.
// Thread-safe: providers may be added while the service already answers (the daemon's RPC service
// starts before plugins register); a GETSPEC for a kind not yet registered fails with ENOENT.
class VolfileRegistry {
 public:
  VolfileRegistry() = default;
  VolfileRegistry(const VolfileRegistry&) = delete;
  VolfileRegistry& operator=(const VolfileRegistry&) = delete;

  // Registers `provider` (not owned; it must outlive every GETSPEC, i.e. the RpcServer's Stop())
  // for ids of `key`. kAlreadyExists if the key has a provider; kInvalidArgument for a kDaemon
  // key without a daemon name or another kind with one.
  Status Add(const VolfileProviderKey& key, VolfileProvider& provider);

  // The provider for a parsed id, or nullptr if no provider answers its kind.
  VolfileProvider* Find(const VolfileId& id) const;

 private:
  mutable Mutex mu_;
  std::map<VolfileProviderKey, VolfileProvider*> providers_ GD2_GUARDED_BY(mu_);
};

}  // namespace gd2::sunrpc
