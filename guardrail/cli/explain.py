"""`guardrail explain`: how a call was read and decided — commands, effects, rules, verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from guardrail.cli import EXIT_USAGE


def explain_command(
    command: Annotated[str | None, typer.Argument(help="A shell command line to explain.")] = None,
    call_json: Annotated[str | None, typer.Option("--json", help="A whole call as JSON instead of a command.")] = None,
    policy: Annotated[str | None, typer.Option("--policy", "-p", help="Policy name or file.")] = None,
    workspace: Annotated[Path | None, typer.Option("--workspace", "-w", help="Workspace (default: cwd).")] = None,
    cwd: Annotated[str | None, typer.Option("--cwd", help="Working directory of a shell command.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Show the parse, the effects, every rule that fired and the final decision."""
    from guardrail.errors import CallError, PolicyError
    from guardrail.pipeline import Guard

    if (command is None) == (call_json is None):
        typer.echo("guardrail explain: give a COMMAND or --json CALL (one of them)", err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        raw: Any = json.loads(call_json) if call_json is not None else {"tool": "shell", "command": command}
    except ValueError as exc:
        typer.echo(f"guardrail explain: --json is not JSON: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    if cwd is not None and isinstance(raw, dict) and raw.get("tool") == "shell":
        raw["cwd"] = cwd
    try:
        guard = Guard.from_policy(policy, workspace=workspace)
    except PolicyError as exc:
        typer.echo(f"guardrail explain: invalid policy: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    decision = guard.check(raw)
    try:
        from guardrail.calls import parse_call

        call = parse_call(raw)
    except CallError:
        call = None
    if fmt == "json":
        typer.echo(json.dumps(explanation(guard, call, decision), indent=2, default=str))
    else:
        _print_tree(guard, call, decision)
    raise typer.Exit(0 if decision.verdict.name == "ALLOW" else 1)


def explanation(guard: Any, call: Any, decision: Any) -> dict[str, Any]:
    """The explanation as data."""
    from guardrail.audit import to_jsonable
    from guardrail.calls import ShellCall

    out: dict[str, Any] = {"decision": decision.to_dict()}
    if isinstance(call, ShellCall):
        out["commands"] = [" ".join(w.value if w.value is not None else w.raw for w in c.words)
                           for c in _commands(guard, call)]
    out["effects"] = [to_jsonable(e) for e in decision.effects]
    out["fired"] = [f.to_dict() for f in decision.fired]
    return out


def _commands(guard: Any, call: Any) -> list[Any]:
    from guardrail.parsers.shell import parse_line

    ws = guard.workspace
    return list(parse_line(call.command, home=ws.home, workspace=ws.root, cwd=ws.root).commands)


def _print_tree(guard: Any, call: Any, decision: Any) -> None:
    from rich.console import Console
    from rich.tree import Tree

    from guardrail.calls import ShellCall
    from guardrail.effects import describe

    colour = {"allow": "green", "ask": "yellow", "deny": "bold red"}[str(decision.verdict)]
    root = Tree(f"[{colour}]{decision.verdict}[/] (risk {decision.risk}) — {decision.reason}")
    if isinstance(call, ShellCall):
        parsed = root.add("[bold]commands[/]")
        for cmd in _commands(guard, call):
            words = " ".join(w.value if w.value is not None else f"⟨{w.raw}⟩" for w in cmd.words) or "(redirections only)"
            extra = []
            if cmd.pipe_from:
                extra.append(f"stdin from #{','.join(map(str, cmd.pipe_from))}")
            if cmd.in_sub_of is not None:
                extra.append(f"in a substitution of #{cmd.in_sub_of}")
            if cmd.cwd:
                extra.append(f"cwd {cmd.cwd}")
            parsed.add(f"#{cmd.id} {words}" + (f"  [dim]({'; '.join(extra)})[/]" if extra else ""))
    effects = root.add("[bold]effects and the rules they fired[/]")
    for effect in decision.effects:
        node = effects.add(describe(effect))
        for fired in decision.fired:
            if fired.effect is effect:
                c = {"allow": "green", "ask": "yellow", "deny": "red"}[str(fired.verdict)]
                node.add(f"[{c}]{fired.verdict}[/] {fired.rule_id} [dim]({fired.risk}) {fired.description}[/]")
    if not decision.effects:
        for fired in decision.fired:
            effects.add(f"{fired.verdict} {fired.rule_id}: {fired.description}")
    Console().print(root)
