"""The sandbox interface: where allowed shell commands run.

Backends: `docker.DockerSandbox` (the real one), `host.HostSandbox`
(`--no-sandbox`: runs on the host after the check, and says so), and
`fake.FakeSandbox` (records calls, for unit tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# Called with ("stdout" | "stderr", chunk) as output arrives.
OutputSink = Callable[[str, bytes], None]


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    stdout: bytes
    stderr: bytes
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration: float = 0.0
    timed_out: bool = False
    oom_killed: bool = False
    error: str | None = None  # why the command could not run, if it could not

    @property
    def ok(self) -> bool:
        """The command ran to completion and exited 0."""
        return self.exit_code == 0 and not self.timed_out and self.error is None


class Sandbox(Protocol):
    """A place to run shell commands for one session and workspace."""

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
        """Run `command` with `sh -c` in `cwd`; never raises for the command's own failure."""
        ...

    def close(self) -> None:
        """Stop the session's resources (idempotent)."""
        ...


class ManagedSandbox(Sandbox, Protocol):
    """A sandbox with an explicit lifecycle and file transfer (all backends here are one).

    `start` is optional: `exec` starts on demand. `release` lets go of the
    sandbox without stopping it, so that the next process of the same
    session (the next `guardrail run`) finds it warm.
    """

    name: str

    def start(self) -> None:
        """Make the sandbox ready (idempotent); raises SandboxError when it cannot."""
        ...

    def release(self) -> None:
        """Drop this process's handle, leaving the sandbox warm for the session's next call."""
        ...

    def copy_in(self, src: Path, dest: str) -> None:
        """Copy the host file or directory `src` into the sandbox as `dest` (absolute)."""
        ...

    def copy_out(self, src: str, dest: Path) -> None:
        """Copy the sandbox file or directory `src` to the host path `dest`."""
        ...
