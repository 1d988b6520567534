#!/usr/bin/env bash
# Import and export of a 1,000-file bundle on SQLite and on a throwaway
# PostgreSQL cluster (initdb/pg_ctl on a free loopback port, removed after).
#
#   bash bench/bundle.sh            # release build, 1000 files of ~2 KiB
#   FILES=5000 SIZE=8192 bash bench/bundle.sh
#   PROFILE=dev bash bench/bundle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${FILES:-1000}
SIZE=${SIZE:-2048}
PROFILE=${PROFILE:-release}
cargo build --quiet --profile "$PROFILE" --bin driftsync
target_dir=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
BIN=$PWD/target/$target_dir/driftsync

work=$(mktemp -d)
chmod 777 "$work"
pg_ctl_bin=""
cleanup() {
  if [ -n "$pg_ctl_bin" ]; then as_pg "$pg_ctl_bin" -D "$work/pg" -m immediate -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

make_bundle() { # repo
  local dir=$1/frameworks/big
  mkdir -p "$dir/docs"
  python3 - "$dir" "$FILES" "$SIZE" <<'PY'
import os, sys
d, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = []
for i in range(n):
    rel = f"docs/section-{i // 100:02d}/control-{i:05d}.yaml"
    os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
    line = f"control: {i}\ntext: " + ("lorem ipsum " * (size // 12)) + "\n"
    with open(os.path.join(d, rel), "w") as f:
        f.write(line[:size])
    names.append(rel)
with open(os.path.join(d, "bundle.yaml"), "w") as f:
    f.write("name: big\nversion: 1.0.0\nspec_version: 1\ndescription: benchmark bundle\nfiles:\n")
    f.writelines(f"  - {n}\n" for n in names)
PY
}

now() { date +%s.%N; }
timed() { # label cmd...
  local t0 t1
  t0=$(now); "${@:2}" >/dev/null; t1=$(now)
  printf '%-34s %8.3f s\n' "$1" "$(echo "$t1 - $t0" | bc)"
}

run_suite() { # label url
  local repo=$work/repo-$1
  mkdir -p "$repo"
  make_bundle "$repo"
  (cd "$repo"
   timed "$1 import ($FILES files)" "$BIN" bundle import big --database "$2"
   timed "$1 import, unchanged (no-op)" "$BIN" bundle import big --database "$2"
   rm -rf frameworks/big
   timed "$1 export into empty dir" "$BIN" bundle export big --database "$2"
   timed "$1 export, all unchanged" "$BIN" bundle export big --database "$2"
   timed "$1 status" "$BIN" bundle status --database "$2")
}

echo "driftsync bundle benchmark: $FILES files x $SIZE bytes, profile $PROFILE"
run_suite sqlite "sqlite://$work/frameworks.db"

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "PostgreSQL not found: apt-get install postgresql" >&2; exit 2; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo postgres > "$work/pw"; chmod 644 "$work/pw"
as_pg "$pgbin/initdb" -D "$work/pg" -U postgres --pwfile "$work/pw" -A scram-sha-256 -E UTF8 --no-sync >/dev/null
pg_ctl_bin=$pgbin/pg_ctl
as_pg "$pg_ctl_bin" -D "$work/pg" -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$work -c fsync=off" -l "$work/pg.log" -w start >/dev/null
PGPASSWORD=postgres "$pgbin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE bench"
run_suite postgres "postgres://postgres:postgres@127.0.0.1:$port/bench"
