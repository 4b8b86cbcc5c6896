"""`guardrail run [OPTIONS] -- CMD...`: check a command, then run it in the sandbox.

The whole pipeline of `Guard.run`: deny -> the reason on stderr, exit 126;
ask -> the policy's approver (the terminal approver reads /dev/tty, so it
works with redirected stdio; with no human to ask, the auto approver
denies); allow -> run in the session's warm container (or on the host with
`--no-sandbox`, which says so), stream the output, exit with its status.
Every step goes to the workspace's audit trail.

One argument after `--` is taken as a shell command line as written
(`guardrail run -- 'make test | tail'`); several are quoted and joined
(`guardrail run -- ls -la "my dir"`).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from guardrail.cli import EXIT_INTERNAL, EXIT_REFUSED, EXIT_USAGE

SESSION_ENV = "GUARDRAIL_SESSION"
DEFAULT_SESSION = "default"


def run_command(
    command: Annotated[list[str], typer.Argument(help="The command, after `--`.")],
    policy: Annotated[
        str | None,
        typer.Option("--policy", "-p", help="Policy name or file (default: the default policy)."),
    ] = None,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace", "-w", help="Workspace directory (default: the current directory)."
        ),
    ] = None,
    image: Annotated[
        str | None, typer.Option("--image", help="Sandbox image (beats GUARDRAIL_IMAGE).")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=0.001,
            help="Seconds before the call is killed (default: the policy's).",
        ),
    ] = None,
    no_sandbox: Annotated[
        bool,
        typer.Option("--no-sandbox", help="Run on the host after the check (no containment)."),
    ] = False,
    session: Annotated[
        str,
        typer.Option("--session", envvar=SESSION_ENV, help="Session whose warm sandbox to use."),
    ] = DEFAULT_SESSION,
    approver: Annotated[
        str | None,
        typer.Option("--approver", help="Who answers an ask: terminal, web, webhook or auto (default: the policy's, else terminal when there is one)."),
    ] = None,
) -> None:
    """Check a shell command against the policy and run it, contained, if allowed.

    The whole pipeline runs: an ask goes to the approver, every step is
    written to the workspace's audit trail (.guardrail/audit.jsonl).
    """
    if not command:
        typer.echo("guardrail: nothing to run: guardrail run -- CMD...", err=True)
        raise typer.Exit(EXIT_USAGE)
    line = command[0] if len(command) == 1 else shlex.join(command)
    ws = (workspace or Path.cwd()).resolve()
    if not ws.is_dir():
        typer.echo(f"guardrail: workspace {ws} is not a directory", err=True)
        raise typer.Exit(EXIT_USAGE)
    cwd = _cwd_in(ws)
    guard = _guard(policy, ws, session=session, no_sandbox=no_sandbox, image=image, approver_name=approver)
    try:
        from guardrail.calls import ShellCall

        result = guard.run(ShellCall(command=line, cwd=cwd), timeout=timeout, on_output=_write)
    finally:
        guard.close()  # releases the sandbox: it stays warm for the session's next call
    raise typer.Exit(_outcome(result))


def _cwd_in(workspace: Path) -> str:
    """The current directory if it is inside the workspace (it exists in the sandbox), else the workspace."""
    here = Path.cwd().resolve()
    return str(here) if here == workspace or workspace in here.parents else str(workspace)


def _guard(policy: str | None, workspace: Path, **options: Any) -> Any:
    from guardrail.errors import GuardrailError
    from guardrail.pipeline import Guard

    name = options.pop("approver_name", None)
    try:
        guard = Guard.from_policy(policy or "default", workspace=workspace, **options)
        if name is not None:
            from guardrail.approval import make_approver

            guard._approver = make_approver(guard.approval_config, workspace=str(workspace), name=name)
        return guard
    except GuardrailError as exc:
        typer.echo(f"guardrail: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _outcome(result: Any) -> int:
    """The exit status: 126 refused, 3 the sandbox failed, else the command's own."""
    rules = f" [{', '.join(result.decision.rules)}]" if result.decision.rules else ""
    if not result.ran:
        if result.error:
            sys.stderr.write(f"guardrail: {result.error}\n")
            return EXIT_INTERNAL
        typer.echo(f"guardrail: refused: {result.reason}{rules}", err=True)
        return EXIT_REFUSED
    if result.would_have:
        typer.echo(f"guardrail: ({result.would_have} in enforce mode: {result.decision.reason})", err=True)
    if result.error and not (result.timed_out or result.oom_killed):
        sys.stderr.write(f"guardrail: {result.error}\n")
        return EXIT_INTERNAL  # the command did not run: its status would mislead
    if result.error:
        sys.stderr.write(f"guardrail: {result.error}\n")
    code = result.exit_code if result.exit_code is not None else EXIT_INTERNAL
    return int(code) if 0 <= code <= 255 else EXIT_INTERNAL


def _write(stream: str, data: bytes) -> None:
    out = sys.stdout if stream == "stdout" else sys.stderr
    out.buffer.write(data)
    out.buffer.flush()


