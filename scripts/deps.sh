#!/usr/bin/env bash
# deps.sh — installs the Debian packages pitboss builds and tests with, only when missing.
# Idempotent and non-interactive; uses sudo when not root. Tries `apt-get update`
# only if a first install attempt cannot find a package.
set -euo pipefail

PACKAGES=(
  gcc make pkg-config meson ninja-build python3
  libsqlite3-dev sqlite3 libsodium-dev libssl-dev libcmocka-dev
  libmicrohttpd-dev libjansson-dev liboath-dev libjwt-dev
  python3-jsonschema python3-yaml wrk oathtool
  openssl curl jq
  clang libclang-rt-dev valgrind
  nodejs npm chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "deps: installing ${missing[*]}" >&2
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
