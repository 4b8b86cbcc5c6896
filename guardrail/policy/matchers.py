"""The predicates of the policy format, in a compiled, picklable, import-light form.

A policy is compiled once into these objects and cached with pickle, so they
hold only strings, sets, tuples and `Rx` (a regex compiled on first use: a
cached policy loads without compiling any regex, and a check compiles only
the few its effects reach). Every condition has `test(effect) -> bool`.

Builders (`strings`, `paths`, `cidrs`) turn pattern strings as written in a
policy into matchers; they raise `ValueError` with a message for the user,
which the compiler turns into a located `PolicyError`.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, ClassVar, Literal, Protocol

Case = Literal["sensitive", "lower", "upper", "insensitive"]
GLOB_CHARS = frozenset("*?[")


class Rx:
    """A regular expression compiled on first use; pickles as its source."""

    __slots__ = ("_rx", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._rx: re.Pattern[str] | None = None

    def __getstate__(self) -> tuple[str, int]:
        return (self.pattern, self.flags)

    def __setstate__(self, state: tuple[str, int]) -> None:
        self.pattern, self.flags = state
        self._rx = None

    def __repr__(self) -> str:
        return f"Rx({self.pattern!r})"

    def compiled(self) -> re.Pattern[str]:
        rx = self._rx
        if rx is None:
            rx = self._rx = re.compile(self.pattern, self.flags)
        return rx

    def search(self, text: str) -> bool:
        return self.compiled().search(text) is not None

    def fullmatch(self, text: str) -> bool:
        return self.compiled().fullmatch(text) is not None


def regex(pattern: str, flags: int = 0) -> Rx:
    """An `Rx`, checked now so that a bad pattern is a policy error, not a crash later."""
    try:
        re.compile(pattern, flags)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    return Rx(pattern, flags)


# -- strings -----------------------------------------------------------------


class Strings:
    """Exact strings, globs (whole string) and `re:` regexes (searched), minus `!` exclusions."""

    __slots__ = ("exact", "exclude", "fold", "glob", "regexes")

    def __init__(
        self,
        exact: frozenset[str],
        glob: Rx | None,
        regexes: tuple[Rx, ...],
        exclude: Strings | None,
        fold: bool,
    ) -> None:
        self.exact = exact
        self.glob = glob
        self.regexes = regexes
        self.exclude = exclude
        self.fold = fold

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.exact, self.glob, self.regexes, self.exclude, self.fold)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.exact, self.glob, self.regexes, self.exclude, self.fold = state

    def matches(self, text: str) -> bool:
        if self.fold:
            text = text.lower()
        hit = text in self.exact or (self.glob is not None and self.glob.fullmatch(text))
        if not hit:
            for rx in self.regexes:
                if rx.search(text):
                    hit = True
                    break
        if hit and self.exclude is not None:
            return not self.exclude.matches(text)
        return hit

    def exact_only(self) -> frozenset[str] | None:
        """The exact strings, when that is all this matcher holds (for indexing rules)."""
        if self.glob is None and not self.regexes and self.exclude is None and not self.fold:
            return self.exact
        return None


def _normalise(value: str, case: Case) -> str:
    if case == "lower" or case == "insensitive":
        return value.lower()
    if case == "upper":
        return value.upper()
    return value


def strings(
    values: list[str] | tuple[str, ...],
    *,
    globs: bool = True,
    case: Case = "sensitive",
    regexes_only: bool = False,
    exclusions: bool = True,
) -> Strings:
    """Compile pattern strings as written in a policy.

    `re:P` is a regex searched in the string; with `globs`, a value holding
    `* ? [` is an fnmatch glob over the whole string (`*` crosses `/`); with
    `exclusions`, a leading `!` excludes; `regexes_only` reads every value as
    a regex (the `content` and `source` conditions). `case` normalises
    patterns to the form the effects already have (hosts lower, methods upper),
    or folds both sides (`insensitive`).
    """
    flags = re.IGNORECASE if case == "insensitive" else 0
    exact: set[str] = set()
    glob_parts: list[str] = []
    rxs: list[Rx] = []
    excluded: list[str] = []
    for value in values:
        if exclusions and value.startswith("!") and not regexes_only:
            excluded.append(value[1:])
        elif regexes_only or value.startswith("re:"):
            rxs.append(regex(value[3:] if value.startswith("re:") else value, flags))
        elif globs and not GLOB_CHARS.isdisjoint(value):
            glob_parts.append(fnmatch.translate(_normalise(value, case)))
        else:
            exact.add(_normalise(value, case))
    glob = regex("|".join(f"(?:{p})" for p in glob_parts), flags) if glob_parts else None
    exclude = strings(excluded, globs=globs, case=case, exclusions=False) if excluded else None
    return Strings(frozenset(exact), glob, tuple(rxs), exclude, case == "insensitive")


# -- paths -------------------------------------------------------------------


def _glob_component(component: str) -> str:
    """One path component of a glob as a regex: `*` and `?` stay within the component."""
    out: list[str] = []
    i, n = 0, len(component)
    while i < n:
        ch = component[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = component.find("]", i + 2 if component[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = component[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def path_glob_regex(pattern: str) -> str:
    """A path glob containing `/` as a regex over an absolute path.

    An absolute pattern is anchored at `/`; a relative one (`config/*.key`,
    `**/.env`) matches at any depth. `**` is any number of components; a
    trailing `/**` needs at least one (`~/.ssh/**` is not `~/.ssh` itself).
    Care is taken never to put two repeated groups side by side: the regex
    runs on every path effect, and nested repetition backtracks.
    """
    components = pattern.strip("/").split("/")
    if not pattern.startswith("/"):
        while components and components[0] == "**":
            components.pop(0)
        if not components:
            return ".*"
        out = [".*"]  # any ancestors: the path is absolute, so it starts with "/"
    else:
        out = []
    last = len(components) - 1
    for index, component in enumerate(components):
        if component == "**":
            if index > 0 and components[index - 1] == "**":
                continue
            out.append("(?:/[^/]+)+" if index == last else "(?:/[^/]+)*")
        else:
            out.append("/" + _glob_component(component))
    return "".join(out)


def expand_home(pattern: str, home: str) -> str:
    if pattern == "~":
        return home or "/"
    if pattern.startswith("~/"):
        return home.rstrip("/") + pattern[1:]
    return pattern


def _clean_path(pattern: str) -> str:
    cleaned = re.sub("/{2,}", "/", pattern)
    return cleaned.rstrip("/") if cleaned != "/" else cleaned


class Paths:
    """Path globs against an absolute, normalised path (see `paths`).

    Results are remembered (a bounded dict per matcher): rules share one
    matcher per distinct pattern list (`@secret_paths`), and one call's
    effects name the same paths to many rules.
    """

    __slots__ = ("_memo", "exclude", "full", "full_rx", "names", "names_rx", "regexes")
    MEMO_SIZE = 512

    def __init__(
        self,
        names: frozenset[str],
        names_rx: Rx | None,
        full: frozenset[str],
        full_rx: Rx | None,
        regexes: tuple[Rx, ...],
        exclude: Paths | None,
    ) -> None:
        self.names = names
        self.names_rx = names_rx
        self.full = full
        self.full_rx = full_rx
        self.regexes = regexes
        self.exclude = exclude
        self._memo: dict[str, bool] = {}

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.names, self.names_rx, self.full, self.full_rx, self.regexes, self.exclude)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.names, self.names_rx, self.full, self.full_rx, self.regexes, self.exclude = state
        self._memo = {}

    def matches(self, path: str) -> bool:
        memo = self._memo
        hit = memo.get(path)
        if hit is None:
            if len(memo) >= self.MEMO_SIZE:
                memo.clear()
            hit = memo[path] = self._matches(path)
        return hit

    def _matches(self, path: str) -> bool:
        name = path[path.rfind("/") + 1 :]
        hit = (
            path in self.full
            or name in self.names
            or (self.names_rx is not None and self.names_rx.fullmatch(name))
            or (self.full_rx is not None and self.full_rx.fullmatch(path))
        )
        if not hit:
            for rx in self.regexes:
                if rx.search(path):
                    hit = True
                    break
        if hit and self.exclude is not None:
            return not self.exclude.matches(path)
        return hit


def paths(values: list[str] | tuple[str, ...], *, home: str, exclusions: bool = True) -> Paths:
    """Compile path globs: `~/` is `home`; no `/` matches the last component; `!` excludes."""
    names: set[str] = set()
    name_parts: list[str] = []
    full: set[str] = set()
    full_parts: list[str] = []
    rxs: list[Rx] = []
    excluded: list[str] = []
    for value in values:
        if exclusions and value.startswith("!"):
            excluded.append(value[1:])
            continue
        if value.startswith("re:"):
            rxs.append(regex(value[3:]))
            continue
        pattern = _clean_path(expand_home(value, home))
        while pattern.startswith("**/"):  # "**/x" at any depth is the last-component pattern "x"
            pattern = pattern[3:]
        if not pattern:
            raise ValueError(f"{value!r} is not a path glob")
        is_glob = not GLOB_CHARS.isdisjoint(pattern)
        if "/" not in pattern:
            if is_glob:
                name_parts.append(_glob_component(pattern))
            else:
                names.add(pattern)
        elif not is_glob and pattern.startswith("/"):
            full.add(pattern)
        else:
            full_parts.append(path_glob_regex(pattern))
    names_rx = regex("|".join(f"(?:{p})" for p in name_parts)) if name_parts else None
    full_rx = regex("|".join(f"(?:{p})" for p in full_parts)) if full_parts else None
    exclude = paths(excluded, home=home, exclusions=False) if excluded else None
    return Paths(frozenset(names), names_rx, frozenset(full), full_rx, tuple(rxs), exclude)


# -- addresses ---------------------------------------------------------------


def cidrs(values: list[str] | tuple[str, ...]) -> tuple[tuple[int, int, int], ...]:
    """CIDR blocks as (version, network, prefix length): plain ints pickle and load cheaply."""
    import ipaddress

    blocks = []
    for value in values:
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a CIDR block (e.g. 10.0.0.0/8, fe80::/10)"
            ) from None
        blocks.append((net.version, int(net.network_address), net.prefixlen))
    return tuple(blocks)


def _address(host: str) -> tuple[int, int] | None:
    import ipaddress

    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.version, int(addr)


# -- conditions --------------------------------------------------------------
# Plain slotted classes rather than dataclasses: creating a dataclass costs a
# fraction of a millisecond at import, and this module is on the start-up path
# of every `guardrail check`.


class Condition(Protocol):
    def test(self, effect: Any) -> bool: ...


class _Node:
    """Positional fields named by `FIELDS`; equality, repr and pickling from them."""

    __slots__: tuple[str, ...] = ()
    FIELDS: ClassVar[tuple[str, ...]] = ()  # constructor order (ruff sorts __slots__)

    def __init__(self, *args: Any) -> None:
        for name, value in zip(self.FIELDS, args, strict=True):
            setattr(self, name, value)

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (type(self), self._fields())

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._fields() == self._fields()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, *map(repr, self._fields())))

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.FIELDS)
        return f"{type(self).__name__}({inner})"


class StrField(_Node):
    """A string attribute matches; None (unknown) never does."""

    FIELDS = ("attr", "matcher")
    __slots__ = FIELDS
    attr: str
    matcher: Strings

    def test(self, effect: Any) -> bool:
        value = getattr(effect, self.attr)
        return value is not None and self.matcher.matches(value)


class PathField(_Node):
    """A path attribute matches path globs; an unknown path never does."""

    FIELDS = ("attr", "matcher")
    __slots__ = FIELDS
    attr: str
    matcher: Paths

    def test(self, effect: Any) -> bool:
        value = getattr(effect, self.attr)
        return value is not None and self.matcher.matches(value)


class InSet(_Node):
    """An enumerated attribute is one of the values."""

    FIELDS = ("attr", "values")
    __slots__ = FIELDS
    attr: str
    values: frozenset[Any]

    def test(self, effect: Any) -> bool:
        return getattr(effect, self.attr) in self.values


class Flag(_Node):
    FIELDS = ("attr", "value")
    __slots__ = FIELDS
    attr: str
    value: bool

    def test(self, effect: Any) -> bool:
        return bool(getattr(effect, self.attr)) is self.value


class AnyOf(_Node):
    """A set attribute (flags, tags, features) holds any of the values."""

    FIELDS = ("attr", "values")
    __slots__ = FIELDS
    attr: str
    values: frozenset[str]

    def test(self, effect: Any) -> bool:
        return not self.values.isdisjoint(getattr(effect, self.attr))


class AllOf(_Node):
    FIELDS = ("attr", "values")
    __slots__ = FIELDS
    attr: str
    values: frozenset[str]

    def test(self, effect: Any) -> bool:
        return bool(self.values <= getattr(effect, self.attr))


class Args(_Node):
    """Some argument after the command name matches."""

    FIELDS = ("matcher",)
    __slots__ = FIELDS
    matcher: Strings

    def test(self, effect: Any) -> bool:
        matches = self.matcher.matches
        return any(matches(arg) for arg in effect.argv[1:])


class ArgCount(_Node):
    FIELDS = ("low", "high")
    __slots__ = FIELDS
    low: int
    high: int | None

    def test(self, effect: Any) -> bool:
        count = len(effect.argv) - 1
        return count >= self.low and (self.high is None or count <= self.high)


class Ints(_Node):
    """An int attribute is one of the values or in one of the inclusive ranges."""

    FIELDS = ("attr", "values", "ranges")
    __slots__ = FIELDS
    attr: str
    values: frozenset[int]
    ranges: tuple[tuple[int, int | None], ...]

    def test(self, effect: Any) -> bool:
        value = getattr(effect, self.attr)
        if value is None:
            return False
        if value in self.values:
            return True
        return any(value >= low and (high is None or value <= high) for low, high in self.ranges)


class Content(_Node):
    """A regex found in the headers or the body of a request."""

    FIELDS = ("matcher",)
    __slots__ = FIELDS
    matcher: Strings

    def test(self, effect: Any) -> bool:
        matches = self.matcher.matches
        if effect.body is not None and matches(effect.body):
            return True
        return any(matches(header) for header in effect.headers)


class AddressIn(_Node):
    """The host is an address literal inside one of the CIDR blocks."""

    FIELDS = ("blocks",)
    __slots__ = FIELDS
    blocks: tuple[tuple[int, int, int], ...]

    def test(self, effect: Any) -> bool:
        host = effect.host
        if host is None:
            return False
        parsed = _address(host)
        if parsed is None:
            return False
        version, value = parsed
        bits = 32 if version == 4 else 128
        for block_version, network, prefix in self.blocks:
            shift = bits - prefix
            if block_version == version and value >> shift == network >> shift:
                return True
        return False


class OnSink(_Node):
    """Conditions on the network sink of a flow."""

    FIELDS = ("conditions",)
    __slots__ = FIELDS
    conditions: tuple[Condition, ...]

    def test(self, effect: Any) -> bool:
        sink = effect.sink
        return sink is not None and all(c.test(sink) for c in self.conditions)


class Not(_Node):
    FIELDS = ("conditions",)
    __slots__ = FIELDS
    conditions: tuple[Condition, ...]

    def test(self, effect: Any) -> bool:
        for condition in self.conditions:  # noqa: SIM110 - a loop is faster than any() here
            if not condition.test(effect):
                return True
        return False


class Either(_Node):
    """`any:` — one of the alternatives holds (each a conjunction)."""

    FIELDS = ("alternatives",)
    __slots__ = FIELDS
    alternatives: tuple[tuple[Condition, ...], ...]

    def test(self, effect: Any) -> bool:
        for alternative in self.alternatives:  # loops, not generators: this is the hot path
            for condition in alternative:
                if not condition.test(effect):
                    break
            else:
                return True
        return False
