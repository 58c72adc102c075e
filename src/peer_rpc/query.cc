#include "peer_rpc/query.h"

#include "peer_rpc/client.h"

namespace gd2::peer_rpc {

StatusOr<std::string> AskRaw(Client& client, const std::string& address, std::string_view name,
                             const std::string& args_json, const std::string& req_id,
                             Deadline deadline) {
  QueryCall call;
  call.name = std::string(name);
  call.args_json = args_json;
  call.req_id = req_id;
  return client.Query(address, call, deadline);
}

}  // namespace gd2::peer_rpc
