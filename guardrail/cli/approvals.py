"""`guardrail approvals serve`: the local approval page for headless agents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

approvals_app = typer.Typer(help="Answer approval requests of headless agents.", no_args_is_help=True)


@approvals_app.callback()
def _group() -> None:
    """Answer approval requests of headless agents (a group, so that more commands can join `serve`)."""


@approvals_app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Loopback address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free port).")] = 8765,
    workspace: Annotated[
        Path, typer.Option(help="Workspace whose guardrail processes ask here (.guardrail/approvals-server.json).")
    ] = Path("."),
) -> None:
    """Serve the approval page on 127.0.0.1 until interrupted; prints its URL (with its secret token)."""
    from pydantic import ValidationError

    from guardrail.approval.config import WebConfig
    from guardrail.approval.web_server import SERVER_FILE, serve

    try:
        WebConfig(host=host, port=port)
    except ValidationError as exc:
        raise typer.BadParameter(exc.errors()[0]["msg"]) from None

    def announce(url: str) -> None:
        typer.echo(url)
        typer.echo(
            f"Open the URL above to answer. Waiting guardrail processes find this server through "
            f"{workspace / SERVER_FILE} (approval: {{approver: web}}). Ctrl-C stops it.",
            err=True,
        )

    try:
        serve(host, port, workspace.resolve(), announce=announce)
    except OSError as exc:
        typer.echo(f"cannot serve on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(3) from None
