"""Linting one policy file: every schema problem, then semantic and risk findings.

The compiler already locates every problem it finds (file, line, column); this
module runs its stages without stopping at the first failing one, gives each
problem a stable code, and adds what compiling does not reject but a reviewer
would: rules that never change a decision, allows that open too much, typos
in tags and command names, a sandbox with the network open.

Findings are reported only for the file linted (a base it extends is linted
on its own), except that its rules are compared with the base's rules.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from guardrail.decision import Verdict
from guardrail.errors import PolicyError, PolicyExampleError
from guardrail.lint.findings import Finding, Suppressions, display_path, inline_ignores
from guardrail.lint.shadowing import (
    Answer,
    clear_cache,
    covers,
    narrow_keys,
    narrow_names,
    prefilter_keys,
    quick_reject,
    samples_of,
)
from guardrail.policy import matchers as m
from guardrail.policy.compiled import CompiledRule

# message start -> code, for the compiler's located errors (first match wins)
_CLASSIFY: tuple[tuple[str, str], ...] = (
    (r"cannot read the policy|the file is not UTF-8|the file is empty", "GR100"),
    (r"YAML", "GR101"),
    (r"duplicate key", "GR104"),
    (r"unknown (key|condition) ", "GR102"),
    (r"duplicate rule id", "GR201"),
    (r"invalid regular expression", "GR202"),
    (r"is not a (path glob|CIDR block|port number)|an empty pattern", "GR203"),
    (r"unknown list @", "GR204"),
    (r"lists refer to each other in a cycle", "GR205"),
    (r"extends cycle", "GR208"),
    (r"extends '.*': (no shipped policy|there is no file)", "GR209"),
    (r"no base rule .* to disable", "GR210"),
)
DANGEROUS_TAGS = frozenset(
    {"privilege", "system_control", "firewall_change", "disk_format", "disk_partition", "mount"}
)
DANGEROUS_DB_FEATURES = frozenset({"privilege", "file_access", "program_access"})
_PROBE_COMMAND = "guardrail-lint-probe-command"
_PROBE_HOST = "guardrail-lint-probe.example"


def classify(error: PolicyError) -> str:
    if isinstance(error, PolicyExampleError):
        return "GR105"
    for pattern, code in _CLASSIFY:
        if re.search(pattern, error.message):
            return code
    return "GR103"


def _finding(error: PolicyError, fallback_path: str) -> Finding:
    return Finding.make(
        classify(error), error.message, error.path or fallback_path, error.line, error.col, error.rule
    )


@dataclass
class PolicyLint:
    """The findings of one file, and what is needed to silence and show them."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    suppressions: Suppressions | None = None
    text: str = ""


def lint_policy(path: Path) -> PolicyLint:
    from guardrail.policy import compiler

    shown = display_path(path)
    result = PolicyLint(shown)
    try:
        result.text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        result.findings.append(Finding.make("GR100", f"cannot read the policy: {reason}", shown))
        return result
    merger, errors = compiler.effective(path.resolve())
    result.findings.extend(_finding(e, shown) for e in errors)
    sources = merger.effective.sources
    own = sources[0] if sources else None
    if own is not None and own.data is not None:
        result.suppressions = Suppressions(inline_ignores(result.text), _rule_spans(own, result.text))
    if merger.incomplete or own is None:
        return _dedupe(result)
    eff = merger.effective
    rule_compiler = compiler.RuleCompiler(eff, _home())
    compiled: list[tuple[CompiledRule, Any]] = []
    for order, entry in enumerate(eff.rules):
        rule = rule_compiler.compile_rule(entry, order)
        if rule is not None:
            compiled.append((rule, entry))
    for name in eff.lists:  # a list no rule uses is still spliced, to find its cycles
        rule_compiler.splice(["@" + name], *eff.list_origin[name])
    result.findings.extend(_finding(e, shown) for e in rule_compiler.errors)
    effects_of = compiler.default_effects_of()
    if effects_of is not None and not rule_compiler.errors:
        result.findings.extend(_finding(e, shown) for e in compiler.check_examples(compiled, effects_of))
    mine = [(rule, entry) for rule, entry in compiled if entry.source is own]
    result.findings.extend(_reference_findings(mine, eff, shown))
    result.findings.extend(_shadow_findings([r for r, _e in compiled], mine, shown))
    result.findings.extend(_risk_findings(mine, shown))
    result.findings.extend(_setting_findings(eff, own, shown))
    return _dedupe(result)


def _home() -> str:
    import os

    return os.environ.get("HOME", "")


