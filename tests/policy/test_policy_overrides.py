"""`overrides: true`: a narrow allow sets aside the base policy's asks, never its denies."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail.decision import Verdict
from guardrail.errors import PolicyError
from guardrail.pipeline import Guard


def _guard(tmp_path: Path, rules: str) -> Guard:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nextends: default\nrules:\n" + rules)
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    return Guard.from_policy(policy, workspace=ws)


def test_override_allows_what_the_base_asks(tmp_path: Path) -> None:
    guard = _guard(tmp_path, (
        "  - id: allow-requests-install\n"
        "    decision: allow\n"
        "    overrides: true\n"
        "    match: {effect: exec, command: [pip], subcommand: [install], args: [requests]}\n"
    ))
    assert guard.check({"tool": "shell", "command": "pip install requests"}).verdict is Verdict.ALLOW
    assert guard.check({"tool": "shell", "command": "pip install leftpad"}).verdict is Verdict.ASK
    # the override is per effect: other asks in the same line still apply
    assert guard.check({"tool": "shell", "command": "pip install requests && cat /etc/hosts"}).verdict is Verdict.ASK


def test_override_never_lifts_a_deny(tmp_path: Path) -> None:
    guard = _guard(tmp_path, (
        "  - id: allow-everything-outside\n"
        "    decision: allow\n"
        "    overrides: true\n"
        "    match: {effect: path, location: [outside]}\n"
    ))
    assert guard.check({"tool": "shell", "command": "cat /etc/hosts"}).verdict is Verdict.ALLOW
    assert guard.check({"tool": "shell", "command": "rm -rf /"}).verdict is Verdict.DENY


def test_overrides_only_on_allow_rules(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="only for allow rules"):
        _guard(tmp_path, "  - id: x\n    decision: ask\n    overrides: true\n    match: {effect: exec, command: [ls]}\n")
