"""Each broken policy under golden/ gives exactly the findings (code, file, line, column) listed
in its `.expected` file, inline ignores applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail.lint.findings import apply_suppressions
from guardrail.lint.policy_checks import lint_policy
from tests.lint.helpers import GOLDEN

CASES = sorted(GOLDEN.glob("*.yaml"))


def _found(policy: Path) -> list[str]:
    result = lint_policy(policy)
    findings = result.findings
    if result.suppressions is not None:
        findings = apply_suppressions(findings, {result.path: result.suppressions})
    return sorted(f"{f.code} {Path(f.path).name}:{f.line}:{f.col}" for f in findings)


def test_every_golden_policy_has_expectations() -> None:
    assert CASES
    for policy in CASES:
        assert policy.with_suffix(".expected").is_file(), policy


@pytest.mark.parametrize("policy", CASES, ids=[p.stem for p in CASES])
def test_golden(policy: Path) -> None:
    expected_file = policy.with_suffix(".expected")
    expected = sorted(
        line.strip()
        for line in expected_file.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert _found(policy) == expected
