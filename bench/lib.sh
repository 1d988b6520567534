# Shared by the bench scripts (sourced, never run on its own). Expects $ROOT.

# need HINT TOOL...: exit 2 naming how to install the first missing tool.
need() {
  local hint=$1; shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "missing $tool: $hint" >&2; exit 2; }
  done
}

# The binary to measure: $DRIFTSYNC_BIN (say which when you publish its
# numbers), else a release build of this checkout.
driftsync_bin() {
  if [ -n "${DRIFTSYNC_BIN:-}" ]; then
    echo "$DRIFTSYNC_BIN"
  else
    cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --bin driftsync >&2
    echo "$ROOT/target/release/driftsync"
  fi
}
