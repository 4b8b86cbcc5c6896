"""`guardrail test [PATH...]`: run policy test files, the way a test suite runs.

Each test names a call and the decision it must get (and optionally a rule
that must fire); a failure prints the explain trace. `--coverage` lists the
rules no test made fire; `--junit FILE` writes JUnit XML for CI. Exit 0 when
every test passes, 1 when one fails, 2 on a usage error or a policy that
does not load.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from guardrail.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from guardrail.lint.policy_tests import FileResult


def test_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="Test files or folders (default: policies/ or .guardrail/).")] = None,
    coverage: Annotated[bool, typer.Option("--coverage", help="List the rules no test made fire.")] = False,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML to FILE.")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Run policy test files: each call must get its decision (and rule)."""
    raise typer.Exit(run_tests(paths or [], coverage, junit, output_format))


def _default_paths() -> list[Path]:
    for candidate in (Path(".guardrail"), Path("policies")):
        if candidate.is_dir():
            return [candidate]
    return []


def run_tests(paths: Sequence[Path], coverage: bool, junit: Path | None, output_format: str) -> int:
    from guardrail.errors import PolicyError
    from guardrail.lint.policy_tests import TestFileError, find_test_files, junit_xml, run_test_file

    if output_format not in ("text", "json"):
        print(f"guardrail test: --format must be text or json, not {output_format!r}", file=sys.stderr)
        return EXIT_USAGE
    try:
        files = find_test_files(list(paths) or _default_paths())
        if not files:
            print("guardrail test: no test files found (policies/tests/*.yaml)", file=sys.stderr)
            return EXIT_USAGE
        results = [run_test_file(f) for f in files]
    except TestFileError as exc:
        print(f"guardrail test: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PolicyError as exc:
        from guardrail.policy.compiler import PolicyErrors

        for problem in exc.errors if isinstance(exc, PolicyErrors) else [exc]:
            print(f"guardrail test: invalid policy: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if junit is not None:
        try:
            junit.write_text(junit_xml(results), "utf-8")
        except OSError as exc:
            print(f"guardrail test: cannot write {junit}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    sys.stdout.write(_json(results, coverage) if output_format == "json" else _text(results, coverage))
    return EXIT_FINDINGS if any(r.failures for r in results) else EXIT_OK


def _text(results: Sequence[FileResult], coverage: bool) -> str:
    from guardrail.lint.policy_tests import trace

    out: list[str] = []
    for result in results:
        for failure in result.failures:
            where = f"{result.path}:{failure.case.line}" if failure.case.line else str(result.path)
            out.append(f"FAIL {where}: {failure.case.name}: {failure.problem}")
            out.extend("    " + line for line in trace(failure.decision))
        passed = len(result.results) - len(result.failures)
        out.append(f"{result.path}: {passed} passed, {len(result.failures)} failed (policy {result.policy})")
        if coverage:
            missing = result.uncovered
            covered = len(result.rules) - len(missing)
            out.append(f"  coverage: {covered}/{len(result.rules)} rules fired")
            out.extend(f"  not exercised: {rule}" for rule in missing)
    total = sum(len(r.results) for r in results)
    failed = sum(len(r.failures) for r in results)
    out.append(f"{total - failed} passed, {failed} failed")
    return "\n".join(out) + "\n"


def _json(results: Sequence[FileResult], coverage: bool) -> str:
    data = []
    for result in results:
        item: dict[str, object] = {
            "file": str(result.path),
            "policy": result.policy,
            "passed": len(result.results) - len(result.failures),
            "failed": [
                {"line": f.case.line, "call": f.case.call, "expect": f.case.expect, "rule": f.case.rule,
                 "problem": f.problem, "decision": f.decision.to_dict()}
                for f in result.failures
            ],
        }
        if coverage:
            item["uncovered"] = result.uncovered
        data.append(item)
    return json.dumps({"files": data}, indent=2, ensure_ascii=False) + "\n"
