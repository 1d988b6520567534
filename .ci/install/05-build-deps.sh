#!/usr/bin/env bash
# Build dependencies of the workspace: libgit2 is built with HTTPS (git push
# to https://github.com) and PostgreSQL connections speak TLS: both link the
# system OpenSSL on Linux. The tests make certificates with the openssl command;
# the sync runner's own sync.yaml (a fixture) verifies JSON with jq; the
# progress-bar tests run the binary on a pseudo-terminal with util-linux `script`;
# the migration linter's parser (the pg_query crate: libpg_query, PostgreSQL's
# own parser, compiled from C) generates its bindings with bindgen, which needs
# libclang.
set -euo pipefail
PACKAGES=(libssl-dev pkg-config openssl jq util-linux libclang-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "build deps: present (${PACKAGES[*]})"
  exit 0
fi
echo "build deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
