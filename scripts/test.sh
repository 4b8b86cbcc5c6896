#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then lint, type-check,
# check the shipped policies and run the whole test suite. Every step runs;
# the exit status is non-zero if any of them failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --full || { echo "setup failed" >&2; exit 1; }
[ -f .ci/env ] && . .ci/env
export PATH="$PWD/.venv/bin:$PATH"
failed=()
step() {
  local name=$1; shift
  echo "== $name"
  "$@" || failed+=("$name")
}
step ruff ruff check guardrail tests bench examples
step mypy mypy guardrail
step "guardrail lint" python -m guardrail lint policies/
step "guardrail test" python -m guardrail test policies/
step pytest python -m pytest -q -p no:cacheprovider "$@"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
