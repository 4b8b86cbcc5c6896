"""Docker backend: one warm, hardened container per (session, workspace).

Why a warm container: starting one costs hundreds of milliseconds, an exec
in a running one a few tens, and a call through the session's resident
runner (`runner.py`, from a process's second call on) a few; an agent runs
many small commands.

Hardening is on by default (each knob in `SandboxConfig`): the workspace is
bind-mounted read-write at its host path and nothing else of the host is
mounted; the root file system is read-only with a tmpfs /tmp; no network;
all capabilities dropped; no-new-privileges; the workspace owner's uid/gid;
pids, memory (no extra swap) and CPU limits.

How the pieces fit:
- PID 1 is Docker's tiny init (reaps zombies, forwards signals); its child
  is `IDLE_WATCHER`, a shell loop that exits, stopping the container
  (auto-removed), after `idle_timeout` seconds without a call. So a crashed
  or killed guardrail leaves nothing running for long.
- Every call runs through `EXEC_WRAPPER`: the command gets a session (and
  so a process group) of its own, whose id goes to /tmp/.guardrail/run, and
  touches the heartbeat the watcher reads. What the call leaves running in
  the background is killed when it returns (`keep_background` to keep it).
  On timeout a second exec kills the whole group; when even that cannot
  start (a fork bomb holds every pid), the container is killed and the
  session is replaced on its next call.
- Output is read from the hijacked exec connection in a thread,
  demultiplexed, capped per stream (`output.OutputCapture`) and drained to
  the end, so memory stays bounded whatever the command prints.
- The resident runner keeps all of the above (its own session per call,
  leftovers reaped, the group killed on timeout, the OOM counter read);
  any failure of it replaces the container, and this process falls back to
  one exec per call after a few.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import math
import os
import socket
import struct
import sys
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

from guardrail.errors import SandboxError
from guardrail.sandbox.base import ExecResult, OutputSink
from guardrail.sandbox.config import SandboxConfig, workspace_user
from guardrail.sandbox.output import OutputCapture
from guardrail.sandbox.runner import RUNNER_SOURCE, Runner, RunnerGone

LABEL = "io.guardrail"
LABEL_MANAGED = f"{LABEL}.managed"
LABEL_SESSION = f"{LABEL}.session"
LABEL_WORKSPACE = f"{LABEL}.workspace"
LABEL_VERSION = f"{LABEL}.version"
LABEL_CONFIG = f"{LABEL}.config"

STATE_DIR = "/tmp/.guardrail"
TIMEOUT_EXIT = 124  # what coreutils' timeout(1) reports; the result says timed_out too
KILL_GRACE = 3.0  # seconds to wait for the stream to end after the kill
RUNNER_START_WAIT = 10.0  # seconds for the resident runner to say it is up
RUNNER_MAX_FAILURES = 3  # then this process keeps to one exec per call
START_WAIT = 10.0

# $1: ticks, $2: seconds per tick. Every tick it forgets the pid files of
# calls that are over; it exits (stopping the container) after $1 ticks in
# a row with no call running and none started.
IDLE_WATCHER = r"""
trap 'exit 0' TERM INT HUP
d=/tmp/.guardrail
mkdir -p "$d/run" && : > "$d/last" || exit 1
n=0
while :; do
  : > "$d/mark"
  sleep "$2" & wait $!
  busy=0
  for f in "$d"/run/*; do
    [ -e "$f" ] || continue
    if read -r p < "$f" 2>/dev/null && kill -0 "$p" 2>/dev/null; then busy=1; else rm -f "$f"; fi
  done
  if [ "$busy" = 1 ] || [ "$d/last" -nt "$d/mark" ]; then n=0; continue; fi
  n=$((n + 1))
  [ "$n" -ge "$1" ] && exit 0
done
"""
IDLE_TICK = 5.0  # seconds

# $1: the command, $2: the pid file, $3: "keep" to let background processes
# outlive the call. The command runs in a session of its own (setsid, no
# fork: its parent is not a group leader), whose id goes to the pid file;
# when it returns, whatever it left running in that group is killed. The
# pid file stays behind (an `rm` costs a fork and an exec on every call);
# the idle watcher removes the files of calls that are over.
EXEC_WRAPPER = r"""
d=/tmp/.guardrail
: > "$d/last" 2>/dev/null
if command -v setsid >/dev/null 2>&1; then
  sh -c 'echo $$ > "$1" 2>/dev/null; exec setsid sh -c "$0"' "$1" "$2"
else
  echo $$ > "$2" 2>/dev/null
  sh -c "$1"
fi
s=$?
if [ "$3" != keep ] && read -r g < "$2" 2>/dev/null && [ "$g" != $$ ]; then
  kill -9 "-$g" 2>/dev/null
fi
: > "$d/last" 2>/dev/null
exit $s
"""

# $1: the pid file. Kill the group until none of it is left (bounded).
KILL_GROUP = r"""
read -r p < "$1" 2>/dev/null || exit 0
n=0
while kill -9 "-$p" 2>/dev/null && [ "$n" -lt 100 ]; do n=$((n+1)); done
exit 0
"""

# The memory cgroup's OOM-kill counter, cgroup v2 then v1.
OOM_COUNT = r"""
for f in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do
  [ -r "$f" ] || continue
  while read -r k v; do [ "$k" = oom_kill ] && { echo "$v"; exit 0; }; done < "$f"
done
echo -1
"""


def guardrail_version() -> str:
    try:
        from guardrail import __version__

        return str(__version__)
    except ImportError:  # an editable install made before guardrail/__init__.py existed
        pass
    try:
        from importlib.metadata import version

        return version("guardrail-sandbox")
    except Exception:  # pragma: no cover - not installed at all
        return "0+unknown"


def docker_client() -> Any:
    """A client of the local engine, or a SandboxError saying how to get one."""
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - docker is a dependency
        raise SandboxError("the docker package is missing: pip install docker") from exc
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        raise SandboxError(
            f"cannot reach the Docker engine ({exc.__class__.__name__}): start dockerd "
            "(or Docker Desktop), or run with --no-sandbox to run on the host"
        ) from exc
    return client


def container_name(session: str, workspace: Path) -> str:
    digest = hashlib.sha256(f"{session}\0{workspace}".encode()).hexdigest()[:16]
    return f"guardrail-{digest}"


def _idle_ticks(idle: float) -> tuple[str, str]:
    """(ticks, seconds per tick) for the watcher: short ticks keep its clean-up frequent."""
    tick = min(idle, IDLE_TICK)
    return str(math.ceil(idle / tick - 1e-9)), f"{tick:g}"


def network_mode(config: SandboxConfig) -> str:
    """`open` is the engine's default bridge; `none` and `policy` have no interface but
    loopback (`policy` reaches guardrail's egress proxy through a socket: guardrail.egress)."""
    return "bridge" if config.network == "open" else "none"


class DockerSandbox:
    """A session's warm container; `exec` runs one shell command in it."""

    def __init__(
        self,
        config: SandboxConfig,
        workspace: Path,
        session: str,
        *,
        image: str | None = None,
        client: Any | None = None,
        prune: bool = True,
        runner: bool | None = None,
    ) -> None:
        """`runner`: None starts the resident runner from this process's second call on,
        True from the first, False never (one exec per call)."""
        self.config = config
        self.workspace = workspace.resolve()
        self.session = session
        self.image = image or config.image
        self.user = config.user or workspace_user(self.workspace)
        self.name = container_name(session, self.workspace)
        self._client = client
        self._prune = prune
        self._container: Any | None = None
        self._oom_seen = 0
        self._lock = threading.Lock()
        self._use_runner = runner
        self._runner_lock = threading.Lock()
        self._runner: Runner | None = None
        self._runner_failures = 0
        self._calls = 0

    # ------------------------------------------------------------ lifecycle

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = docker_client()
        return self._client

    def labels(self) -> dict[str, str]:
        return {
            LABEL_MANAGED: "true",
            LABEL_SESSION: self.session,
            LABEL_WORKSPACE: str(self.workspace),
            LABEL_VERSION: guardrail_version(),
            LABEL_CONFIG: self._config_hash(),
        }

    def _config_hash(self) -> str:
        """Changes when anything that shapes the container changes: then it is replaced."""
        data = self.config.model_dump(mode="json")
        data.update(image=self.image, user=self.user, version=guardrail_version())
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def start(self) -> None:
        """Reuse the session's running container if it fits, else start a new one."""
        with self._lock:
            if self._container is None:
                self._container = self._ensure_container()

    def _ensure_container(self) -> Any:
        import docker.errors

        if self._prune:
            prune_stale(self.client)
        deadline = time.monotonic() + START_WAIT
        for attempt in itertools.count():
            if attempt and time.monotonic() > deadline:
                break
            if attempt:  # a concurrent start holds the name but is not inspectable yet
                time.sleep(min(0.02 * attempt, 0.2))
            try:
                existing = self.client.containers.get(self.name)
            except docker.errors.NotFound:
                existing = None
            if existing is not None:
                fits = existing.labels.get(LABEL_CONFIG) == self._config_hash()
                if fits and existing.status in ("created", "running"):
                    try:  # another process may be starting it this very moment
                        self._wait_ready(existing)
                    except (SandboxError, docker.errors.NotFound):
                        remove_container(existing)
                        continue
                    self._oom_seen = self._read_oom_count(existing)
                    return existing
                remove_container(existing)  # stopped, or made for another policy or version
                continue
            try:
                container = self._create()
            except docker.errors.NotFound:  # removed between create and start
                continue
            except docker.errors.APIError as exc:
                if exc.status_code == 409:  # a concurrent start, or a removal in flight
                    continue
                raise SandboxError(f"cannot start the sandbox container: {_explain(exc)}") from exc
            self._oom_seen = 0
            return container
        raise SandboxError(f"cannot start container {self.name}: it keeps changing under us")

    def _create(self) -> Any:
        import docker.errors
        from docker.types import Mount

        if self.user.split(":")[0] == "0":
            sys.stderr.write(
                f"guardrail: {self.workspace} is owned by root, so sandboxed commands run as "
                "uid 0 (with every capability dropped); set sandbox.user to run them as another uid\n"
            )

        kwargs: dict[str, Any] = dict(
            command=self._egress_wrap(
                ["sh", "-c", IDLE_WATCHER, "guardrail-idle", *_idle_ticks(self.config.idle_timeout)]
            ),
            name=self.name,
            init=True,
            auto_remove=True,
            user=self.user,
            working_dir=str(self.workspace),
            labels=self.labels(),
            environment={"HOME": "/tmp", **self._egress_env()},
            hostname="sandbox",
            network_mode=network_mode(self.config),
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            read_only=self.config.read_only,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={self.config.tmpfs_size},mode=1777"},
            mounts=[
                Mount(target=str(self.workspace), source=str(self.workspace), type="bind"),
                *self._state_mounts(),
                *self._egress_mounts(),
            ],
            pids_limit=self.config.pids_limit,
            mem_limit=self.config.memory,
            memswap_limit=self.config.memory,
            nano_cpus=int(self.config.cpus * 1e9),
            log_config={"type": "none", "config": {}},
        )
        # create + start rather than run: run() would pull by itself and bury
        # the missing image under a registry error.
        try:
            container = self.client.containers.create(self.image, **kwargs)
        except docker.errors.ImageNotFound:
            self._pull()
            container = self.client.containers.create(self.image, **kwargs)
        container.start()
        self._wait_ready(container)
        return container

    def _state_mounts(self) -> list[Any]:
        """guardrail's own state in the workspace (.guardrail/: project policy, session
        approvals, audit trail) is read-only inside: sandboxed code must not grant
        itself permissions or rewrite the trail."""
        from docker.types import Mount

        state = self.workspace / ".guardrail"
        try:
            state.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            return []
        if state.is_symlink() or not state.is_dir():
            return []
        return [Mount(target=str(state), source=str(state), type="bind", read_only=True)]

    # `sandbox.network: policy`: the egress socket's directory, the forwarder, the
    # proxy variables (guardrail/egress/wiring.py). The caller serves the proxy on
    # `guardrail.egress.socket_path(sandbox.name)`; until it does, nothing gets out.

    def _egress_wrap(self, command: list[str]) -> list[str]:
        if self.config.network != "policy":
            return command
        from guardrail.egress.wiring import wrap_command

        return wrap_command(command)

    def _egress_env(self) -> dict[str, str]:
        if self.config.network != "policy":
            return {}
        from guardrail.egress.wiring import proxy_environment

        return proxy_environment()

    def _egress_mounts(self) -> list[Any]:
        if self.config.network != "policy":
            return []
        from docker.types import Mount

        from guardrail.egress.wiring import CONTAINER_DIR, egress_dir

        source = str(egress_dir(self.name))
        return [Mount(target=CONTAINER_DIR, source=source, type="bind", read_only=True)]

    def _pull(self) -> None:
        try:
            self.client.images.pull(self.image)
        except Exception as exc:
            raise SandboxError(
                f"image {self.image!r} is not here and cannot be pulled ({_explain(exc)}): "
                "run `guardrail sandbox build-image` and use --image guardrail-sandbox:local "
                "(or GUARDRAIL_IMAGE=guardrail-sandbox:local)"
            ) from exc

    def _wait_ready(self, container: Any) -> None:
        """The watcher makes its state dir first; wait for it (or the container's death)."""
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline:
            code, out = self._quick(container, ["sh", "-c", f"{self._ready_test()} && echo ok"])
            if code == 0 and out.strip() == b"ok":
                return
            container.reload()
            if container.status not in ("created", "running"):
                break
            time.sleep(0.02)
        needs = "/bin/sh, sleep and mkdir"
        if self.config.network == "policy":
            needs += ", and python3 for the egress forwarder (sandbox.network: policy)"
        raise SandboxError(
            f"the sandbox container did not come up (status {container.status}); "
            f"the image {self.image!r} needs {needs}"
        )

    def _ready_test(self) -> str:
        test = f"test -f {STATE_DIR}/last"
        if self.config.network == "policy":
            from guardrail.egress.wiring import ready_test

            test += f" && {ready_test()}"
        return test

    def _quick(self, container: Any, argv: list[str]) -> tuple[int, bytes]:
        """A short helper exec (no cap, no timeout); (-1, error) when it cannot run."""
        try:
            result = container.exec_run(argv, user=self.user, demux=False)
        except Exception as exc:
            return -1, str(exc).encode()
        return int(result.exit_code if result.exit_code is not None else -1), result.output or b""

    def close(self) -> None:
        """Stop and remove the session's container (idempotent)."""
        import docker.errors

        self._drop_runner()
        with self._lock:
            container, self._container = self._container, None
            try:
                if container is None:
                    container = self.client.containers.get(self.name)
                remove_container(container)
            except (docker.errors.NotFound, SandboxError):
                pass
            finally:
                self._close_client()

    def release(self) -> None:
        """Forget the container but leave it running for the session's next process."""
        self._drop_runner()
        with self._lock:
            self._container = None
            self._close_client()

    def _close_client(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None

    def __enter__(self) -> DockerSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ exec

    def exec(
        self,
        command: str,
        *,
        cwd: str,
        timeout: float | None = None,
        stdin: bytes | None = None,
        env: dict[str, str] | None = None,
        on_output: OutputSink | None = None,
    ) -> ExecResult:
        import docker.errors

        start = time.monotonic()
        if self.config.network == "policy":  # also for calls that do not inherit the container's
            env = {**self._egress_env(), **(env or {})}
        try:
            return self._exec(command, cwd, timeout, stdin, env, on_output, start)
        except SandboxError as exc:
            return ExecResult(-1, b"", b"", duration=time.monotonic() - start, error=str(exc))
        except docker.errors.DockerException as exc:
            why = f"the sandbox failed: {_explain(exc)}"
            return ExecResult(-1, b"", b"", duration=time.monotonic() - start, error=why)

    def _exec(
        self,
        command: str,
        cwd: str,
        timeout: float | None,
        stdin: bytes | None,
        env: dict[str, str] | None,
        on_output: OutputSink | None,
        start: float,
    ) -> ExecResult:
        import docker.errors

        self.start()
        self._calls += 1
        runner = self._runner_for_call()
        if runner is not None:
            return self._exec_in_runner(runner, command, cwd, timeout, stdin, env, on_output, start)
        token = uuid.uuid4().hex[:16]
        pidfile = f"{STATE_DIR}/run/{token}"
        keep = "keep" if self.config.keep_background else "reap"
        argv = ["sh", "-c", EXEC_WRAPPER, "guardrail-exec", command, pidfile, keep]
        try:
            exec_id = self._exec_create(argv, cwd, stdin is not None, env)
        except docker.errors.APIError as exc:
            if "is not running" not in str(exc) and exc.status_code not in (404, 409):
                raise SandboxError(f"cannot run in the sandbox: {_explain(exc)}") from exc
            self._forget()  # it stopped (idle, killed): replace it once
            self.start()
            exec_id = self._exec_create(argv, cwd, stdin is not None, env)
        capture = OutputCapture(self.config.output_cap, on_output)
        limit = self.config.timeout if timeout is None else timeout
        finished, timed_out = self._stream(exec_id, stdin, capture, limit, pidfile)
        replaced = timed_out and not finished
        exit_code = TIMEOUT_EXIT if timed_out else self._exit_code(exec_id)
        oom = exit_code == 137 and self._oom_happened()
        error = None
        stdout = capture.stdout.value()
        if exit_code == 126 and stdout.startswith(b"OCI runtime exec failed"):
            # The engine could not start the call at all (a cwd missing in the sandbox, ...).
            error = (
                "the sandbox could not start the command: "
                + stdout.decode(errors="replace").strip()
            )
            stdout = b""
        elif timed_out:
            error = f"timed out after {limit:g}s: the call's process group was killed"
            if replaced:
                error += "; the sandbox was replaced"
        elif oom:
            error = f"killed: out of memory (limit {self.config.memory // (1024 * 1024)} MiB)"
        return ExecResult(
            exit_code=exit_code,
            stdout=stdout,
            stderr=capture.stderr.value(),
            stdout_truncated=capture.stdout.truncated,
            stderr_truncated=capture.stderr.truncated,
            duration=time.monotonic() - start,
            timed_out=timed_out,
            oom_killed=oom,
            error=error,
        )

    def _environment(self, env: dict[str, str] | None) -> dict[str, str]:
        return {"HOME": "/tmp", **self.config.env, **(env or {})}

    def _exec_create(
        self, argv: list[str], cwd: str, with_stdin: bool, env: dict[str, str] | None
    ) -> str:
        environment = self._environment(env)
        assert self._container is not None
        result = self.client.api.exec_create(
            self._container.id,
            argv,
            stdin=with_stdin,
            user=self.user,
            environment=environment,
            workdir=cwd,
        )
        return str(result["Id"])

    # ------------------------------------------------------------ the resident runner

    def _runner_for_call(self) -> Runner | None:
        """The running runner, started when due; None means: use one exec per call."""
        with self._runner_lock:  # calls from several threads start one runner, not several
            return self._runner_due()

    def _runner_due(self) -> Runner | None:
        if self._use_runner is False or self._runner_failures >= RUNNER_MAX_FAILURES:
            return None
        if self._use_runner is None and self._calls < 2:
            return None
        if self._runner is not None and self._runner.alive:
            return self._runner
        if self._runner is not None:  # it died: most likely with its container (idle, killed)
            self._forget()
            self.start()
        self._runner = self._start_runner()
        if self._runner is None:
            self._runner_failures += 1
        return self._runner

    def _start_runner(self) -> Runner | None:
        import docker.errors

        for attempt in range(2):
            container = self._container
            if container is None:
                return None
            try:
                exec_id = self.client.api.exec_create(
                    container.id,
                    ["python3", "-c", RUNNER_SOURCE],
                    stdin=True,
                    user=self.user,
                    environment={"HOME": "/tmp"},
                    workdir="/",
                )["Id"]
                sock = self.client.api.exec_start(exec_id, socket=True)
                break
            except docker.errors.APIError:
                if attempt:
                    return None
                self._forget()  # stopped under us (idle): start afresh, once
                self.start()
        else:  # pragma: no cover - the loop breaks or returns
            return None
        raw: socket.socket = getattr(sock, "_sock", sock)
        raw.settimeout(None)
        runner = Runner(sock, raw, _reader(sock, raw))
        if not runner.wait_ready(RUNNER_START_WAIT):  # no python3 in the image, ...
            runner.close()
            return None
        return runner

    def _drop_runner(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.close()

    def _exec_in_runner(
        self,
        runner: Runner,
        command: str,
        cwd: str,
        timeout: float | None,
        stdin: bytes | None,
        env: dict[str, str] | None,
        on_output: OutputSink | None,
        start: float,
    ) -> ExecResult:
        capture = OutputCapture(self.config.output_cap, on_output)
        limit = self.config.timeout if timeout is None else timeout
        try:
            outcome = runner.call(
                command,
                cwd=cwd,
                env=self._environment(env),
                stdin=stdin,
                keep=self.config.keep_background,
                capture=capture,
                limit=limit,
                grace=KILL_GRACE,
            )
        except RunnerGone as exc:
            hung = runner.alive  # alive but deaf to the kill, rather than dead
            self._runner_failures += 1
            self._kill_container()  # whatever the call left, it goes with the container
            why = f"timed out after {limit:g}s" if hung else f"the call failed: {exc}"
            return ExecResult(
                exit_code=TIMEOUT_EXIT if hung else -1,
                stdout=capture.stdout.value(),
                stderr=capture.stderr.value(),
                stdout_truncated=capture.stdout.truncated,
                stderr_truncated=capture.stderr.truncated,
                duration=time.monotonic() - start,
                timed_out=hung,
                error=f"{why}; the sandbox was replaced",
            )
        exit_code, error = outcome.status, outcome.error
        oom = False
        if outcome.timed_out:
            exit_code = TIMEOUT_EXIT
            error = f"timed out after {limit:g}s: the call's process group was killed"
        elif error is not None:
            exit_code = 126
            error = f"the sandbox could not start the command: {error}"
        elif exit_code == 137 and outcome.oom_kills > self._oom_seen >= 0:
            oom = True
            error = f"killed: out of memory (limit {self.config.memory // (1024 * 1024)} MiB)"
        self._oom_seen = max(self._oom_seen, outcome.oom_kills)
        return ExecResult(
            exit_code=exit_code,
            stdout=capture.stdout.value(),
            stderr=capture.stderr.value(),
            stdout_truncated=capture.stdout.truncated,
            stderr_truncated=capture.stderr.truncated,
            duration=time.monotonic() - start,
            timed_out=outcome.timed_out,
            oom_killed=oom,
            error=error,
        )

    def _forget(self) -> None:
        self._drop_runner()
        with self._lock:
            self._container = None

    def _stream(
        self,
        exec_id: str,
        stdin: bytes | None,
        capture: OutputCapture,
        limit: float,
        pidfile: str,
    ) -> tuple[bool, bool]:
        """Pump output until the exec ends or `limit` passes; (stream ended, timed out)."""
        sock = self.client.api.exec_start(exec_id, socket=True)
        raw: socket.socket = getattr(sock, "_sock", sock)
        raw.settimeout(None)
        pump = threading.Thread(target=_pump, args=(_reader(sock, raw), capture), daemon=True)
        pump.start()
        if stdin is not None:
            threading.Thread(target=_feed_stdin, args=(raw, stdin), daemon=True).start()
        else:
            with contextlib.suppress(OSError):
                raw.shutdown(socket.SHUT_WR)
        pump.join(limit)
        timed_out = pump.is_alive()
        if timed_out:
            if not self._kill_group(pidfile):
                self._kill_container()
            pump.join(KILL_GRACE)
            if pump.is_alive():  # something escaped the group and holds the pipe
                self._kill_container()
                pump.join(KILL_GRACE)
        finished = not pump.is_alive()
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)  # wakes a pump still blocked in a read
        with contextlib.suppress(OSError):
            raw.close()
        with contextlib.suppress(Exception):
            sock.close()
        return finished, timed_out

    def _exit_code(self, exec_id: str) -> int:
        deadline = time.monotonic() + 5.0
        while True:
            info = self.client.api.exec_inspect(exec_id)
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            if time.monotonic() > deadline:
                return -1
            time.sleep(0.005)

    def _kill_group(self, pidfile: str) -> bool:
        """Kill the call's process group from inside; False when no exec can start."""
        if self._container is None:
            return False
        code, _ = self._quick(self._container, ["sh", "-c", KILL_GROUP, "guardrail-kill", pidfile])
        return code == 0

    def _kill_container(self) -> None:
        """Last resort: kill the whole container; the next call starts a fresh one."""
        self._drop_runner()
        with self._lock:
            container, self._container = self._container, None
        if container is not None:
            remove_container(container)

    def _read_oom_count(self, container: Any) -> int:
        code, out = self._quick(container, ["sh", "-c", OOM_COUNT])
        try:
            return int(out.strip()) if code == 0 else -1
        except ValueError:
            return -1

    def _oom_happened(self) -> bool:
        if self._container is None:
            return False
        count = self._read_oom_count(self._container)
        happened = count > self._oom_seen >= 0
        self._oom_seen = max(count, self._oom_seen)
        return happened

    # ------------------------------------------------------------ files

    def copy_in(self, src: Path, dest: str) -> None:
        """Copy via `tar` in the sandbox, so that tmpfs and the workspace both work."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(str(src), arcname=os.path.basename(dest.rstrip("/")))
        parent = os.path.dirname(dest.rstrip("/")) or "/"
        result = self._exec_internal(
            ["tar", "-xf", "-", "-C", parent, "--no-same-owner"], buffer.getvalue()
        )
        if result.exit_code != 0:
            raise SandboxError(
                f"cannot copy {src} to {dest}: {result.stderr.decode(errors='replace').strip()}"
            )

    def copy_out(self, src: str, dest: Path) -> None:
        parent, name = os.path.split(src.rstrip("/"))
        result = self._exec_internal(["tar", "-cf", "-", "-C", parent or "/", name], None)
        if result.exit_code != 0 or result.stdout_truncated:
            why = (
                "larger than the output cap"
                if result.stdout_truncated
                else result.stderr.decode(errors="replace").strip()
            )
            raise SandboxError(f"cannot copy {src} out of the sandbox: {why}")
        with tarfile.open(fileobj=io.BytesIO(result.stdout), mode="r") as tar:
            member = tar.getmembers()[0]
            extracted = tar.extractfile(member) if member.isfile() else None
            if extracted is not None:
                dest.write_bytes(extracted.read())
            else:
                tar.extractall(dest.parent, filter="data")
                if Path(dest.parent, name) != dest:
                    Path(dest.parent, name).rename(dest)

    def _exec_internal(self, argv: list[str], stdin: bytes | None) -> ExecResult:
        quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in argv)
        return self.exec(quoted, cwd="/", stdin=stdin)


# ---------------------------------------------------------------- stream plumbing


Read = Callable[[int], bytes]


def _reader(sock: Any, raw: socket.socket) -> Read:
    """Read through the HTTP response's buffer when there is one.

    The engine may send the first output right behind the `101 UPGRADED`
    headers; the HTTP client's buffered reader then already holds it, and
    reading the bare socket would lose it.
    """
    response = getattr(sock, "_response", None)
    buffered = getattr(getattr(getattr(response, "raw", None), "_fp", None), "fp", None)
    if (
        buffered is not None
        and getattr(buffered, "raw", None) is sock
        and hasattr(buffered, "read1")
    ):
        return cast(Read, buffered.read1)
    return raw.recv


def _read_exactly(read: Read, n: int) -> bytes:
    parts: list[bytes] = []
    while n > 0:
        chunk = read(min(n, 65536))
        if not chunk:
            break
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _pump(read: Read, capture: OutputCapture) -> None:
    """Demultiplex Docker's framed stream (8-byte header: stream, 0, 0, 0, size)."""
    names = {1: "stdout", 2: "stderr"}
    try:
        while True:
            header = _read_exactly(read, 8)
            if len(header) < 8:
                return
            kind, size = struct.unpack(">BxxxL", header)
            while size > 0:
                chunk = read(min(size, 65536))
                if not chunk:
                    return
                size -= len(chunk)
                if kind in names:
                    capture.feed(names[kind], chunk)
    except (OSError, ValueError):  # closed under us after a timeout
        return


def _feed_stdin(raw: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)


# ---------------------------------------------------------------- housekeeping


def remove_container(container: Any, wait: float = 10.0) -> None:
    """Force-remove and wait until it is gone, so that its name is free for a successor."""
    import docker.errors

    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        return
    except docker.errors.APIError:
        pass  # a removal already in progress (auto_remove): wait for it below
    with contextlib.suppress(Exception):
        container.client.api.wait(container.id, timeout=wait, condition="removed")


def _explain(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc)


def managed_containers(client: Any, *, all_states: bool = True) -> list[Any]:
    """Every container guardrail started on this engine (by label)."""
    # ignore_removed: an idle container may remove itself between the list and its inspect.
    return list(
        client.containers.list(
            all=all_states, filters={"label": f"{LABEL_MANAGED}=true"}, ignore_removed=True
        )
    )


def prune_stale(client: Any, *, created_grace: float = 60.0) -> list[str]:
    """Remove guardrail containers that stopped, or were created and never started.

    A container only just created may be another process's start in
    progress: it is left alone for `created_grace` seconds.
    """
    removed = []
    for container in managed_containers(client):
        status = container.status
        if status == "created" and _age(container) < created_grace:
            continue
        if status not in ("running", "restarting", "removing"):
            remove_container(container)
            removed.append(container.name)
    return removed


def _age(container: Any) -> float:
    """Seconds since the container was created (0 when unknown: treated as new)."""
    from datetime import UTC, datetime

    created = str(container.attrs.get("Created", ""))
    try:
        # "2026-11-30T04:10:00.123456789Z": Python parses at most microseconds
        stamp = datetime.fromisoformat(created[:26].rstrip("Z") + "+00:00")
    except ValueError:
        return 0.0
    return (datetime.now(UTC) - stamp).total_seconds()


def iter_sessions(client: Any) -> Iterator[dict[str, str]]:
    """One row per guardrail container, for `guardrail sandbox ls`."""
    for container in managed_containers(client):
        labels = container.labels
        yield {
            "name": container.name,
            "id": container.short_id,
            "status": container.status,
            "session": labels.get(LABEL_SESSION, ""),
            "workspace": labels.get(LABEL_WORKSPACE, ""),
            "version": labels.get(LABEL_VERSION, ""),
            "image": (container.image.tags or [container.image.short_id])[0]
            if container.image
            else "",
        }
