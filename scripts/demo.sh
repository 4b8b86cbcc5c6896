#!/usr/bin/env bash
# Set up guardrail in .venv and run a demo agent session through it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/demo.py "$@"
