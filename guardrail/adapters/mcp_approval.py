"""Asking a human about an MCP tool call: through the agent's client, else the approver.

When the client declared the elicitation capability, the proxy sends
`elicitation/create` in form mode with one choice — allow once, allow for the
session, deny — and the parsed call, rule and risk in the message. Otherwise
(or with `mcp.elicitation: false`) the policy's approver is asked, as
`guardrail run` would. A decline, a cancel, a timeout, an answer outside the
choices or any failure is a deny. "Allow for the session" is kept in the
session memory shared with the other adapters (mapped calls) or for the
proxy's lifetime (an unmapped tool, by name).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from guardrail.adapters.mcp_policy import McpDecision
from guardrail.approval.base import ApprovalAnswer
from guardrail.calls import ShellCall, ToolCall
from guardrail.decision import Decision, Verdict

CHOICES = (("allow_once", "Allow once"), ("allow_session", "Allow for this session"), ("deny", "Deny"))
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "decision": {
            "type": "string",
            "title": "Your decision",
            "oneOf": [{"const": value, "title": title} for value, title in CHOICES],
        },
    },
    "required": ["decision"],
}


@dataclass(frozen=True)
class Approval:
    allowed: bool
    reason: str
    answers: tuple[ApprovalAnswer, ...] = ()


def stand_in_call(d: McpDecision, arguments: Mapping[str, Any]) -> ShellCall:
    """An unmapped MCP tool as approvers can show it: a shell comment that does nothing.

    Approval requests carry a guardrail call; an unmapped tool has none, so
    the request carries a `:` no-op line naming the tool and its arguments
    (hashed like any call, so an answer stays bound to this very call).
    """
    args = json.dumps(dict(arguments), ensure_ascii=False, sort_keys=True, default=str)
    return ShellCall(command=f": MCP tool {d.server or '?'}/{d.tool} {args}")


@dataclass
class McpApprover:
    """One proxy's way to ask: elicitation first, the configured approver otherwise."""

    guard: Any
    elicitation: bool = True
    timeout: float | None = None  # default: the policy's approval.timeout
    _session_tools: set[tuple[str, str]] = field(default_factory=set)

    def _config(self) -> Any:
        return self.guard.approval_config

    def _memory(self) -> Any:
        from guardrail.approval.session import SessionMemory

        try:
            return SessionMemory(self.guard.workspace.root, self.guard.session)
        except Exception:
            return None

    def _asked(self, d: McpDecision, arguments: Mapping[str, Any]) -> list[tuple[ToolCall, Decision]]:
        if d.calls:
            return [(c, dec) for c, dec in zip(d.calls, d.decisions, strict=True) if dec.verdict is Verdict.ASK]
        return [(stand_in_call(d, arguments), d.decision)]

    async def approve(self, ctx: Any, d: McpDecision, arguments: Mapping[str, Any], call_id: str) -> Approval:
        try:
            return await self._approve(ctx, d, arguments)
        except Exception as exc:  # fail closed, whatever went wrong
            return Approval(False, f"denied: asking failed ({type(exc).__name__}: {exc})")

    async def _approve(self, ctx: Any, d: McpDecision, arguments: Mapping[str, Any]) -> Approval:
        from guardrail.approval.session import call_hash

        asked = self._asked(d, arguments)
        key = (d.server, d.tool.casefold())
        memory = self._memory()
        if not d.calls and key in self._session_tools:
            return Approval(True, "allowed earlier in this session",
                            (ApprovalAnswer("allow_session", call_hash(asked[0][0]), "session"),))
        if d.calls and memory is not None and all(memory.covers(c, dec) for c, dec in asked):
            return Approval(True, "allowed earlier in this session",
                            tuple(ApprovalAnswer("allow_session", call_hash(c), "session") for c, _ in asked))
        if self.elicitation and _can_elicit(ctx):
            return await self._elicit(ctx, d, arguments, asked, memory)
        return await anyio.to_thread.run_sync(self._ask_approver, asked, memory)

    async def _elicit(self, ctx: Any, d: McpDecision, arguments: Mapping[str, Any],
                      asked: list[tuple[ToolCall, Decision]], memory: Any) -> Approval:
        from guardrail.adapters.mcp_proxy import describe_for_human
        from guardrail.approval.session import call_hash

        timeout = self.timeout if self.timeout is not None else float(self._config().timeout)
        who = _client_name(ctx)
        hashes = [call_hash(c) for c, _ in asked]
        try:
            with anyio.fail_after(timeout):
                result = await ctx.session.elicit_form(describe_for_human(d, arguments), SCHEMA,
                                                       related_request_id=ctx.request_id)
        except TimeoutError:
            return self._denied(hashes, who, f"denied: no answer within {timeout:g} s")
        if result.action != "accept":
            return self._denied(hashes, who, f"denied by a human via elicitation ({result.action})")
        choice = (result.content or {}).get("decision")
        if choice not in ("allow_once", "allow_session"):
            return self._denied(hashes, who, "denied by a human via elicitation" if choice == "deny"
                                else f"denied: not a valid answer ({choice!r})")
        if choice == "allow_session":
            if d.calls and memory is not None:
                for c, dec in asked:
                    memory.allow_for_session(c, dec, who=who)
            elif not d.calls:
                self._session_tools.add((d.server, d.tool.casefold()))
        answers = tuple(ApprovalAnswer(choice, h, "elicitation", who) for h in hashes)
        return Approval(True, f"approved ({choice} via elicitation)", answers)

    @staticmethod
    def _denied(hashes: list[str], who: str, reason: str) -> Approval:
        return Approval(False, reason, tuple(ApprovalAnswer("deny", h, "elicitation", who, reason) for h in hashes))

    def _ask_approver(self, asked: list[tuple[ToolCall, Decision]], memory: Any) -> Approval:
        from guardrail.approval.flow import denial_reason, make_request, obtain_approval

        config = self._config()
        answers: list[ApprovalAnswer] = []
        for call, dec in asked:
            request = make_request(call, dec, workspace=self.guard.workspace.root, session=self.guard.session)
            answer = obtain_approval(request, self.guard.approver, timeout=float(config.timeout), memory=memory,
                                     allow_session=config.allow_session, allow_always=config.allow_always)
            answers.append(answer)
            if not answer.allowed:
                return Approval(False, denial_reason(answer), tuple(answers))
        kinds = ", ".join(sorted({f"{a.answer} by {a.approver}" for a in answers}))
        return Approval(True, f"approved ({kinds})", tuple(answers))


def _can_elicit(ctx: Any) -> bool:
    session = getattr(ctx, "session", None)
    if session is None or not getattr(session, "can_send_request", False):
        return False
    caps = session.client_capabilities
    return caps is not None and caps.elicitation is not None


def _client_name(ctx: Any) -> str:
    params = getattr(ctx.session, "client_params", None)
    info = getattr(params, "client_info", None)
    return str(getattr(info, "name", "") or "mcp-client")


__all__ = ["CHOICES", "SCHEMA", "Approval", "McpApprover", "stand_in_call"]
