#!/usr/bin/env bash
# web-build.sh — builds the back office UI (web/ → web/dist) when it is out of date.
#
# `npm ci` (exactly the lock file) when web/node_modules is missing or older than
# web/package-lock.json; `npm run build` (tsc --noEmit, then vite build) when
# web/dist/index.html is missing or any source (src/, index.html, package.json,
# the lock file, tsconfig.json, vite.config.ts) is newer. Quiet on success; on a
# failure prints npm's output and exits 1. Used by make run, make test, make test-web.
set -euo pipefail
cd "$(dirname "$0")/../web"

command -v npm >/dev/null || { echo "web-build: npm is missing (make deps installs nodejs and npm)" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  if ! npm ci --no-audit --no-fund >"$log" 2>&1; then
    cat "$log" >&2
    echo "web-build: npm ci failed" >&2
    exit 1
  fi
  touch node_modules
fi

stale=0
if [ ! -f dist/index.html ]; then
  stale=1
elif [ -n "$(find src index.html package.json package-lock.json tsconfig.json vite.config.ts \
  -newer dist/index.html -print -quit 2>/dev/null)" ]; then
  stale=1
fi
if [ $stale -eq 1 ]; then
  if ! npm run build >"$log" 2>&1; then
    cat "$log" >&2
    echo "web-build: npm run build failed" >&2
    exit 1
  fi
fi
