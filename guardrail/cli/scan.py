"""`guardrail scan [PATH...]` and `guardrail replay TRANSCRIPT`: the policy applied to real shell.

`scan` finds shell in a repository (scripts, Makefile recipes, Dockerfile
`RUN`, GitHub Actions `run:`, package.json scripts, local pre-commit hooks)
and reports each ask and deny with file:line and rule; `replay` does the same
for the calls of a recorded agent session ("this session would have run 3
denied actions"). Same formats and exit codes as `lint`: 0 clean, 1 a
finding at or above `--fail-on` (default error: a deny), 2 usage error or an
invalid policy.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from guardrail.cli import EXIT_USAGE
from guardrail.cli.lint import (
    FAIL_ON_HELP,
    FORMAT_HELP,
    UsageProblem,
    check_format,
    emit,
    filter_findings,
    parse_fail_on,
)

if TYPE_CHECKING:
    from guardrail.lint.findings import Finding

PolicyOption = Annotated[
    str | None,
    typer.Option("--policy", "-p", help="Policy name or file (default: .guardrail/policy.yaml, else default)."),
]


def _guard(policy: str | None, workspace: Path) -> Any:
    from guardrail.errors import PolicyError
    from guardrail.pipeline import Guard

    if policy is None:
        project = Path(".guardrail") / "policy.yaml"
        policy = str(project) if project.is_file() else "default"
    try:
        return Guard.from_policy(policy, workspace=workspace)
    except PolicyError as exc:
        raise UsageProblem(f"invalid policy: {exc}") from None


def _finish(findings: list[Finding], checked: int, noun: str, tool: str, output_format: str,
            select: list[str] | None, ignore: list[str] | None, fail_on: str, output: Path | None) -> int:
    from guardrail.lint.formats import exit_code, render

    threshold = parse_fail_on(fail_on)
    kept = filter_findings(findings, select, ignore)
    emit(render(kept, output_format, tool=tool), output)
    denied_at = {(f.path, f.line) for f in kept if f.code in ("GR401", "GR501")}
    asked_at = {(f.path, f.line) for f in kept if f.code in ("GR402", "GR502")} - denied_at
    denied, asked = len(denied_at), len(asked_at)
    where = "calls" if tool == "replay" else "places"
    print(f"guardrail {tool}: {checked} {noun} checked; {denied} {where} denied, {asked} asked", file=sys.stderr)
    return exit_code(kept, threshold)


def scan_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: the current folder).")] = None,
    policy: PolicyOption = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "text",
    select: Annotated[list[str] | None, typer.Option("--select", help="Only these codes or prefixes.")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Leave out these codes or prefixes.")] = None,
    fail_on: Annotated[str, typer.Option("--fail-on", help=FAIL_ON_HELP)] = "error",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
) -> None:
    """Check the shell in a repository against the policy; report each ask and deny."""
    from guardrail.lint.scanning import scan_paths

    try:
        fmt = check_format(output_format)
        roots = paths or [Path(".")]
        for root in roots:
            if not root.exists():
                raise UsageProblem(f"{root}: no such file or directory")
        workspace = roots[0] if roots[0].is_dir() else roots[0].parent
        guard = _guard(policy, workspace.resolve())
        findings, checked = scan_paths(guard, roots)
        code = _finish(findings, checked, "snippets", "scan", fmt, select, ignore, fail_on, output)
    except UsageProblem as exc:
        print(f"guardrail scan: {exc}", file=sys.stderr)
        code = EXIT_USAGE
    raise typer.Exit(code)


def replay_command(
    transcript: Annotated[Path, typer.Argument(help="A Claude Code transcript or guardrail calls, JSON Lines.")],
    policy: PolicyOption = None,
    workspace: Annotated[Path | None, typer.Option("--workspace", "-w", help="The session's workspace (default: .).")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "text",
    select: Annotated[list[str] | None, typer.Option("--select", help="Only these codes or prefixes.")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Leave out these codes or prefixes.")] = None,
    fail_on: Annotated[str, typer.Option("--fail-on", help=FAIL_ON_HELP)] = "error",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
) -> None:
    """Report which calls of a recorded session the policy would have asked or denied."""
    from guardrail.lint.findings import display_path
    from guardrail.lint.replay import replay

    try:
        fmt = check_format(output_format)
        if not transcript.is_file():
            raise UsageProblem(f"{transcript}: no such file")
        guard = _guard(policy, (workspace or Path(".")).resolve())
        findings, checked = replay(guard, transcript, display_path(transcript))
        code = _finish(findings, checked, "calls", "replay", fmt, select, ignore, fail_on, output)
    except UsageProblem as exc:
        print(f"guardrail replay: {exc}", file=sys.stderr)
        code = EXIT_USAGE
    raise typer.Exit(code)
