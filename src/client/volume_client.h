// Volume calls of the ReST client: create, list, start/stop, status, options and heal info
// (GlusterD2's /v1/volumes routes). Free functions over client::Client, so the transport stays in
// one place; like Client they are not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "api/volume.h"
#include "api/volume_req.h"
#include "client/client.h"
#include "common/status.h"

namespace gd2::client {

// Every function returns the daemon's error as Client::Do maps it (404 -> kNotFound "volume not
// found", 400 -> kInvalidArgument, ...), kUnavailable when the daemon does not answer, and
// kInternal "unexpected response from <path>: ..." when a 2xx body does not decode.

// POST /v1/volumes; returns the created volume.
StatusOr<api::Volume> CreateVolume(Client& c, const api::VolCreateReq& req);
// GET /v1/volumes[?key=&value=]; empty key/value means no filter.
StatusOr<std::vector<api::Volume>> ListVolumes(Client& c, const std::string& key = "",
                                               const std::string& value = "");
// GET /v1/volumes/{name}
StatusOr<api::Volume> GetVolume(Client& c, const std::string& name);
// DELETE /v1/volumes/{name}
Status DeleteVolume(Client& c, const std::string& name);
// POST /v1/volumes/{name}/start; returns the volume after the start.
StatusOr<api::Volume> StartVolume(Client& c, const std::string& name,
                                  const api::VolStartReq& req = {});
// POST /v1/volumes/{name}/stop; returns the volume after the stop.
StatusOr<api::Volume> StopVolume(Client& c, const std::string& name,
                                 const api::VolStopReq& req = {});
// GET /v1/volumes/{name}/status
StatusOr<api::VolumeStatusResp> VolumeStatus(Client& c, const std::string& name);
// GET /v1/volumes/{name}/bricks
StatusOr<std::vector<api::BrickStatus>> VolumeBricks(Client& c, const std::string& name);
// POST /v1/volumes/{name}/options; returns the volume with the new options.
StatusOr<api::Volume> SetOptions(Client& c, const std::string& name, const api::VolOptionReq& req);
// GET /v1/volumes/{name}/options
StatusOr<std::vector<api::OptionInfo>> GetOptions(Client& c, const std::string& name);
// GET /v1/volumes/{name}/options/{option}
StatusOr<api::OptionInfo> GetOption(Client& c, const std::string& name, const std::string& option);
// DELETE /v1/volumes/{name}/options with a VolOptionResetReq body; returns the volume.
StatusOr<api::Volume> ResetOptions(Client& c, const std::string& name,
                                   const api::VolOptionResetReq& req);
// GET /v1/volumes/{name}/heal-info
StatusOr<std::vector<api::BrickHealInfo>> HealInfo(Client& c, const std::string& name);

// Percent-encodes everything but RFC 3986 unreserved characters, so a name can be one path
// segment: "a/b c" -> "a%2Fb%20c".
std::string EscapePathSegment(const std::string& segment);

}  // namespace gd2::client
