#!/usr/bin/env bash
# Cluster-size benchmark: one etcd, three real glusterd2 daemons in one cluster (same etcd,
# cluster id and auth secret) and N-3 simulated peers (their leases, alive keys and records, kept
# alive like the daemon's session does) for N = 3, 100, 1000; the volume create/delete measured
# is a replica 3 volume with one brick on each real daemon. See bench/scale_peers.cc for what is
# measured. Builds nothing:
#   ninja -C build/rel glusterd2 scale_peers
#   bench/scale_peers.sh build/rel [extra scale_peers flags, e.g. --sizes 3,100 --gets 50]
# The daemons run on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (etcd on the first; --hosts A,B,C to
# change) on free ports, under one /tmp/gd2-scale.* directory (workdirs, etcd data, brick
# directories), removed at exit; scale_peers stops the etcd and the glusterd2 daemons it started
# (by pid; they also get SIGKILL if it dies). The whole run is bounded by `timeout`
# (SCALE_TIMEOUT seconds, default 280).
set -euo pipefail

build_dir=$(cd "${1:?usage: $0 <build-dir> [scale_peers flags...]}" && pwd)
shift
bin="$build_dir/bench/scale_peers"
gd2="$build_dir/src/daemon/glusterd2"
for f in "$bin" "$gd2"; do
  [[ -x $f ]] || { echo "scale_peers: $f not built (ninja -C $build_dir glusterd2 scale_peers)" >&2; exit 2; }
done
command -v etcd >/dev/null || { echo "scale_peers: etcd is required" >&2; exit 2; }

workdir=$(mktemp -d /tmp/gd2-scale.XXXXXX)
cleanup() { rm -rf "$workdir"; }
trap cleanup EXIT

timeout --kill-after=10 "${SCALE_TIMEOUT:-280}" "$bin" --glusterd2 "$gd2" --workdir "$workdir" "$@"
