"""Ask the person at the terminal: a rich panel and a one-key answer.

The prompt goes to the controlling terminal (`/dev/tty`), never to stdout
or stdin, which belong to the agent's protocol (hooks, MCP, pipes). Input
typed before the prompt appeared is discarded, so a stray keystroke cannot
answer a question not yet asked. No answer within the timeout is a deny.
"""

from __future__ import annotations

import os
import select
import sys
import time
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from guardrail.approval.base import Answer, ApprovalAnswer, ApprovalRequest
from guardrail.approval.describe import call_target, file_diff, printable
from guardrail.decision import Verdict
from guardrail.effects import describe
from guardrail.errors import ApprovalError

if TYPE_CHECKING:
    from guardrail.approval.config import ApprovalConfig

RISK_STYLE = {"low": "green", "medium": "yellow", "high": "bold red", "critical": "bold white on red"}
KEYS: dict[str, tuple[Answer, str]] = {
    "o": ("allow_once", "allow once"),
    "s": ("allow_session", "allow for this session"),
    "a": ("allow_always", "always allow (adds a rule)"),
    "d": ("deny", "deny"),
    "m": ("deny", "deny with a message for the agent"),
}


@dataclass
class _Tty:
    """The terminal's file descriptor and a text stream writing to it."""

    fd: int
    out: IO[str]
    owned: bool

    def close(self) -> None:
        self.out.flush()
        if self.owned:
            self.out.close()
            os.close(self.fd)

    def readline(self, deadline: float) -> str | None:
        """One line typed before the deadline; None on timeout; ApprovalError when the terminal closes."""
        buf = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self.fd, 1024)
            if not chunk:
                raise ApprovalError("the terminal was closed before an answer")
            buf += chunk
            if b"\n" in buf or b"\r" in buf:
                return buf.decode("utf-8", "replace").splitlines()[0] if buf.strip() else ""

    def discard_typeahead(self) -> None:
        try:
            import termios

            termios.tcflush(self.fd, termios.TCIFLUSH)
        except (ImportError, OSError):
            pass


def _open_tty(path: str) -> _Tty:
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        if sys.stdin.isatty():  # pragma: no cover - no /dev/tty but a terminal on stdin
            return _Tty(sys.stdin.fileno(), sys.stderr, owned=False)
        raise ApprovalError(
            "no terminal to ask on (no /dev/tty): use approval: web or webhook, or auto in CI"
        ) from None
    return _Tty(fd, open(os.dup(fd), "w", encoding="utf-8", errors="replace"), owned=True)


