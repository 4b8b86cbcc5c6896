"""Whether one rule covers another: every effect the narrow rule matches, the wide one matches too.

Decided on the compiled conditions, without samples: a rule matches when all
its conditions hold, so the wide rule covers the narrow one when each of the
wide rule's conditions is implied by some condition of the narrow one. Each
implication is answered YES, NO or UNKNOWN (two different regexes, say), and
the whole is YES only when every part is, NO as soon as one part is.

Because the engine takes the most restrictive decision of every matching
rule (deny > ask > allow, in any order), a rule covered by another of equal or
stronger decision never changes a decision: it is shadowed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import IntEnum
from typing import Any

from guardrail.policy import matchers as m
from guardrail.policy.compiled import CompiledRule


class Answer(IntEnum):
    NO = 0
    UNKNOWN = 1
    YES = 2


def _key(condition: Any) -> str:
    """What a condition constrains, for a cheap pre-filter (two conditions on one key may imply)."""
    if isinstance(condition, m.AnyOf | m.AllOf):
        return "set:" + condition.attr
    attr = getattr(condition, "attr", None)
    if attr is not None:
        return f"{type(condition).__name__}:{attr}"
    return type(condition).__name__


_STATES: dict[int, tuple[Any, Any]] = {}  # id -> (object, state): the object is kept alive


def clear_cache() -> None:
    _STATES.clear()


def _state(value: Any) -> Any:
    """A comparable form of a matcher (matchers define no equality of their own); memoised."""
    if isinstance(value, str | int | bool | frozenset) or value is None:
        return value
    found = _STATES.get(id(value))
    if found is not None and found[0] is value:
        return found[1]
    state = _compute_state(value)
    _STATES[id(value)] = (value, state)
    return state


def _compute_state(value: Any) -> Any:
    if isinstance(value, m.Rx):
        return ("rx", value.pattern, value.flags)
    if isinstance(value, m.Strings | m.Paths):
        return (type(value).__name__, *(_state(v) for v in value.__getstate__()))
    if isinstance(value, tuple):
        return tuple(_state(v) for v in value)
    if isinstance(value, m._Node):
        return (type(value).__name__, *(_state(getattr(value, f)) for f in value.FIELDS))
    return value


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and _state(a) == _state(b)


def _strings_within(narrow: m.Strings, wide: m.Strings) -> Answer:
    """Every string `narrow` matches, `wide` matches."""
    if _same(narrow, wide):
        return Answer.YES
    if not all(wide.matches(x) for x in narrow.exact):  # a string narrow matches and wide does not
        return Answer.NO
    if narrow.exact_only() is not None:
        return Answer.YES
    if wide.exact_only() is not None:  # a glob or regex matches more strings than a finite set
        return Answer.NO
    if not all(wide.matches(x) for x in _string_samples(narrow)):
        return Answer.NO
    return Answer.UNKNOWN


def _paths_within(narrow: m.Paths, wide: m.Paths) -> Answer:
    if _same(narrow, wide):
        return Answer.YES
    if not all(wide.matches(p) for p in narrow.full) or not all(
        wide.matches(p) for p in _path_samples(narrow)
    ):
        return Answer.NO
    only_full = (
        not narrow.names
        and narrow.names_rx is None
        and narrow.full_rx is None
        and not narrow.regexes
        and narrow.exclude is None
    )
    if only_full:
        return Answer.YES
    return Answer.UNKNOWN


def _implies(narrow: Any, wide: Any) -> Answer:
    """Does `narrow` holding guarantee `wide` holds? (both conditions on one effect kind)"""
    if _same(narrow, wide):
        return Answer.YES
    if isinstance(wide, m.InSet) and isinstance(narrow, m.InSet) and wide.attr == narrow.attr:
        return Answer.YES if narrow.values <= wide.values else Answer.NO
    if isinstance(wide, m.Flag) and isinstance(narrow, m.Flag) and wide.attr == narrow.attr:
        return Answer.YES if wide.value == narrow.value else Answer.NO
    if isinstance(wide, m.StrField) and isinstance(narrow, m.StrField) and wide.attr == narrow.attr:
        return _strings_within(narrow.matcher, wide.matcher)
    if isinstance(wide, m.PathField) and isinstance(narrow, m.PathField) and wide.attr == narrow.attr:
        return _paths_within(narrow.matcher, wide.matcher)
    if isinstance(wide, m.AnyOf) and wide.attr == getattr(narrow, "attr", None):
        if isinstance(narrow, m.AnyOf):
            return Answer.YES if narrow.values <= wide.values else Answer.NO
        if isinstance(narrow, m.AllOf):
            return Answer.YES if narrow.values & wide.values else Answer.NO
    if isinstance(wide, m.AllOf) and isinstance(narrow, m.AllOf) and wide.attr == narrow.attr:
        return Answer.YES if wide.values <= narrow.values else Answer.NO
    if isinstance(wide, m.ArgCount) and isinstance(narrow, m.ArgCount):
        low_ok = narrow.low >= wide.low
        high_ok = wide.high is None or (narrow.high is not None and narrow.high <= wide.high)
        return Answer.YES if low_ok and high_ok else Answer.NO
    if isinstance(wide, m.Ints) and isinstance(narrow, m.Ints) and wide.attr == narrow.attr:
        if not narrow.ranges and all(_int_in(v, wide) for v in narrow.values):
            return Answer.YES
        return Answer.UNKNOWN
    if _key(wide) == _key(narrow):
        return Answer.UNKNOWN
    return Answer.NO


def _int_in(value: int, wide: m.Ints) -> bool:
    if value in wide.values:
        return True
    return any(value >= low and (high is None or value <= high) for low, high in wide.ranges)


def _excludes(narrow: Any, condition: Any) -> bool:
    """`narrow` holding means `condition` cannot hold (on the same effect)."""
    if isinstance(narrow, m.InSet) and isinstance(condition, m.InSet) and narrow.attr == condition.attr:
        return not narrow.values & condition.values
    if isinstance(narrow, m.Flag) and isinstance(condition, m.Flag) and narrow.attr == condition.attr:
        return narrow.value != condition.value
    if isinstance(narrow, m.StrField) and isinstance(condition, m.StrField) and narrow.attr == condition.attr:
        exact = narrow.matcher.exact_only()
        return exact is not None and not any(condition.matcher.matches(x) for x in exact)
    if isinstance(narrow, m.ArgCount) and isinstance(condition, m.ArgCount):
        return (condition.high is not None and narrow.low > condition.high) or (
            narrow.high is not None and narrow.high < condition.low
        )
    return False


def _negation_covered(inner: Sequence[Any], narrow: Sequence[Any]) -> Answer:
    """Is `not (all of inner)` implied by the narrow conditions?"""
    if len(inner) == 1 and isinstance(inner[0], m.Either):  # not any(a, b) == not a and not b
        result = Answer.YES
        for alternative in inner[0].alternatives:
            result = min(result, _negation_covered(alternative, narrow))
        return result
    if any(_excludes(n, c) for c in inner for n in narrow):
        return Answer.YES
    if conjunction_covers(inner, narrow) is Answer.YES:
        return Answer.NO
    inner_keys = {_key(c) for c in inner}
    if not inner_keys & {_key(c) for c in narrow}:
        return Answer.NO  # narrow leaves those attributes free: some of its effects meet `inner`
    return Answer.UNKNOWN


def _condition_covered(wide: Any, narrow: Sequence[Any]) -> Answer:
    """Is the wide rule's condition implied by the narrow rule's conditions (taken together)?"""
    if isinstance(wide, m.Not):
        if any(_same(wide, n) for n in narrow):
            return Answer.YES
        return _negation_covered(wide.conditions, narrow)
    if isinstance(wide, m.Either):
        best = Answer.NO
        for alternative in wide.alternatives:
            best = max(best, conjunction_covers(alternative, narrow))
            if best is Answer.YES:
                break
        return best
    best = Answer.NO
    for condition in narrow:
        best = max(best, _implies(condition, wide))
        if best is Answer.YES:
            break
    if best is Answer.NO and isinstance(wide, m.Content | m.Args | m.OnSink | m.AddressIn):
        # a negation or an opaque condition may still be implied by the narrow rule as a whole
        return Answer.UNKNOWN if any(_key(c) == _key(wide) for c in narrow) else Answer.NO
    return best


def conjunction_covers(wide: Sequence[Any], narrow: Sequence[Any]) -> Answer:
    """Do all of `wide` hold whenever all of `narrow` hold?"""
    result = Answer.YES
    for condition in wide:
        answer = _condition_covered(condition, narrow)
        if answer is Answer.NO:
            return Answer.NO
        result = min(result, answer)
    return result


def covers(wide: CompiledRule, narrow: CompiledRule) -> Answer:
    """Does `wide` match every effect `narrow` matches?"""
    if wide.kind != narrow.kind:
        return Answer.NO
    eithers = [c for c in narrow.conditions if isinstance(c, m.Either)]
    if len(eithers) == 1:  # narrow = others and (alt1 or alt2 ...): cover each alternative
        others = [c for c in narrow.conditions if not isinstance(c, m.Either)]
        result = Answer.YES
        for alternative in eithers[0].alternatives:
            answer = conjunction_covers(wide.conditions, [*others, *alternative])
            if answer is Answer.NO:
                # the alternative as a whole (an opaque condition) may still be covered
                answer = conjunction_covers(wide.conditions, narrow.conditions)
                return answer
            result = min(result, answer)
        return result
    return conjunction_covers(wide.conditions, narrow.conditions)


def prefilter_keys(rule: CompiledRule) -> frozenset[str]:
    """Keys a rule constrains outside `any:`: a covering rule constrains no key the narrow one does not.

    Only a necessary condition for the cases `covers` can prove (YES); used
    to skip most pairs of a large policy cheaply.
    """
    return frozenset(_key(c) for c in rule.conditions if not isinstance(c, m.Either | m.Not))


def command_pin(rule: CompiledRule) -> frozenset[str] | None:
    """The exact names a rule's top-level `command`/`statement` condition allows, if that is all it is."""
    for condition in rule.conditions:
        if isinstance(condition, m.StrField) and condition.attr in ("command", "statement"):
            return condition.matcher.exact_only()
    return None


