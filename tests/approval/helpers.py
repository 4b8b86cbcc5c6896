"""Calls, decisions and requests for approval tests (no parser needed)."""

from __future__ import annotations

from pathlib import Path

from guardrail.approval.base import ApprovalRequest
from guardrail.approval.session import call_hash
from guardrail.calls import FileCall, ShellCall, ToolCall
from guardrail.decision import Decision, FiredRule, Risk, Verdict
from guardrail.effects import Effect, ExecEffect, NetEffect, PathEffect


def shell_decision(command: str, host: str = "pypi.org", verdict: Verdict = Verdict.ASK) -> tuple[ShellCall, Decision]:
    """`pip install X` style: a program plus a network effect that asks."""
    argv = tuple(command.split())
    exe = ExecEffect(argv[0], argv, source=command, subcommand=argv[1] if len(argv) > 1 else None)
    net = NetEffect("http", host, "public", source=command, scheme="https", method="GET")
    fired = (FiredRule("package-install", verdict, Risk.MEDIUM, exe, "installing packages"),)
    return ShellCall(command), Decision(verdict, Risk.MEDIUM, "installing packages", fired, (exe, net))


def file_decision(path: str, op: str = "write") -> tuple[FileCall, Decision]:
    eff = PathEffect("write", path, "inside", source=path)
    fired = (FiredRule("write-config", Verdict.ASK, Risk.HIGH, eff, "writing a config file"),)
    return FileCall(op, path, content="new\n"), Decision(Verdict.ASK, Risk.HIGH, "config", fired, (eff,))  # type: ignore[arg-type]


def request_for(call: ToolCall, decision: Decision, workspace: Path, session: str = "s1") -> ApprovalRequest:
    return ApprovalRequest(call, decision, call_hash(call), session, str(workspace))


def effects_of(decision: Decision) -> tuple[Effect, ...]:
    return decision.effects
