#!/bin/sh
# PULL: refresh addons/community from the remote bare git repository.
set -eu
src="$REMOTE/modules.git"
dest=addons/community
if [ "${DRIFTSYNC_DRY_RUN:-0}" = 1 ]; then
  echo "dry run: would refresh $dest from $src"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$src" archive --format=tar HEAD > "$tmp/modules.tar"
rm -rf "$dest"
mkdir -p "$dest"
tar -xf "$tmp/modules.tar" -C "$dest"
echo "$(find "$dest" -name manifest.json | wc -l | tr -d ' ') modules from $(git -C "$src" rev-parse --short HEAD)"
