#!/usr/bin/env bash
# Installs what rETL DB needs to build and test on Debian 12, as root (or with
# sudo). Idempotent: does nothing when every package is present already.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ ccache pkg-config
  libabsl-dev libzstd-dev libxxhash-dev libboost-dev libcli11-dev
  libthrift-dev thrift-compiler zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev libedit-dev
  python3 python3-pytest python3-venv zstd gzip
  libsnappy-dev liblz4-dev libbrotli-dev libsimdjson-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python packages the tests need (pyarrow writes the Parquet test files), in a
# virtual environment that also sees the system's pytest.
VENV="$(cd "$(dirname "$0")/.." && pwd)/build/pyenv"
PYARROW_VERSION=26.0.1
if ! "$VENV/bin/python" -c "import pyarrow, sys; sys.exit(pyarrow.__version__ != '$PYARROW_VERSION')" 2>/dev/null; then
  echo "install-deps: installing pyarrow $PYARROW_VERSION into $VENV" >&2
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "pyarrow==$PYARROW_VERSION"
fi
