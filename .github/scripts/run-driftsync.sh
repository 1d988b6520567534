#!/usr/bin/env bash
# Map the action's inputs (environment variables only, never a workflow
# expression in a shell line) to driftsync flags and run it in CI mode.
set -euo pipefail

fail() {
  echo "::error::$1"
  exit 2
}

is_bool() {
  [[ "$2" == true || "$2" == false ]] || fail "the input $1 must be \"true\" or \"false\", not '$2'"
}

# Comma- or whitespace-separated list, empty items dropped.
split_list() {
  local item
  local -a items
  IFS=', ' read -r -a items <<< "$1"
  for item in "${items[@]}"; do
    [[ -n "$item" ]] && printf '%s\n' "$item"
  done
  return 0
}

read -r -a cmd <<< "${INPUT_COMMAND:-check}"
[[ ${#cmd[@]} -gt 0 ]] || fail "the input command is empty"
sub="${cmd[0]}"
[[ "$sub" == report && ${#cmd[@]} -gt 1 ]] && sub="report ${cmd[1]}"

dry_run="${INPUT_DRY_RUN:-false}"
verify="${INPUT_VERIFY:-false}"
comment="${INPUT_COMMENT:-true}"
mode="${INPUT_MODE:-commit}"
pr_draft="${INPUT_PR_DRAFT:-false}"
is_bool dry-run "$dry_run"
is_bool verify "$verify"
is_bool pr-draft "$pr_draft"
case "$comment" in
  true | false | merged) ;;
  *) fail "the input comment must be true, false or merged, not '$comment'" ;;
esac
case "$mode" in
  commit | pull-request) ;;
  *) fail "the input mode must be commit or pull-request, not '$mode'" ;;
esac

args=("${cmd[@]}" --ci)
[[ -n "${INPUT_CONFIG:-}" ]] && args+=(--config "$INPUT_CONFIG")
case "$sub" in
  run | check)
    [[ -n "${INPUT_TARGET:-}" ]] && args+=(--target "$INPUT_TARGET")
    [[ -n "${INPUT_DIRECTION:-}" ]] && args+=(--direction "$INPUT_DIRECTION")
    [[ "$verify" == true ]] && args+=(--verify)
    ;;
esac
if [[ "$dry_run" == true ]]; then
  if [[ "$sub" == run ]]; then
    args+=(--dry-run)
  elif [[ "$sub" == check ]]; then
    echo "::notice::dry-run has no effect on check: check already changes nothing in the repository"
  else
    fail "the input dry-run applies to run (and check, which changes nothing anyway), not to '$sub'"
  fi
fi

if [[ "$sub" == run ]]; then
  case "${INPUT_PUSH:-}" in
    true) args+=(--push) ;;
    false) args+=(--no-push) ;;
    "") ;;
    *) fail "the input push must be true, false or empty, not '$INPUT_PUSH'" ;;
  esac
fi

pr_inputs="${INPUT_PR_LABELS:-}${INPUT_PR_REVIEWERS:-}${INPUT_PR_AUTO_MERGE:-}"
if [[ "$mode" == pull-request ]]; then
  [[ "$sub" == run ]] || fail "the input mode: pull-request applies to command run, not to '$sub'"
  args+=(--pull-request)
  while IFS= read -r label; do args+=(--pr-label "$label"); done < <(split_list "${INPUT_PR_LABELS:-}")
  while IFS= read -r user; do args+=(--pr-reviewer "$user"); done < <(split_list "${INPUT_PR_REVIEWERS:-}")
  [[ "$pr_draft" == true ]] && args+=(--pr-draft)
  case "${INPUT_PR_AUTO_MERGE:-}" in
    "") ;;
    merge | squash | rebase) args+=(--pr-auto-merge "$INPUT_PR_AUTO_MERGE") ;;
    *) fail "the input pr-auto-merge must be merge, squash, rebase or empty, not '$INPUT_PR_AUTO_MERGE'" ;;
  esac
elif [[ -n "$pr_inputs" || "$pr_draft" == true ]]; then
  fail "the inputs pr-labels, pr-reviewers, pr-draft and pr-auto-merge need mode: pull-request"
fi

# comment: false writes none; merged leaves it to the job running
# `report merge` (its legs write none).
if [[ "$comment" == false || ("$comment" == merged && "$sub" != "report merge") ]]; then
  export DRIFTSYNC_NO_COMMENT=1
fi

# artifact-name: auto lets driftsync name it (per matrix leg); another
# non-empty value is used as is.
if [[ -n "${INPUT_ARTIFACT_NAME:-}" && "$INPUT_ARTIFACT_NAME" != auto ]]; then
  export DRIFTSYNC_ARTIFACT_NAME="$INPUT_ARTIFACT_NAME"
fi

if [[ -n "${INPUT_ARGS:-}" ]]; then
  read -r -a extra <<< "$INPUT_ARGS"
  args+=("${extra[@]}")
fi
echo "driftsync ${args[*]}"
exec driftsync "${args[@]}"
