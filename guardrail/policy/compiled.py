"""The compiled policy: what the engine evaluates and what the cache pickles.

Plain slotted classes over `matchers` objects: no pydantic, no yaml, so a
cached policy loads with nothing but pickle. Each effect kind has an `Index`:
rules looked up by the effect's op and location (path), command (exec),
statement (db), address class (net), code kind or origin, so an effect only
meets the rules that could match it, and only tests what the lookup did not
already settle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guardrail.decision import Risk, Verdict
from guardrail.policy.matchers import Condition, _Node

# Bump when the compiled form changes shape: old cache entries then miss.
FORMAT = 2


class CompiledRule(_Node):
    """One rule, ready to test: the effect kind it matches and its conditions (all must hold)."""

    FIELDS = ("id", "verdict", "risk", "kind", "conditions", "description", "origin", "order", "overrides")
    __slots__ = FIELDS
    id: str
    verdict: Verdict
    risk: Risk
    kind: str
    conditions: tuple[Condition, ...]
    description: str
    origin: str  # file:line of the rule, for explanations
    order: int  # position in the effective policy; fired rules are reported in this order
    overrides: bool  # an allow that sets aside other rules' asks on the effects it matches

    def matches(self, effect: Any) -> bool:
        if effect.kind != self.kind:
            return False
        return all(condition.test(effect) for condition in self.conditions)


_SECTIONS = ("commands", "parsers", "sandbox", "approval", "databases", "tools", "mcp")


Candidate = tuple[CompiledRule, tuple[Condition, ...]]  # a rule, and what is left to test


class Index(_Node):
    """The rules of one effect kind, by the values of `attrs` on an effect.

    `table[key]` lists, in policy order, the rules that can match an effect
    whose `attrs` have the values `key` (a tuple), each with the conditions
    the lookup did not settle; an effect whose key is not in the table meets
    `default` (the rules that do not constrain `attrs`).
    """

    FIELDS = ("attrs", "table", "default")
    __slots__ = FIELDS
    attrs: tuple[str, ...]
    table: Mapping[tuple[Any, ...], tuple[Candidate, ...]]
    default: tuple[Candidate, ...]

    def candidates(self, effect: Any) -> tuple[Candidate, ...]:
        key = tuple([getattr(effect, attr) for attr in self.attrs])
        return self.table.get(key, self.default)


class CompiledPolicy:
    """A policy after `extends`, merging, `@list` splicing and compilation.

    Treat it as immutable: it is shared, cached and pickled. Sections that
    other modules own (`sandbox`, `approval`, ...) are kept as the merged
    YAML mappings, validated when the policy was compiled; each owner turns
    its own into its model when it needs it (`SandboxConfig.model_validate(
    policy.sandbox)`), so that loading a policy imports no pydantic.
    """

    __slots__ = (
        "approval",
        "commands",
        "databases",
        "examples_checked",
        "fallback",
        "indexes",
        "lists",
        "mcp",
        "mode",
        "name",
        "parsers",
        "rules",
        "sandbox",
        "sources",
        "tools",
    )

    def __init__(
        self,
        *,
        name: str,
        sources: tuple[str, ...],
        mode: str,
        fallback: Verdict,
        rules: tuple[CompiledRule, ...],
        indexes: Mapping[str, Index],
        lists: Mapping[str, tuple[str, ...]] | None = None,
        examples_checked: bool = False,
        commands: Mapping[str, Any] | None = None,
        parsers: Mapping[str, Any] | None = None,
        sandbox: Mapping[str, Any] | None = None,
        approval: Mapping[str, Any] | None = None,
        databases: Mapping[str, Any] | None = None,
        tools: Mapping[str, Any] | None = None,
        mcp: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.sources = sources  # every file that went into it, the requested one first
        self.mode = mode  # enforce | shadow | record
        self.fallback = fallback
        self.rules = rules
        self.indexes = indexes  # by effect kind
        self.lists = lists or {}
        self.examples_checked = examples_checked
        self.commands = commands or {}
        self.parsers = parsers or {}
        self.sandbox = sandbox or {}
        self.approval = approval or {}
        self.databases = databases or {}
        self.tools = tools or {}
        self.mcp = mcp or {}

    def __repr__(self) -> str:
        return f"CompiledPolicy(name={self.name!r}, rules={len(self.rules)}, mode={self.mode!r})"

    def candidates(self, effect: Any) -> tuple[Candidate, ...]:
        """The rules an effect can meet, in policy order, each with the conditions left to test."""
        index = self.indexes.get(effect.kind)
        return index.candidates(effect) if index is not None else ()

    def rule(self, rule_id: str) -> CompiledRule | None:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    @property
    def cross_check(self) -> bool:
        return bool(self.parsers.get("cross_check", False))