class TerminalApprover:
    """Shows the call and its reasons; answers with one key."""

    name = "terminal"

    def __init__(
        self, config: ApprovalConfig | None = None, workspace: str = ".", *, tty_path: str = "/dev/tty"
    ) -> None:
        self.workspace = workspace
        self.tty_path = tty_path
        self.offer_session = config.allow_session if config else True
        self.offer_always = config.allow_always if config else True
        self.policy_base = "default"

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalAnswer:
        deadline = time.monotonic() + timeout
        who = os.environ.get("USER", "") or os.environ.get("LOGNAME", "")
        try:
            tty = _open_tty(self.tty_path)
        except ApprovalError as exc:
            return ApprovalAnswer("deny", req.call_hash, self.name, who, str(exc))
        try:
            console = self._console(tty)
            console.print(render_request(req, timeout))
            return self._ask(req, tty, console, deadline, timeout, who)
        except ApprovalError as exc:
            return ApprovalAnswer("deny", req.call_hash, self.name, who, str(exc))
        finally:
            tty.close()

    def _console(self, tty: _Tty) -> Any:
        from rich.console import Console

        try:
            width = os.get_terminal_size(tty.fd).columns
        except OSError:
            width = 100
        return Console(file=tty.out, force_terminal=True, width=max(60, min(width, 160)), highlight=False)

    def _keys(self) -> dict[str, tuple[Answer, str]]:
        keys = dict(KEYS)
        if not self.offer_session:
            keys.pop("s")
        if not self.offer_always:
            keys.pop("a")
        return keys

    def _ask(
        self, req: ApprovalRequest, tty: _Tty, console: Any, deadline: float, timeout: float, who: str
    ) -> ApprovalAnswer:
        keys = self._keys()
        menu = "  ".join(f"[bold]{k}[/bold] {label}" for k, (_, label) in keys.items())
        tty.discard_typeahead()
        while True:
            console.print(menu)
            console.print(f"Answer within {timeout:g} s (no answer denies): ", end="")
            tty.out.flush()
            line = tty.readline(deadline)
            if line is None:
                console.print("\n[red]No answer in time: denied.[/red]")
                return ApprovalAnswer("deny", req.call_hash, self.name, who, f"no answer within {timeout:g} s")
            key = line.strip().lower()[:1]
            if key not in keys:
                console.print(f"[yellow]Type one of {', '.join(keys)} and Enter.[/yellow]")
                continue
            answer, _ = keys[key]
            if key == "m":
                console.print("Message for the agent: ", end="")
                tty.out.flush()
                message = tty.readline(deadline)
                if message is None:
                    return ApprovalAnswer("deny", req.call_hash, self.name, who, f"no answer within {timeout:g} s")
                console.print("[red]Denied.[/red]")
                return ApprovalAnswer("deny", req.call_hash, self.name, who, message.strip())
            if answer == "allow_always":
                written = self._write_rule(req, console)
                if written is None:
                    continue
                return ApprovalAnswer(answer, req.call_hash, self.name, who, "", {"rules": written})
            console.print("[green]Allowed.[/green]" if answer != "deny" else "[red]Denied.[/red]")
            return ApprovalAnswer(answer, req.call_hash, self.name, who)

    def _write_rule(self, req: ApprovalRequest, console: Any) -> str | None:
        """Write the narrow rule and show it; None (ask again) when no narrow rule exists."""
        from rich.syntax import Syntax

        from guardrail.approval.rules import NotNarrow, rules_for_request, rules_yaml, write_rules

        try:
            rules = rules_for_request(req)
        except NotNarrow as exc:
            console.print(f"[yellow]Cannot allow this for ever: {printable(str(exc))}. Choose another answer.[/yellow]")
            return None
        try:
            write_rules(req.workspace, rules, base=self.policy_base)
        except (OSError, ValueError) as exc:
            console.print(f"[yellow]Could not write the rule: {printable(str(exc))}. Choose another answer.[/yellow]")
            return None
        console.print("[green]Allowed. Added to .guardrail/policy.yaml:[/green]")
        console.print(Syntax(printable(rules_yaml(rules)), "yaml", theme="ansi_dark"))
        return ",".join(r["id"] for r in rules)


def render_request(req: ApprovalRequest, timeout: float) -> Any:
    """The rich panel: tool, target, effects, fired rules with risk, and the diff of a file change."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    decision = req.decision
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("tool", Text(req.call.tool))
    grid.add_row("call", Text(printable(call_target(req)), style="bold cyan"))
    grid.add_row("reason", Text(printable(decision.reason)))
    effects = Text("\n".join(printable(describe(e)) for e in decision.effects) or "(none)")
    grid.add_row("effects", effects)
    rules = Text()
    for fired in decision.fired:
        if fired.verdict < Verdict.ASK:
            continue
        if rules:
            rules.append("\n")
        rules.append(f"{fired.risk}".upper(), style=RISK_STYLE.get(str(fired.risk), ""))
        rules.append(f" {fired.rule_id} ({fired.verdict})")
        if fired.description:
            rules.append(f": {printable(fired.description)}", style="dim")
    grid.add_row("rules", rules or Text("(none)"))
    parts: list[Any] = [grid]
    diff = file_diff(req)
    if diff is not None:
        parts.append(Text(""))
        parts.append(_diff_text(diff))
    risk = str(decision.risk)
    title = Text.assemble(("guardrail asks", "bold"), "  risk ", (risk, RISK_STYLE.get(risk, "")))
    return Panel(Group(*parts), title=title, border_style=RISK_STYLE.get(risk, "yellow"), expand=True)


def _diff_text(lines: list[str]) -> Any:
    from rich.text import Text

    text = Text()
    for line in lines:
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        text.append(printable(line) + "\n", style=style)
    return text
