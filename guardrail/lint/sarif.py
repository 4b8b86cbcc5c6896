"""Findings as a SARIF 2.1.0 log (the format GitHub code scanning and others read).

One run, one tool component named after the command (`guardrail lint`), whose
`rules` are the codes that occur (id GR101, name, short description, default
level); each result names its rule by id and index and has one physical
location with a region when the line is known. Paths are relative URIs
against `%SRCROOT%` when they are relative, `file:` URIs otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from guardrail.lint.findings import CODES, Finding, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _version() -> str:
    from guardrail import __version__

    return __version__


def _artifact(path: str) -> dict[str, Any]:
    if Path(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(Path(path).as_posix()), "uriBaseId": "%SRCROOT%"}


def _rule(code: str) -> dict[str, Any]:
    info = CODES[code]
    return {
        "id": code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "defaultConfiguration": {"level": _LEVEL[info.severity]},
    }


def _result(finding: Finding, index: int) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(finding.path)}
    if finding.line is not None:
        region: dict[str, Any] = {"startLine": finding.line}
        if finding.col is not None:
            region["startColumn"] = finding.col
        physical["region"] = region
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": physical}],
    }
    if finding.rule:
        result["properties"] = {"policyRule": finding.rule}
    return result


def sarif_log(findings: Sequence[Finding], *, tool: str = "lint") -> dict[str, Any]:
    codes = sorted({f.code for f in findings})
    index = {code: i for i, code in enumerate(codes)}
    driver = {
        "name": f"guardrail {tool}",
        "version": _version(),
        "rules": [_rule(code) for code in codes],
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index[f.code]) for f in findings],
            }
        ],
    }
