#!/usr/bin/env bash
# Volume lifecycle, glusterd2 vs the stock glusterd, on the same six loop-XFS brick filesystems
# (see bench/volume_lifecycle.cc for what is timed). Builds nothing:
#   ninja -C build/rel glusterd2 volume_lifecycle
#   bench/volume_lifecycle.sh build/rel [iterations] [extra volume_lifecycle flags...]
#   (--three-peers on adds a 3-peer glusterd2 cluster on 127.0.0.41-43, printed next to 1 peer
#   with the CPU one lifecycle cost on each; --settle-ms N pauses between start and stop;
#   GD2_BENCH_KEEP_LOGS=DIR copies every log there before the run's directory is removed;
#   --peer-cpu 666 runs each glusterd2 peer in a cgroup with 0.666 of a core, as on a host of
#   its own, the 1-peer run included)
# Needs root, mkfs.xfs, losetup, and glusterfs-server (glusterd, gluster, mount.glusterfs). Port
# 24007 must be free on 127.0.0.1 and on the glusterd2 address (127.0.0.41; also .42 and .43 with
# --three-peers on): the daemons use it one after the other. Everything made here lives under one
# /tmp/gd2vbench.* directory and is
# removed at exit: processes whose command line names it are killed, the mounts unmounted, the
# loop devices detached, and the brick/self-heal logs glusterd writes to /var/log/glusterfs and
# the sockets it leaves in /var/run/gluster deleted if they were not there before.
set -euo pipefail

build_dir=$(cd "${1:?usage: $0 <build-dir> [iterations] [volume_lifecycle flags...]}" && pwd)
iterations=${2:-5}
shift $(($# >= 2 ? 2 : 1))

[ "$(id -u)" -eq 0 ] || { echo "volume_lifecycle: needs root (loop devices, mounts)"; exit 2; }
for tool in mkfs.xfs losetup glusterd gluster mount.glusterfs; do
  command -v "$tool" >/dev/null || { echo "volume_lifecycle: $tool not found"; exit 2; }
done
bin="$build_dir/bench/volume_lifecycle"
gd2="$build_dir/src/daemon/glusterd2"
[ -x "$bin" ] && [ -x "$gd2" ] || { echo "volume_lifecycle: build glusterd2 and volume_lifecycle in $build_dir first"; exit 2; }

base=$(mktemp -d /tmp/gd2vbench.XXXXXX)
devices=()
before=$(mktemp /tmp/gd2vbench-before.XXXXXX)
find /var/log/glusterfs /var/run/gluster -mindepth 1 2>/dev/null | sort >"$before" || true

# Kills, by pid, every process whose command line names $base (bricks, self-heal daemons,
# mount clients, etcd the daemons may have left).
kill_ours() {
  local p cmd
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    cmd=$( { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
    if [[ $cmd == *"$base"* ]]; then
      kill -9 "${p#/proc/}" 2>/dev/null || true
    fi
  done
}

cleanup() {
  set +e
  kill_ours
  # GD2_BENCH_KEEP_LOGS=DIR keeps every log (daemons, etcd, bricks, self-heal daemons; for a
  # look at step timings) before the directory goes.
  if [ -n "${GD2_BENCH_KEEP_LOGS:-}" ]; then
    mkdir -p "$GD2_BENCH_KEEP_LOGS"
    (cd "$base" && find . -name '*.log' -print0 | xargs -0 -r cp --parents -t "$GD2_BENCH_KEEP_LOGS")
  fi
  sleep 0.2
  # The CPU groups of --peer-cpu, once the processes in them are gone.
  local g
  for g in /sys/fs/cgroup/cpu/"$(basename "$base")"-* /sys/fs/cgroup/"$(basename "$base")"-*; do
    [ -d "$g" ] || continue
    for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$g" 2>/dev/null && break; sleep 0.2; done
  done
  for m in $(awk -v b="$base" 'index($2, b) == 1 {print $2}' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  for d in "${devices[@]}"; do losetup -d "$d"; done
  rm -rf "$base"
  # What glusterd wrote outside its private directories: new files only.
  find /var/log/glusterfs /var/run/gluster -mindepth 1 2>/dev/null | sort |
    comm -13 "$before" - | sort -r | while read -r f; do
      case "$f" in
        /var/log/glusterfs/bricks|/var/log/glusterfs/bricks/*gd2vbench*|\
        /var/log/glusterfs/glustershd.log|/var/log/glusterfs/cmd_history.log|\
        /var/log/glusterfs/cli.log|/var/log/glusterfs/gfproxy|/var/log/glusterfs/snaps|\
        /var/log/glusterfs/geo-replication*|/var/run/gluster/*.socket|/var/run/gluster/snaps|\
        /var/run/gluster/shd|/var/run/gluster/shd/*|/var/run/gluster/vols|/var/run/gluster/vols/*)
          rm -rf "$f" ;;
      esac
    done
  rm -f "$before"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bricks=()
for i in 1 2 3 4 5 6; do
  truncate -s 512M "$base/img$i"
  dev=$(losetup -f --show "$base/img$i")
  devices+=("$dev")
  mkfs.xfs -q -i size=512 "$dev"
  mkdir -p "$base/b$i"
  mount -t xfs "$dev" "$base/b$i"
  bricks+=("$base/b$i")
done

echo "bricks: 6 loop XFS filesystems (${devices[*]}) under $base"
echo "glusterd: $(glusterd --version | head -1)"
timeout --kill-after=10 1800 "$bin" \
  --bricks "$(IFS=,; echo "${bricks[*]}")" \
  --workdir "$base" \
  --glusterd2 "$gd2" \
  --iterations "$iterations" "$@"
