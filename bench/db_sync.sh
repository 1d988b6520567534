#!/usr/bin/env bash
# A database as one side of a sync: FILES small files (default 100,000,
# ~1 KB each) synced two ways with a document table in SQLite (the embedded
# default) and in PostgreSQL (a throwaway cluster on a loopback port): an
# initial sync, a re-sync with nothing changed (median of 3) and a re-sync
# after 1 % of the files were edited, with peak RSS per file, as
# bench/sync_vs.sh reports for two directories. Figures in
# docs/database-replica.md. Not a test: timings live here.
#
#   bench/db_sync.sh [FILES]
#   Needs: PostgreSQL server binaries (bash .ci/install/10-postgres.sh), /usr/bin/time, python3.
#   DRIFTSYNC_BIN=path measures an existing binary (say which when you publish).
set -euo pipefail
FILES=${1:-100000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-$ROOT/bench/out}/db
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || { echo "missing PostgreSQL: bash .ci/install/10-postgres.sh" >&2; exit 2; }
. "$ROOT/bench/lib.sh"
need "apt-get install time python3" /usr/bin/time python3
DRIFTSYNC_BIN=$(driftsync_bin)
rm -rf "$OUT" && mkdir -p "$OUT"
python3 - "$OUT/src" "$FILES" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(11)
block = os.urandom(1 << 20)
for i in range(n):
    d = os.path.join(root, f"d{i % 100:02d}")
    if i < 100:
        os.makedirs(d, exist_ok=True)
    size = rng.randrange(1, 2048)
    start = rng.randrange(0, len(block) - size)
    with open(os.path.join(d, f"f{i:06d}.txt"), "wb") as f:
        f.write(block[start:start + size])
PY

# A throwaway cluster (the postgres user runs it when we are root).
PGDATA=$OUT/pgdata; PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RUN=(); [ "$(id -u)" = 0 ] && { chown -R postgres "$OUT"; RUN=(runuser -u postgres --); }
"${RUN[@]}" "$PGBIN/initdb" -A trust -U bench -D "$PGDATA" >/dev/null
"${RUN[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -o "-p $PORT -k $OUT -c listen_addresses=127.0.0.1 -c fsync=on" -l "$OUT/pg.log" -w start >/dev/null
trap '"${RUN[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true' EXIT
"${RUN[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U bench bench

declare -A T M
measure() { # measure KEY CMD...: wall seconds and peak RSS (KB)
  local key=$1; shift
  local start end
  start=$(date +%s.%N)
  "${RUN[@]}" /usr/bin/time -v -o "$OUT/$key.time" "$@" >"$OUT/$key.out" 2>&1 || { cat "$OUT/$key.out" >&2; exit 1; }
  end=$(date +%s.%N)
  T[$key]=$(python3 -c "print(f'{$end - $start:.2f}')")
  M[$key]=$(awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}' "$OUT/$key.time")
}
edit() { # 1 % of the files, appended to
  python3 - "$1" <<'PY'
import os, sys
root = sys.argv[1]
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
for p in files[::100]:
    with open(p, "ab") as f:
        f.write(b"edited\n")
PY
}
run_side() { # run_side NAME URL
  local name=$1 url=$2 dir=$OUT/$1
  cp -a "$OUT/src" "$dir"; [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
  cd "$OUT"
  measure "$name-initial" "$DRIFTSYNC_BIN" sync "$dir" "$url" --state "$OUT/$name.json"
  local ts=() ms=()
  for i in 1 2 3; do
    measure "$name-nochange-$i" "$DRIFTSYNC_BIN" sync "$dir" "$url" --state "$OUT/$name.json"
    grep -Eq "(^|[^0-9])0 created, 0 updated, 0 deleted" "$OUT/$name-nochange-$i.out" || { echo "$name: a no-change run changed something:" >&2; cat "$OUT/$name-nochange-$i.out" >&2; exit 1; }
    ts+=("${T[$name-nochange-$i]}"); ms+=("${M[$name-nochange-$i]}")
  done
  T[$name-nochange]=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n 2p)
  M[$name-nochange]=$(printf '%s\n' "${ms[@]}" | sort -n | tail -1)
  edit "$dir"
  measure "$name-edits" "$DRIFTSYNC_BIN" sync "$dir" "$url" --state "$OUT/$name.json"
  cd "$ROOT"
}
run_side sqlite "sqlite://$OUT/docs.db?table=docs"
run_side postgres "postgres://bench@127.0.0.1:$PORT/bench?table=docs&sslmode=disable"

per_file() { python3 -c "print(int($1*1024/$FILES))"; }
echo "| database | initial (s) | no change, median of 3 (s) | 1 % edits (s) | peak RSS initial / no change / edits (bytes/file) |"
echo "|---|---|---|---|---|"
for s in sqlite postgres; do
  echo "| $s | ${T[$s-initial]} | ${T[$s-nochange]} | ${T[$s-edits]} | $(per_file "${M[$s-initial]}") / $(per_file "${M[$s-nochange]}") / $(per_file "${M[$s-edits]}") |"
done
echo "($FILES files, $(du -sm "$OUT/src" | cut -f1) MB, PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), $(nproc) cores, load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