def _dedupe(result: PolicyLint) -> PolicyLint:
    seen: dict[tuple[Any, ...], Finding] = {}
    for f in result.findings:
        seen.setdefault((f.code, f.path, f.line, f.col, f.message), f)
    result.findings = list(seen.values())
    return result


def _rule_spans(source: Any, text: str) -> list[tuple[int, int]]:
    """First and last line of each rule, a comment line just above it included."""
    rules = source.data.get("rules") if isinstance(source.data, dict) else None
    if not isinstance(rules, list):
        return []
    lines = text.splitlines()
    last_line: dict[int, int] = {}
    for loc, (line, _col) in source.values.items():
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            last_line[loc[1]] = max(last_line.get(loc[1], 0), line)
    spans = []
    for index in range(len(rules)):
        start = source.values.get(("rules", index))
        if start is None:
            continue
        first = start[0]
        while first > 1 and lines[first - 2].strip().startswith("#"):
            first -= 1
        spans.append((first, last_line.get(index, start[0])))
    return spans


def _rule_position(entry: Any) -> tuple[int | None, int | None]:
    line, col = entry.source.position((*entry.loc, "id")) or (None, None)
    return line, col


def _rule_finding(code: str, message: str, entry: Any, path: str) -> Finding:
    line, col = _rule_position(entry)
    return Finding.make(code, message, path, line, col, entry.rule.id)


# -- references: tags and command names ---------------------------------------


@lru_cache(maxsize=1)
def catalogue_facts() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(command names, tags any command may carry, names of privileged/system commands).

    A tag ending in `*` stands for the tags a handler builds (`git_stash_{action}`).
    """
    from guardrail.parsers.commands import base_catalog_raw

    raw = base_catalog_raw()
    tags: set[str] = set()
    dangerous: set[str] = set()

    def walk(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "tags" and isinstance(item, list):
                    yield from (str(t) for t in item)
                else:
                    yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    for name, entry in raw.items():
        own = set(walk(entry))
        tags |= own
        top = set((entry or {}).get("tags") or ()) if isinstance(entry, dict) else set()
        if top & DANGEROUS_TAGS:
            dangerous.add(str(name))
    tags |= _parser_tags()
    return frozenset(str(n) for n in raw), frozenset(tags), frozenset(dangerous)


def _parser_tags() -> set[str]:
    """Tags the parsers' handlers add in code (git_discard, inline_code, ...), read from their source."""
    parsers = Path(__file__).resolve().parent.parent / "parsers"
    found: set[str] = set()
    for source in parsers.glob("*.py"):
        for line in source.read_text("utf-8").splitlines():
            if "tags" in line:
                found.update(re.findall(r"[\"']([a-z][a-z0-9_]*)[\"']", line))
                found.update(p + "*" for p in re.findall(r"f[\"']([a-z][a-z0-9_]*)\{", line))
    return found


def _walk_match(data: Any, loc: tuple[Any, ...]) -> Iterator[tuple[str, str, tuple[Any, ...]]]:
    """(condition name, value, loc) for every string value of `tags` and `command` in a match."""
    if isinstance(data, dict):
        for key, value in data.items():
            here = (*loc, key)
            if key in ("tags", "command"):
                values = value if isinstance(value, list) else [value]
                for i, item in enumerate(values):
                    if isinstance(item, str):
                        yield key, item, (*here, i) if isinstance(value, list) else here
            elif key in ("not", "any"):
                yield from _walk_match(value, here)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from _walk_match(item, (*loc, i))


def _reference_findings(mine: Sequence[tuple[CompiledRule, Any]], eff: Any, path: str) -> Iterator[Finding]:
    commands, tags, _dangerous = catalogue_facts()
    policy_commands = set(eff.sections.get("commands", {}))
    for _rule, entry in mine:
        raw = entry.source.data["rules"][entry.index].get("match")
        for name, value, loc in _walk_match(raw, (*entry.loc, "match")):
            if value.startswith(("@", "!", "re:")) or not m.GLOB_CHARS.isdisjoint(value):
                continue
            line, col = entry.source.position(loc) or (None, None)
            if name == "tags" and not _known_tag(value, tags):
                hint = difflib.get_close_matches(value, sorted(tags), n=1)
                message = f"no command carries the tag {value!r}: the condition never holds" + (
                    f"; did you mean {hint[0]!r}?" if hint else ""
                )
                yield Finding.make("GR206", message, path, line, col, entry.rule.id)
            elif name == "command" and value not in commands and value not in policy_commands:
                hint = difflib.get_close_matches(value, sorted(commands), n=1, cutoff=0.66)
                if hint and _looks_like_typo(value, hint[0]):
                    message = (
                        f"the command catalogue has no command {value!r}; did you mean {hint[0]!r}? "
                        "(an unknown command only gives an exec effect)"
                    )
                    yield Finding.make("GR207", message, path, line, col, entry.rule.id)


