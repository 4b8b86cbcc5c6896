"""`guardrail mcp`: put guardrail between an agent and MCP servers, or be one.

- `guardrail mcp proxy [--policy P] -- SERVER_CMD...`: a stdio MCP server in
  front of the downstream server SERVER_CMD, deciding every tools/call;
- `guardrail mcp serve [--policy P] [--workspace DIR]`: guardrail's own tools
  (shell, files, SQL, HTTP), each checked, approved and run in the sandbox.

Diagnostics go to stderr: stdout is the MCP channel.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from guardrail.cli import EXIT_USAGE

mcp_app = typer.Typer(help="MCP: a policy-enforcing proxy in front of MCP servers, and guardrail's own MCP server.",
                      no_args_is_help=True)

PolicyOpt = Annotated[str | None, typer.Option("--policy", "-p", envvar="GUARDRAIL_POLICY",
                                               help="Policy name or file (default: the default policy).")]
WorkspaceOpt = Annotated[Path | None, typer.Option("--workspace", "-w",
                                                   help="The agent's workspace (default: the current directory).")]
NoAuditOpt = Annotated[bool, typer.Option("--no-audit", help="Do not write the audit trail.")]


def _guard(policy: str | None, workspace: Path | None, audit: bool, **options: object) -> object:
    from guardrail.errors import PolicyError
    from guardrail.pipeline import Guard

    ws = workspace or Path.cwd()
    if not ws.is_dir():
        typer.echo(f"guardrail mcp: workspace {ws} is not a directory", err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        return Guard.from_policy(policy, workspace=ws, audit=audit, **options)
    except PolicyError as exc:
        typer.echo(f"guardrail mcp: invalid policy: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


@mcp_app.command("proxy")
def proxy_command(
    command: Annotated[list[str] | None, typer.Argument(help="The downstream MCP server's command, after `--`.")] = None,
    policy: PolicyOpt = None,
    workspace: WorkspaceOpt = None,
    name: Annotated[str | None, typer.Option("--name", help="The server name mappings see (default: the "
                                             "downstream's serverInfo.name).")] = None,
    no_audit: NoAuditOpt = False,
) -> None:
    """Serve MCP on stdio in front of SERVER_CMD, deciding every tools/call by the policy."""
    import anyio

    from guardrail.adapters.mcp_proxy import run_proxy

    if not command:
        typer.echo("guardrail mcp proxy: no server to proxy: guardrail mcp proxy -- SERVER_CMD...", err=True)
        raise typer.Exit(EXIT_USAGE)
    guard = _guard(policy, workspace, not no_audit)
    try:
        anyio.run(lambda: run_proxy(command, guard, server_name=name, audit=not no_audit))
    except OSError as exc:
        typer.echo(f"guardrail mcp proxy: cannot start {command[0]}: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


@mcp_app.command("serve")
def serve_command(
    policy: PolicyOpt = None,
    workspace: WorkspaceOpt = None,
    transport: Annotated[str, typer.Option("--transport", "-t", help="stdio or http (streamable HTTP).")] = "stdio",
    host: Annotated[str, typer.Option("--host", help="HTTP: the address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="HTTP: the port (0: any free port).")] = 8848,
    no_sandbox: Annotated[bool, typer.Option("--no-sandbox", envvar="GUARDRAIL_NO_SANDBOX",
                                             help="Run shell calls on the host after the check.")] = False,
    no_audit: NoAuditOpt = False,
) -> None:
    """Serve guardrail's own tools (shell, files, SQL, HTTP) over MCP, each call checked."""
    from guardrail.adapters.mcp_server import serve

    if transport not in ("stdio", "http"):
        typer.echo(f"guardrail mcp serve: unknown transport {transport!r}: stdio or http", err=True)
        raise typer.Exit(EXIT_USAGE)
    guard = _guard(policy, workspace, not no_audit, no_sandbox=no_sandbox)
    serve(guard, transport=transport, host=host, port=port, announce=lambda text: print(text, file=sys.stderr))


__all__ = ["mcp_app"]
