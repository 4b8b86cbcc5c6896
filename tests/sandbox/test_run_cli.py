"""`guardrail run` through the real pipeline, with a fake sandbox and a scripted approver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from guardrail.approval.static import StaticApprover
from guardrail.audit import read_records, verify
from guardrail.cli import EXIT_REFUSED
from guardrail.cli import run as run_module
from guardrail.pipeline import Guard
from guardrail.sandbox.base import ExecResult
from guardrail.sandbox.fake import FakeSandbox


@pytest.fixture
def app() -> typer.Typer:
    application = typer.Typer()
    application.command()(run_module.run_command)
    return application


@pytest.fixture
def fake() -> FakeSandbox:
    return FakeSandbox(default=ExecResult(3, b"out\n", b"err\n"))


def _use(monkeypatch: pytest.MonkeyPatch, sandbox: FakeSandbox, *answers: Any) -> StaticApprover:
    approver = StaticApprover(answers)

    def make(policy: str | None, workspace: Path, **options: Any) -> Guard:
        options.pop("approver_name", None)
        options.pop("no_sandbox", None)
        options.pop("image", None)
        return Guard.from_policy(policy or "default", workspace=workspace, sandbox=sandbox,
                                 approver=approver, **options)

    monkeypatch.setattr(run_module, "_guard", make)
    return approver


def test_allow_runs_streams_and_exits_with_the_status(
    app: typer.Typer, fake: FakeSandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, fake)
    result = CliRunner().invoke(app, ["-w", str(workspace), "--", "ls", "-la", "my dir"])
    assert result.exit_code == 3
    assert fake.commands == ["ls -la 'my dir'"]
    assert "out" in result.stdout and "err" in result.stderr
    trail = workspace / ".guardrail" / "audit.jsonl"
    assert verify(trail).ok
    kinds = [record["kind"] for _, record in read_records(trail)]
    assert kinds == ["call", "decision", "result"]


def test_one_argument_is_a_shell_line(
    app: typer.Typer, fake: FakeSandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, fake)
    CliRunner().invoke(app, ["-w", str(workspace), "--", "ls | wc -l"])
    assert fake.commands == ["ls | wc -l"]


def test_deny_is_refused_with_the_reason(
    app: typer.Typer, fake: FakeSandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, fake)
    result = CliRunner().invoke(app, ["-w", str(workspace), "--", "rm -rf /"])
    assert result.exit_code == EXIT_REFUSED
    assert "change-outside" in result.stderr
    assert fake.commands == []


@pytest.mark.parametrize(("answer", "runs"), [("allow_once", True), ("deny", False)])
def test_ask_goes_to_the_approver(
    app: typer.Typer, fake: FakeSandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch,
    answer: str, runs: bool,
) -> None:
    approver = _use(monkeypatch, fake, (answer, "not today"))
    result = CliRunner().invoke(app, ["-w", str(workspace), "--", "pip install requests"])
    assert len(approver.requests) == 1
    assert (fake.commands == ["pip install requests"]) is runs
    assert result.exit_code == (3 if runs else EXIT_REFUSED)
    if not runs:
        assert "not today" in result.stderr


def test_sandbox_failure_is_an_internal_error(
    app: typer.Typer, fake: FakeSandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, fake)
    fake.default = ExecResult(-1, b"", b"", error="cannot reach the Docker engine")
    result = CliRunner().invoke(app, ["-w", str(workspace), "--", "true"])
    assert result.exit_code == 3
    assert "cannot reach the Docker engine" in result.stderr
