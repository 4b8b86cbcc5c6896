#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then lint, type-check,
# check the shipped policies and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --full
[ -f .ci/env ] && . .ci/env
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check guardrail tests bench examples
echo "== mypy"; mypy guardrail
echo "== guardrail lint"; python -m guardrail lint policies/
echo "== guardrail test"; python -m guardrail test policies/
echo "== pytest"
python -m pytest -q -p no:cacheprovider "$@"
