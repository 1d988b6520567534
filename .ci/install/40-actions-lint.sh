#!/usr/bin/env bash
# Tools of the workflow tests:
# - zizmor (offline security audit) and check-jsonschema (its GitHub schemas
#   are vendored in the package, so no network is needed when it runs), for
#   tests/github_actions_lint.rs;
# - GitHub's own expression engine, the npm package @actions/expressions, in
#   /opt/driftsync-ci/node_modules, for tests/github_expressions.rs.
set -euo pipefail
EXPRESSIONS_VERSION=0.3.61
PREFIX=/opt/driftsync-ci

if ! command -v zizmor >/dev/null || ! command -v check-jsonschema >/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check zizmor check-jsonschema
fi
command -v zizmor >/dev/null || { echo "zizmor not on PATH after pip install" >&2; exit 1; }
command -v check-jsonschema >/dev/null || { echo "check-jsonschema not on PATH after pip install" >&2; exit 1; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get update -qq && apt-get install -y -qq nodejs npm
fi
installed="$(node -p "require('$PREFIX/node_modules/@actions/expressions/package.json').version" 2>/dev/null || true)"
if [[ "$installed" != "$EXPRESSIONS_VERSION" ]]; then
  mkdir -p "$PREFIX"
  npm install --silent --no-audit --no-fund --prefix "$PREFIX" "@actions/expressions@$EXPRESSIONS_VERSION"
fi
test -f "$PREFIX/node_modules/@actions/expressions/dist/index.js" || { echo "@actions/expressions missing in $PREFIX after npm install" >&2; exit 1; }
