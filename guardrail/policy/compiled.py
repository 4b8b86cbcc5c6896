"""The compiled policy: what the engine evaluates and what the cache pickles.

Plain frozen dataclasses over `matchers` objects: no pydantic, no yaml, so a
cached policy loads with nothing but pickle. Rules are indexed by effect kind,
and exec rules also by command name, so an effect only meets the rules that
could match it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from guardrail.decision import Risk, Verdict
from guardrail.policy.matchers import Condition

# Bump when the compiled form changes shape: old cache entries then miss.
FORMAT = 1


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: str
    verdict: Verdict
    risk: Risk
    kind: str  # the effect kind it matches
    conditions: tuple[Condition, ...]  # all must hold
    description: str = ""
    origin: str = ""  # file:line of the rule, for explanations
    order: int = 0  # position in the effective policy; fired rules are reported in this order


@dataclass(frozen=True)
class CompiledPolicy:
    """A policy after `extends`, merging, `@list` splicing and compilation."""

    name: str
    sources: tuple[str, ...]  # every file that went into it, the requested one first
    mode: str  # enforce | shadow | record
    fallback: Verdict
    rules: tuple[CompiledRule, ...]
    by_kind: Mapping[str, tuple[CompiledRule, ...]]
    # exec rules by exact command name (each entry also holds the exec rules
    # that name no exact command), in policy order
    exec_by_command: Mapping[str, tuple[CompiledRule, ...]]
    lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Sections other modules own, as the merged YAML mappings (validated when
    # compiled); each owner validates them into its own model when it needs them.
    commands: Mapping[str, Any] = field(default_factory=dict)
    parsers: Mapping[str, Any] = field(default_factory=dict)
    sandbox: Mapping[str, Any] = field(default_factory=dict)
    approval: Mapping[str, Any] = field(default_factory=dict)
    databases: Mapping[str, Any] = field(default_factory=dict)
    tools: Mapping[str, Any] = field(default_factory=dict)
    mcp: Mapping[str, Any] = field(default_factory=dict)
    examples_checked: bool = False

    def rules_for(self, kind: str, command: str | None = None) -> tuple[CompiledRule, ...]:
        """The rules an effect of `kind` (and, for exec, `command`) can meet."""
        if kind == "exec" and command is not None:
            found = self.exec_by_command.get(command)
            if found is not None:
                return found
        return self.by_kind.get(kind, ())

    def rule(self, rule_id: str) -> CompiledRule | None:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    @property
    def cross_check(self) -> bool:
        return bool(self.parsers.get("cross_check", False))


def index_rules(
    rules: tuple[CompiledRule, ...], exec_names: Mapping[str, frozenset[str] | None]
) -> tuple[dict[str, tuple[CompiledRule, ...]], dict[str, tuple[CompiledRule, ...]]]:
    """Index rules by kind, and exec rules by the exact command names they require.

    `exec_names[rule.id]` is the set of names a rule's `command` condition
    accepts when it is a plain list of names (None otherwise): such a rule
    cannot match any other command, so it is left out of the other entries.
    """
    by_kind: dict[str, list[CompiledRule]] = {}
    for rule in rules:
        by_kind.setdefault(rule.kind, []).append(rule)
    exec_rules = by_kind.get("exec", [])
    generic = [r for r in exec_rules if exec_names.get(r.id) is None]
    specific: dict[str, list[CompiledRule]] = {}
    for rule in exec_rules:
        for name in exec_names.get(rule.id) or ():
            specific.setdefault(name, []).append(rule)
    by_command = {
        name: tuple(sorted(generic + named, key=lambda r: r.order))
        for name, named in specific.items()
    }
    exec_generic = tuple(generic)
    kinds = {kind: tuple(found) for kind, found in by_kind.items()}
    if "exec" in kinds:
        kinds["exec"] = exec_generic
    return kinds, by_command