def narrow_names(rule: CompiledRule) -> frozenset[str] | None:
    """The exact names every effect the rule matches has: its pin, or the union over `any:`."""
    pin = command_pin(rule)
    if pin is not None:
        return pin
    for condition in rule.conditions:
        if isinstance(condition, m.Either):
            names: set[str] = set()
            for alternative in condition.alternatives:
                alt = command_pin(CompiledRule(rule.id, rule.verdict, rule.risk, rule.kind, alternative, "", "", 0, rule.overrides))
                if alt is None:
                    return None
                names |= alt
            return frozenset(names)
    return None


_SAMPLE_SUBS = (
    ("(?:/[^/]+)+", "/x"), ("(?:/[^/]+)*", ""), ("[^/]*", "x"), ("[^/]+", "x"), ("[^/]", "x"),
    (".*", "x"), (".", "x"),
)


def _regex_samples(rx: m.Rx | None) -> list[str]:
    """Strings a glob-made regex should match: wildcards replaced by `x` (checked by the caller)."""
    if rx is None:
        return []
    out = []
    for part in rx.pattern.split("|"):
        text = part.removeprefix("(?:").removesuffix(")").removeprefix("(?s:").removesuffix(")\\Z")
        text = text.removesuffix("\\Z").removesuffix(")")
        for old, new in _SAMPLE_SUBS[:-1]:
            text = text.replace(old, new)
        text = re.sub(r"\\(.)", r"\1", text)
        out.append(text)
    return out


