"""Findings: what `lint`, `scan` and `replay` report, with a stable code and a location.

Codes are stable (a CI configuration selects and ignores them by code), so a
code is never reused for another meaning. Ranges:

    GR1xx  the policy file does not validate (schema)
    GR2xx  the policy validates but says something it does not mean (semantics)
    GR3xx  the policy allows something risky
    GR4xx  `guardrail scan`: shell in the repository that the policy asks or denies
    GR5xx  `guardrail replay`: recorded calls that the policy asks or denies
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any


class Severity(IntEnum):
    """Ordered so that `--fail-on` compares: info < warning < error."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"{text!r} is not a severity (error, warning, info)") from None


@dataclass(frozen=True)
class Code:
    code: str
    name: str  # kebab-case, for SARIF rule names
    severity: Severity
    summary: str


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code("GR100", "unreadable-policy", _E, "The policy file cannot be read."),
        Code("GR101", "yaml-syntax", _E, "The file is not valid YAML."),
        Code("GR102", "unknown-key", _E, "An unknown key or condition (a typo?)."),
        Code("GR103", "invalid-value", _E, "A value of the wrong type or outside its choices, or a missing key."),
        Code("GR104", "duplicate-key", _E, "A key written twice in one mapping."),
        Code("GR105", "example-fails", _E, "A rule's own examples do not hold."),
        Code("GR201", "duplicate-rule-id", _E, "Two rules of one file share an id."),
        Code("GR202", "invalid-regex", _E, "A `re:` pattern that does not compile."),
        Code("GR203", "invalid-pattern", _E, "A glob, CIDR block or port that cannot be used."),
        Code("GR204", "unknown-list", _E, "A reference to a list that does not exist."),
        Code("GR205", "list-cycle", _E, "Lists that refer to each other in a cycle."),
        Code("GR206", "unknown-tag", _W, "A tag no command of the catalogue carries: the condition never holds."),
        Code("GR207", "unknown-command", _W, "A command name the catalogue does not know, close to one it does."),
        Code("GR208", "extends-cycle", _E, "Policies that extend each other in a cycle."),
        Code("GR209", "missing-base", _E, "`extends` names a policy that does not exist."),
        Code("GR210", "disable-unknown-rule", _E, "Disabling a base rule that does not exist."),
        Code("GR211", "shadowed-rule", _W, "A rule that can never change a decision."),
        Code("GR212", "possibly-shadowed-rule", _I, "A rule that may never change a decision."),
        Code("GR301", "allow-any-command", _E, "An allow that matches any command."),
        Code("GR302", "allow-outside-workspace", _E, "An allow that matches any path outside the workspace."),
        Code("GR303", "allow-any-host", _E, "An allow that matches any host."),
        Code("GR304", "allow-privilege", _E, "An allow of privilege escalation or system control."),
        Code("GR305", "sandbox-network-open", _W, "`sandbox.network: open` gives commands the whole network."),
        Code("GR306", "fallback-allow", _W, "`fallback: allow` allows every effect no rule knows."),
        Code("GR307", "not-enforcing", _I, "`mode` is not `enforce`: decisions are logged, not acted on."),
        Code("GR401", "scan-deny", _E, "Shell in the repository that the policy denies."),
        Code("GR402", "scan-ask", _W, "Shell in the repository that the policy asks about."),
        Code("GR403", "scan-unparsed", _W, "Shell in the repository that does not parse."),
        Code("GR501", "replay-deny", _E, "A recorded call that the policy denies."),
        Code("GR502", "replay-ask", _W, "A recorded call that the policy asks about."),
        Code("GR503", "replay-bad-line", _W, "A transcript line that cannot be read."),
    )
}


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    path: str
    line: int | None = None
    col: int | None = None
    rule: str | None = None  # the policy rule involved, if any
    severity: Severity = field(default=Severity.ERROR)

    @classmethod
    def make(
        cls,
        code: str,
        message: str,
        path: str,
        line: int | None = None,
        col: int | None = None,
        rule: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding at its code's default severity unless one is given."""
        return cls(code, message, path, line, col, rule, severity or CODES[code].severity)

    def location(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        return where

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "rule": self.rule,
        }


def sort_key(finding: Finding) -> tuple[str, int, int, str]:
    return (finding.path, finding.line or 0, finding.col or 0, finding.code)


def parse_codes(values: Sequence[str] | None) -> list[str]:
    """`--select GR2,GR301 --select GR1` -> ['GR2', 'GR301', 'GR1'] (prefixes, upper case)."""
    out: list[str] = []
    for value in values or ():
        for part in value.split(","):
            part = part.strip().upper()
            if part:
                if not re.fullmatch(r"GR\d{0,3}", part):
                    raise ValueError(f"{part!r} is not a code or code prefix (GR101, GR3)")
                out.append(part)
    return out


def selected(finding: Finding, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """Prefix matching like ruff's: `GR3` selects every risk finding."""
    if select and not any(finding.code.startswith(p) for p in select):
        return False
    return not any(finding.code.startswith(p) for p in ignore)


# -- inline ignores ------------------------------------------------------------

_IGNORE_RE = re.compile(r"#\s*guardrail:\s*ignore\[([A-Za-z0-9_,\s]+)\]")


def inline_ignores(text: str) -> dict[int, set[str]]:
    """Line number -> codes that a `# guardrail: ignore[GR203, GR301]` comment on it names."""
    found: dict[int, set[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if "guardrail:" not in line:
            continue
        for match in _IGNORE_RE.finditer(line):
            codes = {c.strip().upper() for c in match.group(1).split(",") if c.strip()}
            found.setdefault(number, set()).update(codes)
    return found


@dataclass
class Suppressions:
    """Inline ignores of one file, each in force on the line it is on or on a whole rule."""

    by_line: dict[int, set[str]]
    spans: list[tuple[int, int]]  # (first line, last line) of each rule

    def silences(self, finding: Finding) -> bool:
        if finding.line is None:
            return False
        if finding.code in self.by_line.get(finding.line, ()):
            return True
        for first, last in self.spans:
            if first <= finding.line <= last:
                return any(
                    finding.code in self.by_line.get(n, ()) for n in range(first, last + 1)
                )
        return False


def apply_suppressions(
    findings: Iterable[Finding], suppressions: dict[str, Suppressions]
) -> list[Finding]:
    return [
        f for f in findings if f.path not in suppressions or not suppressions[f.path].silences(f)
    ]


def display_path(path: Path | str) -> str:
    """A path as findings show it: relative to the current directory when under it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)
