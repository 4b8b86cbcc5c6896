"""The sandbox interface: where allowed shell commands run.

Backends: `docker.DockerSandbox` (the real one), `host.HostSandbox`
(`--no-sandbox`: runs on the host after the check, and says so), and
`fake.FakeSandbox` (records calls, for unit tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
