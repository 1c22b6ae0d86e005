#!/usr/bin/env bash
# Builds deputy and deputy-bench (Release) and runs the benchmarks once. Arguments go to
# deputy-bench, e.g. `bench/run.sh --mib 128 --tunnels 100 --idle 500`. BUILD_DIR picks the
# build directory (default build-bench), JOBS the build parallelism (default: all CPUs).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"

configure=(-S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDEPUTY_BUILD_TESTS=ON
           -DDEPUTY_BUILD_BENCH=ON)
# The generator can only be chosen when the directory is first configured.
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then
  configure+=(-G Ninja)
fi
cmake "${configure[@]}" >/dev/null
cmake --build "$build" -j"${JOBS:-$(nproc)}" --target deputy deputy-bench
exec "$build/bench/deputy-bench" "$@"
