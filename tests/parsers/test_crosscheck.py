"""`parsers: {cross_check: true}`: bashlex's second opinion; a disagreement is an ask."""

from __future__ import annotations

from pathlib import Path

from guardrail.decision import Verdict
from guardrail.parsers.crosscheck import disagreement
from guardrail.pipeline import Guard

LINE = "cat <<EOF\n$(ls src)\nEOF"  # tree-sitter sees the substitution in the here-doc; bashlex does not


def test_disagreement_is_found() -> None:
    assert disagreement("ls; git status | wc -l") is None
    assert disagreement("[[ -f x ]] && ls") is None  # bashlex cannot parse it: no opinion
    found = disagreement(LINE)
    assert found is not None and "ls" in found


def test_cross_check_turns_a_disagreement_into_an_ask(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nextends: default\nparsers: {cross_check: true}\n")
    plain = Guard.from_policy("default", workspace=tmp_path)
    checked = Guard.from_policy(policy, workspace=tmp_path)
    call = {"tool": "shell", "command": LINE}
    assert plain.check(call).verdict is Verdict.ALLOW
    decision = checked.check(call)
    assert decision.verdict is Verdict.ASK
    assert "dynamic-code" in decision.rules
    assert checked.check({"tool": "shell", "command": "ls -la"}).verdict is Verdict.ALLOW
