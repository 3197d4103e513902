#!/usr/bin/env bash
# Configures and builds one flavour of rETL DB with CMake and Ninja.
#   scripts/build.sh [release|asan]   (default: release)
# release: build/release, optimised with debug info, warnings are errors.
# asan:    build/asan, AddressSanitizer + UndefinedBehaviorSanitizer, no benchmarks.
# Re-running only rebuilds what changed; ccache makes rebuilds of fresh clones cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
jobs="${RETL_JOBS:-$(nproc)}"
case "$flavour" in
  release)
    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRETL_WERROR=ON) ;;
  asan)
    args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DRETL_SANITIZE=ON
          -DRETL_WERROR=ON -DRETL_BUILD_BENCH=OFF) ;;
  *)
    echo "usage: scripts/build.sh [release|asan]" >&2; exit 2 ;;
esac
dir="build/$flavour"
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
fi
cmake --build "$dir" -j "$jobs"
