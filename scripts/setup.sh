#!/usr/bin/env bash
# Install what Tandem's build, tests and interop peers need on Debian 12 with a Swift toolchain.
#
# Usage: scripts/setup.sh
# - Installs the missing Debian packages below (one `apt-get update` first, and only when
#   something is missing).
# - When run as root, also installs nftables and iproute2, which scripts/demo.sh and
#   NetworkNamespaceTests use to block UDP or TCP inside a network namespace. That needs root,
#   so other users do not get the two packages. The demo then uses a relay, and the tests skip.
# - Creates the Python venv <repo>/.venv with pinned grpcio, grpcio-tools and protobuf for
#   the interop peers in Tests/Interop, and aioquic for the HTTP/3 peers in Tests/Interop/h3
#   (pip runs only when a pinned version is missing).
# Safe to run again: when everything is present it touches no network and takes about a second.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv_dir="$repo_root/.venv"

# Versions verified to install and work together here (Python 3.11, 2026-12-04).
python_packages=(
  "grpcio==1.85.1"
  "grpcio-tools==1.85.1"
  "protobuf==7.36.2"
  "aioquic==1.7.2"
)

debian_packages=(
  libnghttp2-dev
  libngtcp2-dev
  libngtcp2-crypto-gnutls-dev
  libnghttp3-dev
  libgnutls28-dev
  libssl-dev
  pkg-config
  protobuf-compiler
  libprotobuf-dev
  libprotoc-dev
  libprotobuf-c-dev
  protobuf-c-compiler
  nghttp2-client
  ngtcp2-client
  ngtcp2-server
  openssl
)

log() { echo "setup: $*"; }

as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  else
    sudo "$@"
  fi
}

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

if ! command -v python3 >/dev/null; then
  debian_packages+=(python3)
fi
# A python3 whose standard library has venv and ensurepip (pyenv builds do) needs no
# python3-venv; Debian's own python3 needs the package for `python3 -m venv`.
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  debian_packages+=(python3-venv)
fi

if [[ $EUID -eq 0 ]]; then
  debian_packages+=(nftables iproute2)
fi

missing=()
for package in "${debian_packages[@]}"; do
  is_installed "$package" || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  log "Debian packages present"
fi

# The venv is usable when its interpreter runs. It is recreated when the interpreter it
# was made from is gone, for example after a pyenv version was removed.
if ! "$venv_dir/bin/python" -c 'import sys' >/dev/null 2>&1; then
  log "creating $venv_dir with $(command -v python3) ($(python3 --version 2>&1))"
  rm -rf "$venv_dir"
  python3 -m venv "$venv_dir"
fi

# Compare the installed versions with the pins without touching the network.
missing_python=$("$venv_dir/bin/python" - "${python_packages[@]}" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version

for requirement in sys.argv[1:]:
    name, _, pinned = requirement.partition("==")
    try:
        if version(name) == pinned:
            continue
    except PackageNotFoundError:
        pass
    print(requirement)
EOF
)
if [[ -n $missing_python ]]; then
  log "installing into the venv: $(tr '\n' ' ' <<<"$missing_python")"
  "$venv_dir/bin/python" -m pip install --quiet --disable-pip-version-check "${python_packages[@]}"
else
  log "venv packages present: ${python_packages[*]}"
fi

"$venv_dir/bin/python" -c 'import grpc, grpc_tools.protoc, google.protobuf, aioquic.h3.connection' \
  || { echo "setup: error: the venv at $venv_dir cannot import grpc, grpc_tools, protobuf or aioquic" >&2; exit 1; }
log "done"
