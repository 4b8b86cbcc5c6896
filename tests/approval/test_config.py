"""The `approval:` section and the modes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from guardrail.approval import make_approver
from guardrail.approval.auto import AutoApprover
from guardrail.approval.config import ApprovalConfig, apply_mode
from guardrail.approval.terminal import TerminalApprover
from guardrail.decision import Verdict
from guardrail.errors import ApprovalError


def test_defaults() -> None:
    config = ApprovalConfig()
    assert config.timeout == 120
    assert config.web.host == "127.0.0.1"
    assert config.resolved_approver(tty=True) == "terminal"
    assert config.resolved_approver(tty=False) == "auto"
    assert ApprovalConfig(approver="web").resolved_approver(tty=True) == "web"


def test_ci_has_no_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert ApprovalConfig().resolved_approver() == "auto"
    assert isinstance(make_approver(ApprovalConfig()), AutoApprover)


@pytest.mark.parametrize(
    "data",
    [
        {"approver": "telepathy"},
        {"timout": 5},  # a typo is an error
        {"timeout": 0},
        {"web": {"host": "0.0.0.0"}},
        {"approver": "webhook"},  # without a url
        {"webhook": {"url": "ftp://x"}},
    ],
)
def test_invalid_sections_are_errors(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ApprovalConfig.model_validate(data)


def test_make_approver_by_name() -> None:
    assert isinstance(make_approver(name="terminal"), TerminalApprover)
    with pytest.raises(ApprovalError):
        make_approver(name="carrier-pigeon")


@pytest.mark.parametrize(
    ("mode", "verdict", "run", "ask", "would_have"),
    [
        ("enforce", Verdict.ALLOW, True, False, None),
        ("enforce", Verdict.ASK, False, True, None),
        ("enforce", Verdict.DENY, False, False, None),
        ("shadow", Verdict.DENY, True, False, Verdict.DENY),
        ("shadow", Verdict.ASK, True, False, Verdict.ASK),
        ("record", Verdict.ALLOW, True, False, None),
    ],
)
def test_modes(mode: str, verdict: Verdict, run: bool, ask: bool, would_have: Verdict | None) -> None:
    outcome = apply_mode(mode, verdict)  # type: ignore[arg-type]
    assert (outcome.run, outcome.ask, outcome.would_have) == (run, ask, would_have)
