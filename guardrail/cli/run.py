"""`guardrail run [OPTIONS] -- CMD...`: check a command, then run it in the sandbox.

deny -> the reason on stderr, exit 126. ask -> a y/N prompt on the terminal
(/dev/tty, so it works with redirected stdio); no terminal means deny.
allow -> run in the session's warm container (or on the host with
`--no-sandbox`, which says so), stream the output, exit with its status.

One argument after `--` is taken as a shell command line as written
(`guardrail run -- 'make test | tail'`); several are quoted and joined
(`guardrail run -- ls -la "my dir"`).
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from guardrail.cli import EXIT_INTERNAL, EXIT_REFUSED, EXIT_USAGE

if TYPE_CHECKING:
    from guardrail.decision import Decision
    from guardrail.sandbox.base import ExecResult
    from guardrail.sandbox.config import SandboxConfig

SESSION_ENV = "GUARDRAIL_SESSION"
DEFAULT_SESSION = "default"
TTY = "/dev/tty"  # where an ask is put to the user


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
) -> None:
    """Check a shell command against the policy and run it, contained, if allowed."""
    if not command:
        typer.echo("guardrail: nothing to run: guardrail run -- CMD...", err=True)
        raise typer.Exit(EXIT_USAGE)
    line = command[0] if len(command) == 1 else shlex.join(command)
    ws = (workspace or Path.cwd()).resolve()
    if not ws.is_dir():
        typer.echo(f"guardrail: workspace {ws} is not a directory", err=True)
        raise typer.Exit(EXIT_USAGE)
    cwd = _cwd_in(ws)
    guard = _guard(policy, ws)
    decision = _check(guard, line, cwd)
    if not _permitted(decision, line):
        raise typer.Exit(EXIT_REFUSED)
    config = _sandbox_config(guard)
    raise typer.Exit(_execute(config, ws, cwd, line, session, image, timeout, no_sandbox))


def _cwd_in(workspace: Path) -> str:
    """The current directory if it is inside the workspace (it exists in the sandbox), else the workspace."""
    here = Path.cwd().resolve()
    return str(here) if here == workspace or workspace in here.parents else str(workspace)


def _guard(policy: str | None, workspace: Path) -> Any:
    import importlib

    from guardrail.errors import GuardrailError

    try:
        pipeline = importlib.import_module("guardrail.pipeline")
        return pipeline.Guard.from_policy(policy or "default", workspace=workspace)
    except GuardrailError as exc:
        typer.echo(f"guardrail: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _check(guard: Any, line: str, cwd: str) -> Decision:
    from guardrail.calls import ShellCall

    decision: Decision = guard.check(ShellCall(command=line, cwd=cwd))
    return decision


def _permitted(decision: Decision, line: str) -> bool:
    """allow -> True; deny -> False (reason shown); ask -> the terminal's answer."""
    from guardrail.decision import Verdict

    rules = f" [{', '.join(decision.rules)}]" if decision.rules else ""
    if decision.verdict is Verdict.ALLOW:
        return True
    if decision.verdict is Verdict.DENY:
        typer.echo(f"guardrail: denied: {decision.reason}{rules}", err=True)
        return False
    if ask_terminal(f"guardrail: {decision.reason}{rules}\n  {line}\nRun it? [y/N] "):
        return True
    typer.echo("guardrail: denied: not approved", err=True)
    return False


def ask_terminal(prompt: str, tty: str | None = None) -> bool:
    """y/N on the controlling terminal; False when there is none (fail closed)."""
    try:
        fd = os.open(tty or TTY, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        sys.stderr.write("guardrail: approval needed but no terminal to ask on\n")
        return False
    try:
        os.write(fd, prompt.encode())
        answer = _read_line(fd)
    except OSError:
        return False
    finally:
        os.close(fd)
    return answer.strip().lower() in (b"y", b"yes")


def _read_line(fd: int, limit: int = 256) -> bytes:
    """One line from a terminal, unbuffered (a tty cannot take a buffered r+ stream)."""
    line = b""
    while len(line) < limit:
        char = os.read(fd, 1)
        if not char or char == b"\n":
            break
        line += char
    return line


def _sandbox_config(guard: Any) -> SandboxConfig:
    """The policy's `sandbox:` section, or the hardened defaults when it has none."""
    from guardrail.errors import PolicyError
    from guardrail.sandbox.config import config_from_policy

    try:
        return config_from_policy(getattr(getattr(guard, "policy", None), "sandbox", None))
    except PolicyError as exc:
        typer.echo(f"guardrail: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _execute(
    config: SandboxConfig,
    workspace: Path,
    cwd: str,
    line: str,
    session: str,
    image: str | None,
    timeout: float | None,
    no_sandbox: bool,
) -> int:
    from guardrail.sandbox import open_sandbox

    sandbox = open_sandbox(config, workspace, session, no_sandbox, image=image)
    try:
        result = sandbox.exec(line, cwd=cwd, timeout=timeout, on_output=_write)
    finally:
        sandbox.release()  # stays warm for the session's next call
    return _report(result)


def _write(stream: str, data: bytes) -> None:
    out = sys.stdout if stream == "stdout" else sys.stderr
    out.buffer.write(data)
    out.buffer.flush()


def _report(result: ExecResult) -> int:
    if result.error and not (result.timed_out or result.oom_killed):
        sys.stderr.write(f"guardrail: {result.error}\n")
        return EXIT_INTERNAL  # the command did not run: its status would mislead
    if result.error:
        sys.stderr.write(f"guardrail: {result.error}\n")
    return result.exit_code if 0 <= result.exit_code <= 255 else EXIT_INTERNAL
