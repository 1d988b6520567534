#!/usr/bin/env bash
# PostgreSQL server binaries for the throwaway clusters the tests start.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "postgresql: present"
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
ls /usr/lib/postgresql/*/bin/initdb
