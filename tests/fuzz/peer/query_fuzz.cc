// Fuzzes the peer RPC's Query answering (peer_rpc::QueryRegistry::Answer): the first byte picks a
// query name (two registered, one not), the rest is its arguments as JSON text, decoded as the
// answers the volume plugin's queries give (brick statuses, heal info). Answering must only ever
// return a Status of the documented codes, and an answer must decode again as its result type,
// as the asking peer's peer_rpc::Ask does.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/volume_req.h"
#include "peer_rpc/query.h"

namespace {

using gd2::StatusCode;
using gd2::StatusOr;
using gd2::peer_rpc::QueryContext;
using gd2::peer_rpc::QueryId;
using gd2::peer_rpc::QueryRegistry;

using Statuses = std::vector<gd2::api::BrickStatus>;
using Heals = std::vector<gd2::api::BrickHealInfo>;
constexpr QueryId<Statuses, Statuses> kStatuses{"fuzz.brick-status"};
constexpr QueryId<Heals, Heals> kHeals{"fuzz.heal-info"};

void Check(bool cond) {
  if (!cond) std::abort();
}

const QueryRegistry& Registry() {
  static const QueryRegistry* registry = [] {
    auto* r = new QueryRegistry;
    Check(r->Add<Statuses, Statuses>(
        kStatuses, [](const QueryContext&, const Statuses& s) -> StatusOr<Statuses> { return s; }));
    Check(r->Add<Heals, Heals>(
        kHeals, [](const QueryContext&, const Heals& h) -> StatusOr<Heals> { return h; }));
    return r;
  }();
  return *registry;
}

template <typename Result>
void CheckAnswer(const StatusOr<std::string>& answer) {
  if (!answer.ok()) {
    StatusCode c = answer.status().code();
    Check(c == StatusCode::kInvalidArgument || c == StatusCode::kResourceExhausted);
    return;
  }
  nlohmann::json j = nlohmann::json::parse(*answer, nullptr, false);
  Check(!j.is_discarded());
  try {
    (void)j.get<Result>();
  } catch (const std::exception&) {
    std::abort();  // an answer this side made must decode on the asking side
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view args(reinterpret_cast<const char*>(data) + 1, size - 1);
  QueryContext ctx;
  switch (data[0] % 3) {
    case 0:
      CheckAnswer<Statuses>(Registry().Answer(kStatuses.name, ctx, args));
      break;
    case 1:
      CheckAnswer<Heals>(Registry().Answer(kHeals.name, ctx, args));
      break;
    default: {
      std::string_view name = args.substr(0, 200);
      if (Registry().Has(name)) break;
      StatusOr<std::string> none = Registry().Answer(name, ctx, "{}");
      Check(!none.ok() && none.status().code() == StatusCode::kUnimplemented);
      break;
    }
  }
  return 0;
}
