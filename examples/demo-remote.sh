#!/usr/bin/env bash
# Create the demo's "remote" side in DIR (default target/demo/remote): what
# the demo project syncs with. Used by examples/run-demo.sh and by the test
# of the demo (tests/cli_example.rs), so both run the same project.
#   modules.git/  a bare git repository of community modules (pulled)
#   facts/        live deployment facts as JSON (pulled)
#   site/         where docs/ is published (pushed)
#   bucket/       a `file:` bucket of site assets (synced both ways; one file
#                 differs from the repository's copy: a conflict, resolved)
#   app.db        an application's SQLite database (typed Python modules pulled)
#   frameworks.db the bundle store (created by the first push)
set -euo pipefail
remote="${1:-target/demo/remote}"
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME="driftsync demo" GIT_AUTHOR_EMAIL="demo@example.com" \
  GIT_COMMITTER_NAME="driftsync demo" GIT_COMMITTER_EMAIL="demo@example.com"
rm -rf "$remote"
mkdir -p "$remote/facts" "$remote/site" "$remote/bucket/img"
seed="$(mktemp -d)"
git init -q -b main "$seed"
for m in accounting inventory website; do
  mkdir -p "$seed/$m"
  printf '{"name": "%s", "version": "1.0.0"}\n' "$m" > "$seed/$m/manifest.json"
done
git -C "$seed" add -A
git -C "$seed" commit -q -m "community modules"
git clone -q --bare "$seed" "$remote/modules.git"
rm -rf "$seed"
printf '{"hosts": ["web-1", "web-2"], "region": "eu-west"}\n' > "$remote/facts/hosts.json"
printf '{"app": "2.4.1", "database": "16.3"}\n' > "$remote/facts/versions.json"
# The bucket: one asset only it has, and an older, different copy of one the
# repository has (the conflict `newer` resolves for the repository's copy).
printf 'body { margin: 0 }\n' > "$remote/bucket/site.css"
printf '<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>\n' > "$remote/bucket/img/logo.svg"
touch -d '2020-01-01 00:00:00' "$remote/bucket/img/logo.svg"
python3 - "$remote/app.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  total NUMERIC NOT NULL,
  note TEXT
);
""")
db.commit()
PY
echo "demo remote ready in $remote"
