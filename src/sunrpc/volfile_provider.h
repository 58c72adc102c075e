// VolfileProvider: where the volfile service gets volfile text. The daemon implements it (from
// the volgen output of the volumes it manages); the service never reads files itself.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "sunrpc/dict.h"

namespace gd2::sunrpc {

class VolfileProvider {
 public:
  virtual ~VolfileProvider() = default;

  // Returns the volfile text for a GETSPEC key. `volfile_id` is the key exactly as the process
  // sent it (for FUSE clients with its leading "/"); it has already passed ParseVolfileId
  // (sunrpc/volfile_id.h), which also tells its kind and volume. `xdata` is the request dict
  // (min-op-version, max-op-version, brick_name for bricks).
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

}  // namespace gd2::sunrpc
