"""`guardrail run` with a fake guard and a fake sandbox: the verdict decides, exit codes hold."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import guardrail.sandbox
from guardrail.calls import ShellCall, ToolCall
from guardrail.cli import EXIT_REFUSED
from guardrail.cli import run as run_module
from guardrail.decision import Decision, FiredRule, Risk, Verdict
from guardrail.sandbox.base import ExecResult
from guardrail.sandbox.fake import FakeSandbox


class StubGuard:
    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        self.checked: list[ToolCall] = []

    def check(self, call: ToolCall) -> Decision:
        self.checked.append(call)
        fired = (FiredRule("rule-x", self.verdict, Risk.MEDIUM, None, "because"),)
        return Decision(self.verdict, Risk.MEDIUM, f"stub says {self.verdict}", fired)


@pytest.fixture
def app() -> typer.Typer:
    application = typer.Typer()
    application.command()(run_module.run_command)
    return application


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeSandbox:
    sandbox = FakeSandbox(default=ExecResult(3, b"out\n", b"err\n"))
    opened: list[dict[str, Any]] = []

    def open_fake(
        config: Any, workspace: Path, session: str, no_sandbox: bool = False, **kw: Any
    ) -> FakeSandbox:
        opened.append({"workspace": workspace, "session": session, "no_sandbox": no_sandbox, **kw})
        return sandbox

    monkeypatch.setattr(guardrail.sandbox, "open_sandbox", open_fake)
    sandbox.opened = opened  # type: ignore[attr-defined]
    return sandbox


def _use_guard(monkeypatch: pytest.MonkeyPatch, verdict: Verdict) -> StubGuard:
    guard = StubGuard(verdict)
    monkeypatch.setattr(run_module, "_guard", lambda policy, workspace: guard)
    return guard


def test_allow_runs_streams_and_exits_with_the_status(
    app: typer.Typer, fake: FakeSandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = _use_guard(monkeypatch, Verdict.ALLOW)
    result = CliRunner().invoke(
        app, ["--workspace", str(workspace), "--image", "img:1", "--", "ls", "-la", "my dir"]
    )
    assert result.exit_code == 3
    assert result.stdout == "out\n"
    assert "err" in result.stderr
    assert fake.commands == ["ls -la 'my dir'"]
    assert guard.checked == [ShellCall(command="ls -la 'my dir'", cwd=str(workspace.resolve()))]
    assert fake.opened[0]["image"] == "img:1"  # type: ignore[attr-defined]
    assert fake.released and not fake.closed  # stays warm for the next call


def test_one_argument_is_a_shell_line(
    app: typer.Typer, fake: FakeSandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_guard(monkeypatch, Verdict.ALLOW)
    CliRunner().invoke(app, ["-w", str(workspace), "--timeout", "5", "--", "make test | tail"])
    assert fake.commands == ["make test | tail"]
    assert fake.calls[0].timeout == 5


def test_deny_is_refused_with_the_reason(
    app: typer.Typer, fake: FakeSandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_guard(monkeypatch, Verdict.DENY)
    result = CliRunner().invoke(app, ["-w", str(workspace), "--", "rm", "-rf", "/"])
    assert result.exit_code == EXIT_REFUSED
    assert "denied: stub says deny [rule-x]" in result.stderr
    assert fake.commands == []


def test_ask_without_a_terminal_is_denied(
    app: typer.Typer, fake: FakeSandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_guard(monkeypatch, Verdict.ASK)
    monkeypatch.setattr(run_module, "TTY", str(workspace / "no-such-tty"))
    result = CliRunner().invoke(app, ["-w", str(workspace), "--", "git", "push"])
    assert result.exit_code == EXIT_REFUSED
    assert "no terminal" in result.stderr
    assert fake.commands == []


@pytest.mark.parametrize(
    ("answer", "runs"), [("y\n", True), ("yes\n", True), ("\n", False), ("n\n", False)]
)
def test_ask_on_a_terminal(
    app: typer.Typer,
    fake: FakeSandbox,
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    runs: bool,
) -> None:
    _use_guard(monkeypatch, Verdict.ASK)
    master, slave = os.openpty()  # a real terminal; the user has typed the answer already
    try:
        os.write(master, answer.encode())
        monkeypatch.setattr(run_module, "TTY", os.ttyname(slave))
        result = CliRunner().invoke(
            app, ["-w", str(workspace), "--no-sandbox", "--", "git", "push"]
        )
        prompt = _drain(master)
    finally:
        os.close(master)
        os.close(slave)
    assert b"Run it? [y/N]" in prompt
    assert (fake.commands == ["git push"]) is runs
    assert result.exit_code == (3 if runs else EXIT_REFUSED)
    assert fake.opened == (
        [
            {
                "workspace": workspace.resolve(),
                "session": "default",
                "no_sandbox": True,
                "image": None,
            }
        ]
        if runs
        else []
    )  # type: ignore[attr-defined]


def test_sandbox_failure_is_an_internal_error(
    app: typer.Typer, fake: FakeSandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_guard(monkeypatch, Verdict.ALLOW)
    fake.default = ExecResult(-1, b"", b"", error="cannot reach the Docker engine")
    result = CliRunner().invoke(app, ["-w", str(workspace), "--", "true"])
    assert result.exit_code == 3
    assert "cannot reach the Docker engine" in result.stderr


def _drain(fd: int) -> bytes:
    """Everything the terminal has shown so far (echo of the answer, the prompt)."""
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except (BlockingIOError, OSError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
