"""`guardrail suggest` and `guardrail approvals serve`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml
from typer.testing import CliRunner

from guardrail.approval.base import ApprovalAnswer
from guardrail.audit import AuditTrail, approval_data, call_data, decision_data
from guardrail.cli.suggest import suggest_command

from .helpers import shell_decision


def _approved(trail: AuditTrail, n: int, command: str, answer: str = "allow_once", host: str = "pypi.org") -> None:
    call, decision = shell_decision(command, host=host)
    cid = f"{command}-{n}"
    trail.append("call", call_data(call, call_id=cid, call_hash="h"))
    trail.append("decision", decision_data(decision, call_id=cid))
    trail.append("approval", approval_data(ApprovalAnswer(answer, "h", "terminal", "ana"), call_id=cid))  # type: ignore[arg-type]


def _app() -> object:
    import typer

    app = typer.Typer()
    app.command()(suggest_command)
    return app


def test_suggest_proposes_rules_for_what_was_approved_often(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    trail = AuditTrail(path, fsync=False)
    for n in range(3):
        _approved(trail, n, "pip install rich")
    for n in range(2):
        _approved(trail, n, "pip install left-pad")
    for n in range(4):
        _approved(trail, n, "pip install evil", answer="deny")
    result = CliRunner().invoke(_app(), ["--trail", str(path), "--min-count", "3"])  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    rules = yaml.safe_load(result.stdout)
    [exec_rule] = rules  # only the effect that was asked about gets a rule
    assert exec_rule["match"]["effect"] == "exec"
    assert exec_rule["decision"] == "allow"
    assert exec_rule["match"]["not"] == {"any": [{"not": {"args": ["install"]}}, {"not": {"args": ["rich"]}}]}
    assert exec_rule["examples"] == {"match": ["pip install rich"]}
    assert "Approved 3 times" in exec_rule["description"]
    assert "evil" not in result.stdout and "left-pad" not in result.stdout
    lower = CliRunner().invoke(_app(), ["--trail", str(path), "--min-count", "2", "--format", "json"])  # type: ignore[arg-type]
    proposed = json.dumps(json.loads(lower.stdout)["rules"])
    assert "left-pad" in proposed and "evil" not in proposed


def test_suggest_without_a_trail_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["--trail", str(tmp_path / "none.jsonl")])  # type: ignore[arg-type]
    assert result.exit_code == 1


def test_approvals_serve_prints_its_url_and_announces_itself(workspace: Path) -> None:
    code = "from guardrail.cli.approvals import approvals_app; approvals_app()"
    with subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", "0", "--workspace", str(workspace)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()  # blocks until the server is up
            assert url.startswith("http://127.0.0.1:")
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(url, timeout=30) as resp:
                assert "guardrail" in resp.read().decode()
                assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
            server_file = json.loads((workspace / ".guardrail" / "approvals-server.json").read_text())
            assert server_file["url"].startswith("http://127.0.0.1:") and url not in server_file["url"]
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    assert not (workspace / ".guardrail" / "approvals-server.json").exists()


def test_approvals_serve_refuses_a_public_address(workspace: Path) -> None:
    from guardrail.cli.approvals import approvals_app

    result = CliRunner().invoke(approvals_app, ["serve", "--host", "0.0.0.0", "--workspace", str(workspace)])
    assert result.exit_code == 2
