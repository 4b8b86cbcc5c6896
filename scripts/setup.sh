#!/usr/bin/env bash
# Set up a fresh Debian machine for guardrail: a virtual environment with the
# package and its dev tools in .venv. With --full, also what the tests need:
# a Docker engine and the offline sandbox image, PostgreSQL, Chromium.
# Idempotent: what is already there is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
full=0
[ "${1:-}" = "--full" ] && full=1
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
say() { echo "setup: $*" >&2; }

if [ $full -eq 1 ]; then
  need=()
  command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
  command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
  command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
  command -v node >/dev/null 2>&1 || need+=(nodejs npm)
  if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import guardrail, pytest, hypothesis, mcp" >/dev/null 2>&1 \
   || [ pyproject.toml -nt .venv/.installed ]; then
  say "installing guardrail and its dev tools into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch .venv/.installed
fi
# Byte-compile once: hooks start a process per call, and some environments
# (PYTHONDONTWRITEBYTECODE) would otherwise recompile every module every time.
.venv/bin/python -m compileall -q guardrail >/dev/null || true

if [ $full -eq 1 ]; then
  PYTHON=.venv/bin/python bash .ci/setup-docker.sh
  PYTHON=.venv/bin/python bash .ci/setup-postgres.sh >/dev/null
  PYTHON="$PY" bash tests/adapters/install_reference_servers.sh  # MCP reference servers for the proxy tests
fi
