"""A crash while deciding is a deny for that call, never the end of the batch or a signal status."""

from __future__ import annotations

import faulthandler
import os
import signal
from pathlib import Path
from typing import Any

from guardrail.cli.isolation import decide_isolated, in_child


def _crash() -> None:
    faulthandler.disable()  # a deliberate crash: no report on stderr
    os.kill(os.getpid(), signal.SIGSEGV)


def _decide(line: bytes) -> dict[str, Any]:
    if line == b"boom":
        _crash()
    return {"decision": "allow", "line": line.decode()}


def test_a_crashing_line_is_denied_and_the_batch_goes_on() -> None:
    out = list(decide_isolated([b"a", b"boom", b"c", b"boom", b"d"], _decide, lambda: {"decision": "deny"}))
    assert out == [
        {"decision": "allow", "line": "a"},
        {"decision": "deny"},
        {"decision": "allow", "line": "c"},
        {"decision": "deny"},
        {"decision": "allow", "line": "d"},
    ]


def test_in_child_returns_none_on_a_crash() -> None:
    assert in_child(lambda: b"fine") == b"fine"

    def crash() -> bytes:
        _crash()
        return b"never"

    assert in_child(crash) is None


def test_astral_characters_after_a_brace_parse_safely(tmp_path: Path) -> None:
    """tree-sitter-bash once crashed the process on `{` + astral-plane characters."""
    from guardrail.pipeline import Guard

    guard = Guard.from_policy("default", workspace=tmp_path)
    for _ in range(300):
        decision = guard.check({"tool": "shell", "command": "{\U0007e2f3\U000b15c3 ; rm -rf /"})
    assert str(decision.verdict) == "deny"
