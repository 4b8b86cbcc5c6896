"""Tool calls: the four tools an agent uses, in the exact JSON shape of the spec.

Validation is strict and hand-written rather than pydantic: the input format
has rules pydantic does not check (duplicate keys, NUL bytes, a size cap in
UTF-8 bytes), every violation must become a deny with a readable reason, and
this module sits on the start-up path of every agent hook, where importing
pydantic would cost more than the whole decision.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeAlias

from guardrail.errors import CallError

MAX_COMMAND_BYTES = 65_536
FILE_OPS = ("read", "write", "edit", "delete", "list", "move", "copy", "chmod")
DIALECTS = ("postgres", "sqlite", "mysql")

FileOp = Literal["read", "write", "edit", "delete", "list", "move", "copy", "chmod"]


@dataclass(frozen=True)
class ShellCall:
    command: str
    cwd: str | None = None
    tool: Literal["shell"] = "shell"


@dataclass(frozen=True)
class FileCall:
    op: FileOp
    path: str
    dest: str | None = None
    mode: str | None = None
    # Executor-only extras (content to write, edit strings, read window); not decided on.
    content: str | None = None
    old: str | None = None
    new: str | None = None
    offset: int | None = None
    limit: int | None = None
    tool: Literal["file"] = "file"


@dataclass(frozen=True)
class DbCall:
    query: str
    dialect: str | None = None
    database: str | None = None
    tool: Literal["db"] = "db"


@dataclass(frozen=True)
class HttpCall:
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    tool: Literal["http"] = "http"


ToolCall: TypeAlias = ShellCall | FileCall | DbCall | HttpCall


def call_to_dict(call: ToolCall) -> dict[str, Any]:
    """The call as the JSON object it came from (None fields dropped)."""
    data = {k: v for k, v in asdict(call).items() if v is not None and v != {}}
    return {"tool": data.pop("tool"), **data}


# ---------------------------------------------------------------- parsing

_FIELDS: dict[str, dict[str, tuple[type | tuple[type, ...], bool]]] = {
    # field -> (accepted JSON types, required)
    "shell": {"command": (str, True), "cwd": (str, False)},
    "file": {
        "op": (str, True),
        "path": (str, True),
        "dest": (str, False),
        "mode": (str, False),
        "content": (str, False),
        "old": (str, False),
        "new": (str, False),
        "offset": (int, False),
        "limit": (int, False),
    },
    "db": {"query": (str, True), "dialect": (str, False), "database": (str, False)},
    "http": {
        "url": (str, True),
        "method": (str, False),
        "headers": (dict, False),
        "body": (str, False),
    },
}
_NON_EMPTY = {"command", "path", "url", "query", "dest", "mode", "op", "method"}


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise CallError(f"duplicate key {key!r}: a call must name each field once")
        seen[key] = value
    return seen


# fields an executor needs that the checking format (the spec's input) does not have
EXECUTION_FIELDS = frozenset({"content", "old", "new", "offset", "limit", "database"})

_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_no_nul(value: Any, where: str = "call") -> None:
    """Reject NUL bytes and lone surrogates anywhere in a call (names for the message are built
    only on failure: this runs on every call)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise CallError(f"NUL byte in {where}: strings must not contain \\u0000")
        if not value.isascii() and _SURROGATE.search(value):
            raise CallError(f"invalid Unicode in {where}: a lone surrogate (\\ud800-\\udfff) is not a character")
    elif isinstance(value, dict):
        for k, v in value.items():
            if type(k) is str and type(v) is str and "\x00" not in k and "\x00" not in v and (
                    (k + v).isascii()):
                continue  # the common case, checked without building names
            _check_no_nul(k, f"a key of {where}")
            _check_no_nul(v, f"field {k!r}")
    elif isinstance(value, list):
        for item in value:
            _check_no_nul(item, where)


