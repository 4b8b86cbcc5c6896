"""`guardrail sandbox`: build the local image; list, stop and prune session containers.

Results go to stdout (`--format json` for machines), diagnostics to stderr;
an unreachable engine is exit 3 with what to do about it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from guardrail.cli import EXIT_INTERNAL, EXIT_USAGE
from guardrail.errors import SandboxError

sandbox_app = typer.Typer(
    help="The Docker sandbox: build its image, list, stop and prune session containers.",
    no_args_is_help=True,
)

FORMATS = ("table", "json")


def _client() -> Any:
    from guardrail.sandbox.docker import docker_client

    try:
        return docker_client()
    except SandboxError as exc:
        typer.echo(f"guardrail: {exc}", err=True)
        raise typer.Exit(EXIT_INTERNAL) from None


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        typer.echo(f"guardrail: --format must be one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(EXIT_USAGE)


@sandbox_app.command("build-image")
def build_image(
    tag: str = typer.Option("guardrail-sandbox:local", help="Tag of the image to build."),
    force: bool = typer.Option(False, "--force", help="Rebuild even when cached and current."),
    mirror: str = typer.Option(
        "http://deb.debian.org/debian",
        envvar="GUARDRAIL_DEBIAN_MIRROR",
        help="Debian mirror debootstrap downloads from.",
    ),
) -> None:
    """Build a small Debian image (python3, git, curl, a shell) with no registry."""
    from guardrail.sandbox.image import Recipe, ensure_image

    client = _client()
    try:
        image_id = ensure_image(client, tag=tag, recipe=Recipe(mirror=mirror), force=force)
    except SandboxError as exc:
        typer.echo(f"guardrail: {exc}", err=True)
        raise typer.Exit(EXIT_INTERNAL) from None
    typer.echo(f"{tag} {image_id}")


@sandbox_app.command("ls")
def list_sessions(
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """List guardrail's session containers (running or not)."""
    from guardrail.sandbox.docker import iter_sessions

    _check_format(fmt)
    rows = list(iter_sessions(_client()))
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no guardrail sandboxes", err=True)
        return
    columns = ("name", "status", "session", "workspace", "image", "version")
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    typer.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        typer.echo("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())


@sandbox_app.command("stop")
def stop(
    names: Annotated[
        list[str] | None, typer.Argument(help="Container names (from `guardrail sandbox ls`).")
    ] = None,
    session: Annotated[str | None, typer.Option(help="Stop this session's containers.")] = None,
    workspace: Annotated[
        Path | None, typer.Option(help="Stop the containers of this workspace.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Stop every guardrail container.")] = False,
) -> None:
    """Stop (and remove) session containers; the next call starts a fresh one."""
    from guardrail.sandbox.docker import (
        LABEL_SESSION,
        LABEL_WORKSPACE,
        managed_containers,
        remove_container,
    )

    if not (names or session or workspace or all_):
        typer.echo("guardrail: name containers, or give --session, --workspace or --all", err=True)
        raise typer.Exit(EXIT_USAGE)
    ws = str(workspace.resolve()) if workspace else None
    stopped = []
    for container in managed_containers(_client()):
        labels = container.labels
        if (
            all_
            or container.name in (names or ())
            or (session is not None and labels.get(LABEL_SESSION) == session)
            or (ws is not None and labels.get(LABEL_WORKSPACE) == ws)
        ):
            remove_container(container)
            stopped.append(container.name)
    for name in stopped:
        typer.echo(name)
    if not stopped:
        typer.echo("guardrail: no matching sandbox", err=True)


@sandbox_app.command("prune")
def prune(
    all_: bool = typer.Option(False, "--all", help="Also stop running containers."),
) -> None:
    """Remove guardrail containers that are no longer running (with --all: every one)."""
    from guardrail.sandbox.docker import managed_containers, prune_stale, remove_container

    client = _client()
    if all_:
        removed = []
        for container in managed_containers(client):
            remove_container(container)
            removed.append(container.name)
    else:
        removed = prune_stale(client)
    for name in removed:
        typer.echo(name)
    sys.stderr.write(f"guardrail: removed {len(removed)} container(s)\n")