def _path_samples(matcher: m.Paths) -> list[str]:
    samples = [f"/guardrail-sample/{s}" for s in _regex_samples(matcher.names_rx)]
    samples += [s if s.startswith("/") else "/guardrail-sample" + s for s in _regex_samples(matcher.full_rx)]
    samples += [f"/guardrail-sample/{n}" for n in matcher.names]
    return [x for x in samples if matcher.matches(x)]


def _string_samples(matcher: m.Strings) -> list[str]:
    return [x for x in _regex_samples(matcher.glob) if matcher.matches(x)]


def narrow_keys(rule: CompiledRule) -> frozenset[str]:
    keys = {_key(c) for c in rule.conditions}
    for condition in rule.conditions:
        if isinstance(condition, m.Either):
            for alternative in condition.alternatives:
                keys.update(_key(c) for c in alternative)
    return frozenset(keys)


def samples_of(rule: CompiledRule) -> dict[str, list[str]]:
    """Values every effect of some kind the rule matches may carry, per attribute (computed once)."""
    out: dict[str, list[str]] = {}
    for condition in rule.conditions:
        if isinstance(condition, m.PathField):
            full = [v for v in condition.matcher.full if condition.matcher.matches(v)]
            out["path:" + condition.attr] = [*full, *_path_samples(condition.matcher)]
        elif isinstance(condition, m.StrField):
            exact = [v for v in condition.matcher.exact if condition.matcher.matches(v)]
            out["str:" + condition.attr] = [*exact, *_string_samples(condition.matcher)]
    return out


def quick_reject(wide: CompiledRule, samples: dict[str, list[str]]) -> bool:
    """True when a value the narrow rule matches fails one of the wide rule's top-level conditions."""
    for condition in wide.conditions:
        if isinstance(condition, m.PathField):
            values = samples.get("path:" + condition.attr)
        elif isinstance(condition, m.StrField):
            values = samples.get("str:" + condition.attr)
        else:
            continue
        if values and not all(condition.matcher.matches(v) for v in values):
            return True
    return False
