#!/usr/bin/env bash
# Time driftsync against rsync (one way: the floor), Unison and rclone bisync
# on the same generated tree:
# initial sync into an empty side, re-sync with nothing changed, re-sync after
# ~1 % edits on each side. Checks both sides are equal after each step and
# records peak memory (/usr/bin/time -v). Not a test: timings live here.
#
#   bench/sync_vs.sh [FILES] [TOTAL_MB]      default: 100000 files, ~1000 MB
#   Needs: rsync, unison, rclone, /usr/bin/time (apt-get install rsync unison rclone time), python3.
#   rsync copies a → b only, so its edit run changes as many files on one side
#   (2 %) as the two-way tools' edit runs change across both sides (1 % each).
#   Output: a Markdown table on stdout; work files under bench/out/ (git-ignored);
#   the generated tree is reused by the next run with the same FILES and TOTAL_MB.
set -euo pipefail
FILES=${1:-100000}
TOTAL_MB=${2:-1000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-$ROOT/bench/out}
. "$ROOT/bench/lib.sh"
need "apt-get install rsync unison rclone time python3" rsync unison rclone /usr/bin/time python3
DRIFTSYNC=$(driftsync_bin)
# ext4 does not reuse an inode freed less than 60 s ago (360 s once its inode
# table block is dirty again, which creating files makes it): right after a
# mass delete, creating files scans past the freed ones and costs every tool
# several times the kernel time (measured: an initial sync of 100,000 files
# went from 11 s to 140 s of system CPU, Unison's from 10 s to 40 s). So trees
# are deleted only before the runs, followed by a pause, never between tools.
settle() {
  sync
  echo "waiting 370 s after deleting old trees (ext4 inode reuse delay)" >&2
  sleep 370
}
# The generated tree is kept between runs of the same size (bench/out/src.params).
if [ "$(cat "$OUT/src.params" 2>/dev/null)" = "$FILES $TOTAL_MB" ] && [ -d "$OUT/src" ]; then
  if [ -n "$(find "$OUT" -mindepth 1 -maxdepth 1 ! -name src ! -name src.params -print -quit)" ]; then
    find "$OUT" -mindepth 1 -maxdepth 1 ! -name src ! -name src.params -exec rm -rf {} +
    settle
  fi
  echo "reusing $OUT/src ($FILES files, ~$TOTAL_MB MB)" >&2
else
rm -rf "$OUT" && mkdir -p "$OUT"

