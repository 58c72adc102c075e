// The daemon's side of the peer RPC: runs steps for remote initiators, and joins or leaves a
// cluster. Joining and leaving rewrite this peer's identity and store configuration and then
// restart the daemon in place (same pid) so every component starts on the new store.
#pragma once

#include <functional>
#include <string>

#include "peer_rpc/server.h"
#include "plugins/plugin.h"
#include "txn/engine.h"

namespace gd2::daemon {

class PeerHandler : public peer_rpc::Handler {
 public:
  // How this peer's own etcd member would be reached, for joining as a member.
  struct EtcdSelf {
    std::string client_url;
    std::string peer_url;
    // False when this daemon was configured with external etcd endpoints: it never runs a member.
    bool embedded = true;
  };
  // `services` and `steps` must outlive the handler. `restart` asks the daemon to restart
  // itself in place once the reply has been sent (after a join, a leave or BecomeMember).
  PeerHandler(plugins::Services& services, const txn::StepRegistry& steps, EtcdSelf etcd,
              std::function<void()> restart)
      : services_(services), steps_(steps), etcd_(std::move(etcd)), restart_(std::move(restart)) {}

  Status RunStep(const peer_rpc::StepCall& call) override;
  // Accepted only by a peer that is alone in its cluster and has no volumes.
  StatusOr<peer_rpc::JoinResult> Join(const peer_rpc::JoinCall& call) override;
  // Makes this peer a fresh single-node cluster again (new cluster id and secret).
  Status Leave(const peer_rpc::LeaveCall& call) override;
  peer_rpc::PeerIdentity Identity() override;

  // The transaction step txn::kBecomeMemberStep: makes this client peer an etcd member of the
  // cluster (added as a learner, then this daemon restarts, starts its etcd and promotes it).
  // OK at once if it already is one. kFailedPrecondition with external etcd.
  Status BecomeMember(txn::StepContext& ctx);

 private:
  plugins::Services& services_;
  const txn::StepRegistry& steps_;
  EtcdSelf etcd_;
  std::function<void()> restart_;
};

}  // namespace gd2::daemon
