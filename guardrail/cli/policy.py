"""`guardrail policy show|schema`: the effective policy, and the format's JSON Schema.

`show` prints the policy after `extends` and merging (what the engine
decides with), as YAML or `--format json`; `schema` prints the JSON Schema of
a policy file, for editors (`# yaml-language-server: $schema=...`). An
invalid policy is reported on stderr as file:line:col, one problem a line,
exit 2.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from guardrail.cli import EXIT_USAGE

policy_app = typer.Typer(
    name="policy",
    help="Show the effective policy, or the JSON Schema of the policy format.",
    no_args_is_help=True,
    add_completion=False,
)


def _report(exc: Exception) -> None:
    from guardrail.policy.compiler import PolicyErrors

    problems = exc.errors if isinstance(exc, PolicyErrors) else [exc]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)


@policy_app.command("show")
def show_command(
    policy: Annotated[
        str | None,
        typer.Option("--policy", "-p", help="Policy name or file (default: the default policy)."),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="yaml or json.", case_sensitive=False)
    ] = "yaml",
) -> None:
    """Print the effective policy: bases merged in, disabled rules removed."""
    from guardrail.errors import PolicyError
    from guardrail.policy.compiler import effective_dict
    from guardrail.policy.loader import resolve_policy_path

    if output_format.lower() not in ("yaml", "json"):
        print(f"error: --format must be yaml or json, not {output_format!r}", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE)
    try:
        data = effective_dict(resolve_policy_path(policy))
    except PolicyError as exc:
        _report(exc)
        raise typer.Exit(EXIT_USAGE) from None
    sys.stdout.write(_render(data, output_format.lower()))


def _render(data: dict[str, Any], output_format: str) -> str:
    if output_format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    import yaml

    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))


@policy_app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of a policy file."""
    from guardrail.policy.schema import UNVALIDATED, policy_json_schema

    for model, why in UNVALIDATED.items():
        print(
            f"warning: {model} unavailable ({why}): its section is a plain mapping", file=sys.stderr
        )
    sys.stdout.write(json.dumps(policy_json_schema(), indent=2) + "\n")
