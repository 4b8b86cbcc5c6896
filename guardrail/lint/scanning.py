"""`guardrail scan`: shell found in a repository, checked against a policy.

Each snippet (a whole script, one Makefile recipe line, one `RUN`, one
`run:` step, ...) is checked as one shell call in the repository as the
workspace, so `cd` and variables carry through a script as they would when
it runs. Every rule that asks or denies is reported on the line of the
fragment it fired on; a snippet that does not parse is a finding (GR403),
never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from guardrail.decision import Decision, Verdict
from guardrail.effects import CodeEffect, ExecEffect, describe
from guardrail.lint.findings import Finding, display_path
from guardrail.lint.sources import Snippet, iter_files, snippets

MAX_COMMAND = 60_000  # the call format caps a shell command at 64 KiB


def _line_of(snippet: Snippet, fragment: str) -> int:
    """The file line a fragment of the snippet starts on (the snippet's first line if not found)."""
    fragment = fragment.strip()
    if fragment:
        at = snippet.text.find(fragment)
        if at < 0:
            at = snippet.text.find(fragment.splitlines()[0])
        if at >= 0:
            return snippet.line + snippet.text.count("\n", 0, at)
    return snippet.line


_FUNCTION = re.compile(r"^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_-]*)\s*\(\s*\)", re.MULTILINE)


def defined_functions(text: str) -> frozenset[str]:
    """Shell functions a script defines: calling one runs its body, whose effects are checked."""
    return frozenset(_FUNCTION.findall(text))


def decision_findings(
    decision: Decision, path: str, line_of: Any, what: str, functions: frozenset[str] = frozenset()
) -> Iterator[Finding]:
    """One finding per rule (and fragment) that asked or denied, codes per `what` (scan or replay).

    The fallback on running a function the script defines is left out: the
    function's body is checked where it is written.
    """
    base = {"scan": 400, "replay": 500}[what]
    seen: set[tuple[str, int, str]] = set()
    for fired in decision.fired:
        if fired.verdict is Verdict.ALLOW:
            continue
        effect = fired.effect
        if fired.rule_id == "fallback" and isinstance(effect, ExecEffect) and effect.command in functions:
            continue
        source = getattr(effect, "source", "") if effect is not None else ""
        line = line_of(source)
        unparsed = isinstance(effect, CodeEffect) and effect.code == "unparsed"
        code = f"GR{base + 3}" if unparsed and what == "scan" else f"GR{base + (1 if fired.verdict is Verdict.DENY else 2)}"
        target = describe(effect) if effect is not None else "the call"
        if fired.rule_id == "fallback":
            message = f"{fired.verdict}: no rule matches {target} (fallback)"
        else:
            message = f"{fired.verdict}: {target}" + (f" ({fired.description})" if fired.description else "")
        key = (fired.rule_id, line, target)
        if key in seen:
            continue
        seen.add(key)
        yield Finding.make(code, " ".join(message.split()), path, line, None, fired.rule_id)


def scan_snippet(guard: Any, snippet: Snippet) -> list[Finding]:
    if len(snippet.text.encode()) > MAX_COMMAND:
        return [Finding.make("GR403", "too long to check as one command (over 60 KB)", snippet.path, snippet.line)]
    decision = guard.check({"tool": "shell", "command": snippet.text})
    functions = defined_functions(snippet.text)
    return list(
        decision_findings(decision, snippet.path, lambda s: _line_of(snippet, s), "scan", functions)
    )


def scan_paths(guard: Any, paths: Sequence[Path]) -> tuple[list[Finding], int]:
    """Findings of every snippet under `paths`, and how many snippets were checked."""
    findings: list[Finding] = []
    count = 0
    for root in paths:
        for file in iter_files(root):
            for snippet in snippets(file, display_path(file)):
                if not snippet.text.strip():
                    continue
                count += 1
                findings.extend(scan_snippet(guard, snippet))
    return findings, count
