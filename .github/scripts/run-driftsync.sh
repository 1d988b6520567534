#!/usr/bin/env bash
# Map the action's inputs (environment variables only, never a workflow
# expression in a shell line) to driftsync flags and run it in CI mode.
set -euo pipefail

read -r -a cmd <<< "${INPUT_COMMAND:-check}"
args=("${cmd[@]}" --ci)
[[ -n "${INPUT_CONFIG:-}" ]] && args+=(--config "$INPUT_CONFIG")
case "${cmd[0]}" in
  run | check)
    [[ -n "${INPUT_TARGET:-}" ]] && args+=(--target "$INPUT_TARGET")
    [[ -n "${INPUT_DIRECTION:-}" ]] && args+=(--direction "$INPUT_DIRECTION")
    [[ "${INPUT_DRY_RUN:-false}" == true ]] && args+=(--dry-run)
    [[ "${INPUT_VERIFY:-false}" == true ]] && args+=(--verify)
    ;;
esac
if [[ "${cmd[0]}" == run ]]; then
  case "${INPUT_PUSH:-}" in
    true) args+=(--push) ;;
    false) args+=(--no-push) ;;
    "") ;;
    *) echo "::error::the input push must be true, false or empty" >&2; exit 2 ;;
  esac
fi
if [[ "${INPUT_COMMENT:-true}" != true ]]; then
  export DRIFTSYNC_NO_COMMENT=1
fi
if [[ -n "${INPUT_ARGS:-}" ]]; then
  read -r -a extra <<< "$INPUT_ARGS"
  args+=("${extra[@]}")
fi
echo "driftsync ${args[*]}"
exec driftsync "${args[@]}"
