"""Deciding an MCP tool call: map it to guardrail calls, else decide it by name.

Shared by the MCP proxy and the agent hooks (Claude Code's `mcp__server__tool`,
Cursor's beforeMCPExecution), so a tool gets the same answer whichever way it
is reached. Works on the policy's `mcp:` section as the plain mapping the
compiled policy keeps (validated when the policy was compiled): no pydantic
on the hook path.

A mapped tool is decided by its calls, the most restrictive answer winning;
a tool whose arguments cannot be turned into valid calls is denied (fail
closed). An unmapped tool meets the tool-name rules, then `default` (ask).
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guardrail.calls import ToolCall, parse_call
from guardrail.decision import Decision, FiredRule, Risk, Verdict
from guardrail.errors import CallError

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MISSING = object()
_RISK_OF = {Verdict.ALLOW: Risk.LOW, Verdict.ASK: Risk.MEDIUM, Verdict.DENY: Risk.HIGH}


class MappingError(ValueError):
    """The tool's arguments do not fit its mapping (a missing or mistyped argument)."""


@dataclass(frozen=True)
class McpDecision:
    """The answer for one MCP tool call, with the guardrail calls it was judged as."""

    server: str
    tool: str
    decision: Decision
    calls: tuple[ToolCall, ...] = ()
    decisions: tuple[Decision, ...] = ()  # one per call
    mapping: str | None = None  # the mapping's description, when one applied

    @property
    def verdict(self) -> Verdict:
        return self.decision.verdict

    @property
    def mapped(self) -> bool:
        return self.mapping is not None

    def to_dict(self) -> dict[str, Any]:
        from guardrail.calls import call_to_dict

        return {**self.decision.to_dict(), "server": self.server, "tool": self.tool,
                "calls": [call_to_dict(c) for c in self.calls]}


def _glob(pattern: str | None, value: str) -> bool:
    return pattern is None or fnmatch.fnmatchcase(value.casefold(), pattern.casefold())


