"""`guardrail call` and the executor dispatch behind it."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from guardrail.calls import DbCall, FileCall, HttpCall, ShellCall, ToolCall
from guardrail.cli.call import call_command, run_lines
from guardrail.decision import Decision, FiredRule, Risk, Verdict
from guardrail.tools import make_executors


def fake_check(call: ToolCall) -> Decision:
    """Reads and sqlite selects allowed, `secret.txt` asked, everything else denied."""
    if isinstance(call, FileCall) and call.path == "secret.txt":
        verdict = Verdict.ASK
    elif (isinstance(call, FileCall) and call.op in ("read", "write")) or isinstance(call, DbCall):
        verdict = Verdict.ALLOW
    else:
        verdict = Verdict.DENY
    fired = FiredRule("fake", verdict, Risk.LOW, None)
    return Decision(verdict, Risk.LOW, f"fake: {verdict}", (fired,))


def run(workspace: Path, lines: list[str], **settings: Any) -> tuple[int, list[dict[str, Any]]]:
    executors = make_executors(workspace, decide=fake_check, **settings)
    out = io.StringIO()
    try:
        code = run_lines(lines, fake_check, executors.execute, out)
    finally:
        executors.close()
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_batch(workspace: Path) -> None:
    (workspace / "a.txt").write_text("hello\n")
    code, records = run(
        workspace,
        [
            '{"tool": "file", "op": "read", "path": "a.txt"}',
            "not json",
            "",
            '{"tool": "file", "op": "write", "path": "b.txt", "content": "x"}',
            '{"tool": "file", "op": "delete", "path": "a.txt"}',
            '{"tool": "file", "op": "read", "path": "secret.txt"}',
            '{"tool": "file", "op": "read", "path": "missing.txt"}',
        ],
    )
    assert code == 1
    assert [r["line"] for r in records] == [1, 2, 4, 5, 6, 7]
    assert records[0]["decision"]["decision"] == "allow"
    assert records[0]["result"]["output"]["content"] == "hello\n"
    assert records[1]["decision"]["decision"] == "deny" and records[1]["result"] is None
    assert "not JSON" in records[1]["decision"]["reason"]
    assert records[2]["result"]["ok"] is True and (workspace / "b.txt").read_text() == "x"
    assert records[3]["decision"]["decision"] == "deny" and (workspace / "a.txt").exists()
    assert records[4]["decision"]["decision"] == "ask" and records[4]["result"] is None
    assert "approval" in records[4]["note"]
    assert records[5]["result"]["ok"] is False and "missing.txt" in records[5]["result"]["error"]


def test_all_ok_exits_zero_and_db_settings_from_the_policy(workspace: Path) -> None:
    sqlite3.connect(workspace / "app.db").execute("CREATE TABLE t (x)").connection.close()
    code, records = run(
        workspace,
        ['{"tool": "db", "query": "SELECT count(*) AS n FROM t"}'],
        databases={"app": {"url": "sqlite:///app.db", "read_only": True}},
        tools={"max_read_bytes": 100},
    )
    assert code == 0
    assert records[0]["result"]["output"]["rows"] == [[0]]


def test_checker_that_raises_is_a_deny(workspace: Path) -> None:
    def broken(call: ToolCall) -> Decision:
        raise RuntimeError("boom")

    out = io.StringIO()
    code = run_lines(['{"tool": "file", "op": "read", "path": "a"}'], broken, fake_check, out)
    record = json.loads(out.getvalue())
    assert (
        code == 1
        and record["decision"]["decision"] == "deny"
        and "boom" in record["decision"]["reason"]
    )


def test_dispatch_refuses_shell_and_reports_broken_settings(workspace: Path) -> None:
    executors = make_executors(workspace)
    assert not executors.execute(ShellCall(command="ls")).ok
    result = executors.execute(DbCall(query="SELECT 1"))
    assert not result.ok and "databases" in (result.error or "")
    assert executors.execute(FileCall(op="list", path=".")).ok
    assert not executors.execute(HttpCall(url="http://169.254.169.254/")).ok
    executors.close()


POLICY = """\
version: 1
fallback: deny
rules:
  - id: read-inside
    description: Reading inside the workspace.
    decision: allow
    match: {effect: path, op: [read, list], location: [inside]}
"""


def test_cli_one_json_line_per_call(workspace: Path) -> None:
    """Whatever the policy says, each input line gets one JSON answer; bad lines are denied."""
    app = typer.Typer()
    app.command()(call_command)
    calls = workspace / "calls.jsonl"
    calls.write_text('{"tool": "file", "op": "list", "path": "."}\n{"tool": "nope"}\n')
    policy = workspace.parent / "policy.yaml"
    policy.write_text(POLICY)
    args = ["--workspace", str(workspace), "--policy", str(policy), str(calls)]
    result = CliRunner().invoke(app, args)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in records] == [1, 2]
    assert (
        records[1]["decision"]["decision"] == "deny"
        and "unknown tool" in records[1]["decision"]["reason"]
    )
    assert result.exit_code in (0, 1)


def test_cli_bad_workspace(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(call_command)
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "nope")])
    assert result.exit_code == 2
