#!/usr/bin/env bash
# Install driftsync for this runner: the release binary for its OS and
# architecture, verified against the release's .sha256 file; built from the
# action's source when no release fits. Inputs come from the environment only.
set -euo pipefail

tag="${DRIFTSYNC_VERSION:-${ACTION_REF:-}}"
repo="${ACTION_REPOSITORY:-}"
server="${GH_SERVER:-https://github.com}"
root="${RUNNER_TEMP:-/tmp}/driftsync"
bin_dir="$root/bin"
mkdir -p "$bin_dir"

case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
  Linux/X64 | Linux/x86_64) triple=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64) triple=aarch64-unknown-linux-musl ;;
  macOS/ARM64 | Darwin/arm64) triple=aarch64-apple-darwin ;;
  macOS/X64 | Darwin/x86_64) triple=x86_64-apple-darwin ;;
  Windows/X64) triple=x86_64-pc-windows-msvc ;;
  *) triple="" ;;
esac

from_source() {
  echo "No release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?} at '${tag:-none}': building from source."
  cargo install --locked --root "$root" --path "$GITHUB_ACTION_PATH" --bin driftsync
}

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

installed=false
if [[ -n "$triple" && -n "$repo" && "$tag" == v* ]]; then
  ext=tar.gz; [[ "$triple" == *windows* ]] && ext=zip
  asset="driftsync-${tag}-${triple}.${ext}"
  url="${server}/${repo}/releases/download/${tag}/${asset}"
  tmp="$(mktemp -d)"
  if curl -fsSL --retry 3 -o "$tmp/$asset" "$url" && curl -fsSL --retry 3 -o "$tmp/$asset.sha256" "$url.sha256"; then
    expected="$(cut -d' ' -f1 < "$tmp/$asset.sha256")"
    actual="$(sha256 "$tmp/$asset")"
    if [[ "$expected" != "$actual" ]]; then
      echo "::error::checksum mismatch for $asset: expected $expected, got $actual" >&2
      exit 1
    fi
    if [[ "$ext" == zip ]]; then unzip -q -o "$tmp/$asset" -d "$bin_dir"; else tar -xzf "$tmp/$asset" -C "$bin_dir"; fi
    installed=true
    echo "Installed $asset (sha256 $actual)"
  fi
  rm -rf "$tmp"
fi
if [[ "$installed" != true ]]; then
  from_source
fi
echo "$bin_dir" >> "$GITHUB_PATH"
