// glusterd2: the GlusterFS cluster management daemon.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

#include "common/log.h"
#include "common/subprocess.h"
#include "daemon/config.h"
#include "daemon/daemon.h"

int main(int argc, char** argv) {
  using namespace gd2;  // NOLINT(google-build-using-namespace): main only
  std::string help;
  auto cfg = daemon::LoadConfig(argc, argv, daemon::CurrentEnvironment(), &help);
  if (!cfg.ok()) {
    if (cfg.status().code() == StatusCode::kCancelled) {
      std::fputs(help.c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "glusterd2: %s\n", cfg.status().message().c_str());
    return 2;
  }
  Status ls = log::Configure(*log::ParseLevel(cfg->log_level), *log::ParseFormat(cfg->log_format),
                             cfg->log_file);
  if (!ls.ok()) {
    std::fprintf(stderr, "glusterd2: %s\n", ls.message().c_str());
    return 2;
  }

  // Signals are taken synchronously by this thread; every thread started later inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // A store that cannot be reached for a moment (an etcd member that was just promoted, a
  // peer's etcd restarting) must not end the daemon: a start that fails as unavailable is tried
  // again from the beginning, kStartAttempts times in all, waiting 0.5, 1, 2, 4 s between them.
  // Any other failure (a bad configuration, a damaged identity) ends it at once.
  constexpr int kStartAttempts = 5;
  std::unique_ptr<daemon::Daemon> started;
  auto wait = std::chrono::milliseconds(500);
  for (int attempt = 1;; ++attempt) {
    auto d = std::make_unique<daemon::Daemon>(*cfg);
    Status s = d->Start();
    if (s.ok()) {
      started = std::move(d);
      break;
    }
    d->Stop();
    d.reset();
    if (s.code() != StatusCode::kUnavailable || attempt == kStartAttempts) {
      log::Root().Error("startup failed", {{"error", s}, {"attempts", attempt}});
      std::fprintf(stderr, "glusterd2: startup failed: %s\n", s.message().c_str());
      return 1;
    }
    log::Root().Warn("startup failed; starting again",
                     {{"error", s}, {"attempt", attempt}, {"retry_ms", wait.count()}});
    // The wait ends early, and the daemon with it, on SIGTERM or SIGINT.
    timespec ts{static_cast<time_t>(wait.count() / 1000),
                static_cast<long>((wait.count() % 1000) * 1000000)};
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT) {
      log::Root().Info("shutting down", {{"signal", sig}});
      return 1;
    }
    wait *= 2;
  }
  daemon::Daemon& d = *started;
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      log::Reopen();
      log::Root().Info("log file reopened");
      continue;
    }
    if (sig == SIGUSR1) continue;
    if (sig == SIGUSR2) {
      // Joined or left a cluster: start again in place on the new identity and store.
      log::Root().Info("restarting on the new cluster configuration");
      d.Stop();
      ReapPendingChildren();  // stopped processes the new image would never reap
      sigprocmask(SIG_UNBLOCK, &set, nullptr);
      // Exec the binary by its real path so the process keeps its name (pkill, ps).
      char self[4096] = {0};
      ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
      execv(n > 0 ? self : "/proc/self/exe", argv);
      std::fprintf(stderr, "glusterd2: cannot restart: %s\n", std::strerror(errno));
      return 1;
    }
    log::Root().Info("shutting down", {{"signal", sig}});
    break;
  }
  d.Stop();
  return 0;
}
