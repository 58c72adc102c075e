#!/usr/bin/env bash
# Installs dependencies, checks the formatting of the changed lines (tools/check-format.sh;
# GD2_FORMAT_BASE picks the base, default the previous commit), builds and runs every test: the
# debug build (unit, integration and fuzz-corpus tests), the ASan+UBSan build (clang, so also
# the -Wthread-safety lock annotations; the same tests, sanitized), and each libFuzzer target for
# a bounded time. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "run as root: integration tests use loop devices, mounts and FUSE"; exit 2; }
tools/install-deps.sh
jobs=$(nproc)
# ccache, when the machine has it, makes a second run of this script (or another checkout of the
# same sources) rebuild only what changed; CI starts bare and builds everything either way.
if command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
fi
fuzz_seconds=${GD2_FUZZ_SECONDS:-30}

echo "== format of the changed lines"
tools/check-format.sh

echo "== debug build"
cmake --preset debug >/dev/null
cmake --build build/debug -j"$jobs"
echo "== debug tests"
(cd build/debug && ctest --output-on-failure --timeout 900)

echo "== asan build"
cmake --preset asan >/dev/null
cmake --build build/asan -j"$jobs"
echo "== asan tests"
# gRPC keeps some allocations for the process lifetime; leaks are checked in our own code by
# the unit tests' clean shutdown, not reported for library singletons.
(cd build/asan && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure --timeout 1200)

echo "== fuzz build"
cmake --preset fuzz >/dev/null
targets=$(cd build/fuzz && ctest -N -L fuzz | sed -n 's/^ *Test *#[0-9]*: //p')
# shellcheck disable=SC2086
cmake --build build/fuzz -j"$jobs" --target $targets
echo "== fuzzing each target for ${fuzz_seconds}s"
tools/run_fuzz.sh build/fuzz "$fuzz_seconds"
echo "all tests passed"
