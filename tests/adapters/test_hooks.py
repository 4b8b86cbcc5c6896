"""Agent hooks fed recorded payloads in each agent's documented format.

The payloads under hook_inputs/ follow Claude Code's PreToolUse input
(session_id, cwd, hook_event_name, tool_name, tool_input, tool_use_id) and
Cursor's beforeShellExecution / beforeMCPExecution / beforeReadFile inputs;
`{W}` stands for the workspace.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from guardrail.adapters.hooks.base import load_agent, run_hook

INPUTS = Path(__file__).parent / "hook_inputs"
CASES = sorted(INPUTS.glob("*.json"))


def _load(path: Path, ws: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8").replace("{W}", str(ws))
    return json.loads(text)  # type: ignore[no-any-return]


def _verdict(agent: str, answer: dict[str, Any]) -> str:
    if agent == "claude-code":
        out = answer["hookSpecificOutput"]
        assert out["hookEventName"] == "PreToolUse"
        assert isinstance(out["permissionDecisionReason"], str) and out["permissionDecisionReason"]
        return str(out["permissionDecision"])
    return str(answer["permission"])


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_recorded_payload(path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)
    case = _load(path, workspace)
    answer = run_hook(load_agent(case["agent"]), json.dumps(case["input"]).encode(), audit=False)
    assert _verdict(case["agent"], answer) == case["expect"], answer


def test_deny_reason_names_the_rule(workspace: Path) -> None:
    case = _load(INPUTS / "claude_bash_rm_root_deny.json", workspace)
    answer = run_hook(load_agent("claude-code"), json.dumps(case["input"]).encode(), audit=False)
    reason = answer["hookSpecificOutput"]["permissionDecisionReason"]
    assert "[rule: " in reason and "change-outside" in reason


def test_hook_calls_are_audited(workspace: Path) -> None:
    case = _load(INPUTS / "claude_bash_ls_allow.json", workspace)
    run_hook(load_agent("claude-code"), json.dumps(case["input"]).encode())
    lines = (workspace / ".guardrail" / "audit.jsonl").read_text().splitlines()
    kinds = [json.loads(line)["kind"] for line in lines]
    assert kinds == ["call", "decision"]
    assert json.loads(lines[0])["data"]["call"] == {"tool": "shell", "command": "ls -la src", "cwd": str(workspace)}


def test_shadow_mode_allows_and_says_so(workspace: Path) -> None:
    policy = workspace / "shadow.yaml"
    policy.write_text("version: 1\nextends: default\nmode: shadow\n")
    case = _load(INPUTS / "claude_bash_rm_root_deny.json", workspace)
    answer = run_hook(load_agent("claude-code"), json.dumps(case["input"]).encode(), policy=str(policy), audit=False)
    out = answer["hookSpecificOutput"]
    assert out["permissionDecision"] == "allow"
    assert "would have been deny" in out["permissionDecisionReason"]


BAD_INPUTS = [b"", b"not json", b"[1, 2]", b"\xff\xfe", b'{"tool_name": 3}', b'{"tool_name": "Bash"}',
              b'{"tool_name": "mcp__", "tool_input": {}}', b'{"tool_name": "Bash", "tool_input": {"command": ""}}']


def _run(args: list[str], data: bytes, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("CLAUDE_PROJECT_DIR", None)
    return subprocess.run([sys.executable, "-m", "guardrail", "hook", *args], input=data, capture_output=True,
                          cwd=cwd, env=full_env, timeout=60, check=False)


@pytest.mark.parametrize("data", BAD_INPUTS)
def test_bad_input_is_a_deny_with_exit_0(data: bytes, workspace: Path) -> None:
    proc = _run(["claude-code", "--no-audit"], data, workspace)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny"


def test_invalid_policy_is_a_deny(workspace: Path) -> None:
    bad = workspace / "bad.yaml"
    bad.write_text("version: 1\nrules: [{id: x}]\n")
    data = json.dumps({"tool_name": "Bash", "tool_input": {"command": "ls"}, "cwd": str(workspace)}).encode()
    proc = _run(["claude-code", "--policy", str(bad)], data, workspace)
    assert proc.returncode == 0
    out = json.loads(proc.stdout)["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny" and "policy" in out["permissionDecisionReason"]


def test_unwritable_audit_trail_is_a_deny(workspace: Path) -> None:
    (workspace / ".guardrail").write_text("a file where the trail's folder should be")
    data = json.dumps({"tool_name": "Bash", "tool_input": {"command": "ls"}, "cwd": str(workspace)}).encode()
    proc = _run(["claude-code"], data, workspace)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"


@pytest.mark.parametrize("args", [["nope"], [], ["claude-code", "--bogus"], ["claude-code", "--policy"]])
def test_usage_errors_block_with_exit_2(args: list[str], workspace: Path) -> None:
    proc = _run(args, b"{}", workspace)
    assert proc.returncode == 2
    assert b"usage" in proc.stderr


def test_cursor_bad_input_is_a_deny(workspace: Path) -> None:
    proc = _run(["cursor", "--no-audit"], b"{oops", workspace)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["permission"] == "deny"


def test_policy_from_environment(workspace: Path) -> None:
    policy = workspace / "p.yaml"
    policy.write_text("version: 1\nextends: default\nmcp:\n  tools:\n    - {tool: post_*, decision: deny, reason: no posting}\n")
    data = json.dumps({"tool_name": "mcp__slack__post_message", "tool_input": {}, "cwd": str(workspace)}).encode()
    proc = _run(["claude-code", "--no-audit"], data, workspace, {"GUARDRAIL_POLICY": str(policy)})
    out = json.loads(proc.stdout)["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny" and "no posting" in out["permissionDecisionReason"]


def test_hook_path_imports_no_typer_or_rich(workspace: Path) -> None:
    code = ("import sys, io; sys.stdin = io.TextIOWrapper(io.BytesIO(b'{}'));"
            "from guardrail.cli import main; main(['hook', 'claude-code', '--no-audit']);"
            "bad = [m for m in ('typer', 'rich', 'click') if m in sys.modules]; sys.stderr.write(repr(bad))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=workspace, timeout=60, check=False)
    assert proc.stderr.decode().strip().endswith("[]"), proc.stderr
