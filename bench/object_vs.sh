#!/usr/bin/env bash
# driftsync against rclone on the same S3 server in the same run: one way
# (rclone sync at its defaults and with --fast-list --checksum, driftsync push)
# and two ways (rclone bisync, driftsync bidirectional); initial, no change,
# 1 % edits; requests per file by type from the server's log. Figures in
# docs/object-storage.md. Not a test: timings live here.
#
#   bench/object_vs.sh [FILES] [CONCURRENCY]      default: 10000 files, 8
#   Needs: rclone (apt-get install rclone), moto (bash .ci/install/20-s3-server.sh).
#   DRIFTSYNC_BENCH_S3S_FS=path/to/s3s-fs runs against s3s-fs instead of moto
#   (cargo install s3s-fs --version 0.14.1 --features binary --locked); it logs no requests, so no counts.
#   DRIFTSYNC_BIN=path measures an existing binary (say which when you publish).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
need "apt-get install rclone" rclone
DRIFTSYNC_BIN=$(driftsync_bin)
export DRIFTSYNC_BIN
export BENCH_OUT=${BENCH_OUT:-$ROOT/bench/out}
echo "rclone: $(rclone version | head -1); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo run --release --quiet --manifest-path "$ROOT/Cargo.toml" -p driftsync-replica-object \
  --example object_vs -- "${1:-10000}" "${2:-8}"
