"""`guardrail test`: shipped policy tests pass; failures show the trace; coverage; JUnit."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from guardrail.cli.test_cmd import test_command as policy_test_command
from guardrail.decision import Verdict
from guardrail.policy.loader import load_policy
from tests.lint.helpers import REPO, invoke

POLICY = """version: 1
rules:
  - {id: allow-ls, decision: allow, match: {effect: exec, command: [ls]}}
  - {id: ask-make, decision: ask, match: {effect: exec, command: [make]}}
  - {id: never-used, decision: deny, match: {effect: exec, command: [shutdown]}}
  - {id: inside, decision: allow, match: {effect: path, location: [inside]}}
"""


def _write(tmp_path: Path, tests: str) -> Path:
    (tmp_path / "p.yaml").write_text(POLICY)
    folder = tmp_path / "tests"
    folder.mkdir()
    (folder / "p.yaml").write_text(tests)
    return folder / "p.yaml"


def test_shipped_policy_tests_pass(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = invoke(policy_test_command, [str(REPO / "policies"), "--junit", str(junit)])
    assert result.exit_code == 0, result.output[-2000:]
    names = {Path(s.get("name", "")).name for s in ET.parse(junit).getroot()}
    assert names == {"default.yaml", "default-review.yaml", "strict.yaml", "ci.yaml"}


def test_failure_shows_trace_and_exit_1(tmp_path: Path) -> None:
    _write(tmp_path, 'tests:\n  - ["ls", allow, allow-ls]\n  - ["make", allow]\n  - {call: "ls", expect: allow, rule: ask-make}\n')
    result = invoke(policy_test_command, [str(tmp_path), "--coverage"])
    assert result.exit_code == 1
    assert "p.yaml:3: make: expected allow, got ask" in result.stdout
    assert "rule ask-make: ask on run make" in result.stdout  # the trace
    assert "expected rule 'ask-make' to fire" in result.stdout
    assert "not exercised: never-used" in result.stdout
    assert "1 passed, 2 failed" in result.stdout


def test_junit_marks_failures(tmp_path: Path) -> None:
    _write(tmp_path, 'tests:\n  - ["make", deny]\n')
    junit = tmp_path / "out.xml"
    assert invoke(policy_test_command, [str(tmp_path), "--junit", str(junit)]).exit_code == 1
    suite = ET.parse(junit).getroot()[0]
    assert suite.get("failures") == "1"
    assert suite[0].find("failure") is not None


def test_bad_test_file_is_a_usage_error(tmp_path: Path) -> None:
    _write(tmp_path, 'tests:\n  - ["ls", maybe]\n')
    result = invoke(policy_test_command, [str(tmp_path)])
    assert result.exit_code == 2
    assert "expect must be allow, ask or deny" in result.output


def test_ask_becomes_deny_turns_every_ask_into_deny(tmp_path: Path) -> None:
    path = tmp_path / "ci.yaml"
    path.write_text("version: 1\nextends: ./base.yaml\nask_becomes: deny\n")
    (tmp_path / "base.yaml").write_text(POLICY)
    policy = load_policy(path, use_cache=False, check_examples=False)
    assert policy.fallback is Verdict.DENY
    assert {r.id: r.verdict for r in policy.rules} == {
        "allow-ls": Verdict.ALLOW, "ask-make": Verdict.DENY, "never-used": Verdict.DENY,
        "inside": Verdict.ALLOW,
    }
    assert load_policy(tmp_path / "base.yaml", use_cache=False).fallback is Verdict.ASK
