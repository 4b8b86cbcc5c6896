"""Rendering findings: `text` for people, `json` for scripts, `github` annotations, `sarif`.

The same renderers serve `lint`, `scan` and `replay`. Text shows each
offending line under its finding (when the file can be read) with a caret at
the column; the other formats carry the same fields.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from guardrail.lint.findings import Finding, Severity

FORMATS = ("text", "json", "sarif", "github")


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    counts = {str(s): 0 for s in reversed(Severity)}
    for finding in findings:
        counts[str(finding.severity)] += 1
    return counts


def _source_line(path: str, line: int, cache: dict[str, list[str] | None]) -> str | None:
    if path not in cache:
        try:
            cache[path] = Path(path).read_text("utf-8", errors="replace").splitlines()
        except OSError:
            cache[path] = None
    lines = cache[path]
    if lines is None or not 1 <= line <= len(lines):
        return None
    return lines[line - 1]


def render_text(findings: Sequence[Finding], *, tool: str = "lint", show_source: bool = True) -> str:
    out: list[str] = []
    cache: dict[str, list[str] | None] = {}
    for f in findings:
        rule = f" [{f.rule}]" if f.rule else ""
        out.append(f"{f.location()}: {f.code} {f.severity}: {f.message}{rule}")
        if show_source and f.line is not None:
            text = _source_line(f.path, f.line, cache)
            if text is not None:
                shown = text.expandtabs(4)
                out.append(f"  {f.line:>4} | {shown}")
                if f.col is not None:
                    caret_at = len(text[: f.col - 1].expandtabs(4))
                    out.append("       | " + " " * caret_at + "^")
    counts = summary(findings)
    if findings:
        parts = [f"{n} {name}{'s' if n != 1 else ''}" for name, n in counts.items() if n]
        out.append(f"guardrail {tool}: {len(findings)} finding{'s' if len(findings) != 1 else ''} ({', '.join(parts)})")
    else:
        out.append(f"guardrail {tool}: no findings")
    return "\n".join(out) + "\n"


def render_json(findings: Sequence[Finding], *, tool: str = "lint", extra: dict[str, object] | None = None) -> str:
    data: dict[str, object] = {
        "tool": f"guardrail {tool}",
        "findings": [f.to_dict() for f in findings],
        "summary": summary(findings),
    }
    if extra:
        data.update(extra)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render_github(findings: Sequence[Finding], *, tool: str = "lint") -> str:
    """GitHub Actions workflow commands: `::error file=F,line=L,col=C,title=T::message`."""
    out = []
    for f in findings:
        props = [f"file={_escape_property(f.path)}"]
        if f.line is not None:
            props.append(f"line={f.line}")
            if f.col is not None:
                props.append(f"col={f.col}")
        props.append(f"title={_escape_property(f'guardrail {tool} {f.code}')}")
        rule = f" [{f.rule}]" if f.rule else ""
        out.append(f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::{_escape_data(f.message + rule)}")
    return "".join(line + "\n" for line in out)


def render(findings: Sequence[Finding], output_format: str, *, tool: str = "lint") -> str:
    renderers: dict[str, Callable[[], str]] = {
        "text": lambda: render_text(findings, tool=tool),
        "json": lambda: render_json(findings, tool=tool),
        "github": lambda: render_github(findings, tool=tool),
        "sarif": lambda: _sarif(findings, tool),
    }
    return renderers[output_format]()


def _sarif(findings: Sequence[Finding], tool: str) -> str:
    from guardrail.lint.sarif import sarif_log

    return json.dumps(sarif_log(findings, tool=tool), indent=2, ensure_ascii=False) + "\n"


def exit_code(findings: Sequence[Finding], fail_on: Severity | None) -> int:
    """1 when some finding is at or above `fail_on` (None: never), else 0."""
    if fail_on is None:
        return 0
    return 1 if any(f.severity >= fail_on for f in findings) else 0
