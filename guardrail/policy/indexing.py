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
    conditions: Sequence[m.Condition], plan: Sequence[tuple[str, str, tuple[str, ...]]]
) -> tuple[dict[str, frozenset[Any]], tuple[m.Condition, ...]]:
    """The values the conditions pin each indexed attribute to, and the other conditions."""
    pins: dict[str, frozenset[Any]] = {}
    rest: list[m.Condition] = []
    for condition in conditions:
        for attr, how, _values in plan:
            values = _pinned(condition, attr, how)
            if values is not None:
                pins[attr] = pins[attr] & values if attr in pins else values
                break
        else:
            rest.append(condition)
    return pins, tuple(rest)


Residual = tuple[m.Condition, ...] | None  # conditions left to test; None: cannot match


def _either(left: list[tuple[m.Condition, ...]], others: tuple[m.Condition, ...]) -> Residual:
    """`others` plus "one of `left` holds", simplified."""
    if not left:
        return None
    if any(not alt for alt in left):  # an alternative that holds outright
        return others
    if len(left) == 1:
        return others + left[0]
    return (*others, m.Either(tuple(left)))


def _by_name(
    pins: dict[str, frozenset[Any]],
    rest: tuple[m.Condition, ...],
    plan: Sequence[tuple[str, str, tuple[str, ...]]],
) -> tuple[dict[Any, Residual], Residual]:
    """For a single open-ended attribute: what is left to test for each name, and for any other.

    Besides a plain pin (`command: [rm, rmdir]`: nothing for other names), an
    `any:` whose alternatives pin the attribute is narrowed per name: only the
    alternatives naming it, and those pinning nothing, are left (`any:
    [{command: git, subcommand: push}, {tags: privilege}]` leaves
    `subcommand: push` or `tags: privilege` for git, `tags: privilege` for
    any other command).
    """
    attr = plan[0][0]
    if attr in pins:
        return dict.fromkeys(pins[attr], rest), None
    for position, condition in enumerate(rest):
        if not isinstance(condition, m.Either):
            continue
        alternatives = [(*_split(alt, plan), alt) for alt in condition.alternatives]
        if all(attr not in alt_pins for alt_pins, _r, _a in alternatives):
            continue
        others = rest[:position] + rest[position + 1 :]
        unpinned = [alt for alt_pins, _r, alt in alternatives if attr not in alt_pins]
        names = {name for alt_pins, _r, _a in alternatives for name in alt_pins.get(attr, ())}
        found: dict[Any, Residual] = {}
        for name in names:
            named = [
                alt_rest
                for alt_pins, alt_rest, _a in alternatives
                if name in alt_pins.get(attr, ())
            ]
            found[name] = _either(named + unpinned, others)
        return found, _either(unpinned, others)
    return {}, rest


def build_index(kind: str, rules: Sequence[CompiledRule]) -> Index:
    """The index of the rules of one kind (given in policy order)."""
    plan = PLANS.get(kind, ())
    if not plan:
        return Index((), {}, tuple((rule, rule.conditions) for rule in rules))
    split = [(rule, *_split(rule.conditions, plan)) for rule in rules]
    attrs = tuple(attr for attr, _how, _values in plan)
    table: dict[tuple[Any, ...], tuple[Candidate, ...]] = {}
    if len(plan) == 1 and plan[0][1] == NAMES:
        # open-ended names: one entry per name some rule narrows to, and a default for the rest
        narrowed = [(rule, *_by_name(pins, rest, plan)) for rule, pins, rest in split]
        names = {name for _rule, found, _other in narrowed for name in found}
        for name in names:
            table[(name,)] = tuple(
                (rule, left)
                for rule, found, other in narrowed
                if (left := found.get(name, other)) is not None
            )
        default = tuple((rule, other) for rule, _found, other in narrowed if other is not None)
        return Index(attrs, table, default)
    default = tuple((rule, rest) for rule, pins, rest in split if not pins)
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
