"""The terminal approver, driven through a real pseudo-terminal for every answer."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import require

from guardrail.approval.session import call_hash
from guardrail.calls import ShellCall

try:
    import pexpect
except ImportError:  # pragma: no cover - the dev extra installs it; CI must have it
    pexpect = None

CHILD = Path(__file__).with_name("approver_child.py")
PROMPT = "no answer denies"


def spawn(workspace: Path, timeout: float = 30, kind: str = "shell", stdin_pipe: bool = False) -> tuple[Any, Path]:
    require(pexpect is not None, "pexpect (pip install pexpect)")
    result = workspace / "answer.json"
    argv = [sys.executable, str(CHILD), str(workspace), str(timeout), str(result), kind]
    if stdin_pipe:
        # stdin is a pipe that says "o": the approver must ignore it and read /dev/tty
        command = "echo o | " + " ".join(shlex.quote(a) for a in argv)
        child = pexpect.spawn("/bin/sh", ["-c", command], encoding="utf-8", timeout=60, dimensions=(50, 140))
    else:
        child = pexpect.spawn(argv[0], argv[1:], encoding="utf-8", timeout=60, dimensions=(50, 140))
    return child, result


def finish(child: Any, result: Path) -> dict[str, Any]:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    data: dict[str, Any] = json.loads(result.read_text())
    return data


@pytest.mark.parametrize(
    ("key", "expected"),
    [("o", "allow_once"), ("s", "allow_session"), ("d", "deny")],
)
def test_one_key_answers(workspace: Path, key: str, expected: str) -> None:
    child, result = spawn(workspace)
    child.expect("pip install requests")
    child.expect("package-install")
    child.expect(PROMPT)
    child.sendline(key)
    answer = finish(child, result)
    assert answer["answer"] == expected
    assert answer["approver"] == "terminal"
    assert answer["call_hash"] == call_hash(ShellCall("pip install requests"))


def test_deny_with_a_message(workspace: Path) -> None:
    child, result = spawn(workspace)
    child.expect(PROMPT)
    child.sendline("m")
    child.expect("Message for the agent")
    child.sendline("use uv add instead")
    answer = finish(child, result)
    assert answer["answer"] == "deny"
    assert answer["message"] == "use uv add instead"


def test_always_allow_writes_and_shows_the_rule(workspace: Path) -> None:
    child, result = spawn(workspace)
    child.expect(PROMPT)
    child.sendline("a")
    child.expect(r"Added to \.guardrail/policy\.yaml")
    child.expect("always-exec-")
    answer = finish(child, result)
    assert answer["answer"] == "allow_always"
    policy = yaml.safe_load((workspace / ".guardrail" / "policy.yaml").read_text())
    assert [r["id"] for r in policy["rules"]] == answer["extra"]["rules"].split(",")


def test_unknown_key_asks_again(workspace: Path) -> None:
    child, result = spawn(workspace)
    child.expect(PROMPT)
    child.sendline("x")
    child.expect("Type one of")
    child.expect(PROMPT)
    child.sendline("o")
    assert finish(child, result)["answer"] == "allow_once"


def test_no_answer_in_time_denies(workspace: Path) -> None:
    child, result = spawn(workspace, timeout=1)
    child.expect(PROMPT)
    child.expect("No answer in time")
    answer = finish(child, result)
    assert answer["answer"] == "deny"
    assert "no answer within 1 s" in answer["message"]


def test_reads_the_terminal_when_stdin_is_a_pipe(workspace: Path) -> None:
    child, result = spawn(workspace, stdin_pipe=True)
    child.expect(PROMPT)
    child.sendline("d")
    answer = finish(child, result)
    assert answer["answer"] == "deny"  # not the "o" waiting on the pipe


def test_file_write_shows_a_coloured_diff(workspace: Path) -> None:
    (workspace / "app.cfg").write_text("debug = false\nport = 80\n")
    child, result = spawn(workspace, kind="file")
    child.expect(r"\x1b\[31m-debug = false")
    child.expect(r"\x1b\[32m\+new")
    child.expect(PROMPT)
    child.sendline("d")
    assert finish(child, result)["answer"] == "deny"
