"""`guardrail check`: JSON Lines in, one decision per line out, in order, whatever the input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BATCH = [
    b'{"tool": "shell", "command": "ls -la"}',
    b"not json",
    b'{"tool": "shell", "command": "rm -rf /"}',
    b"[1, 2, 3]",
    b'{"tool": "shell", "command": "ls \xff"}',
    b'{"tool": "file", "op": "read", "path": "~/.aws/credentials"}',
    b'{"tool": "shell", "command": "' + b"$(" * 10_000 + b'"}',
    b'{"tool": "http", "url": "http://169.254.169.254/"}',
    b'{"tool": "db", "query": "DELETE FROM users"}',
    b'{"tool": "shell", "command": "' + b"a" * (1 << 20) + b'"}',
]
EXPECTED = ["allow", "deny", "deny", "deny", "deny", "deny", "ask", "deny", "ask", "deny"]


def run(args: list[str], stdin: bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "guardrail", "check", *args], input=stdin,
                          capture_output=True, cwd=cwd, timeout=120, check=False)


def test_batch_with_bad_lines(tmp_path: Path) -> None:
    proc = run(["--workspace", str(tmp_path)], b"\n".join(BATCH) + b"\n", tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [d["decision"] for d in lines] == EXPECTED
    for d in lines:
        assert set(d) == {"decision", "risk", "rules", "reason"}
        assert d["reason"]
    assert "not JSON" in lines[1]["reason"]
    assert "not UTF-8" in lines[4]["reason"]
    assert "longer than" in lines[9]["reason"]


def test_file_argument_and_blank_lines(tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    calls.write_bytes(b'{"tool": "shell", "command": "pwd"}\n\n\n{"tool": "shell", "command": "sudo ls"}\n')
    proc = run([str(calls), "--workspace", str(tmp_path)], b"", tmp_path)
    assert proc.returncode == 0
    assert [json.loads(line)["decision"] for line in proc.stdout.splitlines()] == ["allow", "deny"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(["--bogus"], b"", tmp_path).returncode == 2
    assert run(["--policy"], b"", tmp_path).returncode == 2
    assert run([str(tmp_path / "missing.jsonl")], b"", tmp_path).returncode == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules: [{id: x}]\n")
    proc = run(["--policy", str(bad)], b'{"tool": "shell", "command": "ls"}\n', tmp_path)
    assert proc.returncode == 2
    assert b"bad.yaml" in proc.stderr
