"""A sandbox that runs nothing: records calls and answers from a script.

For unit tests of everything that drives a sandbox (the pipeline, the CLI)
without Docker. Script results per command (exact text or a callable), or
a default; every call is kept in `calls` in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from guardrail.sandbox.base import ExecResult, OutputSink

Responder = ExecResult | Callable[["FakeCall"], ExecResult]


@dataclass(frozen=True)
class FakeCall:
    command: str
    cwd: str
    timeout: float | None
    stdin: bytes | None
    env: dict[str, str] | None


@dataclass
class FakeSandbox:
    """Answers `exec` from `results` (by exact command) or `default`."""

    results: dict[str, Responder] = field(default_factory=dict)
    default: Responder = field(default_factory=lambda: ExecResult(0, b"", b""))
    name: str = "fake"
    calls: list[FakeCall] = field(default_factory=list)
    copies: list[tuple[str, str, str]] = field(default_factory=list)  # (direction, src, dest)
    started: bool = False
    closed: bool = False
    released: bool = False

    def script(self, command: str, result: Responder) -> None:
        self.results[command] = result

    def start(self) -> None:
        self.started = True

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
        if self.closed:
            return ExecResult(-1, b"", b"", error="the fake sandbox is closed")
        self.started = True
        call = FakeCall(command, cwd, timeout, stdin, None if env is None else dict(env))
        self.calls.append(call)
        responder = self.results.get(command, self.default)
        result = responder(call) if callable(responder) else responder
        if on_output is not None:
            if result.stdout:
                on_output("stdout", result.stdout)
            if result.stderr:
                on_output("stderr", result.stderr)
        return result

    @property
    def commands(self) -> list[str]:
        return [call.command for call in self.calls]

    def copy_in(self, src: Path, dest: str) -> None:
        self.copies.append(("in", str(src), dest))

    def copy_out(self, src: str, dest: Path) -> None:
        self.copies.append(("out", src, str(dest)))

    def release(self) -> None:
        self.released = True

    def close(self) -> None:
        self.closed = True
