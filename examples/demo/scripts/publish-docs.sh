#!/bin/sh
# PUSH: publish docs/ to the remote site folder. driftsync skips this target
# when docs/ has not changed since the last successful push.
set -eu
if [ "${DRIFTSYNC_DRY_RUN:-0}" = 1 ]; then
  echo "dry run: would publish docs/ to $REMOTE/site"
  exit 0
fi
mkdir -p "$REMOTE/site"
cp -R docs/. "$REMOTE/site/"
echo "published at $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$REMOTE/site/publish.log"
echo "published $(find docs -type f | wc -l | tr -d ' ') files"
