#!/usr/bin/env bash
# Does a two-way sync scale linearly? Times driftsync on a tree of FILES small
# files (default 1,000,000, ~1 KB each) and reports the same figures as
# bench/sync_vs.sh per file, so the two can be compared: an initial sync, a
# re-sync with nothing changed (median of 3), a re-sync after ~1 % edits on
# each side, peak RSS per file; then the base (state file): its size per
# file, its load time, and what it costs in a git repository (packed, and the
# growth of one more commit after the 1 % edits). rsync -a --delete (one way)
# runs on the same tree as the floor. Not a test: timings live here.
#
#   bench/sync_scale.sh [FILES] [AVG_BYTES]      default: 1000000 files, 1024 bytes
#   Needs: rsync, /usr/bin/time, python3, git (apt-get install rsync time).
#   DRIFTSYNC_BIN=path uses an existing binary (say which when you publish).
#   Output: a Markdown table on stdout; work files under bench/out/scale/.
set -euo pipefail
FILES=${1:-1000000}
AVG=${2:-1024}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-$ROOT/bench/out}/scale
. "$ROOT/bench/lib.sh"
need "apt-get install rsync time python3 git" rsync /usr/bin/time python3 git
DRIFTSYNC=$(driftsync_bin)
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" -p driftsync-engine --example state_load
STATE_LOAD=$ROOT/target/release/examples/state_load
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# Trees are deleted only before the runs, followed by the ext4 inode reuse
# pause (see bench/sync_vs.sh), never between measurements.
if [ "$(cat "$OUT/src.params" 2>/dev/null)" = "$FILES $AVG" ] && [ -d "$OUT/src" ]; then
  if [ -n "$(find "$OUT" -mindepth 1 -maxdepth 1 ! -name src ! -name src.params -print -quit)" ]; then
    find "$OUT" -mindepth 1 -maxdepth 1 ! -name src ! -name src.params -exec rm -rf {} +
    sync; echo "waiting 370 s after deleting old trees (ext4 inode reuse delay)" >&2; sleep 370
  fi
else
  rm -rf "$OUT" && mkdir -p "$OUT"
  # 1,000 directories of 1,000 files; sizes uniform in [1, 2 × AVG).
  python3 - "$OUT/src" "$FILES" "$AVG" <<'PY'
import os, random, sys
root, n, avg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(7)
block = os.urandom(1 << 20)
for i in range(n):
    d = os.path.join(root, f"d{i // 1000 % 1000:03d}")
    if i % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    size = rng.randrange(1, 2 * avg)
    start = rng.randrange(0, len(block) - size)
    with open(os.path.join(d, f"f{i:07d}.txt"), "wb") as f:
        f.write(i.to_bytes(8, "little") + block[start + 8:start + size])
PY
  echo "$FILES $AVG" >"$OUT/src.params"
fi
echo "tree: $FILES files, $(du -sm "$OUT/src" | cut -f1) MB" >&2

edit() { # edit DIR SEED FRACTION_PER_MILLE: disjoint files per seed parity
  python3 - "$1" "$2" "$3" <<'PY'
import os, random, sys
root, seed, per_mille = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if not d.endswith(".driftsync"))
rng = random.Random(seed)
for p in rng.sample(files[(seed + 1) % 2::2], max(1, len(files) * per_mille // 1000)):
    with open(p, "ab") as f:
        f.write(b"edited %d\n" % seed)
PY
}
same() { diff -rq --exclude=.driftsync "$1" "$2" >/dev/null; }

declare -A T M
measure() { # measure KEY CMD...: wall seconds and peak RSS (KB)
  local key=$1; shift
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$OUT/$key.time" "$@" >"$OUT/$key.out" 2>&1 || { cat "$OUT/$key.out" >&2; exit 1; }
  end=$(date +%s.%N)
  T[$key]=$(python3 -c "print(f'{$end - $start:.2f}')")
  M[$key]=$(awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}' "$OUT/$key.time")
}
median3() { # median3 KEY CMD...: the median of three runs in T[KEY], the largest RSS in M[KEY]
  local key=$1; shift
  local ts=() ms=()
  for i in 1 2 3; do measure "$key-$i" "$@"; ts+=("${T[$key-$i]}"); ms+=("${M[$key-$i]}"); done
  T[$key]=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n 2p)
  M[$key]=$(printf '%s\n' "${ms[@]}" | sort -n | tail -1)
}

