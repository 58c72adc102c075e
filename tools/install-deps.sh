#!/usr/bin/env bash
# Installs what glusterd2 needs to build, run and test, from Debian 12's packages only.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config clang clang-format
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libssl-dev libboost-dev libgtest-dev libgmock-dev libbenchmark-dev
  etcd-server etcd-client glusterfs-server glusterfs-client
  xfsprogs attr util-linux openssl wrk python3 procps psmisc iptables
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian glusterfs-server package may start a stock glusterd (systemd hosts); it would own
# port 24007, which glusterd2 serves.
if pgrep -x glusterd >/dev/null 2>&1; then
  echo "note: a stock glusterd is running and holds port 24007; stop it to run glusterd2 on 24007"
fi
