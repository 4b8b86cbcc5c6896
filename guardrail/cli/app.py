"""The typer application: one module per command group, registered here."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="guardrail",
    help="A policy-enforcing sandbox for AI coding agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# (module, attribute, name or None): a typer.Typer is added as a group named
# `name`; a function is added as a command (named `name`, or after itself).
REGISTRY: list[tuple[str, str, str | None]] = [
    ("guardrail.cli.check", "check_command", "check"),
    ("guardrail.cli.explain", "explain_command", "explain"),
    ("guardrail.cli.policy", "policy_app", "policy"),
    ("guardrail.cli.run", "run_command", "run"),
    ("guardrail.cli.sandbox", "sandbox_app", "sandbox"),
    ("guardrail.cli.audit", "audit_app", "audit"),
    ("guardrail.cli.approvals", "approvals_app", "approvals"),
    ("guardrail.cli.suggest", "suggest_command", "suggest"),
    ("guardrail.cli.call", "call_command", "call"),
    ("guardrail.cli.hook", "hook_command", "hook"),
    ("guardrail.cli.lint", "lint_command", "lint"),
    ("guardrail.cli.test_cmd", "test_command", "test"),
    ("guardrail.cli.scan", "scan_command", "scan"),
    ("guardrail.cli.scan", "replay_command", "replay"),
    ("guardrail.cli.mcp", "mcp_app", "mcp"),
]


def _register() -> None:
    for module_name, attr, name in REGISTRY:
        target = getattr(importlib.import_module(module_name), attr)
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=name)
        else:
            app.command(name=name)(target)


def run_app(args: list[str]) -> int:
    _register()
    try:
        rc = app(args=args, prog_name="guardrail", standalone_mode=False)
        if isinstance(rc, int):
            return rc
    except SystemExit as exc:  # typer raises it for --help and exits
        return int(exc.code or 0)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        return 130
    except Exception as exc:
        # click's exceptions (typer bundles its own copy of click: match by shape, not class)
        show = getattr(exc, "show", None)
        code = getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            return code
        raise
    return 0
