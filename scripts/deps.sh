#!/usr/bin/env bash
# deps.sh — installs the Debian packages pitboss builds and tests with, only when missing.
# Idempotent and non-interactive; uses sudo when not root. Tries `apt-get update`
# only if a first install attempt cannot find a package.
set -euo pipefail

PACKAGES=(
  gcc make pkg-config meson ninja-build python3
  libsqlite3-dev sqlite3 libsodium-dev libssl-dev libcmocka-dev
  libmicrohttpd-dev libjansson-dev liboath-dev libjwt-dev
  python3-jsonschema python3-yaml wrk oathtool fio
  openssl curl jq systemd
  clang libclang-rt-dev valgrind clang-format-14 cppcheck
  libnats-dev nats-server
  nodejs npm chromium
)

# a package whose command is already on PATH counts as present (Node.js from NodeSource
# brings npm inside its own nodejs package, which conflicts with Debian's npm)
command_of() {
  case $1 in
    nodejs) echo node ;;
    npm) echo npm ;;
    chromium) echo chromium ;;
    *) echo "" ;;
  esac
}
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    c=$(command_of "$p")
    if [ -n "$c" ] && command -v "$c" >/dev/null; then continue; fi
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
