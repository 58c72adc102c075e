// Fuzzes the decoding of REST request bodies: the same bytes are decoded as every request type
// (api::DecodeJson<T>) and as a stored volume record (api::ParseVolume). Decoding must only ever
// return a Status; whatever decodes must survive a round trip through its own JSON unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/json.h"
#include "api/peer.h"
#include "api/volume.h"
#include "api/volume_req.h"

namespace {

using gd2::StatusCode;

void Check(bool cond) {
  if (!cond) std::abort();
}

// Decodes `body` as T. An error must be kInvalidArgument; a success must re-encode to JSON that
// decodes again to the same JSON (to_json and from_json agree on every field).
template <typename T>
void DecodeAndRoundTrip(std::string_view body) {
  gd2::StatusOr<T> decoded = gd2::api::DecodeJson<T>(body);
  if (!decoded.ok()) {
    Check(decoded.status().code() == StatusCode::kInvalidArgument);
    Check(!decoded.status().message().empty());
    return;
  }
  nlohmann::json first = *decoded;
  std::string text = first.dump();
  gd2::StatusOr<T> again = gd2::api::DecodeJson<T>(text);
  Check(again.ok());
  nlohmann::json second = *again;
  Check(first == second);
}

void ParseVolumeAndRoundTrip(std::string_view text) {
  gd2::StatusOr<gd2::api::Volume> v = gd2::api::ParseVolume(text);
  if (!v.ok()) {
    Check(v.status().code() == StatusCode::kInvalidArgument);
    return;
  }
  // Validation is a pure function of any decoded volume; it must not crash either.
  gd2::api::ValidateVolume(*v).IgnoreError();
  for (auto view : {gd2::api::JsonView::kStore, gd2::api::JsonView::kPublic}) {
    std::string stored = gd2::api::SerializeVolume(*v, view);
    gd2::StatusOr<gd2::api::Volume> again = gd2::api::ParseVolume(stored);
    Check(again.ok());
    if (view == gd2::api::JsonView::kStore) Check(*again == *v);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  DecodeAndRoundTrip<gd2::api::PeerAddReq>(body);
  DecodeAndRoundTrip<gd2::api::PeerEditReq>(body);
  DecodeAndRoundTrip<gd2::api::VolCreateReq>(body);
  DecodeAndRoundTrip<gd2::api::VolOptionReq>(body);
  DecodeAndRoundTrip<gd2::api::VolOptionResetReq>(body);
  DecodeAndRoundTrip<gd2::api::VolStartReq>(body);
  DecodeAndRoundTrip<gd2::api::VolStopReq>(body);
  ParseVolumeAndRoundTrip(body);
  return 0;
}