def _known_tag(value: str, tags: frozenset[str]) -> bool:
    return value in tags or any(t.endswith("*") and value.startswith(t[:-1]) for t in tags)


def _looks_like_typo(value: str, close: str) -> bool:
    """One letter swapped, changed, added or dropped (gti, rmdri); not a name that extends
    a known one (bunx, pnpx, python3.12) nor a different tool (mkfs is not mksh)."""
    if close in value or value in close:
        return False
    if len(value) == len(close):
        diffs = [i for i, (a, b) in enumerate(zip(value, close, strict=True)) if a != b]
        swapped = len(diffs) == 2 and diffs[1] == diffs[0] + 1 and value[diffs[0]] == close[diffs[1]] and value[diffs[1]] == close[diffs[0]]
        return len(diffs) == 1 or swapped
    short, long = sorted((value, close), key=len)
    if len(long) - len(short) != 1:
        return False
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


# -- shadowed rules -----------------------------------------------------------


def _shadow_findings(
    every: Sequence[CompiledRule], mine: Sequence[tuple[CompiledRule, Any]], path: str
) -> Iterator[Finding]:
    clear_cache()
    by_kind: dict[str, list[tuple[CompiledRule, frozenset[str]]]] = {}
    by_name: dict[tuple[str, str], list[tuple[CompiledRule, frozenset[str]]]] = {}
    names_of = {id(rule): narrow_names(rule) for rule in every}
    for rule in every:
        item = (rule, prefilter_keys(rule))
        pin = names_of[id(rule)]
        if pin is None:
            by_kind.setdefault(rule.kind, []).append(item)
        for name in pin or ():
            by_name.setdefault((rule.kind, name), []).append(item)
    for narrow, entry in mine:
        keys = narrow_keys(narrow)
        best: tuple[Answer, CompiledRule] | None = None
        names = names_of[id(narrow)]
        samples = samples_of(narrow)
        # a wide rule naming commands covers only when it names every one the narrow rule has
        pinned = [
            (r, k) for r, k in by_name.get((narrow.kind, min(names)), []) if names <= (names_of[id(r)] or names)
        ] if names else []
        candidates = sorted({id(r): (r, k) for r, k in [*by_kind.get(narrow.kind, ()), *pinned]}.values(),
                            key=lambda item: item[0].order)
        for wide, wide_keys in candidates:
            if wide is narrow or wide.verdict < narrow.verdict or not wide_keys <= keys:
                continue
            if quick_reject(wide, samples):
                continue
            answer = covers(wide, narrow)
            if answer is Answer.NO:
                continue
            mutual = wide.verdict == narrow.verdict and wide.order > narrow.order
            if mutual and covers(narrow, wide) is not Answer.NO:  # each covers the other: report the later
                continue
            if best is None or answer > best[0]:
                best = (answer, wide)
            if answer is Answer.YES:
                break
        if best is None:
            continue
        answer, wide = best
        if answer is Answer.YES:
            yield _rule_finding(
                "GR211",
                f"rule {narrow.id!r} never changes a decision: rule {wide.id!r} ({wide.origin}) "
                f"matches every effect it matches, with decision {wide.verdict}",
                entry,
                path,
            )
        else:
            yield _rule_finding(
                "GR212",
                f"rule {narrow.id!r} possibly never changes a decision: rule {wide.id!r} "
                f"({wide.origin}, {wide.verdict}) may match every effect it matches "
                "(patterns that cannot be compared)",
                entry,
                path,
            )


# -- risky allows -------------------------------------------------------------


def _alternatives(conditions: Sequence[Any]) -> list[list[Any]]:
    """A rule as conjunctions: one per alternative of a top-level `any:`."""
    eithers = [c for c in conditions if isinstance(c, m.Either)]
    others = [c for c in conditions if not isinstance(c, m.Either)]
    if len(eithers) != 1:
        return [list(conditions)]
    return [[*others, *alt] for alt in eithers[0].alternatives]


def _field(conditions: Sequence[Any], cls: type, attr: str) -> Any:
    for condition in conditions:
        if isinstance(condition, cls) and getattr(condition, "attr", None) == attr:
            return condition
    return None


