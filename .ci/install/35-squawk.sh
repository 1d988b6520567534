#!/usr/bin/env bash
# squawk, the PostgreSQL migration linter: tests/lint_migrations.rs runs it on
# the same fixture migrations as `driftsync schema lint-migrations` and
# compares their findings. Pinned: its rule names and positions are compared.
set -euo pipefail
SQUAWK=2.70.0
if command -v squawk >/dev/null 2>&1 && squawk --version 2>/dev/null | grep -qx "squawk $SQUAWK"; then
  echo "squawk: present ($SQUAWK)"
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip >/dev/null
fi
python3 -m pip install -q "squawk-cli==$SQUAWK" 2>/dev/null \
  || python3 -m pip install -q --break-system-packages "squawk-cli==$SQUAWK"
hash -r
squawk --version
