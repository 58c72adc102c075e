#!/usr/bin/env bash
# REST throughput and latency of a real glusterd2 on 127.0.0.1, measured with wrk:
#   GET /ping                 no auth, no store access: the HTTP server's floor
#   GET /v1/peers             JWT check + the peer list (records and liveness) + JSON
#   GET /v1/volumes/benchvol  JWT check + one volume's info + JSON (a one-brick volume created
#                             for the run on a directory of its own)
# Reads are answered from the daemon's local view of the store (store/view.h), not from etcd.
# The daemon runs with an embedded etcd on free loopback ports in a temporary workdir, and is
# stopped (by pid) at exit. Not a test: nothing is asserted about timing. Use a release build
# (cmake --preset release && cmake --build build/release --target glusterd2 gd2_token).
#
#   bench/rest_bench.sh <build-dir> [duration-seconds]
#   env: CONNECTIONS (4), THREADS (2), LOG_LEVEL (info)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build_dir=${1:?usage: $0 <build-dir> [duration-seconds]}
build_dir=$(cd "$build_dir" && pwd)
duration=${2:-10}
connections=${CONNECTIONS:-4}
threads=${THREADS:-2}
log_level=${LOG_LEVEL:-info}
daemon_bin="$build_dir/src/daemon/glusterd2"
token_bin="$build_dir/bench/gd2_token"
for f in "$daemon_bin" "$token_bin"; do
  [[ -x $f ]] || { echo "rest_bench: $f not built (ninja -C $build_dir glusterd2 gd2_token)" >&2; exit 2; }
done
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "rest_bench: $tool is required" >&2; exit 2; }
done

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

workdir=$(mktemp -d /tmp/gd2-rest-bench.XXXXXX)
# Bricks may not lie inside the daemon's workdir.
brickdir=$(mktemp -d /tmp/gd2-rest-bench-bricks.XXXXXX)
daemon_pid=""
cleanup() {
  if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid"
    for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir" "$brickdir"
}
trap cleanup EXIT

port=$(free_port)
base="http://127.0.0.1:$port"
"$daemon_bin" --workdir "$workdir" \
  --client-address "127.0.0.1:$port" --peer-address "127.0.0.1:$(free_port)" \
  --etcd-client-url "https://127.0.0.1:$(free_port)" --etcd-peer-url "https://127.0.0.1:$(free_port)" \
  --log-file "$workdir/glusterd2.log" --log-level "$log_level" \
  >"$workdir/stderr.log" 2>&1 &
daemon_pid=$!

up=""
for _ in $(seq 300); do
  kill -0 "$daemon_pid" 2>/dev/null || break
  if curl -fsS -o /dev/null "$base/ping" 2>/dev/null; then up=1; break; fi
  sleep 0.1
done
if [[ -z $up ]]; then
  echo "rest_bench: glusterd2 did not come up; stderr and log:" >&2
  cat "$workdir/stderr.log" >&2
  tail -n 30 "$workdir/glusterd2.log" >&2 || true
  exit 1
fi

# A token's qsh binds it to one method and path, and the daemon caps its lifetime at 300 s: each
# wrk run uses one token, so a run must end within it.
if (( duration > 240 )); then
  echo "rest_bench: duration-seconds must be at most 240 (one token serves the run)" >&2
  exit 2
fi
token=$("$token_bin" "$workdir/auth" GET /v1/peers 300)
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base/v1/peers")
if [[ $status != 200 ]]; then
  echo "rest_bench: GET /v1/peers with the token answered HTTP $status" >&2
  exit 1
fi

# The volume whose info is read: one brick on this peer, created through the API.
peer_id=$(curl -fsS -H "Authorization: Bearer $token" "$base/v1/peers" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
body=$(printf '{"name":"benchvol","subvols":[{"type":"distribute","bricks":[{"peerid":"%s","path":"%s/b1"}]}],"force":true,"flags":{"create-brick-dir":true}}' \
  "$peer_id" "$brickdir")
create_token=$("$token_bin" "$workdir/auth" POST /v1/volumes 60 "$body")
status=$(curl -s -o "$workdir/create.out" -w '%{http_code}' -X POST -H "Content-Type: application/json" \
  -H "Authorization: Bearer $create_token" --data-binary "$body" "$base/v1/volumes")
if [[ $status != 201 ]]; then
  echo "rest_bench: volume create answered HTTP $status: $(cat "$workdir/create.out")" >&2
  exit 1
fi

summary=()
run_wrk() {
  local label=$1 path=$2
  shift 2
  echo "=== $label: wrk -t$threads -c$connections -d${duration}s --latency $base$path"
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 5s --latency "$@" "$base$path")
  echo "$out"
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  summary+=("$(printf '%-26s %12s %10s %10s %10s' "$label" "$rps" "$p50" "$p99" "${errors:-0}")")
}

run_wrk "GET /ping" /ping
# Each run gets a token of its own, made just before it (see the limit on duration above).
GD2_TOKEN=$("$token_bin" "$workdir/auth" GET /v1/peers 300)
export GD2_TOKEN
run_wrk "GET /v1/peers" /v1/peers -s "$here/auth.lua"
GD2_TOKEN=$("$token_bin" "$workdir/auth" GET /v1/volumes/benchvol 300)
run_wrk "GET /v1/volumes/benchvol" /v1/volumes/benchvol -s "$here/auth.lua"

echo
echo "rest_bench: glusterd2 on 127.0.0.1 (embedded etcd), $threads threads, $connections connections," \
  "${duration}s each, log level $log_level"
printf '%-26s %12s %10s %10s %10s\n' "request" "requests/s" "p50" "p99" "non-2xx"
printf '%s\n' "${summary[@]}"