def _any_command(alt: Sequence[Any]) -> bool:
    command = _field(alt, m.StrField, "command")
    sub = _field(alt, m.StrField, "subcommand")
    if _field(alt, m.AnyOf, "tags") is not None or _field(alt, m.InSet, "program") is not None:
        return False
    if command is not None and not command.matcher.matches(_PROBE_COMMAND):
        return False
    return not (sub is not None and not sub.matcher.matches(_PROBE_COMMAND))


def _outside_paths(alt: Sequence[Any]) -> bool:
    location = _field(alt, m.InSet, "location")
    if location is not None and "outside" not in location.values:
        return False
    return _field(alt, m.PathField, "path") is None


def _any_host(alt: Sequence[Any]) -> bool:
    host = _field(alt, m.StrField, "host")
    if host is not None and not host.matcher.matches(_PROBE_HOST):
        return False
    if any(isinstance(c, m.AddressIn) for c in alt):
        return False
    address = _field(alt, m.InSet, "address")
    return address is None or "public" in address.values


_NARROWING = (m.Args, m.ArgCount, m.Not, m.AnyOf, m.AllOf)


def _privilege(alt: Sequence[Any], kind: str) -> str | None:
    """What privileged thing the alternative allows, if any."""
    if kind == "exec":
        _names, _tags, dangerous = catalogue_facts()
        tags = _field(alt, m.AnyOf, "tags")
        if tags is not None and tags.values & DANGEROUS_TAGS:
            return "commands tagged " + ", ".join(sorted(tags.values & DANGEROUS_TAGS))
        command = _field(alt, m.StrField, "command")
        exact = command.matcher.exact_only() if command is not None else None
        narrowed = _field(alt, m.StrField, "subcommand") is not None or any(
            isinstance(c, _NARROWING) for c in alt
        )
        if exact and not narrowed and exact & dangerous:
            return "the privileged or system-control commands " + ", ".join(sorted(exact & dangerous))
    if kind == "path":
        for attr in ("setuid", "to_root"):
            flag = _field(alt, m.Flag, attr)
            if flag is not None and flag.value:
                return f"{attr} changes"
    if kind == "db":
        features = _field(alt, m.AnyOf, "features")
        if features is not None and features.values & DANGEROUS_DB_FEATURES:
            return "SQL " + ", ".join(sorted(features.values & DANGEROUS_DB_FEATURES))
    return None


def _risk_findings(mine: Sequence[tuple[CompiledRule, Any]], path: str) -> Iterator[Finding]:
    for rule, entry in mine:
        if rule.verdict is not Verdict.ALLOW:
            continue
        alts = _alternatives(rule.conditions)
        if rule.kind == "exec" and any(_any_command(a) for a in alts):
            yield _rule_finding("GR301", f"allow rule {rule.id!r} matches any command", entry, path)
            continue
        if rule.kind == "path" and any(_outside_paths(a) for a in alts):
            yield _rule_finding(
                "GR302",
                f"allow rule {rule.id!r} matches paths outside the workspace without naming them "
                "(add `location:` or `path:`)",
                entry,
                path,
            )
        if rule.kind == "net" and any(_any_host(a) for a in alts):
            yield _rule_finding(
                "GR303",
                f"allow rule {rule.id!r} matches requests to any public host (add `host:` or `address:`)",
                entry,
                path,
            )
        for alt in alts:
            found = _privilege(alt, rule.kind)
            if found:
                yield _rule_finding("GR304", f"allow rule {rule.id!r} allows {found}", entry, path)
                break


# -- settings ----------------------------------------------------------------


def _setting_position(own: Any, loc: tuple[Any, ...]) -> tuple[int | None, int | None]:
    pos = own.values.get(loc) or own.values.get(("extends",))
    return pos if pos is not None else (None, None)


def _setting_findings(eff: Any, own: Any, path: str) -> Iterator[Finding]:
    sandbox = eff.sections.get("sandbox") or {}
    if sandbox.get("network") == "open":
        line, col = _setting_position(own, ("sandbox", "network"))
        yield Finding.make(
            "GR305",
            "sandbox.network is open: sandboxed commands reach any host; prefer `policy` or `none`",
            path,
            line,
            col,
        )
    if eff.fallback == "allow":
        line, col = _setting_position(own, ("fallback",))
        yield Finding.make(
            "GR306", "fallback: allow allows every effect no rule matches; prefer ask", path, line, col
        )
    if eff.mode != "enforce":
        line, col = _setting_position(own, ("mode",))
        yield Finding.make(
            "GR307", f"mode is {eff.mode}: decisions are not enforced", path, line, col
        )