@dataclass
class McpRules:
    """The mappings and tool-name rules of one policy, in match order."""

    mappings: list[Mapping[str, Any]] = field(default_factory=list)
    rules: list[Mapping[str, Any]] = field(default_factory=list)
    default: Verdict = Verdict.ASK
    elicitation: bool = True
    call_timeout: float = 300.0

    @classmethod
    def from_section(cls, section: Mapping[str, Any] | None) -> McpRules:
        section = section or {}
        mappings = list(section.get("mappings") or [])
        rules = list(section.get("tools") or [])
        if section.get("builtin_mappings", True):
            from guardrail.adapters.mcp_builtin import BUILTIN_MAPPINGS, BUILTIN_TOOL_RULES

            mappings += BUILTIN_MAPPINGS
            rules += BUILTIN_TOOL_RULES
        return cls(mappings, rules, Verdict.parse(str(section.get("default", "ask"))),
                   bool(section.get("elicitation", True)), float(section.get("call_timeout", 300.0)))

    @classmethod
    def from_policy(cls, policy: Any) -> McpRules:
        return cls.from_section(getattr(policy, "mcp", None))

    # ------------------------------------------------------------ lookup
    def mapping_for(self, server: str, tool: str) -> Mapping[str, Any] | None:
        for mapping in self.mappings:
            if _glob(mapping["tool"], tool) and _glob(mapping.get("server"), server):
                return mapping
        return None

    def rule_for(self, server: str, tool: str) -> Mapping[str, Any] | None:
        for rule in self.rules:
            if _glob(rule["tool"], tool) and _glob(rule.get("server"), server):
                return rule
        return None

    def always_denied(self, server: str, tool: str) -> bool:
        """True for a tool denied whatever its arguments (left out of tools/list)."""
        if self.mapping_for(server, tool) is not None:
            return False
        rule = self.rule_for(server, tool)
        verdict = Verdict.parse(rule["decision"]) if rule is not None else self.default
        return verdict is Verdict.DENY

    # ------------------------------------------------------------ deciding
    def calls_for(self, mapping: Mapping[str, Any], arguments: Mapping[str, Any]) -> list[ToolCall]:
        """The guardrail calls a mapped tool amounts to; raises MappingError or CallError."""
        templates: Sequence[Mapping[str, Any]] = mapping["calls"]
        each = mapping.get("for_each")
        if each is None:
            bindings = [arguments]
        else:
            items = arguments.get(each)
            if not isinstance(items, list) or not items:
                raise MappingError(f"argument {each!r} must be a non-empty list")
            bindings = [{**arguments, "item": item} for item in items]
        return [parse_call(expand(t, args)) for args in bindings for t in templates]

    def decide(self, guard: Any, server: str, tool: str, arguments: Mapping[str, Any] | None) -> McpDecision:
        """Decide one tool call; never raises (a bug is a deny)."""
        try:
            return self._decide(guard, server, tool, arguments if arguments is not None else {})
        except Exception as exc:
            return McpDecision(server, tool, Decision.deny(
                f"internal error while deciding MCP tool {tool!r} ({type(exc).__name__}: {exc}); denied to be safe",
                rule_id="internal-error"))

    def _decide(self, guard: Any, server: str, tool: str, arguments: Mapping[str, Any]) -> McpDecision:
        if not isinstance(arguments, Mapping):
            return McpDecision(server, tool, Decision.deny("the tool's arguments are not an object"))
        mapping = self.mapping_for(server, tool)
        if mapping is not None:
            description = str(mapping.get("description") or mapping["tool"])
            try:
                calls = self.calls_for(mapping, arguments)
            except (MappingError, CallError) as exc:
                reason = f"the arguments of MCP tool {tool!r} do not make a valid {description} call: {exc}"
                return McpDecision(server, tool, Decision.deny(reason, rule_id="mcp-invalid-arguments"),
                                   mapping=description)
            decisions = tuple(guard.check(call) for call in calls)
            return McpDecision(server, tool, combine(decisions), tuple(calls), decisions, description)
        rule = self.rule_for(server, tool)
        if rule is not None:
            verdict = Verdict.parse(rule["decision"])
            rule_id = str(rule.get("id") or f"mcp-tool:{rule['tool']}")
            reason = str(rule.get("reason") or f"MCP tool {tool!r} is {verdict} by name ({rule['tool']})")
        else:
            verdict, rule_id = self.default, "mcp-default"
            reason = f"MCP tool {tool!r} of server {server or '?'} has no mapping and no rule: {verdict} by default"
        return McpDecision(server, tool, by_name(verdict, rule_id, reason))


def by_name(verdict: Verdict, rule_id: str, reason: str) -> Decision:
    risk = _RISK_OF[verdict]
    return Decision(verdict, risk, reason, (FiredRule(rule_id, verdict, risk, None, reason),))


def combine(decisions: Sequence[Decision]) -> Decision:
    """Several calls' decisions as one: the most restrictive wins, its reasons kept."""
    if not decisions:
        return Decision(Verdict.ALLOW, Risk.LOW, "no effects")
    if len(decisions) == 1:
        return decisions[0]
    verdict = max(d.verdict for d in decisions)
    reasons = list(dict.fromkeys(d.reason for d in decisions if d.verdict is verdict))
    return Decision(verdict, max(d.risk for d in decisions), "; ".join(reasons),
                    tuple(f for d in decisions for f in d.fired), tuple(e for d in decisions for e in d.effects))


# ---------------------------------------------------------------- templates

def expand(template: Any, args: Mapping[str, Any], *, shell: bool = False) -> Any:
    """A call template with the tool's arguments put in (see mcp_config's docstring)."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:  # the argument itself (for a shell `command`, the command line as given)
            return args.get(whole.group(1), _MISSING)
        return _PLACEHOLDER.sub(lambda m: _text(args.get(m.group(1), _MISSING), shell), template)
    if isinstance(template, Mapping):
        is_shell = template.get("tool") == "shell"
        out = {}
        for key, value in template.items():
            expanded = expand(value, args, shell=is_shell and key == "command")
            if expanded is not _MISSING:
                out[key] = expanded
        return out
    if isinstance(template, list):
        return [v for v in (expand(t, args) for t in template) if v is not _MISSING]
    return template


def _text(value: Any, shell: bool) -> str:
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_text(v, shell) for v in value)
    text = value if isinstance(value, str) else str(value)
    return shlex.quote(text) if shell else text
