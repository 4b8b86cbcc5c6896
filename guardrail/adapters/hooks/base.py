"""The shared runner of agent hooks: payload -> calls -> decision -> the agent's JSON.

Agents start a hook process per tool call and read its answer from stdout,
so this path imports no typer, rich or pydantic. It never raises: a bad
payload, an invalid policy or a bug is a deny in the agent's own format
(`HookAgent.render_error`), because an agent treats a crashed hook as "no
objection".
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from guardrail.calls import ToolCall, call_to_dict, parse_call
from guardrail.decision import Decision, Verdict
from guardrail.errors import CallError


@dataclass(frozen=True)
class HookDecision:
    """guardrail's answer for one agent tool call."""

    tool: str  # the agent's tool name
    decision: Decision
    calls: tuple[ToolCall, ...] = ()
    mcp: dict[str, str] | None = None  # {"server", "tool"} for an MCP tool
    shadowed: str | None = None  # shadow/record mode: the verdict that was not enforced
    shadowed_mode: str = "shadow"

    @property
    def verdict(self) -> Verdict:
        return Verdict.ALLOW if self.shadowed else self.decision.verdict

    def message(self) -> str:
        """The reason as the agent (and the model) reads it: what, and which rule."""
        rules = self.decision.rules
        text = f"guardrail: {self.decision.reason}"
        if rules:
            text += f" [rule: {', '.join(rules)}]"
        if self.shadowed:
            text += f" (would have been {self.shadowed}; the policy is in {self.shadowed_mode} mode)"
        return text


class HookAgent(Protocol):
    name: str

    def workspace(self, payload: Mapping[str, Any]) -> str | None:
        """The project directory the payload belongs to, if it says."""
        ...

    def session(self, payload: Mapping[str, Any]) -> str | None: ...

    def decide(self, ctx: HookContext, payload: Mapping[str, Any]) -> HookDecision: ...

    def render(self, payload: Mapping[str, Any], result: HookDecision) -> dict[str, Any]: ...

    def render_error(self, reason: str) -> dict[str, Any]:
        """A deny carrying `reason`, for when no decision could be made."""
        ...


@dataclass
class HookContext:
    """What an agent adapter decides with: the guard, and the MCP rules when needed."""

    guard: Any
    _rules: Any = field(default=None, repr=False)

    @property
    def rules(self) -> Any:
        if self._rules is None:
            from guardrail.adapters.mcp_policy import McpRules

            self._rules = McpRules.from_policy(self.guard.policy)
        return self._rules

    def check_calls(self, tool: str, calls: list[dict[str, Any]]) -> HookDecision:
        """Decide the guardrail calls an agent tool amounts to (most restrictive wins)."""
        from guardrail.adapters.mcp_policy import combine

        try:
            parsed = tuple(parse_call(call) for call in calls)
        except CallError as exc:
            return HookDecision(tool, Decision.deny(f"invalid {tool} call: {exc}"))
        return HookDecision(tool, combine([self.guard.check(call) for call in parsed]), parsed)

    def check_mcp(self, tool: str, server: str, name: str, arguments: Any) -> HookDecision:
        d = self.rules.decide(self.guard, server, name, arguments)
        return HookDecision(tool, d.decision, d.calls, {"server": server, "tool": name})

    def unknown(self, tool: str) -> HookDecision:
        from guardrail.adapters.mcp_policy import by_name

        reason = f"guardrail does not know what the tool {tool!r} does; asking to be safe"
        return HookDecision(tool, by_name(Verdict.ASK, "hook-unknown-tool", reason))


def load_agent(name: str) -> HookAgent:
    import importlib

    from guardrail.adapters.hooks import AGENTS

    module_name, class_name = AGENTS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)()  # type: ignore[no-any-return]


def run_hook(agent: HookAgent, data: bytes, *, policy: str | None = None, workspace: str | None = None,
             audit: bool = True) -> dict[str, Any]:
    """Decide one hook payload; returns the agent's JSON answer, a deny on any failure."""
    try:
        payload = json.loads(data.decode("utf-8-sig"))
        if not isinstance(payload, dict):
            return agent.render_error("guardrail: the hook input is not a JSON object; denied to be safe")
    except (ValueError, UnicodeDecodeError) as exc:
        return agent.render_error(f"guardrail: the hook input is not JSON ({exc}); denied to be safe")
    try:
        from guardrail.pipeline import Guard

        guard = Guard.from_policy(policy, workspace=workspace or agent.workspace(payload),
                                  session=agent.session(payload), audit=audit)
    except Exception as exc:
        return agent.render_error(f"guardrail: cannot load the policy ({exc}); denied to be safe")
    try:
        result = agent.decide(HookContext(guard), payload)
        mode = str(guard.policy.mode)
        if mode != "enforce" and result.decision.verdict is not Verdict.ALLOW:
            result = HookDecision(result.tool, result.decision, result.calls, result.mcp,
                                  str(result.decision.verdict), mode)
        if audit:
            _record(guard, agent.name, result)
        return agent.render(payload, result)
    except Exception as exc:
        return agent.render_error(f"guardrail: internal error ({type(exc).__name__}: {exc}); denied to be safe")


def _record(guard: Any, agent: str, result: HookDecision) -> None:
    """A call and a decision record per hook call; a trail that cannot be written refuses (raises)."""
    from guardrail.audit import decision_data

    trail = guard.trail
    if trail is None:
        return
    call_id = uuid.uuid4().hex
    call: dict[str, Any] = (call_to_dict(result.calls[0]) if len(result.calls) == 1
                            else {"tool": "agent", "name": result.tool, "calls": [call_to_dict(c) for c in result.calls]})
    trail.append("call", {"call_id": call_id, "session": guard.session, "mode": str(guard.policy.mode),
                          "source": f"hook:{agent}", "agent_tool": result.tool, "mcp": result.mcp, "call": call})
    effective = "allow" if result.shadowed else str(result.decision.verdict)
    trail.append("decision", decision_data(result.decision, call_id=call_id, mode=str(guard.policy.mode),
                                           effective=effective))
