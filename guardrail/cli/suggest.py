"""`guardrail suggest`: narrow allow rules for what people keep approving.

Reads the trail, keeps the calls that were asked and then allowed by a
human (and, with `--include-shadow`, the calls a shadow-mode run would have
asked about), groups them by the rules that would allow them, and prints
the groups seen at least `--min-count` times as YAML to review and paste
into `.guardrail/policy.yaml`. Nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from guardrail.audit import DEFAULT_TRAIL


def collect(path: Path, *, include_shadow: bool = False) -> tuple[list[dict[str, Any]], int]:
    """[(rules, count, examples)] for approved asks, and how many could not be narrowed."""
    from guardrail.approval.rules import NotNarrow, asked_effects, example_of, match_for_effect
    from guardrail.cli.audit import call_rows

    groups: dict[str, dict[str, Any]] = {}
    skipped = 0
    for row in call_rows(path):
        decision = row.get("decision") or {}
        approval = row.get("approval") or {}
        call = (row.get("call") or {}).get("call") or {}
        if decision.get("decision") != "ask":
            continue
        approved = bool(approval.get("allowed")) and approval.get("approver") not in ("session", "grant")
        shadowed = include_shadow and not approval and decision.get("effective") != "ask"
        if not (approved or shadowed):
            continue
        try:
            matches = [match_for_effect(e) for e in asked_effects(decision)]
        except NotNarrow:
            skipped += 1
            continue
        if not matches:
            continue
        key = json.dumps(sorted(json.dumps(m, sort_keys=True) for m in matches))
        group = groups.setdefault(key, {"matches": matches, "count": 0, "examples": []})
        group["count"] += 1
        example = example_of(call)
        if example not in group["examples"] and len(group["examples"]) < 3:
            group["examples"].append(example)
    return sorted(groups.values(), key=lambda g: -int(g["count"])), skipped


def proposals(groups: list[dict[str, Any]], min_count: int) -> list[dict[str, Any]]:
    """The rules of every group seen at least `min_count` times (a rule shared by groups once)."""
    from guardrail.approval.rules import rules_for_matches

    rules: dict[str, dict[str, Any]] = {}
    for group in groups:
        if group["count"] < min_count:
            continue
        shown = group["examples"][0]
        text = shown if isinstance(shown, str) else json.dumps(shown, sort_keys=True)
        made = rules_for_matches(
            group["matches"],
            example=list(group["examples"]),
            description=f"Approved {group['count']} times, e.g. {text[:100]}",
            prefix="suggested",
        )
        for rule in made:
            rules.setdefault(rule["id"], rule)
    return list(rules.values())


def suggest_command(
    trail: Annotated[Path | None, typer.Option("--trail", help="The trail (default: .guardrail/audit.jsonl).")] = None,
    min_count: Annotated[int, typer.Option("--min-count", min=1, help="Propose a rule after this many approvals.")] = 3,
    include_shadow: Annotated[
        bool, typer.Option("--include-shadow", help="Also count what shadow mode would have asked.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml",
) -> None:
    """Propose narrow allow rules for calls that were asked and approved often (printed, not written)."""
    if fmt not in ("yaml", "json"):
        raise typer.BadParameter(f"--format must be yaml or json, not {fmt!r}")
    path = trail if trail is not None else Path.cwd() / DEFAULT_TRAIL
    if not path.exists():
        typer.echo(f"no audit trail at {path}", err=True)
        raise typer.Exit(1)
    groups, skipped = collect(path, include_shadow=include_shadow)
    rules = proposals(groups, min_count)
    if skipped:
        typer.echo(f"{skipped} approved calls cannot be matched narrowly (unknown paths or hosts, dynamic code): no rule", err=True)
    if fmt == "json":
        typer.echo(json.dumps({"rules": rules}, indent=1))
        return
    from guardrail.approval.rules import rules_yaml

    if not rules:
        typer.echo(f"# nothing was approved {min_count} times or more", err=True)
        return
    typer.echo("# Review, then paste under `rules:` in .guardrail/policy.yaml")
    typer.echo(rules_yaml(rules), nl=False)
