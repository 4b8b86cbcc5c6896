"""Policy test files: calls with the decision each must get, run against a policy.

A test file is YAML:

    policy: ../default.yaml        # a path relative to this file, or a shipped name;
                                   # default: the policy named like the file, one folder up
    files: [src/main.py, ~/.ssh/id_rsa]   # optional: created in the test workspace
    tests:
      - ["cat README.md", allow]                      # a shell command and its decision
      - ["cat .env", ask, secret-read-inside]         # ... and a rule that must fire
      - {call: {tool: file, op: read, path: /etc/shadow}, expect: deny, rule: secret-read-outside}

Calls run in a fresh workspace W = HOME/project, HOME a fresh directory
outside /tmp (scratch would count as inside W), so `~/...` and `../x` mean
the same on every machine. `guardrail test policies/` finds `policies/tests/*.yaml`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guardrail.decision import Decision
from guardrail.effects import describe


class TestFileError(Exception):
    """A test file that cannot be read; the message says where."""


@dataclass
class Case:
    call: dict[str, Any]
    expect: str
    rule: str | None
    line: int | None
    name: str


@dataclass
class CaseResult:
    case: Case
    decision: Decision
    ok: bool
    problem: str = ""


@dataclass
class FileResult:
    path: Path
    policy: str
    results: list[CaseResult] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)  # every rule of the policy
    fired: set[str] = field(default_factory=set)

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.ok]

    @property
    def uncovered(self) -> list[str]:
        return [rule for rule in self.rules if rule not in self.fired]


def find_test_files(paths: Sequence[Path]) -> list[Path]:
    """Files given, and for a folder: its `tests/*.yaml` and `*.test.yaml` (recursively)."""
    out: list[Path] = []
    for path in paths:
        if path.is_file():
            out.append(path)
        elif path.is_dir():
            found = {*path.rglob("tests/*.yaml"), *path.rglob("*.test.yaml")}
            out.extend(sorted(found))
        else:
            raise TestFileError(f"{path}: no such file or directory")
    return out


def _call(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        return {"tool": "shell", "command": item}
    if isinstance(item, dict):
        return dict(item)
    raise TestFileError(f"a call is a shell command string or a mapping, not {item!r}")


def _case(item: Any, line: int | None) -> Case:
    if isinstance(item, list) and 2 <= len(item) <= 3:
        call, expect = item[0], item[1]
        rule = item[2] if len(item) == 3 else None
    elif isinstance(item, dict) and "call" in item and "expect" in item:
        unknown = set(item) - {"call", "expect", "rule", "name"}
        if unknown:
            raise TestFileError(f"line {line}: unknown key(s) {sorted(unknown)} (call, expect, rule, name)")
        call, expect, rule = item["call"], item["expect"], item.get("rule")
    else:
        raise TestFileError(f"line {line}: a test is [call, decision(, rule)] or {{call, expect, rule}}")
    if expect not in ("allow", "ask", "deny"):
        raise TestFileError(f"line {line}: expect must be allow, ask or deny, not {expect!r}")
    built = _call(call)
    name = str(call if isinstance(call, str) else item.get("name") if isinstance(item, dict) and item.get("name") else call)
    return Case(built, str(expect), str(rule) if rule else None, line, name)


def load_test_file(path: Path) -> tuple[str, list[str], list[Case]]:
    """(policy name or path, files to create, cases)."""
    import yaml

    try:
        text = path.read_text("utf-8")
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TestFileError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise TestFileError(f"{path}: a test file is a mapping with a `tests:` list")
    lines: list[int | None] = [None] * len(data["tests"])
    if isinstance(node, __import__("yaml").MappingNode):
        for key, value in node.value:
            if key.value == "tests" and hasattr(value, "value"):
                lines = [item.start_mark.line + 1 for item in value.value]
    policy = data.get("policy")
    if policy is None:
        policy = str(path.parent.parent / f"{path.stem.removesuffix('.test')}.yaml")
    elif "/" in str(policy) or str(policy).endswith((".yaml", ".yml")):
        policy = str((path.parent / str(policy)).resolve())
    files = [str(f) for f in data.get("files") or []]
    try:
        cases = [_case(item, line) for item, line in zip(data["tests"], lines, strict=True)]
    except TestFileError as exc:
        raise TestFileError(f"{path}: {exc}") from None
    return str(policy), files, cases


@contextlib.contextmanager
def test_workspace(files: Sequence[str]) -> Iterator[Path]:
    """A fresh HOME (outside /tmp) with W = HOME/project; HOME is set while it is in use."""
    from guardrail.policy.loader import cache_dir

    base = cache_dir() / "test-workspaces"
    base.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="ws-", dir=base))
    home = root / "home" / "dev"
    workspace = home / "project"
    workspace.mkdir(parents=True)
    for name in files:
        target = home / name[2:] if name.startswith("~/") else workspace / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith("/"):
            target.mkdir(exist_ok=True)
        else:
            target.write_text("x\n")
    old = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    try:
        yield workspace
    finally:
        if old is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old
        shutil.rmtree(root, ignore_errors=True)


def _check(case: Case, decision: Decision) -> tuple[bool, str]:
    got = str(decision.verdict)
    if got != case.expect:
        return False, f"expected {case.expect}, got {got}"
    if case.rule and case.rule not in {f.rule_id for f in decision.fired}:
        return False, f"expected rule {case.rule!r} to fire; fired: {', '.join(decision.rules) or 'none'}"
    return True, ""


def run_test_file(path: Path) -> FileResult:
    """Run one file's cases; a policy that does not load raises `PolicyError`."""
    from guardrail.pipeline import Guard
    from guardrail.policy.loader import load_policy

    policy_name, files, cases = load_test_file(path)
    with test_workspace(files) as workspace:
        policy = load_policy(policy_name, use_cache=False)
        guard = Guard(policy, workspace)
        result = FileResult(path, policy_name, rules=[r.id for r in policy.rules])
        for case in cases:
            decision = guard.check(case.call)
            result.fired.update(f.rule_id for f in decision.fired)
            ok, problem = _check(case, decision)
            result.results.append(CaseResult(case, decision, ok, problem))
    return result


def trace(decision: Decision) -> list[str]:
    """The explain trace: every effect, and every rule that fired on it."""
    lines = [f"decision: {decision.verdict} (risk {decision.risk}): {decision.reason}"]
    for effect in decision.effects:
        lines.append(f"  effect: {describe(effect)}")
    for fired in decision.fired:
        target = describe(fired.effect) if fired.effect is not None else "the call"
        lines.append(f"  rule {fired.rule_id}: {fired.verdict} on {target}")
    return lines


def junit_xml(results: Sequence[FileResult]) -> str:
    from xml.etree import ElementTree as ET

    suites = ET.Element("testsuites", name="guardrail test")
    for file_result in results:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=str(file_result.path),
            tests=str(len(file_result.results)),
            failures=str(len(file_result.failures)),
        )
        for result in file_result.results:
            case = ET.SubElement(
                suite, "testcase", classname=file_result.path.stem, name=result.case.name[:200]
            )
            if result.case.line is not None:
                case.set("file", str(file_result.path))
                case.set("line", str(result.case.line))
            if not result.ok:
                failure = ET.SubElement(case, "failure", message=result.problem)
                failure.text = "\n".join(trace(result.decision))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
