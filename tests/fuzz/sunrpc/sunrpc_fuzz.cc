// Fuzzes the bytes-in/bytes-out path of a management connection: record marking, RPC call
// headers, argument decoding (XDR, serialized dicts, volfile ids) and dispatch to the DUMP,
// handshake and portmap handlers. The first input byte picks the chunk size the stream is fed in,
// so fragment reassembly across reads is exercised too, and its low bit whether the peer is a
// local process or a remote one.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "sunrpc/dict.h"
#include "sunrpc/portmap.h"
#include "sunrpc/record.h"
#include "sunrpc/rpc_session.h"
#include "sunrpc/volfile_id.h"

namespace {

class FuzzProvider : public gd2::sunrpc::VolfileProvider {
 public:
  gd2::StatusOr<std::string> GetVolfile(std::string_view volfile_id,
                                        const gd2::sunrpc::Dict& xdata) override {
    if (volfile_id.size() % 3 == 0) return gd2::NotFoundError("no such volfile");
    return "volume " + std::string(volfile_id) + "\n    type storage/posix\nend-volume\n" +
           std::to_string(xdata.size());
  }
};

void Check(bool cond) {
  if (!cond) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool configured = [] {
    gd2::log::Configure(gd2::log::Level::kError, gd2::log::Format::kLogfmt, "").IgnoreError();
    return true;
  }();
  (void)configured;
  if (size == 0) return 0;
  size_t chunk = data[0] == 0 ? size : data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  static FuzzProvider provider;
  static gd2::sunrpc::VolfileRegistry* volfiles = [] {
    auto* r = new gd2::sunrpc::VolfileRegistry();
    for (auto kind :
         {gd2::sunrpc::VolfileKind::kClient, gd2::sunrpc::VolfileKind::kBrick,
          gd2::sunrpc::VolfileKind::kSnapshotClient, gd2::sunrpc::VolfileKind::kSnapshotBrick}) {
      Check(r->Add({kind, ""}, provider).ok());
    }
    // One daemon only: ids of the others find no provider (ENOENT).
    Check(r->Add(gd2::sunrpc::VolfileProviderKey::Daemon("shd"), provider).ok());
    return r;
  }();
  gd2::sunrpc::PortMap portmap;
  gd2::sunrpc::SessionLimits limits;
  limits.max_record_size = 4096;
  limits.max_fragments = 16;
  // The chunk size's low bit also picks who the peer is: a remote peer can never sign in.
  auto trust =
      (data[0] & 1) == 0 ? gd2::sunrpc::PeerTrust::kLocalProcess : gd2::sunrpc::PeerTrust::kRemote;
  gd2::sunrpc::RpcSession session(*volfiles, portmap, "fuzz", limits, trust);
  std::string out;
  for (size_t pos = 0; pos < input.size(); pos += chunk) {
    if (!session.Consume(input.substr(pos, chunk), out).ok()) break;
  }
  if (trust == gd2::sunrpc::PeerTrust::kRemote) {
    Check(session.signed_in_bricks().empty() && portmap.Snapshot().empty());
  }
  out += session.MakeFetchspecCall();

  // Whatever came in, what goes out is well-framed.
  gd2::sunrpc::RecordReader reader(1 << 24);
  std::vector<std::string> records;
  Check(reader.Feed(out, records).ok());
  Check(reader.AtRecordBoundary());
  Check(!records.empty());

  // The standalone parsers see the raw bytes too.
  auto dict = gd2::sunrpc::DecodeDict(input);
  if (dict.ok()) {
    auto again = gd2::sunrpc::DecodeDict(gd2::sunrpc::EncodeDict(*dict));
    Check(again.ok() && *again == *dict);
  }
  auto id = gd2::sunrpc::ParseVolfileId(input);
  if (id.ok()) {
    Check(!id->volume.empty() && input.find("..") == std::string_view::npos);
    bool snapshot = id->kind == gd2::sunrpc::VolfileKind::kSnapshotClient ||
                    id->kind == gd2::sunrpc::VolfileKind::kSnapshotBrick;
    Check(snapshot == !id->snapshot.empty());
    Check(gd2::sunrpc::VolfileGroupOf(*id).find("..") == std::string::npos);
  }
  return 0;
}
