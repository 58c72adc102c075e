// Peer queries: a plugin asks another peer about that peer's own state (its bricks' status, their
// heal info; a device's use or a snapshot's brick state next), over the peer RPC's one Query
// call. A query is declared once with its argument and result types, like a typed step:
//
//   struct BrickStatusArgs { std::string volume; };            // with to_json/from_json
//   inline constexpr peer_rpc::QueryId<BrickStatusArgs, std::vector<api::BrickStatus>>
//       kBrickStatus{"volume.brick-status"};
//   registrar.ServeQuery(kBrickStatus, [](const QueryContext& ctx, const BrickStatusArgs& a)
//                                          -> StatusOr<std::vector<api::BrickStatus>> {...});
//   auto statuses = peer_rpc::Ask(client, address, kBrickStatus, {"v1"}, req_id, deadline);
//
// Arguments and results travel as JSON text mapped by nlohmann's to_json/from_json of the
// types. Decoding happens once, in QueryRegistry::Answer on the serving peer and in Ask on the
// asking one; an argument or result that does not decode is kInvalidArgument or kInternal, a
// query function that throws is kInternal naming the query, and the serving peer's own error
// comes back with its code and message.
#pragma once

#include <exception>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "peer_rpc/messages.h"

namespace gd2::peer_rpc {

// Names a query and ties it to its argument and result types.
template <typename Args, typename Result>
struct QueryId {
  std::string_view name;  // "<plugin>.<what>", unique in the daemon
};

// The largest answer a query may give (JSON text); a bigger one is kResourceExhausted on the
// serving peer. Below gRPC's default 4 MiB message limit.
inline constexpr size_t kMaxQueryAnswerBytes = size_t{3} << 20;
inline constexpr size_t kMaxQueryNameBytes = 128;

// What a query function knows about the call it answers.
struct QueryContext {
  std::string req_id;                   // the asking ReST request's id, may be empty
  Deadline deadline = Deadline::max();  // the asker's deadline
};

// The query functions of one daemon, by name. Filled before the peer RPC server starts
// (plugins::Registrar::ServeQuery), read-only afterwards; Answer is thread-safe then.
class QueryRegistry {
 public:
  using RawFunc = std::function<StatusOr<std::string>(const QueryContext&, std::string_view)>;

  // False (and nothing added) if `id.name` is taken or empty or too long.
  template <typename Args, typename Result>
  bool Add(QueryId<Args, Result> id,
           std::function<StatusOr<Result>(const QueryContext&, const Args&)> fn) {
    std::string name(id.name);
    return AddRaw(name,
                  [name, fn = std::move(fn)](const QueryContext& ctx,
                                             std::string_view args_json) -> StatusOr<std::string> {
                    nlohmann::json j = nlohmann::json::parse(args_json, nullptr, false);
                    if (j.is_discarded())
                      return InvalidArgumentError("query " + name + ": arguments are not JSON");
                    Args args;
                    try {
                      args = j.get<Args>();
                    } catch (const std::exception& e) {
                      return InvalidArgumentError("query " + name + ": bad arguments: " + e.what());
                    }
                    GD2_ASSIGN_OR_RETURN(Result result, fn(ctx, args));
                    return nlohmann::json(result).dump(-1, ' ', false,
                                                       nlohmann::json::error_handler_t::replace);
                  });
  }

  // Runs the query `name` on `args_json` and returns its answer as JSON text. kUnimplemented
  // "no query <name> on this peer" for a name nobody registered; a function that throws is
  // kInternal; an answer over kMaxQueryAnswerBytes is kResourceExhausted.
  StatusOr<std::string> Answer(std::string_view name, const QueryContext& ctx,
                               std::string_view args_json) const;

  bool Has(std::string_view name) const { return funcs_.find(name) != funcs_.end(); }

 private:
  bool AddRaw(const std::string& name, RawFunc fn);
  std::map<std::string, RawFunc, std::less<>> funcs_;
};

// Header-only, so that plugins::Registrar needs no link to the peer RPC.
inline bool QueryRegistry::AddRaw(const std::string& name, RawFunc fn) {
  if (name.empty() || name.size() > kMaxQueryNameBytes || funcs_.count(name) != 0) return false;
  funcs_.emplace(name, std::move(fn));
  return true;
}

inline StatusOr<std::string> QueryRegistry::Answer(std::string_view name, const QueryContext& ctx,
                                                   std::string_view args_json) const {
  auto it = funcs_.find(name);
  if (it == funcs_.end()) {
    return UnimplementedError("no query " + std::string(name.substr(0, kMaxQueryNameBytes)) +
                              " on this peer");
  }
  StatusOr<std::string> answer = InternalError("query " + it->first + " gave no answer");
  try {
    answer = it->second(ctx, args_json);
  } catch (const std::exception& e) {
    return InternalError("query " + it->first + " failed: " + e.what());
  } catch (...) {
    return InternalError("query " + it->first + " failed");
  }
  if (answer.ok() && answer->size() > kMaxQueryAnswerBytes) {
    return ResourceExhaustedError("query " + it->first + ": answer of " +
                                  std::to_string(answer->size()) + " bytes is over the limit of " +
                                  std::to_string(kMaxQueryAnswerBytes));
  }
  return answer;
}

class Client;

// The wire call under Ask: asks the peer at `address` the query `name` with JSON arguments and
// returns its JSON answer (see Client::Query).
StatusOr<std::string> AskRaw(Client& client, const std::string& address, std::string_view name,
                             const std::string& args_json, const std::string& req_id,
                             Deadline deadline);

// Asks the peer at `address` the query `id` and decodes its answer. Errors: those of every peer
// call (client.h), the serving peer's own (code and message kept), kUnimplemented when it does
// not serve `id`, kInternal when its answer does not decode as a Result.
template <typename Args, typename Result>
StatusOr<Result> Ask(Client& client, const std::string& address, QueryId<Args, Result> id,
                     const Args& args, const std::string& req_id, Deadline deadline) {
  GD2_ASSIGN_OR_RETURN(std::string text, AskRaw(client, address, id.name,
                                                nlohmann::json(args).dump(), req_id, deadline));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return InternalError("query " + std::string(id.name) + ": the answer is not JSON");
  }
  try {
    return j.get<Result>();
  } catch (const std::exception& e) {
    return InternalError("query " + std::string(id.name) +
                         ": the answer does not decode: " + e.what());
  }
}

}  // namespace gd2::peer_rpc
