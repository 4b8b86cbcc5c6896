#!/usr/bin/env bash
# Install the MCP reference servers the proxy tests wrap, each in a place of
# its own under $GUARDRAIL_MCP_SERVERS (default ~/.cache/guardrail/mcp-servers):
# a virtual environment per PyPI server (they pin different `mcp` majors;
# mcp-server-sqlite needs mcp<2) and an npm prefix for the filesystem server.
# Idempotent: a server already installed is kept.
set -euo pipefail
PY=${PYTHON:-python3}
DIR=${GUARDRAIL_MCP_SERVERS:-$HOME/.cache/guardrail/mcp-servers}
mkdir -p "$DIR"
say() { echo "mcp-servers: $*" >&2; }

py_server() {  # name, pip requirement(s)...
  local name=$1; shift
  if [ -x "$DIR/$name/bin/$name" ]; then return; fi
  say "installing $name"
  rm -rf "$DIR/$name"
  "$PY" -m venv "$DIR/$name"
  "$DIR/$name/bin/python" -m pip install -q "$@"
}

py_server mcp-server-git mcp-server-git
py_server mcp-server-fetch mcp-server-fetch
py_server mcp-server-sqlite mcp-server-sqlite 'mcp<2'

if command -v npm >/dev/null 2>&1; then
  if [ ! -x "$DIR/npm/node_modules/.bin/mcp-server-filesystem" ]; then
    say "installing @modelcontextprotocol/server-filesystem"
    npm install --silent --no-audit --no-fund --prefix "$DIR/npm" @modelcontextprotocol/server-filesystem >/dev/null
  fi
else
  say "npm not found: the filesystem server is not installed"
fi
