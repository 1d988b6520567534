#!/usr/bin/env bash
# Linters for action.yml and the workflows (tests/github_actions_lint.rs runs them):
# zizmor (offline security audit) and check-jsonschema (its GitHub schemas are
# vendored in the package, so no network is needed when it runs).
set -euo pipefail
if command -v zizmor >/dev/null && command -v check-jsonschema >/dev/null; then
  exit 0
fi
python3 -m pip install --quiet --disable-pip-version-check zizmor check-jsonschema
command -v zizmor >/dev/null || { echo "zizmor not on PATH after pip install" >&2; exit 1; }
command -v check-jsonschema >/dev/null || { echo "check-jsonschema not on PATH after pip install" >&2; exit 1; }
