#!/usr/bin/env bash
# Object storage push benchmark (docs/object-storage.md records the figures):
#   10,000 small files pushed to a local S3-compatible server (moto) with
#   concurrency 1 and 8, then a rescan of the unchanged objects with the
#   requests counted by type through a loopback proxy (LIST only, no GET).
# Usage: bench/object_push.sh [FILES] [LATENCY_MS]
#   LATENCY_MS adds a delay to every request in the proxy, standing in for
#   the round trip to a real cloud endpoint (0 = loopback only).
# Needs moto: pip install 'moto[server]' (bash .ci/install/20-s3-server.sh).
# DRIFTSYNC_BENCH_S3S_FS=path/to/s3s-fs uses that multi-threaded Rust server
# instead (cargo install s3s-fs --version 0.14.1 --features binary --locked).
set -euo pipefail
# Release build (PROFILE=dev for the quicker dev build, whose dependencies are optimised too).
cd "$(dirname "$0")/.."
profile=${PROFILE:-release}
cargo run --quiet --profile "$profile" -p driftsync-replica-object --example object_push -- "${1:-10000}" "${2:-0}"
