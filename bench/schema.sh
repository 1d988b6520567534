#!/usr/bin/env bash
# Schema drift benchmark: introspect a PostgreSQL schema of 1,000 tables and
# 20,000 columns, read the generated Python back and diff, on a throwaway
# cluster (20 enums, a policy and a trigger on every tenth table). Not a test:
# prints timings. Sizes: TABLES=1000 COLUMNS=20 ENUMS=20.
# PROFILE=release for an optimised build (slower to compile).
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE="${PROFILE:-dev}"
cargo run -q --profile "$PROFILE" -p driftsync-schema --example schema_bench
