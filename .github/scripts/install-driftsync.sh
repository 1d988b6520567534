#!/usr/bin/env bash
# Install driftsync for this runner. Inputs come from the environment only.
#
# The release is chosen by version, not by the ref the action was pinned to:
# the version file of the action's own checkout
# ($GITHUB_ACTION_PATH/.github/driftsync-version) names it, so a tag, a commit
# SHA or a branch all download release v<version>. DRIFTSYNC_VERSION (the
# action's `version` input) overrides it.
#
# The archive for RUNNER_OS/RUNNER_ARCH is checked against its .sha256 and,
# when `gh` and a token are available, against the release's build-provenance
# attestation (`gh attestation verify`). A mismatch or a failed verification is
# an error. Building from source (`cargo install`) happens only with a visible
# warning giving the reason, or when asked for:
#   DRIFTSYNC_FROM_SOURCE=auto    (default) build when no release binary fits
#   DRIFTSYNC_FROM_SOURCE=never   no release binary is an error
#   DRIFTSYNC_FROM_SOURCE=always  always build from the action's source
set -euo pipefail

action_path="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}"
repo="${ACTION_REPOSITORY:-}"
server="${GH_SERVER:-https://github.com}"
server="${server%/}"
from_source="${DRIFTSYNC_FROM_SOURCE:-auto}"
root="${RUNNER_TEMP:-/tmp}/driftsync"
bin_dir="$root/bin"
mkdir -p "$bin_dir"

case "$from_source" in
  auto | never | always) ;;
  *)
    echo "::error::DRIFTSYNC_FROM_SOURCE must be auto, never or always, not '$from_source'"
    exit 2
    ;;
esac

version="${DRIFTSYNC_VERSION:-}"
version_source="the version input"
if [[ -z "$version" ]]; then
  version_file="$action_path/.github/driftsync-version"
  version_source="$version_file"
  if [[ -f "$version_file" ]]; then
    version="$(tr -d '[:space:]' < "$version_file")"
  fi
fi
version="${version#v}"
if [[ -n "$version" && ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
  echo "::error::'$version' from $version_source is not a version (expected MAJOR.MINOR.PATCH)"
  exit 2
fi

platform="${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}"
case "$platform" in
  Linux/X64 | Linux/x86_64) triple=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64) triple=aarch64-unknown-linux-musl ;;
  macOS/ARM64 | Darwin/arm64) triple=aarch64-apple-darwin ;;
  Windows/X64) triple=x86_64-pc-windows-msvc ;;
  macOS/X64 | Darwin/x86_64) triple="" unsupported="Intel macOS ($platform) has no release binary: driftsync releases Linux x64/arm64, macOS arm64 and Windows x64" ;;
  *) triple="" unsupported="$platform has no release binary: driftsync releases Linux x64/arm64, macOS arm64 and Windows x64" ;;
esac

build_from_source() {
  if ! command -v cargo >/dev/null; then
    echo "::error::cannot build driftsync from source: cargo is not installed on this runner"
    exit 1
  fi
  echo "Building driftsync from $action_path with cargo install (several minutes)"
  cargo install --locked --root "$root" --path "$action_path" --bin driftsync
}

# No release binary: an error under `never`, else a warning with the reason
# and a build from source.
no_release() {
  local reason="$1"
  if [[ "$from_source" == never ]]; then
    echo "::error::driftsync not installed: $reason (DRIFTSYNC_FROM_SOURCE=never)"
    exit 1
  fi
  echo "::warning::building driftsync from source: $reason"
  build_from_source
  finish
}

finish() {
  echo "$bin_dir" >> "${GITHUB_PATH:?GITHUB_PATH is not set}"
  exit 0
}

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# download URL FILE: prints nothing on success, the reason on failure.
download() {
  local status
  status="$(curl -sSL --retry 3 --retry-connrefused -o "$2" -w '%{http_code}' "$1" 2>"$2.err")" || true
  if [[ "$status" != 200 ]]; then
    local why="HTTP $status"
    [[ "$status" == 000 || -z "$status" ]] && why="$(tr '\n' ' ' < "$2.err")"
    echo "download of $1 failed: $why"
  fi
}

if [[ "$from_source" == always ]]; then
  echo "DRIFTSYNC_FROM_SOURCE=always: building driftsync from source"
  build_from_source
  finish
fi
[[ -n "$triple" ]] || no_release "$unsupported"
[[ -n "$version" ]] || no_release "no version: $version_source is missing and the version input is empty"
[[ -n "$repo" ]] || no_release "the action's repository is unknown (a local action, uses: ./), so there is no release to download"

tag="v$version"
ext=tar.gz
[[ "$triple" == *windows* ]] && ext=zip
asset="driftsync-${tag}-${triple}.${ext}"
url="${server}/${repo}/releases/download/${tag}/${asset}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

failure="$(download "$url" "$tmp/$asset")"
[[ -z "$failure" ]] || no_release "$failure"
failure="$(download "$url.sha256" "$tmp/$asset.sha256")"
[[ -z "$failure" ]] || no_release "$failure"

expected="$(cut -d' ' -f1 < "$tmp/$asset.sha256" | tr -d '[:space:]')"
actual="$(sha256 "$tmp/$asset")"
if [[ "$expected" != "$actual" ]]; then
  echo "::error::checksum mismatch for $asset: $url.sha256 says $expected, the download is $actual"
  exit 1
fi
echo "Checksum of $asset verified (sha256 $actual)"

if ! command -v gh >/dev/null; then
  echo "::notice::build provenance of $asset not verified: the GitHub CLI (gh) is not installed"
elif [[ -z "${GH_TOKEN:-}" ]]; then
  echo "::notice::build provenance of $asset not verified: no token for gh (the action's token input is empty)"
else
  host="${server#*://}"
  if GH_HOST="$host" gh attestation verify "$tmp/$asset" --repo "$repo" >"$tmp/gh.out" 2>&1; then
    echo "Build provenance of $asset verified (gh attestation verify --repo $repo)"
  else
    cat "$tmp/gh.out"
    echo "::error::build provenance of $asset could not be verified against $repo (gh attestation verify failed)"
    exit 1
  fi
fi

if [[ "$ext" == zip ]]; then
  if command -v unzip >/dev/null; then unzip -q -o "$tmp/$asset" -d "$bin_dir"
  else 7z x -y "-o$bin_dir" "$tmp/$asset" >/dev/null; fi
else
  tar -xzf "$tmp/$asset" -C "$bin_dir"
fi
echo "Installed $asset from $url"
finish
