"""Build the per-kind rule indexes of a compiled policy (compile time only).

A rule whose top-level conditions pin an attribute to a few values (`op:
[read]`, `location: [outside]`, `command: [rm, rmdir]`) can only match
effects carrying one of those values. The index maps each possible value (or
combination) to the rules that can match it, and drops the conditions the
lookup settles, so the engine's per-effect work is one dict lookup plus the
conditions that remain.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from guardrail.policy import matchers as m
from guardrail.policy.compiled import Candidate, CompiledRule, Index
from guardrail.policy.vocabulary import ADDRESS_CLASSES, CODE_KINDS, LOCATIONS, ORIGINS, PATH_OPS

# kind -> indexed attributes, each (attr, ENUM, its values) or (attr, NAMES, ()) for open-ended
# exact strings (NAMES only as the single attribute of a kind)
ENUM = "enum"
NAMES = "names"
PLANS: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    "path": (("op", ENUM, PATH_OPS), ("location", ENUM, LOCATIONS)),
    "net": (("address", ENUM, ADDRESS_CLASSES),),
    "code": (("code", ENUM, CODE_KINDS),),
    "flow": (("origin", ENUM, ("path", "env", "variable")),),
    "exec": (("command", NAMES, ()),),
    "db": (("statement", NAMES, ()),),
}
assert PLANS["flow"][0][2] == ORIGINS


def _pinned(condition: m.Condition, attr: str, how: str) -> frozenset[Any] | None:
    """The values `condition` restricts `attr` to, if that is all it does."""
    if how == ENUM and isinstance(condition, m.InSet) and condition.attr == attr:
        return condition.values
    if how == NAMES and isinstance(condition, m.StrField) and condition.attr == attr:
        return condition.matcher.exact_only()
    return None


def _split(
    rule: CompiledRule, plan: Sequence[tuple[str, str, tuple[str, ...]]]
) -> tuple[dict[str, frozenset[Any]], tuple[m.Condition, ...]]:
    pins: dict[str, frozenset[Any]] = {}
    rest: list[m.Condition] = []
    for condition in rule.conditions:
        for attr, how, _values in plan:
            values = _pinned(condition, attr, how)
            if values is not None:
                pins[attr] = pins[attr] & values if attr in pins else values
                break
        else:
            rest.append(condition)
    return pins, tuple(rest)


def build_index(kind: str, rules: Sequence[CompiledRule]) -> Index:
    """The index of the rules of one kind (given in policy order)."""
    plan = PLANS.get(kind, ())
    if not plan:
        return Index((), {}, tuple((rule, rule.conditions) for rule in rules))
    split = [(rule, *_split(rule, plan)) for rule in rules]
    attrs = tuple(attr for attr, _how, _values in plan)
    default = tuple((rule, rest) for rule, pins, rest in split if not pins)
    table: dict[tuple[Any, ...], tuple[Candidate, ...]] = {}
    if len(plan) == 1 and plan[0][1] == NAMES:
        # open-ended names: one entry per name some rule pins, plus the rules pinning none
        attr = attrs[0]
        named: dict[Any, list[Candidate]] = {}
        for rule, pins, rest in split:
            for value in pins.get(attr, ()):
                named.setdefault(value, []).append((rule, rest))
        for value, found in named.items():
            table[(value,)] = tuple(sorted((*default, *found), key=lambda c: c[0].order))
        return Index(attrs, table, default)
    domains = [(*values, None) for _attr, _how, values in plan]
    for key in itertools.product(*domains):
        table[key] = tuple(
            (rule, rest)
            for rule, pins, rest in split
            if all(
                attr not in pins or value in pins[attr]
                for attr, value in zip(attrs, key, strict=True)
            )
        )
    return Index(attrs, table, default)


def build_indexes(rules: Sequence[CompiledRule]) -> dict[str, Index]:
    by_kind: dict[str, list[CompiledRule]] = {}
    for rule in rules:
        by_kind.setdefault(rule.kind, []).append(rule)
    return {kind: build_index(kind, found) for kind, found in by_kind.items()}
