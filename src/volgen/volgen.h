// Volfile generation: builds the brick, FUSE client and self-heal daemon graphs of a volume the
// way glusterd 10.3 does (same xlator names, types, order and options) and applies the volume's
// options by the definitions in an OptionTable (volgen/options.h). The graph builders expect the
// volume plugin's options (plugins/volume/options.h) in that table and abort without them. Pure
// functions of their arguments; no I/O. See docs/volgen.md
// for the deliberate differences from glusterd.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "api/volume.h"
#include "common/status.h"
#include "volgen/graph.h"
#include "volgen/options.h"

namespace gd2::volgen {

// Node-local facts a brick volfile needs that are not part of the volume record.
struct BrickContext {
  // transport.address-family of protocol/server unless the volume sets that option.
  std::string address_family = "inet";
  // > 0: write `transport.socket.listen-port` so a brick started with `-f` listens there.
  int listen_port = 0;
  // How many of this volume's bricks on the node share the brick's filesystem (posix
  // shared-brick-count, used to report df correctly).
  int shared_brick_count = 1;
  // The marker xlator's timestamp file is <workdir>/vols/<vol>/marker.tstamp.
  std::string workdir = "/var/lib/glusterd2";
};

struct ClientContext {
  // Trusted clients (local ones) get the volume's username/password in every protocol/client.
  bool trusted = true;
  // transport.address-family of protocol/client unless the volume sets that option.
  std::string address_family = "inet";
  // Brick id -> port. A brick listed here gets `remote-port`, so the client skips the portmap.
  std::map<std::string, int> remote_ports;
};

struct ShdContext {
  std::string address_family = "inet";
};

// Graph builders. Each returns kInvalidArgument if a volume option is unknown or has a bad
// value. BuildBrickGraph returns kNotFound if `brick` (matched by peer id and path) is not part
// of the volume. BuildShdGraph returns kFailedPrecondition for a volume without replicate or
// disperse sub-volumes (glusterd writes no shd volfile for those).
StatusOr<Graph> BuildBrickGraph(const OptionTable& options, const api::Volume& volume,
                                const api::Brick& brick, const BrickContext& ctx);
StatusOr<Graph> BuildClientGraph(const OptionTable& options, const api::Volume& volume,
                                 const ClientContext& ctx);
StatusOr<Graph> BuildShdGraph(const OptionTable& options, const api::Volume& volume,
                              const ShdContext& ctx);

// The same graphs serialised as volfile text; kInvalidArgument also when the graph holds a token
// the serializer refuses (graph.h), so unsafe text from a bad record never reaches a process.
StatusOr<std::string> BrickVolfile(const OptionTable& options, const api::Volume& volume,
                                   const api::Brick& brick, const BrickContext& ctx);
StatusOr<std::string> FuseVolfile(const OptionTable& options, const api::Volume& volume,
                                  const ClientContext& ctx);
StatusOr<std::string> ShdVolfile(const OptionTable& options, const api::Volume& volume,
                                 const ShdContext& ctx);

// True if the volume has replicate or disperse sub-volumes, i.e. a self-heal daemon graph.
bool HasShdGraph(const api::Volume& volume);

// "/bricks/d1/rep3" -> "bricks-d1-rep3" (glusterd's dashed path, api::DashedBrickPath).
std::string DashedPath(std::string_view brick_path);
// GETSPEC key of a brick: "<vol>.<host>.<dashed path>", e.g. "rep3.vm.bricks-d1-rep3".
std::string BrickVolfileId(std::string_view volume_name, std::string_view host,
                           std::string_view brick_path);

}  // namespace gd2::volgen
