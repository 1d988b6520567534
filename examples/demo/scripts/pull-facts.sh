#!/bin/sh
# PULL: copy live deployment facts (JSON) into docs/runtime/.
set -eu
echo "settings: $DRIFTSYNC_CONFIG"
if [ "${DRIFTSYNC_DRY_RUN:-0}" = 1 ]; then
  echo "dry run: would copy $(ls "$REMOTE/facts" | wc -l | tr -d ' ') fact files"
  exit 0
fi
mkdir -p docs/runtime
cp "$REMOTE"/facts/*.json docs/runtime/
echo "copied $(ls docs/runtime | wc -l | tr -d ' ') fact files"