# A long-tailed tree: most files a few KB, a few of several MB (Pareto sizes).
python3 - "$OUT/src" "$FILES" "$TOTAL_MB" <<'PY'
import os, random, sys
root, n, total_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(42)
raw = [rng.paretovariate(1.3) for _ in range(n)]
scale = total_mb * 1024 * 1024 / sum(raw)
block = os.urandom(8 * 1024 * 1024)
for i, w in enumerate(raw):
    size = max(1, min(int(w * scale), 64 * 1024 * 1024))
    d = os.path.join(root, f"d{i % 97:02d}", f"e{(i // 97) % 31:02d}")
    os.makedirs(d, exist_ok=True)
    start = rng.randrange(0, len(block))
    if size <= len(block):  # a window of the block, wrapping around (no 16 MB temporaries)
        data = block[start:start + size] if start + size <= len(block) else block[start:] + block[:start + size - len(block)]
    else:
        data = (block * (size // len(block) + 1))[:size]
    with open(os.path.join(d, f"f{i:06d}.bin"), "wb") as f:
        f.write(i.to_bytes(8, "little") + data[8:])
PY
echo "$FILES $TOTAL_MB" >"$OUT/src.params"
echo "generated $FILES files, $(du -sm "$OUT/src" | cut -f1) MB" >&2
fi

# ~1 % of the files rewritten on each side (different files per side).
edit() { # edit DIR SEED
  python3 - "$1" "$2" <<'PY'
import os, random, sys
root, seed = sys.argv[1], int(sys.argv[2])
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
rng = random.Random(seed)
# Disjoint sets per side (odd seed: even positions, even seed: odd ones), so no
# tool meets a conflict it would leave for a person.
for p in rng.sample(files[(seed + 1) % 2::2], max(1, len(files) // 100)):
    with open(p, "ab") as f:
        f.write(b"edited %d\n" % seed)
PY
}

same() { # same A B: exit 1 when the trees differ
  diff -rq --exclude=.driftsync "$1" "$2" >/dev/null
}

declare -A T M C
measure() { # measure KEY CMD...: wall seconds, CPU seconds (user + system) and peak RSS (KB)
  local key=$1; shift
  local log=$OUT/$key.time
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$log" "$@" >"$OUT/$key.out" 2>&1 || true
  end=$(date +%s.%N)
  T[$key]=$(python3 -c "print(f'{$end-$start:.2f}')")
  M[$key]=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$log")
  C[$key]=$(awk -F: '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$log")
}

run_tool() { # run_tool NAME INIT_CMD RESYNC_CMD [oneway]  (commands use $A and $B)
  local name=$1 init=$2 resync=$3 oneway=${4:-}
  A=$OUT/$name/a; B=$OUT/$name/b
  mkdir -p "$OUT/$name" && cp -a "$OUT/src" "$A" && mkdir -p "$B"
  cd "$OUT/$name"
  sync; measure "$name-initial" bash -c "$init"
  same "$A" "$B" || { echo "$name: sides differ after the initial sync" >&2; exit 1; }
  sync; measure "$name-nochange" bash -c "$resync"
  same "$A" "$B" || { echo "$name: sides differ after the no-change sync" >&2; exit 1; }
  if [ -n "$oneway" ]; then edit "$A" 1; edit "$A" 2; else edit "$A" 1; edit "$B" 2; fi
  sync; measure "$name-edits" bash -c "$resync"
  same "$A" "$B" || { echo "$name: sides differ after the 1 % edits sync" >&2; exit 1; }
  cd "$ROOT"
  # Kept until the next run of the script (see settle).
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
export A B UNISON=$OUT/unison-home
mkdir -p "$UNISON"
run_tool driftsync \
  '"'"$DRIFTSYNC"'" sync a b --state state.json' \
  '"'"$DRIFTSYNC"'" sync a b --state state.json'
run_tool rsync 'rsync -a --delete a/ b/' 'rsync -a --delete a/ b/' oneway
run_tool unison \
  'unison a b -batch -auto -silent -times -perms 0 -confirmbigdel=false -ui text' \
  'unison a b -batch -auto -silent -times -perms 0 -ui text'
run_tool rclone \
  'rclone bisync a b --resync --workdir rclone-work --checksum -q' \
  'rclone bisync a b --workdir rclone-work --checksum -q'

ratio() { python3 -c "print(f'{$1/$2:.2f}×')"; }
bytes_per_file() { python3 -c "print(int($1*1024/$FILES))"; }
echo "| tool | initial (s) | no change (s) | 1 % edits (s) | CPU initial / no change / edits (s) | peak RSS (MB) | RSS bytes/file |"
echo "|---|---|---|---|---|---|---|"
for t in rsync driftsync unison rclone; do
  peak=$(printf '%s\n' "${M[$t-initial]}" "${M[$t-nochange]}" "${M[$t-edits]}" | sort -n | tail -1)
  echo "| $t | ${T[$t-initial]} | ${T[$t-nochange]} | ${T[$t-edits]} | ${C[$t-initial]} / ${C[$t-nochange]} / ${C[$t-edits]} | $((peak / 1024)) | $(bytes_per_file "$peak") |"
done
echo
echo "driftsync / rsync, wall: initial $(ratio "${T[driftsync-initial]}" "${T[rsync-initial]}"), no change $(ratio "${T[driftsync-nochange]}" "${T[rsync-nochange]}"), 1 % edits $(ratio "${T[driftsync-edits]}" "${T[rsync-edits]}")"
echo "driftsync / Unison, wall: initial $(ratio "${T[driftsync-initial]}" "${T[unison-initial]}"), no change $(ratio "${T[driftsync-nochange]}" "${T[unison-nochange]}"), 1 % edits $(ratio "${T[driftsync-edits]}" "${T[unison-edits]}")"
echo "driftsync / Unison, CPU: initial $(ratio "${C[driftsync-initial]}" "${C[unison-initial]}"), no change $(ratio "${C[driftsync-nochange]}" "${C[unison-nochange]}"), 1 % edits $(ratio "${C[driftsync-edits]}" "${C[unison-edits]}")"
echo "($FILES files, $(du -sm "$OUT/src" | cut -f1) MB, $(nproc) cores, load average before the run: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg))"
