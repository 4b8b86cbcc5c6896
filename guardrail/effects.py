"""Effects: what a tool call would really do, whichever tool asked for it.

Parsers turn calls into effects; the policy engine only ever sees effects.
That is what makes the policy unified: `cat .env` and a file-tool read of
`.env` are the same `PathEffect(op="read")`.

Each effect carries `source`, the fragment of the call it came from, so a
decision can say which part of a long command line fired which rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

PathOp = Literal["read", "list", "write", "delete", "chmod", "chown", "exec"]
# Where a path lies, decided by parsers.paths against the workspace:
#   inside  - in the workspace W          scratch - in /tmp or /var/tmp
#   outside - anywhere else               unknown - not known before the command runs
#   device  - a device file other than the harmless ones
#   harmless_device - /dev/null, /dev/stdout, /dev/fd/N, ...
Location = Literal["inside", "scratch", "outside", "unknown", "device", "harmless_device"]
AddressClass = Literal[
    "loopback", "private", "unspecified", "link_local", "metadata", "public", "invalid"
]
CodeKind = Literal[
    "unparsed",  # a line or a statement that does not parse
    "dynamic",  # code that cannot be read statically (eval $x, $CMD, python -c, ...)
    "stdin_program",  # a program read from a pipe that is not a literal
    "remote_code",  # network data flowing into a shell or interpreter
    "decoded_code",  # base64 -d | sh and friends
    "downloaded_then_run",  # a file fetched earlier in the line, then run
    "reverse_shell",  # a shell wired to a network socket
    "fork_bomb",
    "runs_programs",  # options that run other programs (rg --pre, tar --to-command)
    "too_complex",  # nesting or size past the parser's bounds
    "parser_disagreement",  # two shell parsers disagree on what runs
]


@dataclass(frozen=True)
class PathEffect:
    """A path read, listed, written, deleted, chmod-ed, chown-ed or executed."""

    op: PathOp
    path: str | None  # absolute and normalised; None when unknown
    location: Location
    source: str = ""
    raw: str = ""  # the path as written in the call
    recursive: bool = False
    whole: bool = False  # the path is W, /tmp or /var/tmp itself or all of it (rm -rf *)
    ancestor: bool = False  # the path contains W (/, ~, ..): changing it changes W
    in_git: bool = False  # under W/.git
    mode: str | None = None  # for chmod
    setuid: bool = False  # chmod that sets setuid/setgid
    owner: str | None = None  # for chown/chgrp
    to_root: bool = False  # chown to root (name or uid 0)
    kind: Literal["path"] = "path"


@dataclass(frozen=True)
class NetEffect:
    """A network request or connection."""

    protocol: str  # "http" for HTTP requests (curl, wget, http tool); else ssh, tcp, git, ...
    host: str | None  # normalised; None when unknown
    address: AddressClass
    source: str = ""
    url: str | None = None
    scheme: str | None = None
    port: int | None = None
    method: str | None = None  # upper case, for protocol http
    userinfo: bool = False
    headers: tuple[str, ...] = ()  # "Name: value" lines known before sending
    body: str | None = None  # literal body when known
    kind: Literal["net"] = "net"


@dataclass(frozen=True)
class DbEffect:
    """One SQL statement."""

    statement: str  # upper-case kind: SELECT, INSERT, DELETE, DROP TABLE, CREATE FUNCTION, GRANT, ...
    source: str = ""
    where: Literal["none", "trivial", "real"] | None = None  # for UPDATE/DELETE
    features: frozenset[str] = frozenset()  # e.g. file_access, program_access, privilege, writes
    parsed: bool = True
    dialect: str | None = None
    kind: Literal["db"] = "db"


@dataclass(frozen=True)
class ExecEffect:
    """A program started by a shell command (after wrappers are looked through)."""

    command: str  # normalised name: basename, quotes and backslashes removed
    argv: tuple[str, ...]
    source: str = ""
    subcommand: str | None = None
    flags: frozenset[str] = frozenset()  # -r -f from -rf; --force from --force=x
    tags: frozenset[str] = frozenset()  # from the command catalogue
    program: Location | None = None  # where a program named by path lies
    kind: Literal["exec"] = "exec"


@dataclass(frozen=True)
class CodeEffect:
    """Code guardrail cannot read, or a dangerous way of running code."""

    code: CodeKind
    detail: str
    source: str = ""
    kind: Literal["code"] = "code"


@dataclass(frozen=True)
class FlowEffect:
    """Data from somewhere sensitive flowing into a network sink."""

    origin: Literal["path", "env", "variable"]
    source: str = ""
    path: str | None = None  # for origin path: absolute
    location: Location | None = None
    variable: str | None = None  # for origin variable
    sink: NetEffect | None = None
    kind: Literal["flow"] = "flow"


Effect: TypeAlias = PathEffect | NetEffect | DbEffect | ExecEffect | CodeEffect | FlowEffect

EFFECT_KINDS = ("path", "net", "db", "exec", "code", "flow")


def describe(effect: Effect) -> str:
    """A short human description of one effect, for reasons and approvals."""
    match effect:
        case PathEffect():
            return f"{effect.op} {effect.path or effect.raw or '<unknown path>'} ({effect.location})"
        case NetEffect():
            target = effect.url or effect.host or "<unknown host>"
            verb = f"{effect.method} " if effect.method else ""
            return f"{effect.protocol} {verb}{target} ({effect.address})"
        case DbEffect():
            return f"sql {effect.statement}" + ("" if effect.parsed else " (unparsed)")
        case ExecEffect():
            return "run " + " ".join(effect.argv[:6]) + (" ..." if len(effect.argv) > 6 else "")
        case CodeEffect():
            return f"{effect.code}: {effect.detail}"
        case FlowEffect():
            what = effect.path or effect.variable or effect.origin
            to = effect.sink.host if effect.sink else "<unknown>"
            return f"{what} flows to {to}"
    return str(effect)  # pragma: no cover
