"""From policy files to a `CompiledPolicy`: validate, follow `extends`, merge, compile, test.

Only reached when the cache misses (see `loader`): this is where pydantic
and yaml are imported. Every problem found is collected with its file, line,
column and rule, and all are raised together (`PolicyErrors`), the first in
the message, so a user fixes a policy in one round trip rather than one
error at a time.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from guardrail.decision import Risk, Verdict
from guardrail.effects import Effect, describe
from guardrail.errors import PolicyError, PolicyExampleError
from guardrail.policy import matchers as m
from guardrail.policy import schema
from guardrail.policy.compiled import CompiledPolicy, CompiledRule
from guardrail.policy.indexing import build_indexes
from guardrail.policy.source import Loc, SourceFile, read_source
from guardrail.policy.vocabulary import (
    ADDRESS_CLASSES,
    CODE_KINDS,
    LOCATIONS,
    ORIGINS,
    PATH_OPS,
    WHERE_KINDS,
)

EffectsOf = Callable[[str | dict[str, Any]], Sequence[Effect]]
SECTIONS = ("commands", "parsers", "sandbox", "approval", "databases", "tools", "mcp")
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "policies"
_SHIPPED_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class PolicyErrors(PolicyError):
    """Several problems in a policy: the first is the message, all are in `errors`."""

    def __init__(self, errors: list[PolicyError]) -> None:
        first = errors[0]
        more = (
            f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
            if len(errors) > 1
            else ""
        )
        super().__init__(
            first.message + more, path=first.path, line=first.line, col=first.col, rule=first.rule
        )
        self.errors = errors


class PolicyExampleErrors(PolicyErrors, PolicyExampleError):
    """Rules whose own examples do not hold."""


def raise_all(errors: list[PolicyError]) -> None:
    if not errors:
        return
    unique = {(e.path, e.line, e.col, e.message): e for e in errors}  # a list item used twice
    errors = sorted(unique.values(), key=lambda e: (e.path or "", e.line or 0, e.col or 0))
    if all(isinstance(e, PolicyExampleError) for e in errors):
        raise PolicyExampleErrors(errors)
    raise PolicyErrors(errors)


# -- resolving names ---------------------------------------------------------


def shipped_names() -> list[str]:
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml"))


def shipped_path(name: str) -> Path | None:
    """`policies/<name>.yaml` when `name` is a shipped policy's name."""
    if _SHIPPED_NAME.match(name):
        candidate = SHIPPED_DIR / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    return None


# -- validation: pydantic errors mapped back to positions --------------------


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _union_members(tp: Any) -> list[Any] | None:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(tp) if a is not type(None)]
    return None


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _pick_member(members: list[Any], tag: object) -> Any:
    for member in members:
        member = _unwrap(member)
        if _is_model(member):
            if member.__name__ == tag:
                return member
            effect = member.model_fields.get("effect")
            if effect is not None and typing.get_args(effect.annotation) == (tag,):
                return member
    return None


def _fields_by_alias(model: type[BaseModel]) -> dict[str, Any]:
    return {(info.alias or name): info.annotation for name, info in model.model_fields.items()}


def _resolve_loc(data: Any, loc: Sequence[Any]) -> tuple[Loc, type[BaseModel] | None]:
    """Follow a pydantic error location through the schema's types and the data.

    Union members appear in pydantic locations as tags (`'path'` for a match
    of effect path, `'Range'`, `'int'`) that are not keys of the data; walking
    the types tells tags from keys. Returns the data path and the model the
    last element was looked up in (for "did you mean").
    """
    tp: Any = schema.PolicyFile
    cur, path = data, []
    last_model: type[BaseModel] | None = None
    for element in loc:
        tp = _unwrap(tp) if tp is not None else None
        members = _union_members(tp) if tp is not None else None
        while members is not None and len(members) == 1:  # X | None
            tp = _unwrap(members[0])
            members = _union_members(tp)
        if members:
            tp = _pick_member(members, element)
            continue
        if _is_model(tp):
            last_model = tp
            tp = _fields_by_alias(tp).get(element) if isinstance(element, str) else None
        elif tp is not None and typing.get_origin(tp) in (list, dict):
            args = typing.get_args(tp)
            tp = args[-1] if args else None
        else:
            tp = None
        if (isinstance(cur, dict) and element in cur) or (
            isinstance(cur, list) and isinstance(element, int) and 0 <= element < len(cur)
        ):
            cur = cur[element]
            path.append(element)
        else:
            cur = None
    return tuple(path), last_model


