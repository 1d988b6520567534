#!/usr/bin/env bash
# Build driftsync and run the demo project: copies examples/demo/ into a fresh
# git repository under target/demo/ (created once, reused after) next to a
# local "remote" (examples/demo-remote.sh: a bare git repository, folders, a
# `file:` bucket and SQLite databases), then runs `driftsync run --verify`
# there. Running it again does nothing new.
# It never touches this repository's own git history.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
cargo build --quiet --bin driftsync
bin="$here/target/debug/driftsync"
demo="$here/target/demo"
remote="$demo/remote"
repo="$demo/repo"
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME="driftsync demo" GIT_AUTHOR_EMAIL="demo@example.com" \
  GIT_COMMITTER_NAME="driftsync demo" GIT_COMMITTER_EMAIL="demo@example.com"

if [ ! -f "$remote/app.db" ]; then
  echo "== creating the demo remote in $remote"
  bash examples/demo-remote.sh "$remote"
fi

if [ ! -d "$repo/.git" ]; then
  echo "== creating the demo repository in $repo"
  rm -rf "$repo"
  mkdir -p "$repo"
  cp -R examples/demo/. "$repo/"
  git -C "$repo" init -q -b main
  git -C "$repo" config user.name "driftsync demo"
  git -C "$repo" config user.email "demo@example.com"
  git -C "$repo" add -A
  git -C "$repo" commit -q -m "demo project"
fi

echo "== driftsync run --verify (in $repo)"
cd "$repo"
status=0
"$bin" run --verify "$@" || status=$?
echo "== git log"
git log --oneline -n 5
exit "$status"
