// Pure helpers of glustercli's volume commands: they turn command-line words into ReST requests
// (brick lists, legacy `replica 3` words, option lists) and responses into text. No I/O, so
// every rule is unit-tested without a daemon (tests/unit/cli/cli_args_test.cc).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/peer.h"
#include "api/volume.h"
#include "api/volume_req.h"
#include "common/status.h"

namespace gd2::cli {

// --- volume create --------------------------------------------------------------------------

// What `volume create` was given, before interpretation. Zero counts mean "not given".
struct VolumeCreateArgs {
  std::string name;
  // Bricks ("<host-or-peerid>:<path>") and legacy words (`replica 3`, `arbiter 1`, `disperse 6`,
  // `disperse-data 4`, `redundancy 2`, `transport tcp`, `force`), in command-line order.
  std::vector<std::string> words;
  int replica = 0;
  int arbiter = 0;
  int disperse = 0;
  int disperse_data = 0;
  int redundancy = 0;
  std::string transport;  // empty: tcp
  bool force = false;
  std::vector<std::string> options;  // each "key:value[,key:value...]"
  bool allow_advanced_options = false;
  bool allow_experimental_options = false;
  bool allow_deprecated_options = false;
  bool reuse_bricks = false;
  bool allow_root_dir = false;
  bool allow_mount_as_brick = false;
  bool create_brick_dir = false;
};

// A brick word split into its host (name, address, or peer id) and its normalised path.
struct BrickArg {
  std::string host;
  std::string path;

  friend bool operator==(const BrickArg&, const BrickArg&) = default;
};

// Parses "<host-or-peerid>:<path>". The host ends at the first ":/", so paths may contain ':';
// an IPv6 host may be written in brackets ("[::1]:/b"). Repeated and trailing slashes in the path
// are removed ("h://b//c/" -> "/b/c"). kInvalidArgument for a missing host or a path that is
// not absolute, is "/", or has "." or ".." components.
StatusOr<BrickArg> ParseBrickArg(std::string_view word);

// Parses option lists "k:v,k:v" (several lists may be given, e.g. by repeating --options).
// Each item splits at its first ':', so values may contain ':'. kInvalidArgument for an item
// without ':' or with an empty key, and for a key given twice.
StatusOr<std::map<std::string, std::string>> ParseOptionList(const std::vector<std::string>& lists);

// Moves the legacy words out of args.words into the count/transport/force fields and leaves
// only brick words behind. kInvalidArgument for a legacy word without a valid value
// ("replica needs a positive number, got: x") and for a count given twice with different
// values (as a flag and as a word).
StatusOr<VolumeCreateArgs> ApplyLegacyWords(VolumeCreateArgs args);

// The whole create request except peer resolution: applies legacy words, checks the name,
// transport and counts, parses the bricks and groups them into sub-volumes the way glusterd does
// (consecutive sets of the replica or disperse count; the last brick of each replica set is the
// arbiter with `arbiter 1`, where `replica 2 arbiter 1` means sets of 3; plain distribute is one
// "distribute" sub-volume with all bricks). Each BrickReq.peer_id still holds the host as
// written; ResolveBrickPeers replaces it. kInvalidArgument with a message for the user, e.g.
// "brick count 4 is not a multiple of replica count 3".
StatusOr<api::VolCreateReq> BuildVolCreateReq(const VolumeCreateArgs& args);

// The peer id that `host` names: a peer's id, its name, or the host part of one of its peer or
// client addresses ("10.0.0.1" matches "10.0.0.1:24007", "::1" matches "[::1]:24008").
// "localhost" that matches no peer is returned unchanged: the daemon resolves it to itself.
// kNotFound "unknown brick host: host=<h> ..." when no peer matches, kInvalidArgument when
// several do.
StatusOr<std::string> ResolvePeerId(std::string_view host, const std::vector<api::Peer>& peers);

// Replaces the host in every brick of `req` by its peer id (see ResolvePeerId).
Status ResolveBrickPeers(api::VolCreateReq& req, const std::vector<api::Peer>& peers);

// --- volume set / reset / get ---------------------------------------------------------------

// `volume set <vol> <opt> <val> [<opt> <val>...]`: `words` are the pairs after the volume name.
// kInvalidArgument for no words, an odd count, an empty option name, or an option given twice.
StatusOr<api::VolOptionReq> BuildVolOptionReq(const std::vector<std::string>& words, bool advanced,
                                              bool experimental, bool deprecated);

// `volume reset <vol> [<opt>...] [--force] [--all]`. kInvalidArgument when neither options nor
// --all are given, or both are.
StatusOr<api::VolOptionResetReq> BuildVolOptionResetReq(const std::vector<std::string>& options,
                                                        bool force, bool all);

// Keeps the options `volume get --modified/--basic/--advanced` asks for: modified_only drops
// unmodified ones; basic/advanced select levels (neither: every level).
std::vector<api::OptionInfo> FilterOptions(std::vector<api::OptionInfo> options, bool modified_only,
                                           bool basic, bool advanced);

// --- text output ----------------------------------------------------------------------------

// glusterd's "Number of Bricks" text: "4" (distribute), "2 x 3 = 6" (replicate),
// "1 x (2 + 1) = 3" (arbiter), "2 x (4 + 2) = 12" (disperse).
std::string BrickCountText(const api::Volume& volume);

// "Started", "Stopped" or "Created".
std::string StateText(api::VolumeState state);

// The `volume info` block of one volume: Volume Name, Type, Volume ID, State, Transport-type,
// Number of Bricks, Bricks (Brick1: host:path, "(arbiter)" marked) and, when any are set,
// Options Reconfigured. Ends with a newline.
std::string FormatVolumeInfo(const api::Volume& volume);

// Rows of the `volume status` table: BRICK ID, HOST, PATH, ONLINE, PORT, PID ("N/A" for a port
// or pid of 0).
std::vector<std::vector<std::string>> BrickStatusRows(const std::vector<api::BrickStatus>& bricks);

// The `volume heal info` text: per brick "Brick <host:path>", its entries, "Status: ...",
// "Number of entries: N" and a blank line.
std::string FormatHealInfo(const std::vector<api::BrickHealInfo>& bricks);

}  // namespace gd2::cli
