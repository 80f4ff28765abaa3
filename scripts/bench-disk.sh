#!/usr/bin/env bash
# bench-disk.sh [DIR] — how fast this disk makes a write durable, the way the ledger
# needs it: a write of BENCH_DISK_KIB (default 8) KiB followed by fdatasync, one
# after the other, for BENCH_DISK_SECONDS (default 5), into a 64 MiB file written
# and synced beforehand, so the writes overwrite it as the ledger's reused
# write-ahead log does (no file growth, no metadata in the sync). Measured by fio
# (Debian's package) in DIR (default var/bench, where `make bench` puts its
# databases: the same file system).
#
# Every durable commit waits for one such sync, so its latency bounds the ledger's:
# the single-submitter p99, and at 64 submitters the throughput (the ledger's
# benchmark prints its own mean sync as sync_ms_mean). `make bench` runs this first
# so that the figures after it can be read against the disk they ran on.
#
# Prints one JSON line and one text line:
#   {"bench":"disk","write_kib":8,"seconds":5.0,"syncs":…,"syncs_per_s":…,
#    "p50_ms":…,"p90_ms":…,"p99_ms":…,"p99_9_ms":…,"max_ms":…,"mean_ms":…,
#    "fs":"ext4","mount_options":"rw,relatime,…"}   (findmnt's, for DIR; empty if unknown)
# Exits non-zero when fio is missing (scripts/deps.sh installs it) or fails.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${1:-var/bench}
SECS=${BENCH_DISK_SECONDS:-5}
KIB=${BENCH_DISK_KIB:-8}
case $SECS in '' | *[!0-9]*) echo "bench-disk: BENCH_DISK_SECONDS must be a whole number" >&2; exit 2 ;; esac
case $KIB in '' | *[!0-9]*) echo "bench-disk: BENCH_DISK_KIB must be a whole number" >&2; exit 2 ;; esac
if [ "$SECS" -lt 1 ] || [ "$KIB" -lt 1 ] || [ "$KIB" -gt 1024 ]; then
  echo "bench-disk: BENCH_DISK_SECONDS must be >= 1 and BENCH_DISK_KIB 1..1024" >&2
  exit 2
fi
command -v fio >/dev/null || { echo "bench-disk: fio is missing (scripts/deps.sh installs it)" >&2; exit 1; }

mkdir -p "$DIR"
file=$DIR/bench-disk.$$.dat
out=$DIR/bench-disk.$$.json
trap 'rm -f "$file" "$out"' EXIT
# the file exists and is on disk before the first measured write
dd if=/dev/zero of="$file" bs=1M count=64 conv=fsync status=none

fio --name=durable-write --filename="$file" --size=64m --bs="${KIB}k" --rw=write \
  --ioengine=psync --fdatasync=1 --runtime="$SECS" --time_based \
  --output-format=json --output="$out" >/dev/null

# the file system and its mount options: a sync's cost depends on them (on ext4,
# `lazytime` keeps a write's mtime change out of the sync: README, "The disk")
fs=$(findmnt -no FSTYPE -T "$DIR" 2>/dev/null || true)
opts=$(findmnt -no OPTIONS -T "$DIR" 2>/dev/null || true)

python3 - "$out" "$KIB" "$SECS" "$fs" "$opts" <<'EOF'
import json, sys
path, kib, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
fs, opts = sys.argv[4], sys.argv[5]
job = json.load(open(path))["jobs"][0]
lat = job["sync"]["lat_ns"]
n = lat.get("N", 0)
if not n:
    sys.exit("bench-disk: fio measured no sync")
pct = {float(k): v / 1e6 for k, v in lat["percentile"].items()}
def p(q):
    return round(pct[min(pct, key=lambda k: abs(k - q))], 3)
r = {"bench": "disk", "write_kib": kib, "seconds": secs, "syncs": n,
     "syncs_per_s": round(n / secs), "p50_ms": p(50), "p90_ms": p(90), "p99_ms": p(99),
     "p99_9_ms": p(99.9), "max_ms": round(lat["max"] / 1e6, 3),
     "mean_ms": round(lat["mean"] / 1e6, 3), "fs": fs, "mount_options": opts}
print(json.dumps(r, separators=(",", ":")))
print(f"bench disk: {kib} KiB write + fdatasync, one at a time: {r['syncs_per_s']} syncs/s, "
      f"p50 {r['p50_ms']:.2f} ms, p90 {r['p90_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
      f"p99.9 {r['p99_9_ms']:.2f} ms, max {r['max_ms']:.2f} ms"
      + (f"; {fs} ({opts})" if fs else ""))
EOF