def _message(error: Any, model: type[BaseModel] | None, rule_kind: str | None) -> str:
    kind, msg, loc = error["type"], error["msg"], error["loc"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = [a for a in _fields_by_alias(model) if a != "effect"] if model else []
        what, where = "key", ""
        if model is not None and issubclass(model, schema._Conditions):
            what, where = "condition", f" for effect {rule_kind}" if rule_kind else ""
        hint = schema.did_you_mean(key, allowed)
        listing = f" (allowed: {', '.join(sorted(allowed))})" if allowed and not hint else ""
        return f"unknown {what} {key!r}{where}{hint}{listing}"
    if kind == "missing":
        return f"missing required key {loc[-1]!r}"
    if kind == "union_tag_invalid":
        ctx = error.get("ctx", {})
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        tag = str(ctx.get("tag", ""))
        return f"unknown {str(ctx.get('discriminator', 'kind')).strip(chr(39))} {tag!r}{schema.did_you_mean(tag, expected)} (one of: {', '.join(expected)})"
    if kind == "union_tag_not_found":
        return f"missing required key {error.get('ctx', {}).get('discriminator', 'effect')!r}"
    if kind == "too_short" and error.get("input") == []:
        return "an empty list matches nothing: give values or remove the key"
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        got = error.get("input")
        hint = schema.did_you_mean(got, expected) if isinstance(got, str) else ""
        return f"{msg}, not {got!r}{hint}"
    if kind == "string_type" and isinstance(error.get("input"), bool):
        return f"{msg}: YAML reads yes/no/on/off/true/false as booleans; quote it ('off')"
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return str(msg[len(prefix) :])
    return str(msg)


def validate(source: SourceFile) -> tuple[schema.PolicyFile | None, list[int], list[PolicyError]]:
    """The file's model, the original index of each of its rules, and the problems found.

    When only some rules are invalid, the others are still returned (without
    the invalid ones), so that their own problems can be found and reported
    in the same run.
    """
    if not isinstance(source.data, dict):
        return None, [], [source.error("a policy is a mapping of keys (version, rules, ...)", ())]
    rules = source.data.get("rules")
    every = list(range(len(rules))) if isinstance(rules, list) else []
    try:
        return schema.PolicyFile.model_validate(source.data), every, []
    except ValidationError as exc:
        errors = _located(source, exc)
        bad: set[int] = set()
        for error in exc.errors(include_url=False):
            loc = error["loc"]
            if len(loc) < 2 or loc[0] != "rules" or not isinstance(loc[1], int):
                return None, [], errors
            bad.add(loc[1])
    assert isinstance(rules, list)
    kept = [i for i in every if i not in bad]
    try:
        model = schema.PolicyFile.model_validate({**source.data, "rules": [rules[i] for i in kept]})
    except ValidationError:
        return None, [], errors
    return model, kept, errors


def _located(source: SourceFile, exc: ValidationError, prefix: Loc = ()) -> list[PolicyError]:
    grouped: dict[tuple[Loc, bool], list[str]] = {}
    for error in exc.errors(include_url=False):
        full = (*prefix, *error["loc"])
        path, model = _resolve_loc(source.data, full)
        if error["type"] == "union_tag_invalid":  # point at the tag itself
            tag = str(error.get("ctx", {}).get("discriminator", "")).strip("'")
            path = (*path, tag) if (*path, tag) in source.values else path
        kind = None
        if len(path) >= 3 and path[0] == "rules":
            match = source.data["rules"][path[1]].get("match")
            kind = match.get("effect") if isinstance(match, dict) else None
        is_key = error["type"] == "extra_forbidden"
        message = _message(error, model, kind if isinstance(kind, str) else None)
        grouped.setdefault((path, is_key), [])
        if message not in grouped[(path, is_key)]:
            grouped[(path, is_key)].append(message)
    errors = []
    for (path, is_key), messages in grouped.items():
        if len(messages) > 1:
            text = ", or ".join(
                mm.removeprefix("Input should be ").removeprefix("input should be ")
                for mm in messages
            )
            message = f"expected {text}"
        else:
            message = messages[0]
        errors.append(source.error(message, path, key=is_key))
    return sorted(errors, key=lambda e: (e.line or 0, e.col or 0))


# -- extends and merging -----------------------------------------------------


@dataclass
class RuleEntry:
    rule: schema.Rule
    source: SourceFile
    index: int  # position in its file's `rules`

    @property
    def loc(self) -> Loc:
        return ("rules", self.index)


@dataclass
class ListItem:
    value: str
    source: SourceFile
    loc: Loc


@dataclass
class Located:
    """A condition value after splicing, with where it was written."""

    value: str
    source: SourceFile
    loc: Loc
    list_name: str | None = None


@dataclass
class Effective:
    """A policy after `extends` and merging, still with its sources for error positions."""

    sources: list[SourceFile] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)  # path -> sha256 of its bytes
    mode: str = "enforce"
    fallback: str = "ask"
    ask_becomes: str = "ask"
    lists: dict[str, list[ListItem]] = field(default_factory=dict)
    list_origin: dict[str, tuple[SourceFile, Loc]] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    section_origin: dict[str, SourceFile] = field(default_factory=dict)
    rules: list[RuleEntry] = field(default_factory=list)
    disabled: set[str] = field(default_factory=set)  # ids turned off along the way


