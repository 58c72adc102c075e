#include "plugins/volume/options.h"

#include <climits>
#include <string>
#include <utility>

namespace gd2::plugins::volume {
namespace {

using volgen::BoolSpelling;
using volgen::kBrickGraph;
using volgen::kClientGraph;
using volgen::kNoGraph;
using volgen::kShdGraph;
using volgen::OptionBuilder;
using volgen::OptionDef;
using volgen::OptionLevel;
using volgen::OptionType;

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;
constexpr int64_t kGiB = 1024 * kMiB;
constexpr int64_t kTiB = 1024 * kGiB;

OptionBuilder Toggle(std::string key, std::string xlator, bool on) {
  return OptionBuilder(std::move(key), OptionType::kBool, on ? "on" : "off", kClientGraph,
                       {{std::move(xlator), ""}});
}

const std::vector<std::string> kLogLevels = {"DEBUG",    "WARNING", "ERROR", "INFO",
                                             "CRITICAL", "NONE",    "TRACE"};

}  // namespace

std::vector<volgen::OptionDef> VolumeOptionDefs() {
  using T = OptionType;
  using L = OptionLevel;
  constexpr unsigned kClientShd = kClientGraph | kShdGraph;
  std::vector<OptionDef> t = {
      // Client xlators switched on and off; they stack in this order above DHT.
      Toggle("performance.write-behind", "performance/write-behind", true)
          .Desc("enable/disable the write-behind translator"),
      Toggle("performance.read-ahead", "performance/read-ahead", false)
          .Desc("enable/disable the read-ahead translator"),
      Toggle("performance.readdir-ahead", "performance/readdir-ahead", false)
          .Desc("enable/disable the readdir-ahead translator"),
      Toggle("performance.io-cache", "performance/io-cache", false)
          .Desc("enable/disable the io-cache translator"),
      Toggle("performance.open-behind", "performance/open-behind", true)
          .Desc("enable/disable the open-behind translator"),
      Toggle("performance.quick-read", "performance/quick-read", true)
          .Desc("enable/disable the quick-read translator"),
      Toggle("performance.nl-cache", "performance/nl-cache", false)
          .Level(L::kAdvanced)
          .Desc("enable/disable the negative-lookup cache translator"),
      Toggle("performance.stat-prefetch", "performance/md-cache", true)
          .Desc("enable/disable the metadata cache (md-cache) translator"),
      Toggle("performance.client-io-threads", "performance/io-threads", true)
          .Desc("enable/disable the io-threads translator in the client graph"),
      Toggle("features.shard", "features/shard", false)
          .Desc("enable/disable sharding of large files"),
      Toggle("features.ctime", "features/utime", true)
          .Level(L::kAdvanced)
          .Desc("enable/disable consistent time attributes (features/utime)"),

      // Client performance options.
      OptionBuilder(
          "performance.cache-size", T::kSize, "32MB", kClientGraph,
          {{"performance/io-cache", "cache-size"}, {"performance/quick-read", "cache-size"}})
          .Range(0, 32 * kGiB)
          .Desc("size of the io-cache and quick-read caches"),
      OptionBuilder("performance.write-behind-window-size", T::kSize, "1MB", kClientGraph,
                    {{"performance/write-behind", "cache-size"}})
          .Range(512 * kKiB, kGiB)
          .Desc("per-file write-behind buffer"),
      OptionBuilder("performance.flush-behind", T::kBool, "on", kClientGraph,
                    {{"performance/write-behind", "flush-behind"}})
          .Desc("let flush return before the writes behind it are done"),
      OptionBuilder("performance.io-thread-count", T::kInt, "16", kBrickGraph | kClientGraph,
                    {{"performance/io-threads", "thread-count"}})
          .Range(1, 64)
          .Desc("maximum number of io-threads"),
      OptionBuilder("performance.md-cache-timeout", T::kInt, "1", kClientGraph,
                    {{"performance/md-cache", "md-cache-timeout"}})
          .Range(0, 600)
          .Desc("seconds metadata stays cached"),
      OptionBuilder("performance.cache-invalidation", T::kBool, "off", kClientGraph,
                    {{"performance/md-cache", "cache-invalidation"}})
          .Desc("md-cache honours upcall invalidations"),

      // Protocol and network.
      OptionBuilder("network.ping-timeout", T::kTime, "42", kClientShd,
                    {{"protocol/client", "ping-timeout"}})
          .Range(0, 1013)
          .Desc("seconds before an unresponsive brick is declared down"),
      OptionBuilder("network.frame-timeout", T::kTime, "1800", kClientShd,
                    {{"protocol/client", "frame-timeout"}})
          .Range(5, 86400)
          .Level(L::kAdvanced)
          .Desc("seconds before an unanswered call is failed"),
      OptionBuilder("client.strict-locks", T::kBool, "off", kClientShd,
                    {{"protocol/client", "strict-locks"}})
          .Level(L::kAdvanced)
          .Desc("do not reopen fds with posix locks after a reconnect"),
      OptionBuilder("client.event-threads", T::kInt, "2", kClientShd,
                    {{"protocol/client", "event-threads"}})
          .Range(1, 32)
          .Desc("epoll threads in client processes"),
      OptionBuilder("server.event-threads", T::kInt, "2", kBrickGraph,
                    {{"protocol/server", "event-threads"}})
          .Range(1, 32)
          .Desc("epoll threads in brick processes"),
      OptionBuilder("transport.address-family", T::kEnum, "inet", kBrickGraph | kClientShd,
                    {{"protocol/server", "transport.address-family"},
                     {"protocol/client", "transport.address-family"}})
          .Values({"inet", "inet6"})
          .NeedsRestart()
          .Level(L::kAdvanced)
          .Desc("address family bricks listen on and clients connect with"),
      OptionBuilder("auth.allow", T::kAddressList, "*", kBrickGraph,
                    {{"protocol/server", "auth.addr.{brick}.allow"}})
          .Desc("comma-separated addresses (with * wildcards) allowed to connect to bricks"),
      OptionBuilder("auth.reject", T::kAddressList, "", kBrickGraph,
                    {{"protocol/server", "auth.addr.{brick}.reject"}})
          .Desc("comma-separated addresses (with * wildcards) refused by bricks"),

      // Replicate (AFR).
      OptionBuilder("cluster.quorum-type", T::kEnum, "none", kClientShd,
                    {{"cluster/replicate", "quorum-type"}})
          .Values({"none", "auto", "fixed"})
          .Desc("client quorum: none, auto (majority) or fixed (quorum-count)"),
      OptionBuilder("cluster.quorum-count", T::kInt, "", kClientShd,
                    {{"cluster/replicate", "quorum-count"}})
          .Range(1, 1024)
          .Desc("bricks that must be up for writes when quorum-type is fixed"),
      OptionBuilder("cluster.self-heal-daemon", T::kBool, "enable", kShdGraph,
                    {{"cluster/replicate", "self-heal-daemon"}})
          .Spelling(BoolSpelling::kEnableDisable)
          .Level(L::kAdvanced)
          .Desc("run the self-heal daemon for replicate subvolumes"),
      OptionBuilder("cluster.disperse-self-heal-daemon", T::kBool, "enable", kShdGraph,
                    {{"cluster/disperse", "self-heal-daemon"}})
          .Spelling(BoolSpelling::kEnableDisable)
          .Level(L::kAdvanced)
          .Desc("run the self-heal daemon for disperse subvolumes"),
      OptionBuilder("cluster.heal-timeout", T::kTime, "600", kShdGraph,
                    {{"cluster/replicate", "heal-timeout"}, {"cluster/disperse", "heal-timeout"}})
          .Range(5, INT_MAX)
          .Desc("seconds between index heal crawls of the self-heal daemon"),
      OptionBuilder("cluster.eager-lock", T::kBool, "on", kClientShd,
                    {{"cluster/replicate", "eager-lock"}})
          .Desc("keep the replicate transaction lock across consecutive writes"),
      OptionBuilder("cluster.data-self-heal", T::kBool, "off", kClientGraph,
                    {{"cluster/replicate", "data-self-heal"}})
          .Desc("clients heal file data on access"),
      OptionBuilder("cluster.metadata-self-heal", T::kBool, "off", kClientGraph,
                    {{"cluster/replicate", "metadata-self-heal"}})
          .Desc("clients heal metadata on access"),
      OptionBuilder("cluster.entry-self-heal", T::kBool, "off", kClientGraph,
                    {{"cluster/replicate", "entry-self-heal"}})
          .Desc("clients heal directory entries on access"),
      OptionBuilder("cluster.granular-entry-heal", T::kBool, "off", kClientShd,
                    {{"cluster/replicate", "granular-entry-heal"}})
          .Desc("track and heal directory entries individually"),
      OptionBuilder("cluster.favorite-child-policy", T::kEnum, "none", kClientShd,
                    {{"cluster/replicate", "favorite-child-policy"}})
          .Values({"none", "size", "ctime", "mtime", "majority"})
          .Desc("resolve split-brain automatically with this policy"),
      OptionBuilder("cluster.shd-max-threads", T::kInt, "1", kClientShd,
                    {{"cluster/replicate", "shd-max-threads"}})
          .Range(1, 64)
          .Desc("parallel heals per brick in the self-heal daemon"),
      OptionBuilder("cluster.choose-local", T::kBool, "true", kClientGraph,
                    {{"cluster/replicate", "choose-local"}})
          .Spelling(BoolSpelling::kTrueFalse)
          .Level(L::kAdvanced)
          .Desc("prefer a local brick for reads"),
      OptionBuilder("cluster.use-anonymous-inode", T::kBool, "yes", kClientShd,
                    {{"cluster/replicate", "use-anonymous-inode"}})
          .Spelling(BoolSpelling::kYesNo)
          .Level(L::kAdvanced)
          .Desc("heal renames and deletes through an anonymous inode"),
      OptionBuilder("cluster.use-compound-fops", T::kBool, "off", kClientShd,
                    {{"cluster/replicate", "use-compound-fops"}})
          .Level(L::kDeprecated)
          .Desc("no effect since GlusterFS 6"),

      // Disperse (EC).
      OptionBuilder("disperse.eager-lock", T::kBool, "on", kClientShd,
                    {{"cluster/disperse", "eager-lock"}})
          .Desc("keep the disperse transaction lock across consecutive writes"),
      OptionBuilder("disperse.shd-max-threads", T::kInt, "1", kClientShd,
                    {{"cluster/disperse", "shd-max-threads"}})
          .Range(1, 64)
          .Desc("parallel heals per brick in the self-heal daemon"),

      // Distribute (DHT).
      OptionBuilder("cluster.lookup-optimize", T::kBool, "on", kClientGraph,
                    {{"cluster/distribute", "lookup-optimize"}})
          .Desc("skip lookups on all subvolumes when the layout is complete"),
      OptionBuilder("cluster.min-free-disk", T::kPercent, "10%", kClientGraph,
                    {{"cluster/distribute", "min-free-disk"}})
          .Range(0, 100)
          .Desc("avoid placing new files on bricks with less free space than this"),
      OptionBuilder("cluster.lock-migration", T::kBool, "off", kClientGraph,
                    {{"cluster/distribute", "lock-migration"}})
          .Level(L::kExperimental)
          .Desc("migrate posix locks with files during rebalance"),
      OptionBuilder("cluster.force-migration", T::kBool, "off", kClientGraph,
                    {{"cluster/distribute", "force-migration"}})
          .Level(L::kAdvanced)
          .Desc("migrate files that are open for writing during rebalance"),

      // Features.
      OptionBuilder("features.shard-block-size", T::kSize, "64MB", kClientGraph,
                    {{"features/shard", "shard-block-size"}})
          .Range(4 * kMiB, 4 * kTiB)
          .Desc("size of each shard of a file"),
      OptionBuilder("features.barrier", T::kBool, "disable", kBrickGraph,
                    {{"features/barrier", "barrier"}})
          .Spelling(BoolSpelling::kEnableDisable)
          .Level(L::kAdvanced)
          .Desc("hold modifying fops on bricks (used around snapshots)"),
      OptionBuilder("features.cache-invalidation", T::kBool, "off", kBrickGraph,
                    {{"features/upcall", "cache-invalidation"}})
          .Desc("bricks send cache invalidations to clients"),
      OptionBuilder("features.read-only", T::kBool, "off", kBrickGraph,
                    {{"features/read-only", "read-only"}})
          .Desc("make the volume read-only"),
      OptionBuilder("features.worm", T::kBool, "off", kBrickGraph, {{"features/worm", "worm"}})
          .Desc("write once read many for the whole volume"),
      OptionBuilder("features.selinux", T::kBool, "on", kBrickGraph,
                    {{"features/selinux", "selinux"}})
          .Level(L::kAdvanced)
          .Desc("store SELinux labels on bricks"),
      OptionBuilder("features.leases", T::kBool, "off", kBrickGraph,
                    {{"features/leases", "leases"}})
          .Level(L::kAdvanced)
          .Desc("enable lease support on bricks"),

      // Diagnostics.
      OptionBuilder("diagnostics.brick-log-level", T::kEnum, "INFO", kBrickGraph,
                    {{"debug/io-stats", "log-level"}})
          .Values(kLogLevels)
          .Desc("log level of brick processes"),
      OptionBuilder("diagnostics.client-log-level", T::kEnum, "INFO", kClientShd,
                    {{"debug/io-stats", "log-level"}})
          .Values(kLogLevels)
          .Desc("log level of clients and the self-heal daemon"),
      OptionBuilder("diagnostics.latency-measurement", T::kBool, "off", kBrickGraph | kClientGraph,
                    {{"debug/io-stats", "latency-measurement"}})
          .Desc("measure per-fop latency (volume profile)"),
      OptionBuilder("diagnostics.count-fop-hits", T::kBool, "off", kBrickGraph | kClientGraph,
                    {{"debug/io-stats", "count-fop-hits"}})
          .Desc("count fops (volume profile)"),

      // Storage.
      OptionBuilder("storage.fips-mode-rchecksum", T::kBool, "on", kBrickGraph,
                    {{"storage/posix", "fips-mode-rchecksum"}})
          .NeedsRestart()
          .Level(L::kAdvanced)
          .Desc("use SHA-256 instead of MD5 for rchecksum"),
      OptionBuilder("storage.health-check-interval", T::kTime, "30", kBrickGraph,
                    {{"storage/posix", "health-check-interval"}})
          .Range(0, INT_MAX)
          .Desc("seconds between brick filesystem health checks (0 disables)"),
      OptionBuilder("nfs.disable", T::kBool, "on", kNoGraph, {})
          .Level(L::kDeprecated)
          .Desc("Gluster NFS is not provided; accepted and stored for compatibility"),
  };
  return t;
}

}  // namespace gd2::plugins::volume