# rsync, one way: the floor (its edit run changes 2 % on one side).
A=$OUT/rsync/a; B=$OUT/rsync/b
mkdir -p "$OUT/rsync" && cp -a "$OUT/src" "$A" && mkdir -p "$B"
sync; measure rsync-initial rsync -a --delete "$A/" "$B/"
sync; median3 rsync-nochange rsync -a --delete "$A/" "$B/"
edit "$A" 1 10; edit "$A" 2 10
sync; measure rsync-edits rsync -a --delete "$A/" "$B/"
same "$A" "$B" || { echo "rsync: sides differ" >&2; exit 1; }

# driftsync, two ways (1 % edits on each side).
A=$OUT/driftsync/a; B=$OUT/driftsync/b; S=$OUT/driftsync/state.json
mkdir -p "$OUT/driftsync" && cp -a "$OUT/src" "$A" && mkdir -p "$B"
cd "$OUT/driftsync"   # backups of overwritten files go under ./.driftsync/backup
sync; measure ds-initial "$DRIFTSYNC" sync "$A" "$B" --state "$S"
same "$A" "$B" || { echo "driftsync: sides differ after the initial sync" >&2; exit 1; }
sync; median3 ds-nochange "$DRIFTSYNC" sync "$A" "$B" --state "$S"
# The base as a team commits it: one commit, packed, then one more after the edits.
G=$OUT/driftsync/git; rm -rf "$G"; git init -q "$G"
cp "$S" "$G/state.json"; git -C "$G" add state.json
git -C "$G" -c user.name=bench -c user.email=bench@localhost commit -qm base
git -C "$G" gc -q --aggressive
PACK1=$(du -sb "$G/.git/objects/pack" | cut -f1)
LOAD=$("$STATE_LOAD" "$S" 3)
STATE_BYTES=$(stat -c %s "$S")
edit "$A" 1 10; edit "$B" 2 10
sync; measure ds-edits "$DRIFTSYNC" sync "$A" "$B" --state "$S"
same "$A" "$B" || { echo "driftsync: sides differ after the edits" >&2; exit 1; }
cp "$S" "$G/state.json"; git -C "$G" add state.json
git -C "$G" -c user.name=bench -c user.email=bench@localhost commit -qm edits
git -C "$G" gc -q
PACK2=$(du -sb "$G/.git/objects/pack" | cut -f1)

per_file() { python3 -c "print(int($1*1024/$FILES))"; }
peak() { printf '%s\n' "$@" | sort -n | tail -1; }
echo "| tool | initial (s) | no change, median of 3 (s) | 1 % edits (s) | peak RSS (MB) | RSS bytes/file |"
echo "|---|---|---|---|---|---|"
for t in rsync ds; do
  p=$(peak "${M[$t-initial]}" "${M[$t-nochange]}" "${M[$t-edits]}")
  name=$t; [ "$t" = ds ] && name=driftsync
  echo "| $name | ${T[$t-initial]} | ${T[$t-nochange]} | ${T[$t-edits]} | $((p / 1024)) | $(per_file "$p") |"
done
echo
echo "driftsync peak RSS per run: initial $(per_file "${M[ds-initial]}"), no change $(per_file "${M[ds-nochange]}"), edits $(per_file "${M[ds-edits]}") bytes/file"
echo "state file: $LOAD"
echo "in git: $((PACK1 / 1024)) KB packed ($((PACK1 / FILES)) bytes/file); one more commit after 1 % edits adds $(((PACK2 - PACK1) / 1024)) KB"
echo "($FILES files, $(du -sm "$OUT/src" | cut -f1) MB, $(nproc) cores, load average before: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg))"