def deep_merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Mappings merged key by key, the child winning; anything else replaced."""
    merged = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class Merger:
    """Loads a file and its bases, depth first, and merges them into one `Effective`."""

    def __init__(self) -> None:
        self.errors: list[PolicyError] = []
        self.effective = Effective()
        self.incomplete = False  # some file could not be read, parsed or validated as a whole

    def load(self, path: Path, stack: tuple[Path, ...] = ()) -> None:
        try:
            text = path.read_bytes()
        except OSError as exc:
            self.errors.append(
                PolicyError(f"cannot read the policy: {exc.strerror}", path=str(path))
            )
            self.incomplete = True
            return
        self.effective.hashes[str(path)] = hashlib.sha256(text).hexdigest()
        source, errors = read_source(path, text, _display(path))
        self.effective.sources.append(source)
        if errors:
            self.errors.extend(errors)
            self.incomplete = True
            return
        model, rule_indexes, errors = validate(source)
        self.errors.extend(errors)
        if model is None:
            self.incomplete = True
            return
        for index, name in enumerate(model.extends):
            base = self._resolve_base(name, path, source, ("extends", index), (*stack, path))
            if base is not None:
                self.load(base, (*stack, path))
        self._merge(model, source, rule_indexes)

    def _resolve_base(
        self, name: str, path: Path, source: SourceFile, loc: Loc, stack: tuple[Path, ...]
    ) -> Path | None:
        if not isinstance(source.data.get("extends"), list):
            loc = ("extends",)
        base = shipped_path(name)
        if base is None:
            base = (path.parent / Path(name).expanduser()).resolve()
            if not base.is_file():
                names = shipped_names()
                if "/" in name or name.endswith((".yaml", ".yml")):
                    message = f"extends {name!r}: there is no file {base}"
                else:
                    hint = schema.did_you_mean(name, names)
                    message = (
                        f"extends {name!r}: no shipped policy of that name{hint} "
                        f"(shipped: {', '.join(names) or 'none'}) and no file {base}"
                    )
                self.errors.append(source.error(message, loc))
                self.incomplete = True
                return None
        if base.resolve() in {p.resolve() for p in stack}:
            chain = " -> ".join(_display(p) for p in (*stack, base))
            self.errors.append(
                source.error(f"extends cycle: {chain}; remove one of the links", loc)
            )
            self.incomplete = True
            return None
        return base

    def _merge(self, model: schema.PolicyFile, source: SourceFile, rule_indexes: list[int]) -> None:
        eff = self.effective
        eff.mode = model.mode or eff.mode
        eff.fallback = model.fallback or eff.fallback
        eff.ask_becomes = model.ask_becomes or eff.ask_becomes
        for name, items in model.lists.items():
            plain = name.lstrip("+")
            located = [ListItem(v, source, ("lists", name, i)) for i, v in enumerate(items)]
            if name.startswith("+"):
                eff.lists[plain] = eff.lists.get(plain, []) + located
            else:
                eff.lists[plain] = located
            eff.list_origin[plain] = (source, ("lists", name))
        for section in SECTIONS:
            raw = source.data.get(section)
            if isinstance(raw, dict):
                eff.sections[section] = deep_merge(eff.sections.get(section, {}), raw)
                eff.section_origin[section] = source
        self._merge_rules(model, source, rule_indexes)

    def _merge_rules(
        self, model: schema.PolicyFile, source: SourceFile, rule_indexes: list[int]
    ) -> None:
        rules = self.effective.rules
        positions = {entry.rule.id: i for i, entry in enumerate(rules)}
        seen_here: set[str] = set()
        removed: set[int] = set()
        for index, rule in zip(rule_indexes, model.rules, strict=True):
            entry = RuleEntry(rule, source, index)
            if rule.id in seen_here:
                self.errors.append(
                    source.error(
                        f"duplicate rule id {rule.id!r} in this file; ids must be unique",
                        ("rules", index, "id"),
                    )
                )
                continue
            seen_here.add(rule.id)
            existing = positions.get(rule.id)
            if rule.disabled and rule.match is None:
                if existing is None and rule.id not in self.effective.disabled:
                    known = [e.rule.id for e in rules]
                    self.errors.append(
                        source.error(
                            f"no base rule {rule.id!r} to disable{schema.did_you_mean(rule.id, known)}",
                            ("rules", index, "id"),
                        )
                    )
                elif existing is not None:
                    removed.add(existing)
                self.effective.disabled.add(rule.id)
                continue
            if existing is not None:
                rules[existing] = entry
                removed.discard(existing)
            else:
                positions[rule.id] = len(rules)
                rules.append(entry)
            if rule.disabled:
                removed.add(positions[rule.id])
                self.effective.disabled.add(rule.id)
        self.effective.rules = [e for i, e in enumerate(rules) if i not in removed]


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def merge_sections(merger: Merger) -> None:
    """Validate each merged section again: a combination of valid halves can be invalid."""
    eff = merger.effective
    for section, raw in eff.sections.items():
        source = eff.section_origin[section]
        try:
            schema.PolicyFile.model_validate({"version": 1, section: raw})
        except ValidationError as exc:
            for error in _located(source, exc):
                merger.errors.append(
                    PolicyError(
                        f"after merging with the base policy: {error.message}",
                        path=error.path,
                        line=error.line,
                        col=error.col,
                    )
                )


# -- compiling rules ---------------------------------------------------------

ENUMS = {
    "op": PATH_OPS,
    "location": LOCATIONS,
    "program": LOCATIONS,
    "address": ADDRESS_CLASSES,
    "where": WHERE_KINDS,
    "code": CODE_KINDS,
    "origin": ORIGINS,
}
# condition name -> cost rank: cheap and selective conditions are tested first
_COST = {
    "op": 0,
    "location": 0,
    "code": 0,
    "origin": 0,
    "where": 0,
    "program": 0,
    "address": 0,
    "whole": 0,
    "ancestor": 0,
    "in_git": 0,
    "recursive": 0,
    "setuid": 0,
    "to_root": 0,
    "parsed": 0,
    "userinfo": 0,
    "flags": 1,
    "flags_all": 1,
    "tags": 1,
    "features": 1,
    "argc": 1,
    "port": 1,
    "protocol": 2,
    "scheme": 2,
    "method": 2,
    "command": 2,
    "subcommand": 2,
    "statement": 2,
    "variable": 3,
    "host": 3,
    "path": 3,
    "address_in": 3,
    "args": 4,
    "content": 5,
    "source": 6,
}
_SINK = ("host", "address", "address_in")


class RuleCompiler:
    def __init__(self, eff: Effective, home: str) -> None:
        self.eff = eff
        self.home = home
        self.errors: list[PolicyError] = []
        self.shared: dict[tuple[Any, ...], Any] = {}  # one matcher per distinct pattern list

    def share(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        found = self.shared.get(key)
        if found is None:
            found = self.shared[key] = build()
        return found

    def splice(
        self, values: list[str], source: SourceFile, loc: Loc, chain: tuple[str, ...] = ()
    ) -> list[Located]:
        """Replace each `@name` by the items of that list (lists may refer to lists).

        Each value keeps where it was written: in the rule (`loc`, item by item)
        or in the list it came from.
        """
        out: list[Located] = []
        for index, value in enumerate(values):
            here = (*loc, index) if (*loc, index) in source.values else loc
            if not value.startswith("@"):
                out.append(Located(value, source, here, chain[-1] if chain else None))
                continue
            name = value[1:]
            if name in chain:
                cycle = " -> ".join(f"@{n}" for n in (*chain, name))
                self.errors.append(
                    source.error(f"lists refer to each other in a cycle: {cycle}", here)
                )
                continue
            items = self.eff.lists.get(name)
            if items is None:
                close = difflib.get_close_matches(name, list(self.eff.lists), n=1)
                hint = f" (did you mean @{close[0]}?)" if close else ""
                self.errors.append(
                    source.error(f"unknown list @{name}{hint}: define it under `lists:`", here)
                )
                continue
            for item in items:
                if item.value.startswith("@"):
                    out.extend(self.splice([item.value], item.source, item.loc, (*chain, name)))
                else:
                    out.append(Located(item.value, item.source, item.loc, name))
        return out

    def checked(self, name: str, located: list[Located]) -> list[str] | None:
        """The values of a condition, or None after reporting each bad one where it was written."""
        bad = False
        allowed = ENUMS.get(name)
        for item in located:
            problem = None
            if not item.value or item.value == "!":
                problem = "an empty pattern matches nothing useful; remove it or fill it in"
            elif allowed is not None and item.value not in allowed:
                hint = schema.did_you_mean(item.value, allowed)
                problem = (
                    f"{item.value!r} is not a valid {name}{hint} (one of: {', '.join(allowed)})"
                )
            elif name in ("content", "source") or item.value.startswith(("re:", "!re:")):
                pattern = item.value.removeprefix("!").removeprefix("re:")
                try:
                    m.regex(pattern)
                except ValueError as exc:
                    problem = str(exc)
            if problem is not None:
                bad = True
                where = f" (in list @{item.list_name})" if item.list_name else ""
                self.errors.append(item.source.error(problem + where, item.loc))
        return None if bad else [item.value for item in located]

    def compile_rule(self, entry: RuleEntry, order: int) -> CompiledRule | None:
        rule = entry.rule
        assert rule.match is not None and rule.decision is not None
        kind = rule.match.effect
        loc = (*entry.loc, "match")
        before = len(self.errors)
        conditions = self.conditions(rule.match, kind, entry, loc)
        if len(self.errors) > before:
            return None
        verdict = Verdict.parse(rule.decision)
        risk = Risk.parse(rule.risk) if rule.risk else _default_risk(verdict)
        verdict = _ask_becomes(verdict, self.eff.ask_becomes)
        line, _col = entry.source.position(entry.loc) or (0, 0)
        origin = f"{entry.source.path}:{line}"
        return CompiledRule(
            rule.id, verdict, risk, kind, conditions, rule.description, origin, order, rule.overrides
        )

    def conditions(
        self, model: Any, kind: str, entry: RuleEntry, loc: Loc
    ) -> tuple[m.Condition, ...]:
        built: list[tuple[int, m.Condition]] = []
        sink: list[tuple[int, m.Condition]] = []
        for name in sorted(model.model_fields_set, key=lambda n: _COST.get(n, 9)):
            value = getattr(model, name)
            if name == "effect" or value is None:
                continue
            alias = "not" if name == "not_" else name
            here = (*loc, alias)
            if name == "not_":
                built.append((8, m.Not(self.conditions(value, kind, entry, here))))
                continue
            if name == "any":
                alts = tuple(
                    self.conditions(v, kind, entry, (*here, i)) for i, v in enumerate(value)
                )
                built.append((7, m.Either(alts)))
                continue
            try:
                condition = self.condition(kind, name, value, entry, here)
            except ValueError as exc:
                self.errors.append(entry.source.error(str(exc), here))
                continue
            if condition is None:
                continue
            target = sink if kind == "flow" and name in _SINK else built
            target.append((_COST.get(name, 9), condition))
        if sink:
            built.append((3, m.OnSink(tuple(c for _r, c in sorted(sink, key=lambda p: p[0])))))
        return tuple(c for _rank, c in sorted(built, key=lambda p: p[0]))

    def condition(
        self, kind: str, name: str, value: Any, entry: RuleEntry, loc: Loc
    ) -> m.Condition | None:
        if isinstance(value, bool):
            return m.Flag(name, value)
        if name == "argc":
            if isinstance(value, int):
                return m.ArgCount(value, value)
            return m.ArgCount(value.min or 0, value.max)
        if not value:
            raise ValueError("an empty list matches nothing: give values or remove the condition")
        if name == "port":
            return self._ports(value, entry, loc)
        values = self.checked(name, self.splice(list(value), entry.source, loc))
        if values is None:
            return None
        if name in ENUMS:
            return m.InSet(name, frozenset(values))
        if name in ("path",):
            key = ("paths", tuple(values))
            matcher = self.share(key, lambda: m.paths(values, home=self.home))
            return m.PathField("path", matcher)
        if name == "address_in":
            return m.AddressIn(m.cidrs(values))
        if name in ("flags", "tags", "features"):
            return m.AnyOf(name, frozenset(values))
        if name == "flags_all":
            return m.AllOf("flags", frozenset(values))
        if name == "args":
            return m.Args(m.strings(values))
        if name == "content":
            return m.Content(m.strings(values, regexes_only=True))
        if name == "source":
            return m.StrField("source", m.strings(values, regexes_only=True))
        case: m.Case = "sensitive"
        if name in ("host", "scheme", "protocol"):
            case = "lower"
        elif name in ("method", "statement"):
            case = "upper"
        elif name == "variable":
            case = "insensitive"
        return m.StrField(name, m.strings(values, case=case))

    def _ports(self, value: list[Any], entry: RuleEntry, loc: Loc) -> m.Condition:
        numbers: set[int] = set()
        ranges: list[tuple[int, int | None]] = []
        texts = [
            i.value
            for i in self.splice([v for v in value if isinstance(v, str)], entry.source, loc)
        ]
        for item in [v for v in value if not isinstance(v, str)] + texts:
            if isinstance(item, int):
                numbers.add(item)
            elif isinstance(item, str):
                if not item.isdigit() or int(item) > 65535:
                    raise ValueError(f"{item!r} is not a port number")
                numbers.add(int(item))
            else:
                ranges.append((item.min or 0, item.max))
        return m.Ints("port", frozenset(numbers), tuple(ranges))


def _ask_becomes(verdict: Verdict, ask_becomes: str) -> Verdict:
    """`ask_becomes: deny` (CI: nobody to ask) turns every ask into a deny; the risk stays the ask's."""
    return Verdict.parse(ask_becomes) if verdict is Verdict.ASK else verdict


