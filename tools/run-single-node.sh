#!/usr/bin/env bash
# Installs dependencies, builds glusterd2 and glustercli, and runs a single-node cluster in the
# foreground with its embedded etcd. State goes to ${GD2_WORKDIR:-/var/lib/glusterd2}.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "run as root (bricks need trusted.* xattrs and FUSE)"; exit 2; }
tools/install-deps.sh
cmake --preset release >/dev/null
cmake --build build/release -j"$(nproc)" --target glusterd2 glustercli
install -m 0755 build/release/src/daemon/glusterd2 /usr/local/sbin/glusterd2
install -m 0755 build/release/src/cli/glustercli /usr/local/bin/glustercli
workdir=${GD2_WORKDIR:-/var/lib/glusterd2}
cat <<MSG

glusterd2 is starting in the foreground (Ctrl-C stops it and its embedded etcd).
In another shell, as root:
  glustercli peer status
  glustercli volume create vol1 127.0.0.1:/bricks/b1 127.0.0.1:/bricks/b2 127.0.0.1:/bricks/b3 \\
      --replica 3 --force --create-brick-dir
  glustercli volume start vol1
  mount -t glusterfs 127.0.0.1:/vol1 /mnt
glustercli reads the auth secret from ${workdir}/auth (use --secret-file elsewhere).

MSG
exec /usr/local/sbin/glusterd2 --workdir "$workdir" --client-address 127.0.0.1:24007 "$@"
