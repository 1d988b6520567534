#!/usr/bin/env bash
# A longer CI replay than the test suite's: the rounds of tests/ci_replay.rs
# (fresh clones, SIGKILLs at random moments, concurrent jobs, invalid files on
# the remote; a directory, a bucket on the S3 test server and a SQLite table)
# multiplied by SCALE, on a release build. Each scenario prints its counts of
# rounds, killed jobs and concurrent pairs; a lost edit or a conflict copy
# fails it with the rounds that led there.
#
#   bash bench/ci_soak.sh [SCALE]     # default 10: about 3,300 rounds
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-10}"
DRIFTSYNC_REPLAY_ROUNDS="$SCALE" cargo test --release --test ci_replay -- --nocapture 2>&1 \
  | grep -E "rounds,|^test |test result|panicked"