def _default_risk(verdict: Verdict) -> Risk:
    return {Verdict.ALLOW: Risk.LOW, Verdict.ASK: Risk.MEDIUM, Verdict.DENY: Risk.HIGH}[verdict]


# -- examples ----------------------------------------------------------------


def check_examples(
    compiled: list[tuple[CompiledRule, RuleEntry]], effects_of: EffectsOf
) -> list[PolicyError]:
    errors: list[PolicyError] = []
    for rule, entry in compiled:
        examples = entry.rule.examples
        if examples is None:
            continue
        for expect, items in (("match", examples.match), ("no_match", examples.no_match)):
            for index, item in enumerate(items):
                loc = (*entry.loc, "examples", expect, index)
                problem = _example_problem(rule, item, expect == "match", effects_of)
                if problem:
                    errors.append(entry.source.error(problem, loc, cls=PolicyExampleError))
    return errors


def _example_problem(
    rule: CompiledRule, item: str | dict[str, Any], should: bool, effects_of: EffectsOf
) -> str | None:
    try:
        effects = list(effects_of(item))
    except Exception as exc:  # the example itself is bad: say so rather than crash
        return f"example {item!r} could not be turned into effects: {exc}"
    fired = [e for e in effects if rule.matches(e)]
    if should and not fired:
        seen = "; ".join(describe(e) for e in effects) or "none"
        return f"example {item!r} should match this rule but does not (its effects: {seen})"
    if not should and fired:
        return f"example {item!r} should not match this rule but does, on {describe(fired[0])}"
    return None