def parse_line(line: str | bytes, *, execution: bool = True) -> ToolCall:
    """One JSON Lines line -> a validated call; CallError says what is wrong."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CallError(f"not UTF-8 at byte {exc.start}: send calls as UTF-8 JSON") from None
    line = line.removeprefix("\ufeff")
    if "\x00" in line:
        raise CallError("NUL byte in the line: strings must not contain \\u0000")
    try:
        obj = json.loads(line, object_pairs_hook=_reject_duplicates)
    except CallError:
        raise
    except RecursionError:
        raise CallError("not JSON: nested too deeply") from None
    except ValueError as exc:
        raise CallError(f"not JSON: {exc}") from None
    return parse_call(obj, execution=execution)


def parse_call(obj: Any, *, execution: bool = True) -> ToolCall:
    """A decoded JSON value (or a call already built) -> a validated call.

    `execution=False` is the spec's checking format: fields only an executor needs
    (a write's `content`, an edit's `old`/`new`, ...) are then unknown fields."""
    if isinstance(obj, ShellCall | FileCall | DbCall | HttpCall):
        return obj
    if not isinstance(obj, dict):
        raise CallError(f"not a JSON object but {_json_type(obj)}: send one object per call")
    _check_no_nul(obj)
    tool = obj.get("tool")
    if tool is None:
        raise CallError('missing field "tool": one of shell, file, db, http')
    if not isinstance(tool, str) or tool not in _FIELDS:
        raise CallError(f"unknown tool {tool!r}: one of shell, file, db, http (lower case)")
    spec = _FIELDS[tool]
    values: dict[str, Any] = {}
    for key, value in obj.items():
        if key == "tool":
            continue
        if key not in spec or (not execution and key in EXECUTION_FIELDS):
            allowed = sorted(k for k in spec if execution or k not in EXECUTION_FIELDS)
            hint = ("; it is for running the call (guardrail call, Guard.run), not for checking it"
                    if key in EXECUTION_FIELDS else "")
            raise CallError(f"unknown field {key!r} for tool {tool!r}: allowed are {', '.join(allowed)}{hint}")
        types, _ = spec[key]
        if isinstance(value, bool) or not isinstance(value, types):
            want = "a string" if types is str else ("an integer" if types is int else "an object")
            raise CallError(f"field {key!r} must be {want}, not {_json_type(value)}")
        if key in _NON_EMPTY and value == "":
            raise CallError(f"field {key!r} is empty")
        values[key] = value
    for key, (_, required) in spec.items():
        if required and key not in values:
            raise CallError(f"missing field {key!r} for tool {tool!r}")
    builder: Callable[[dict[str, Any]], ToolCall] = _BUILDERS[tool]
    return builder(values)


def _build_shell(v: dict[str, Any]) -> ShellCall:
    if len(v["command"].encode("utf-8")) > MAX_COMMAND_BYTES:
        raise CallError(f"shell command longer than {MAX_COMMAND_BYTES} bytes: split it up")
    return ShellCall(command=v["command"], cwd=v.get("cwd"))


def _build_file(v: dict[str, Any]) -> FileCall:
    op = v["op"]
    if op not in FILE_OPS:
        raise CallError(f"unknown file op {op!r}: one of {', '.join(FILE_OPS)}")
    if op in ("move", "copy") and "dest" not in v:
        raise CallError(f"file {op} needs field 'dest'")
    if op == "chmod" and "mode" not in v:
        raise CallError("file chmod needs field 'mode' (e.g. 644 or u+x)")
    for key in ("offset", "limit"):
        if key in v and v[key] < 0:
            raise CallError(f"field {key!r} must not be negative")
    return FileCall(**v)


def _build_db(v: dict[str, Any]) -> DbCall:
    dialect = v.get("dialect")
    if dialect is not None and dialect not in DIALECTS:
        raise CallError(f"unknown dialect {dialect!r}: one of {', '.join(DIALECTS)}")
    return DbCall(**v)


def _build_http(v: dict[str, Any]) -> HttpCall:
    headers = v.get("headers", {})
    for name, value in headers.items():
        if not isinstance(value, str):
            raise CallError(f"header {name!r} must be a string, not {_json_type(value)}")
    method = v.get("method", "GET").upper()
    if not method.isascii() or not method.replace("-", "").replace("_", "").isalnum():
        raise CallError(f"method {v.get('method')!r} is not an HTTP method token")
    return HttpCall(url=v["url"], method=method, headers=dict(headers), body=v.get("body"))


_BUILDERS: dict[str, Callable[[dict[str, Any]], Any]] = {"shell": _build_shell, "file": _build_file, "db": _build_db, "http": _build_http}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
