"""`--no-sandbox`: run allowed commands on the host, with the same timeout and caps.

For users without Docker. The policy check still happens; only the
containment is missing, and guardrail says so on stderr when the session
starts, so that nobody mistakes it for the sandbox.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from guardrail.sandbox.base import ExecResult, OutputSink
from guardrail.sandbox.config import SandboxConfig
from guardrail.sandbox.output import OutputCapture

TIMEOUT_EXIT = 124
WARNING = "guardrail: --no-sandbox: commands run on this host, not contained (checked by the policy only)\n"


class HostSandbox:
    """Runs each command with `sh -c` in its own process group on the host."""

    def __init__(self, config: SandboxConfig, workspace: Path, session: str) -> None:
        self.config = config
        self.workspace = workspace.resolve()
        self.session = session
        self.name = f"host:{session}"
        self._warned = False

    def start(self) -> None:
        if not self._warned:
            sys.stderr.write(WARNING)
            sys.stderr.flush()
            self._warned = True

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
        self.start()
        started = time.monotonic()
        environment = {**os.environ, **self.config.env, **(env or {})}
        try:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", command],
                cwd=cwd,
                env=environment,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, to kill it whole
            )
        except OSError as exc:
            return ExecResult(-1, b"", b"", duration=time.monotonic() - started, error=str(exc))
        capture = OutputCapture(self.config.output_cap, on_output)
        assert proc.stdout is not None and proc.stderr is not None
        pumps = [
            threading.Thread(target=_pump, args=(proc.stdout, "stdout", capture), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, "stderr", capture), daemon=True),
        ]
        for pump in pumps:
            pump.start()
        if stdin is not None:
            threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True).start()
        limit = self.config.timeout if timeout is None else timeout
        timed_out = False
        try:
            proc.wait(limit)
        except subprocess.TimeoutExpired:
            timed_out = True
        if timed_out or not self.config.keep_background:
            _kill_group(proc.pid)  # also takes any background children left behind
        proc.wait()
        for pump in pumps:
            pump.join(2.0)
        return ExecResult(
            exit_code=TIMEOUT_EXIT if timed_out else _status(proc.returncode),
            stdout=capture.stdout.value(),
            stderr=capture.stderr.value(),
            stdout_truncated=capture.stdout.truncated,
            stderr_truncated=capture.stderr.truncated,
            duration=time.monotonic() - started,
            timed_out=timed_out,
            error=f"timed out after {limit:g}s: the call's process group was killed"
            if timed_out
            else None,
        )

    def copy_in(self, src: Path, dest: str) -> None:
        _copy(src, Path(dest))

    def copy_out(self, src: str, dest: Path) -> None:
        _copy(Path(src), dest)

    def release(self) -> None:
        """Nothing stays running between calls on the host."""

    def close(self) -> None:
        """Nothing to stop."""


def _status(returncode: int) -> int:
    """Shell convention: killed by signal N -> 128 + N, as in the container."""
    return 128 - returncode if returncode < 0 else returncode


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _pump(pipe: IO[bytes], name: str, capture: OutputCapture) -> None:
    fd = pipe.fileno()
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        capture.feed(name, chunk)
    pipe.close()


def _feed(pipe: IO[bytes] | None, data: bytes) -> None:
    if pipe is None:
        return
    with contextlib.suppress(OSError):
        pipe.write(data)
        pipe.close()


def _copy(src: Path, dest: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dest, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dest)
