"""`guardrail call [--policy P] [--workspace DIR] [FILE]`: guardrail as a tool executor.

Reads tool calls as JSON Lines (FILE, or standard input), checks each one
against the policy, runs the allowed ones with the file/db/http executors,
and writes one JSON object per input line:

    {"line": 3, "decision": {"decision": "allow", ...}, "result": {"ok": true, "output": ...}}

`result` is null when the call did not run (denied, needs approval, bad
line). A bad line never stops the batch. An `ask` goes to the policy's
approver (`--approver` to choose); shell calls run in the session's sandbox.
Exit status: 0 every call ran and succeeded, 1 some call was refused or
failed, 2 usage or invalid policy, 3 internal error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from guardrail.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from guardrail.calls import ToolCall
    from guardrail.decision import Decision
    from guardrail.tools import ToolExecutors


def call_command(
    file: Annotated[
        str | None, typer.Argument(help="JSON Lines file of calls (default: standard input).")
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option("--policy", "-p", help="Policy name or file (default: the default policy)."),
    ] = None,
    workspace: Annotated[
        Path | None,
        typer.Option("--workspace", "-w", help="Workspace directory (default: the current one)."),
    ] = None,
    no_sandbox: Annotated[
        bool, typer.Option("--no-sandbox", help="Run shell calls on the host after the check.")
    ] = False,
    approver: Annotated[
        str | None,
        typer.Option("--approver", help="terminal, web, webhook or auto (default: the policy's)."),
    ] = None,
) -> None:
    """Check and execute tool calls (JSON Lines in, one JSON result per line out)."""
    from guardrail.errors import GuardrailError
    from guardrail.pipeline import Guard

    ws = (workspace or Path.cwd()).resolve()
    if not ws.is_dir():
        typer.echo(f"guardrail: workspace {ws} is not a directory", err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        guard = Guard.from_policy(policy, workspace=ws, no_sandbox=no_sandbox)
        if approver is not None:
            from guardrail.approval import make_approver

            guard = Guard(guard.policy, guard.workspace, no_sandbox=no_sandbox,
                          approver=make_approver(guard.approval_config, workspace=str(ws), name=approver))
    except GuardrailError as exc:
        typer.echo(f"guardrail: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    try:
        with _input(file) as lines:
            code = run_pipeline(lines, guard, sys.stdout)
    finally:
        guard.close()
    raise typer.Exit(code)


def run_pipeline(lines: Iterable[str | bytes], guard: Any, out: IO[str]) -> int:
    """Each line through the whole pipeline (check, approval, execution, audit), in order."""
    code = EXIT_OK
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        result = guard.run(line)
        record = result.to_dict()
        payload: dict[str, Any] = {
            "line": number,
            "decision": record["decision"],
            "ran": result.ran,
            "reason": result.reason,
            "result": record.get("result"),
        }
        if "approval" in record:
            payload["approval"] = record["approval"]
        if not result.ran or result.error or (result.exit_code not in (0, None)):
            code = EXIT_FINDINGS
        out.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
        out.flush()
    return code


def run_lines(
    lines: Iterable[str | bytes],
    check: Callable[[ToolCall], Decision],
    execute: Callable[[ToolCall], Any],
    out: IO[str],
) -> int:
    """The batch loop, apart from typer so tests and adapters can drive it."""
    from guardrail.calls import parse_line
    from guardrail.decision import Decision, Verdict
    from guardrail.errors import CallError

    code = EXIT_OK
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        result: dict[str, Any] | None = None
        try:
            call = parse_line(line)
            decision = _safe_check(check, call)
        except CallError as exc:
            decision = Decision.deny(str(exc))
        if decision.verdict is Verdict.ALLOW:
            ran = execute(call)
            result = ran.to_dict()
            if not ran.ok:
                code = EXIT_FINDINGS
        else:
            code = EXIT_FINDINGS
        record: dict[str, Any] = {"line": number, "decision": decision.to_dict(), "result": result}
        if decision.verdict is Verdict.ASK:
            record["note"] = (
                "needs approval; guardrail call has no approver, so the call was not run"
            )
        out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        out.flush()
    return code


def _safe_check(check: Callable[[ToolCall], Decision], call: ToolCall) -> Decision:
    """Fail closed: a checker that raises is a deny naming the failure."""
    from guardrail.decision import Decision

    try:
        return check(call)
    except Exception as exc:
        return Decision.deny(f"check failed: {type(exc).__name__}: {exc}", rule_id="internal")


@contextmanager
def _input(file: str | None) -> Iterator[Iterable[bytes]]:
    if file is None or file == "-":
        yield sys.stdin.buffer
        return
    try:
        handle = open(file, "rb")  # noqa: SIM115 - closed below, after the batch
    except OSError as exc:
        typer.echo(f"guardrail: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    with handle:
        yield handle


def _load_guard(
    policy: str | None, workspace: Path
) -> tuple[Callable[[ToolCall], Decision], dict[str, Any]]:
    """The policy check and the policy's `tools`/`databases` sections.

    Uses `guardrail.pipeline.Guard` when it exists; until then every call is
    denied (fail closed), saying why.
    """
    import importlib

    from guardrail.errors import GuardrailError

    try:
        pipeline = importlib.import_module("guardrail.pipeline")
    except ImportError:
        return _StubGuard().check, {}
    try:
        guard = pipeline.Guard.from_policy(policy or "default", workspace=workspace)
    except GuardrailError as exc:
        typer.echo(f"guardrail: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    compiled = getattr(guard, "policy", None)
    settings = {
        "tools": dict(getattr(compiled, "tools", None) or {}),
        "databases": dict(getattr(compiled, "databases", None) or {}),
    }
    check: Callable[[ToolCall], Decision] = guard.check
    return check, settings


class _StubGuard:
    """Stands in for the pipeline's Guard while it does not exist: denies every call."""

    def check(self, call: ToolCall) -> Decision:
        from guardrail.decision import Decision

        return Decision.deny(
            "guardrail.pipeline is not available: calls cannot be checked, so none is run",
            rule_id="internal",
        )


def _executors(
    workspace: Path, settings: dict[str, Any], check: Callable[[ToolCall], Decision]
) -> ToolExecutors:
    from pydantic import ValidationError

    from guardrail.tools import make_executors

    try:
        return make_executors(
            workspace,
            tools=settings.get("tools"),
            databases=settings.get("databases"),
            decide=check,
        )
    except ValidationError as exc:
        typer.echo(f"guardrail: invalid tools/databases settings in the policy: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
