#!/usr/bin/env bash
# Every test: installs what is missing, builds the release and the sanitizer
# (ASan+UBSan) flavours, runs the C++ unit tests (CTest) in both and the
# command-line tests (pytest) against both builds' binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
PY=build/pyenv/bin/python  # made by install-deps.sh: system pytest + pyarrow
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

echo "== build: release"
scripts/build.sh release
echo "== unit tests: release"
ctest --test-dir build/release --output-on-failure -j "$(nproc)"
echo "== command-line tests: release"
RETL_BUILD_DIR=build/release "$PY" -m pytest tests/cli -q -p no:cacheprovider

echo "== build: asan"
scripts/build.sh asan
echo "== unit tests: asan+ubsan"
ctest --test-dir build/asan --output-on-failure -j "$(nproc)"
echo "== command-line tests: asan+ubsan (quick set)"
RETL_BUILD_DIR=build/asan "$PY" -m pytest tests/cli -q -p no:cacheprovider -m "not slow"
echo "== all tests passed"
