#!/usr/bin/env bash
# Make a Docker engine and the guardrail-sandbox:local image available.
#
# Idempotent and quick when all is there: installs Debian's docker.io and
# debootstrap if missing, starts dockerd if no engine answers (and waits for
# it), then builds the image unless the present one is current. The image's
# root file system is cached under ${GUARDRAIL_CACHE_DIR:-~/.cache/guardrail},
# so a rebuild is an import of a few seconds.
#
# Env: PYTHON (default python3), GUARDRAIL_DOCKERD_LOG (default
# /tmp/guardrail-dockerd.log), DOCKER_WAIT seconds (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
LOG=${GUARDRAIL_DOCKERD_LOG:-/tmp/guardrail-dockerd.log}
WAIT=${DOCKER_WAIT:-60}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

say() { echo "setup-docker: $*" >&2; }

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

fail() {
  say "$1; the end of its log:"
  tail -20 "$LOG" >&2 || true
  exit 1
}

if ! docker info >/dev/null 2>&1; then
  deadline=$((SECONDS + WAIT))
  # A dockerd still shutting down (or a stale pid file) blocks a new one.
  pidfile=/var/run/docker.pid
  while [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { say "a dockerd (pid $(cat "$pidfile")) runs but does not answer"; exit 1; }
    sleep 0.2
  done
  $SUDO rm -f "$pidfile"
  say "starting dockerd (log: $LOG)"
  # setsid: the engine outlives this script and is not in its process group.
  $SUDO setsid dockerd >"$LOG" 2>&1 < /dev/null &
  engine=$!
  until docker info >/dev/null 2>&1; do
    kill -0 "$engine" 2>/dev/null || fail "dockerd exited"
    [ $SECONDS -lt $deadline ] || fail "dockerd did not answer within ${WAIT}s"
    sleep 0.2
  done
fi
say "engine up: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"

# Builds only when the image is absent or was built from another recipe.
$SUDO "$PYTHON" -m guardrail.sandbox.image
