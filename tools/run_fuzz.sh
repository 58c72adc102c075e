#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a while, each on a scratch copy of its seed
# corpus (the corpus in the repo is never written to). Builds nothing.
#
#   tools/run_fuzz.sh <fuzz-build-dir> [seconds-per-target] [name-filter-regex]
#
# The targets and their corpus directories are read from the build's ctest registry (label
# "fuzz"; see gd2_fuzz_test in cmake/Gd2.cmake). A "<target>.dict" file next to the corpus
# directory is passed with -dict. Crash, leak and timeout reproducers are written, with the
# log, to <fuzz-build-dir>/fuzz-artifacts/<target>/<timestamp>/. Exits 1 if any target failed,
# 2 on usage errors.
set -euo pipefail

usage() {
  echo "usage: $0 <fuzz-build-dir> [seconds-per-target] [name-filter-regex]" >&2
  exit 2
}

[[ $# -ge 1 && $# -le 3 ]] || usage
build_dir=$(cd "$1" && pwd) || usage
seconds=${2:-60}
filter=${3:-.}
[[ $seconds =~ ^[0-9]+$ ]] || usage
command -v jq >/dev/null || { echo "run_fuzz: jq is required" >&2; exit 2; }

if ! grep -q '^GD2_FUZZ:BOOL=ON' "$build_dir/CMakeCache.txt" 2>/dev/null; then
  echo "run_fuzz: $build_dir is not a GD2_FUZZ=ON build (configure with the fuzz preset)" >&2
  exit 2
fi

# One line per fuzz test: "<name> <binary> <corpus dir>". The corpus is the test command's last
# argument (a libFuzzer test is "<binary> -runs=0 <corpus>", a replay test "<binary> <corpus>").
targets=$(cd "$build_dir" && ctest --show-only=json-v1 -L '^fuzz$' |
  jq -r '.tests[] | select(.command != null) |
         "\(.name) \(.command[0]) \(if (.command | length) > 1 then .command[-1] else "" end)"')
if [[ -z $targets ]]; then
  echo "run_fuzz: no fuzz targets registered in $build_dir" >&2
  exit 2
fi

scratch=$(mktemp -d /tmp/gd2-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

failed=()
ran=0
stamp=$(date +%Y%m%d-%H%M%S)
while read -r name binary corpus; do
  [[ $name =~ $filter ]] || continue
  if [[ ! -x $binary ]]; then
    echo "run_fuzz: $name: $binary not built, skipped" >&2
    failed+=("$name(not built)")
    continue
  fi
  work="$scratch/$name"
  artifacts="$build_dir/fuzz-artifacts/$name/$stamp"
  mkdir -p "$work/corpus" "$artifacts"
  if [[ -n $corpus && -d $corpus ]]; then
    cp -R "$corpus/." "$work/corpus/"
  fi
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  dict="${corpus%/}"
  dict="${dict%/*}/$name.dict"
  [[ -f $dict ]] && args+=(-dict="$dict")
  echo "=== $name: ${seconds}s, seeds=$(find "$work/corpus" -type f | wc -l) log=$artifacts/fuzz.log"
  ran=$((ran + 1))
  if "$binary" "${args[@]}" "$work/corpus" </dev/null >"$artifacts/fuzz.log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)|^Done ' \
      "$artifacts/fuzz.log" || true
    echo "    $(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$artifacts/fuzz.log" | tail -1)," \
      "corpus grew to $(find "$work/corpus" -type f | wc -l) inputs"
  else
    echo "!!! $name FAILED; last lines of $artifacts/fuzz.log:"
    tail -n 40 "$artifacts/fuzz.log" | sed 's/^/    /'
    for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
      [[ -e $f ]] && echo "    artifact: $f"
    done
    failed+=("$name")
  fi
done <<<"$targets"

if [[ $ran -eq 0 ]]; then
  echo "run_fuzz: no target matched '$filter'" >&2
  exit 2
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "run_fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "run_fuzz: all $ran targets ran ${seconds}s without a crash"
