"""`guardrail replay`: an agent's recorded session checked against a policy.

Reads JSON Lines: a Claude Code transcript (each line an event; assistant
messages hold `tool_use` blocks with a tool `name` and `input`), or
guardrail's own calls (`{"tool": "shell", ...}` one a line, as `guardrail
check` reads them). Claude Code tools map to calls: Bash -> shell, Read ->
file read, Write/Edit/MultiEdit/NotebookEdit -> file write, Glob/LS -> file
list, WebFetch -> http GET; other tools (Task, TodoWrite, WebSearch, MCP
tools) have no effect guardrail decides and are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardrail.lint.findings import Finding

_FILE_TOOLS = {"Read": "read", "Write": "write", "Edit": "edit", "MultiEdit": "edit", "NotebookEdit": "edit", "LS": "list"}


@dataclass(frozen=True)
class Recorded:
    line: int
    call: dict[str, Any] | None  # None: the line could not be read
    problem: str = ""


def claude_call(name: str, params: Any) -> dict[str, Any] | None:
    """A guardrail call for one Claude Code tool use, or None when guardrail does not decide it."""
    if not isinstance(params, dict):
        return None
    if name == "Bash" and isinstance(params.get("command"), str):
        return {"tool": "shell", "command": params["command"]}
    if name in _FILE_TOOLS:
        path = params.get("file_path") or params.get("notebook_path") or params.get("path")
        if isinstance(path, str) and path:
            return {"tool": "file", "op": _FILE_TOOLS[name], "path": path}
    if name in ("Glob", "Grep") and isinstance(params.get("path"), str) and params["path"]:
        return {"tool": "file", "op": "list" if name == "Glob" else "read", "path": params["path"]}
    if name == "WebFetch" and isinstance(params.get("url"), str):
        return {"tool": "http", "method": "GET", "url": params["url"]}
    return None


def _tool_uses(event: Any) -> Iterator[tuple[str, Any]]:
    message = event.get("message") if isinstance(event, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    for block in content if isinstance(content, list) else ():
        if isinstance(block, dict) and block.get("type") == "tool_use":
            yield str(block.get("name", "")), block.get("input")


def read_transcript(path: Path) -> Iterator[Recorded]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                event = json.loads(raw)
            except json.JSONDecodeError as exc:
                yield Recorded(number, None, f"not JSON ({exc.msg})")
                continue
            if isinstance(event, dict) and "tool" in event and "message" not in event:
                yield Recorded(number, event)  # guardrail's own call format
                continue
            for name, params in _tool_uses(event):
                call = claude_call(name, params)
                if call is not None:
                    yield Recorded(number, call)


def replay(guard: Any, path: Path, shown: str) -> tuple[list[Finding], int]:
    """Findings for every asked or denied call, and how many calls were checked."""
    from guardrail.lint.scanning import decision_findings

    findings: list[Finding] = []
    count = 0
    for recorded in read_transcript(path):
        if recorded.call is None:
            findings.append(Finding.make("GR503", f"line skipped: {recorded.problem}", shown, recorded.line))
            continue
        count += 1
        decision = guard.check(_as_recorded(recorded.call))
        summary = json.dumps(recorded.call, ensure_ascii=False)
        summary = summary if len(summary) <= 160 else summary[:157] + "..."
        for finding in decision_findings(decision, shown, lambda _s, n=recorded.line: n, "replay"):
            findings.append(
                Finding.make(finding.code, f"{finding.message} in call {summary}", shown, finding.line, None, finding.rule)
            )
    return findings, count


def _as_recorded(call: dict[str, Any]) -> Any:
    """A recorded call may carry what its executor needed (a write's content): read it as
    executed, so only a really malformed record is an invalid call."""
    from guardrail.calls import parse_call
    from guardrail.errors import CallError

    try:
        return parse_call(call)
    except CallError:
        return call  # the check reports what is wrong with it
