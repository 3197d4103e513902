#!/usr/bin/env bash
# Installs what rETL DB needs to build and test on Debian 12, as root (or with
# sudo). Idempotent: does nothing when every package is present already.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ ccache pkg-config
  libabsl-dev libzstd-dev libxxhash-dev libboost-dev libcli11-dev
  libthrift-dev thrift-compiler zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev libedit-dev
  python3 python3-pytest zstd gzip
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
