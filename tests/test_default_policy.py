"""Every case in policies/tests/default*.yaml gets the decision the spec requires.

The same file is what `guardrail test policies/` runs; here each case is a
pytest case of its own, against the spec's workspace layout.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from spec_fixtures import spec_workspace

from guardrail.pipeline import Guard

CASES = [tuple(case[:2]) for path in sorted((Path(__file__).parent.parent / "policies" / "tests").glob("default*.yaml"))
         for case in yaml.safe_load(path.read_text())["tests"]]


@pytest.fixture(scope="module")
def guard() -> Iterator[Guard]:
    for ws, _home in spec_workspace():
        yield Guard.from_policy("default", workspace=ws)


def _call(item: Any) -> dict[str, Any]:
    return {"tool": "shell", "command": item} if isinstance(item, str) else dict(item)


@pytest.mark.parametrize(("item", "expected"), CASES, ids=[str(c[0])[:60] for c in CASES])
def test_spec_case(guard: Guard, item: Any, expected: str) -> None:
    decision = guard.check(_call(item))
    assert str(decision.verdict) == expected, decision.reason


@pytest.fixture(scope="module")
def ci_guard() -> Iterator[Guard]:
    for ws, _home in spec_workspace():
        yield Guard.from_policy("ci", workspace=ws)


@pytest.mark.parametrize(("item", "expected"), CASES, ids=[str(c[0])[:60] for c in CASES])
def test_ci_policy_denies_what_the_default_asks(ci_guard: Guard, item: Any, expected: str) -> None:
    decision = ci_guard.check(_call(item))
    assert str(decision.verdict) == ("deny" if expected == "ask" else expected), decision.reason
