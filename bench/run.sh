#!/usr/bin/env bash
# Runs every benchmark against a build and prints one report. Build first, e.g.:
#   cmake -S . -B build/rel -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGD2_FAILPOINTS=OFF
#   ninja -C build/rel glusterd2 gd2_token store_bench
#   bench/run.sh build/rel [rest-duration-seconds] [store-ops]
# Everything runs on loopback (127.0.0.1; scale_peers also uses 127.0.0.2 and 127.0.0.3) and
# every process started is stopped at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build_dir=${1:?usage: $0 <build-dir> [rest-duration-seconds] [store-ops]}
duration=${2:-10}
ops=${3:-2000}

echo "##### glusterd2 benchmarks: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cpus, $(uname -r)"
echo "##### build: $build_dir ($(grep -m1 '^CMAKE_BUILD_TYPE:' "$build_dir/CMakeCache.txt" | cut -d= -f2))"
echo "##### etcd: $(etcd --version | head -1)"
echo
echo "##### 1. REST API (bench/rest_bench.sh)"
"$here/rest_bench.sh" "$build_dir" "$duration"
echo
echo "##### 2. store client vs etcd (store_bench)"
"$build_dir/bench/store_bench" --ops "$ops"
echo
echo "##### 3. volume lifecycle, glusterd2 vs stock glusterd (bench/volume_lifecycle.sh; root only)"
if [ "$(id -u)" -eq 0 ]; then
  "$here/volume_lifecycle.sh" "$build_dir" "${GD2_BENCH_VOLUME_ITERATIONS:-5}"
else
  echo "skipped: needs root (loop devices, mounts, glusterd)"
fi
echo
echo "##### 4. cluster size: 3, 100, 1000 peers (bench/scale_peers.sh; needs glusterd2 + scale_peers)"
"$here/scale_peers.sh" "$build_dir"
