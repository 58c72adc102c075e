// Fuzzes the reading of store records: the same bytes are read as a transaction record (and,
// when that parses, each of its steps' arguments by the volume plugin's decoders), a pending/
// record, a volume record, a peer record and a brickstate record. Store content is input that
// other processes write: reading must only ever return a Status (never throw, never crash),
// and whatever is accepted must be valid as the API defines it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/json.h"
#include "api/peer.h"
#include "api/volume.h"
#include "common/uuid.h"
#include "plugins/volume/step_args.h"
#include "txn/engine.h"
#include "txn/record.h"

namespace {

namespace volume = gd2::plugins::volume;

constexpr char kWorkdir[] = "/var/lib/glusterd2";

void Check(bool cond) {
  if (!cond) std::abort();
}

bool Under(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

// Accepted brick-set arguments are safe to build paths from.
void CheckBrickSet(const volume::BrickSetArgs& a) {
  Check(gd2::api::ValidateVolumeName(a.volume).ok());
  Check(gd2::IsUuid(a.volume_id));
  for (const auto& p : a.paths) {
    Check(gd2::api::ValidateBrickPath(p).ok());
    Check(!Under(p, kWorkdir) && !Under(kWorkdir, p));
  }
  auto dir = volume::VolumeWorkDir(kWorkdir, a.volume);
  Check(dir.ok() && Under(*dir, std::string(kWorkdir) + "/vols") && *dir != std::string(kWorkdir) + "/vols");
}

void DecodeStepArgs(const std::string& step, const nlohmann::json& args) {
  if (step == volume::kPrepareBricksStep || step == volume::kDeleteBricksStep) {
    auto a = volume::DecodeBrickSetArgs(step, args, kWorkdir);
    if (a.ok()) {
      CheckBrickSet(*a);
      auto again = volume::DecodeBrickSetArgs(step, volume::EncodeBrickSetArgs(*a), kWorkdir);
      Check(again.ok() && again->paths == a->paths && again->volume_id == a->volume_id);
    } else {
      Check(gd2::txn::IsBadArguments(a.status()));
    }
  } else {
    auto v = volume::DecodeVolumeArgs(step, args, kWorkdir);
    if (v.ok()) {
      Check(gd2::api::ValidateVolume(*v).ok());
      Check(volume::DecodeVolumeArgs(step, volume::EncodeVolumeArgs(*v), kWorkdir).ok());
    } else {
      Check(gd2::txn::IsBadArguments(v.status()));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  // txn/<id>
  auto r = gd2::txn::ParseRecord(text);
  if (r.ok()) {
    Check(r->started <= r->steps.size());
    Check(gd2::txn::ValidatePeerId(r->initiator).ok());
    auto again = gd2::txn::ParseRecord(gd2::txn::SerializeRecord(*r));
    Check(again.ok() && again->steps.size() == r->steps.size() && again->undo_peers == r->undo_peers);
    Check(again->committed == r->committed && again->finish_peers == r->finish_peers);
    // A committed record runs all its steps, and owes only finish_peers; one not committed only
    // undo_peers.
    Check(!r->committed || (r->started == r->steps.size() && r->undo_peers.empty()));
    Check(r->committed || r->finish_peers.empty());
    for (const auto& s : r->steps) {
      for (const auto& p : s.peers) Check(gd2::txn::ValidatePeerId(p).ok());
      DecodeStepArgs(s.name, s.args);
      for (const auto& [peer, args] : s.peer_args) {
        Check(std::find(s.peers.begin(), s.peers.end(), peer) != s.peers.end());
        DecodeStepArgs(s.name, args);
      }
    }
    for (size_t i = 0; i < r->steps.size(); ++i)
      Check(again->steps[i].peer_args == r->steps[i].peer_args);
  } else {
    Check(r.status().code() == gd2::StatusCode::kInvalidArgument);
  }

  // The bytes as the arguments of every step, when they are JSON.
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_discarded()) {
    for (const char* step : {volume::kPrepareBricksStep, volume::kStartBricksStep, volume::kStopBricksStep,
                             volume::kDeleteBricksStep}) {
      DecodeStepArgs(step, j);
    }
  }

  // pending/<peer>/<name>
  auto w = volume::DecodePendingWork(text, kWorkdir);
  if (w.ok()) {
    Check(w->step == volume::kDeleteBricksStep);
    CheckBrickSet(w->args);
    Check(volume::DecodePendingWork(volume::EncodePendingWork(*w), kWorkdir).ok());
  } else {
    Check(gd2::txn::IsBadArguments(w.status()));
  }

  // volumes/<name>
  auto v = gd2::api::ParseVolume(text);
  if (v.ok()) gd2::api::ValidateVolume(*v).IgnoreError();

  // peers/<id>
  auto p = gd2::api::DecodeJson<gd2::api::Peer>(text);
  (void)p;

  // brickstate/<peer>/<brick>
  volume::BrickStateRecord bs = volume::ParseBrickState(text);
  Check(bs.pid >= 0 && bs.port >= 0);
  return 0;
}