def default_effects_of() -> EffectsOf | None:
    """The pipeline's example runner, or None while the pipeline does not exist."""
    import importlib

    try:
        pipeline = importlib.import_module("guardrail.pipeline")
    except ModuleNotFoundError as exc:
        if exc.name not in ("guardrail.pipeline", "guardrail"):
            raise
        return None
    found: EffectsOf | None = getattr(pipeline, "effects_for_example", None)
    return found


# -- the whole -----------------------------------------------------------------


@dataclass
class Result:
    policy: CompiledPolicy
    hashes: dict[str, str]  # every source file -> sha256 of its bytes


def effective(path: Path) -> tuple[Merger, list[PolicyError]]:
    merger = Merger()
    merger.load(path)
    merge_sections(merger)
    return merger, merger.errors


def compile_path(
    path: Path, *, home: str, effects_of: EffectsOf | None, name: str | None = None
) -> Result:
    """Load, merge and compile `path`; check examples when `effects_of` is given."""
    merger, errors = effective(path)
    if merger.incomplete:
        raise_all(errors)  # a file or a base is missing: its rules' errors would only be noise
    eff = merger.effective
    compiler = RuleCompiler(eff, home)
    compiled: list[tuple[CompiledRule, RuleEntry]] = []
    for order, entry in enumerate(eff.rules):
        rule = compiler.compile_rule(entry, order)
        if rule is not None:
            compiled.append((rule, entry))
    lists = {
        name: tuple(i.value for i in compiler.splice(["@" + name], *eff.list_origin[name]))
        for name, items in eff.lists.items()
    }
    raise_all(errors + compiler.errors)
    if effects_of is not None:
        raise_all(check_examples(compiled, effects_of))
    rules = tuple(rule for rule, _entry in compiled)
    policy = CompiledPolicy(
        name=name or path.stem,
        sources=tuple(eff.hashes),
        mode=eff.mode,
        fallback=_ask_becomes(Verdict.parse(eff.fallback), eff.ask_becomes),
        rules=rules,
        indexes=build_indexes(rules),
        lists=lists,
        examples_checked=effects_of is not None,
        **{section: eff.sections.get(section, {}) for section in SECTIONS},
    )
    return Result(policy, dict(eff.hashes))


def effective_dict(path: Path) -> dict[str, Any]:
    """The effective policy after `extends`, as plain data (`guardrail policy show`)."""
    merger, errors = effective(path)
    raise_all(errors)
    eff = merger.effective
    out: dict[str, Any] = {"version": 1, "mode": eff.mode, "fallback": eff.fallback}
    if eff.ask_becomes != "ask":
        out["ask_becomes"] = eff.ask_becomes
    out["lists"] = {name: [i.value for i in items] for name, items in eff.lists.items()}
    for section in SECTIONS:
        if eff.sections.get(section):
            out[section] = eff.sections[section]
    out["rules"] = [entry.source.data["rules"][entry.index] for entry in eff.rules]
    return out


def iter_rule_entries(path: Path) -> Iterator[RuleEntry]:
    merger, errors = effective(path)
    raise_all(errors)
    yield from merger.effective.rules
