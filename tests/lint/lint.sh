#!/usr/bin/env bash
# lint.sh SOURCE_ROOT — the source checks of `make test` (suite "lint", optimised
# build only), in TAP: one case per check.
#   1. format:   every C file under src/, tests/ and fuzz/ is as clang-format 14
#                formats it with the repository's .clang-format (a different major
#                version formats some constructs differently, so the version is
#                pinned: Debian 12's clang-format-14, installed by scripts/deps.sh);
#   2. cppcheck: cppcheck finds no warning- or portability-class defect in them
#                (false positives are rewritten, not suppressed, where the code
#                can say the same thing more plainly);
#   3. size:     no C file under src/ is over 800 lines (CONVENTIONS.md: a file
#                that grows past it is split by concern, not left to grow).
# `make lint` runs this directly. `make format` rewrites the files in place.
set -uo pipefail
root=${1:-$(dirname "$0")/../..}
cd "$root" || exit 1

files=()
while IFS= read -r f; do files+=("$f"); done < <(
  find src tests fuzz -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)

echo "1..3"
fmt=clang-format-14
if ! command -v "$fmt" >/dev/null; then
  echo "not ok 1 - format: $fmt is missing (scripts/deps.sh installs it)"
else
  out=$("$fmt" --dry-run -Werror "${files[@]}" 2>&1)
  if [ -z "$out" ]; then
    echo "ok 1 - format: ${#files[@]} files as $fmt formats them"
  else
    echo "not ok 1 - format: files differ from clang-format (make format rewrites them)"
    printf '%s\n' "$out" | grep -E '^[^ ].*: error:' | sed 's/^/# /' | head -50
  fi
fi

if ! command -v cppcheck >/dev/null; then
  echo "not ok 2 - cppcheck is missing (scripts/deps.sh installs it)"
else
  jobs=$(nproc 2>/dev/null || echo 2)
  out=$(cppcheck -j"$jobs" --enable=warning,portability --std=c11 -q --error-exitcode=1 \
    -D__x86_64__ -I src src tests fuzz 2>&1)
  if [ $? -eq 0 ]; then
    echo "ok 2 - cppcheck: no warning or portability finding"
  else
    echo "not ok 2 - cppcheck found defects"
    printf '%s\n' "$out" | sed 's/^/# /' | head -80
  fi
fi

max_lines=800
over=$(for f in "${files[@]}"; do
  case $f in src/*) n=$(wc -l <"$f"); [ "$n" -gt $max_lines ] && echo "$f: $n lines" ;; esac
done)
if [ -z "$over" ]; then
  echo "ok 3 - size: no file under src/ over $max_lines lines"
else
  echo "not ok 3 - size: files under src/ over $max_lines lines (split them by concern)"
  printf '%s\n' "$over" | sed 's/^/# /'
fi
