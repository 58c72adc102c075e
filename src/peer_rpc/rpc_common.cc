#include "peer_rpc/rpc_common.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "common/files.h"
#include "common/metrics.h"

namespace gd2::peer_rpc::internal {
namespace {

// Deadlines further away than this are "none": it keeps the clock arithmetic from overflowing.
constexpr auto kFarFuture = std::chrono::hours(24 * 365);

std::string_view ShortMethod(std::string_view method) {
  size_t slash = method.rfind('/');
  return slash == std::string_view::npos ? method : method.substr(slash + 1);
}

}  // namespace

std::string SignedBytes(const google::protobuf::Message& request) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  return out;
}

StatusCode CodeFromWire(int32_t code) {
  if (code < 0 || code > static_cast<int32_t>(StatusCode::kUnauthenticated)) {
    return StatusCode::kUnknown;
  }
  return static_cast<StatusCode>(code);
}

grpc::Status ToGrpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), status.message());
}

Status FromGrpc(const grpc::Status& status, std::string_view method, std::string_view address) {
  std::string where =
      "address=" + std::string(address) + " method=" + std::string(ShortMethod(method));
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return InternalError("peer call reported ok as an error: " + where);
    case grpc::StatusCode::UNAVAILABLE:
      return UnavailableError("peer unreachable: " + where + ": " + status.error_message());
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return DeadlineExceededError("peer call timed out: " + where);
    case grpc::StatusCode::CANCELLED:
      return Status(StatusCode::kCancelled,
                    "peer call cancelled (by its caller, or the peer shut down): " + where);
    default:
      break;
  }
  StatusCode code = CodeFromWire(static_cast<int32_t>(status.error_code()));
  return Status(code, "peer call failed: " + where + ": " + status.error_message());
}

std::chrono::system_clock::time_point ToSystemDeadline(Deadline deadline) {
  auto now_steady = std::chrono::steady_clock::now();
  auto now_system = std::chrono::system_clock::now();
  if (deadline > now_steady + kFarFuture) return std::chrono::system_clock::time_point::max();
  return now_system +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline - now_steady);
}

Deadline FromSystemDeadline(std::chrono::system_clock::time_point deadline) {
  auto now_steady = std::chrono::steady_clock::now();
  auto now_system = std::chrono::system_clock::now();
  if (deadline > now_system + kFarFuture) return Deadline::max();
  return now_steady + std::chrono::duration_cast<Deadline::duration>(deadline - now_system);
}

std::string JoinHostPort(std::string_view host, int port) {
  if (host.find(':') != std::string_view::npos) {
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(const TlsOptions& tls) {
  if (tls.ca_file.empty()) {
    if (!tls.cert_file.empty() || !tls.key_file.empty()) {
      return InvalidArgumentError("peer rpc client certificate given without a CA file");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return InvalidArgumentError("peer rpc client TLS needs both cert_file and key_file");
  }
  grpc::SslCredentialsOptions ssl;
  GD2_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFile(tls.ca_file));
  if (!tls.cert_file.empty()) {
    GD2_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadFile(tls.cert_file));
    GD2_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadFile(tls.key_file));
  }
  return grpc::SslCredentials(ssl);
}

StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsOptions& tls) {
  if (tls.cert_file.empty() && tls.key_file.empty()) {
    if (!tls.ca_file.empty()) {
      return InvalidArgumentError("peer rpc server CA file given without cert_file and key_file");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return InvalidArgumentError("peer rpc server TLS needs both cert_file and key_file");
  }
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  GD2_ASSIGN_OR_RETURN(pair.cert_chain, ReadFile(tls.cert_file));
  GD2_ASSIGN_OR_RETURN(pair.private_key, ReadFile(tls.key_file));
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!tls.ca_file.empty()) {
    GD2_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFile(tls.ca_file));
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

void RecordCall(std::string_view side, std::string_view method, const Status& result,
                double seconds) {
  metrics::Registry& reg = metrics::Default();
  std::string m(ShortMethod(method));
  reg.GetHistogram("gd2_peer_rpc_duration_seconds", "Duration of peer RPC calls.",
                   {{"side", std::string(side)}, {"method", m}})
      .Observe(seconds);
  if (!result.ok()) {
    reg.GetCounter("gd2_peer_rpc_errors_total", "Failed peer RPC calls.",
                   {{"side", std::string(side)},
                    {"method", m},
                    {"code", std::string(StatusCodeName(result.code()))}})
        .Inc();
  }
}

}  // namespace gd2::peer_rpc::internal
