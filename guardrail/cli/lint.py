"""`guardrail lint [PATH...]`: check policy files the way CI checks code.

Every problem of every file at once, each with a stable code, a severity and
file:line:col; `--select`/`--ignore` by code or prefix; a
`# guardrail: ignore[GR211]` comment on a rule silences that code there.
Exit 0 when no finding is at or above `--fail-on` (default error), 1 when
one is, 2 on a usage error. The helpers here are shared by `scan` and `replay`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from guardrail.cli import EXIT_USAGE

if TYPE_CHECKING:
    from guardrail.lint.findings import Finding, Severity

FORMAT_HELP = "text, json, sarif or github."
FAIL_ON_HELP = "error, warning, info or never: the lowest severity that makes the exit status 1."


class UsageProblem(Exception):
    """A bad option or argument: reported on stderr, exit 2."""


def check_format(output_format: str) -> str:
    from guardrail.lint.formats import FORMATS

    value = output_format.lower()
    if value not in FORMATS:
        raise UsageProblem(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}")
    return value


def parse_fail_on(value: str) -> Severity | None:
    from guardrail.lint.findings import Severity

    if value.lower() == "never":
        return None
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise UsageProblem(f"--fail-on: {exc} or never") from None


def filter_findings(
    findings: Sequence[Finding], select: list[str] | None, ignore: list[str] | None
) -> list[Finding]:
    from guardrail.lint.findings import parse_codes, selected, sort_key

    try:
        chosen, dropped = parse_codes(select), parse_codes(ignore)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    return sorted((f for f in findings if selected(f, chosen, dropped)), key=sort_key)


def emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, "utf-8")
    except OSError as exc:
        raise UsageProblem(f"cannot write {output}: {exc.strerror}") from None


def default_policy_files(root: Path) -> list[Path]:
    """The project's policy: `.guardrail/policy.yaml`, else `policies/*.yaml`."""
    project = root / ".guardrail" / "policy.yaml"
    if project.is_file():
        return [project]
    return sorted((root / "policies").glob("*.yaml"))


def policy_files(paths: Sequence[Path]) -> list[Path]:
    if not paths:
        found = default_policy_files(Path.cwd())
        if not found:
            raise UsageProblem("no policy found: give a file or directory, or add .guardrail/policy.yaml")
        return found
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                raise UsageProblem(f"{path}: no *.yaml policy files in this directory")
            out.extend(found)
        elif path.is_file():
            out.append(path)
        else:
            raise UsageProblem(f"{path}: no such file or directory")
    return out


def lint_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="Policy files or directories (default: the project's).")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "text",
    select: Annotated[list[str] | None, typer.Option("--select", help="Only these codes or prefixes (GR2, GR301).")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Leave out these codes or prefixes.")] = None,
    fail_on: Annotated[str, typer.Option("--fail-on", help=FAIL_ON_HELP)] = "error",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
) -> None:
    """Lint policy files: schema errors, shadowed rules, risky allows, with stable codes."""
    raise typer.Exit(run_lint(paths or [], output_format, select, ignore, fail_on, output))


def run_lint(
    paths: Sequence[Path],
    output_format: str,
    select: list[str] | None,
    ignore: list[str] | None,
    fail_on: str,
    output: Path | None,
) -> int:
    from guardrail.lint.findings import apply_suppressions
    from guardrail.lint.formats import exit_code, render
    from guardrail.lint.policy_checks import lint_policy

    try:
        fmt = check_format(output_format)
        threshold = parse_fail_on(fail_on)
        files = policy_files(paths)
        findings: list[Finding] = []
        for file in files:
            result = lint_policy(file)
            own = result.findings
            if result.suppressions is not None:
                own = apply_suppressions(own, {result.path: result.suppressions})
            findings.extend(own)
        kept = filter_findings(findings, select, ignore)
        emit(render(kept, fmt, tool="lint"), output)
    except UsageProblem as exc:
        print(f"guardrail lint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return exit_code(kept, threshold)
