"""The audit trail: hash-chained JSON Lines that nobody can quietly edit.

Every call, decision, approval and result becomes one line of
`.guardrail/audit.jsonl`. A line is the canonical JSON (sorted keys, no
spaces) of a record:

    {"data": {...}, "hash": H, "kind": "call", "prev": P, "seq": 7, "ts": "..."}

- `hash` is the SHA-256 of the canonical JSON of the record *without*
  `hash`, so changing any byte of a line breaks that very line (and verify
  names it, not its successor);
- `prev` is the SHA-256 of the previous line's bytes, so removing,
  reordering or inserting a line breaks the chain at that point;
- the first record's `prev` is 64 zeros.

Writers serialise on a lock file (`audit.jsonl.lock`, `flock`) and write each
line with one `write` on an `O_APPEND` descriptor, so several guardrail
processes can share a trail. A crash mid-write leaves a last line without
its newline: `verify` reports it (earlier records stay valid), and the next
writer moves the fragment to `audit.jsonl.torn` and records that it did, so
the chain goes on and the evidence is kept.

Secrets are redacted from every string before it is written (see `redact`).

What the chain cannot show on its own: whole records cut off the end, or a
trail rewritten from some point on by someone who recomputes every hash.
Keep `VerifyResult.head` somewhere else to anchor it.

Only the standard library is imported: the pipeline writes the trail on the
path of every agent action.
"""

from __future__ import annotations

import dataclasses
import enum
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from guardrail.errors import AuditError

GENESIS = "0" * 64
KINDS = ("call", "decision", "approval", "result", "recovered", "note")
DEFAULT_TRAIL = Path(".guardrail") / "audit.jsonl"
REDACTED = "[REDACTED]"
_TAIL_CHUNK = 65_536

# ----------------------------------------------------------------- redaction

_KEY_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)",
    re.DOTALL,
)
_TOKENS = re.compile(
    r"\b(?:"
    r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}"  # AWS access key ids
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{22,}"  # GitHub fine-grained tokens
    r"|xox[abposre]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"  # OpenAI / Anthropic style keys
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab tokens
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API keys
    r")"
)
# scheme://user:password@host -> the password goes
_URL_PASSWORD = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)([^\s@/]+)(@)")
# Authorization: Bearer x, Proxy-Authorization: ..., Cookie: ..., X-Api-Key: ...
_AUTH_HEADER = re.compile(
    r"(?im)\b((?:proxy-)?authorization|cookie|set-cookie|x-api-key|x-auth-token|api-key)(\s*[:=]\s*)([^\r\n\"']+)"
)
# password=..., TOKEN=..., aws_secret_access_key = ... (values of at least 4 characters)
_ASSIGNMENT = re.compile(
    r"(?i)\b([A-Z0-9_.]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)[A-Z0-9_]*)"
    r"(\s*[=:]\s*)([\"']?)(?!\[REDACTED\])([^\s\"'&;,]{4,})"
)
# --password x, -p? no: only long flags that name a secret
_FLAG = re.compile(
    r"(?i)(--[A-Z0-9-]*(?:password|passwd|secret|token|api-?key)[A-Z0-9-]*)(\s+)([\"']?)(?!\[REDACTED\])([^\s\"']+)"
)
_SECRET_KEYS = re.compile(
    r"(?i)^((proxy-)?authorization|cookie|set-cookie|x-api-key|x-auth-token|api[_-]?key|"
    r".*(password|passwd|secret|token)s?)$"
)


def _redact_value(m: re.Match[str]) -> str:
    return f"{m.group(1)}{m.group(2)}{m.group(3)}{REDACTED}"


def redact_text(text: str) -> str:
    """The text with keys, tokens, URL passwords and credentials replaced."""
    text = _KEY_BLOCK.sub(f"-----{REDACTED} PRIVATE KEY-----", text)
    text = _TOKENS.sub(REDACTED, text)
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    text = _ASSIGNMENT.sub(_redact_value, text)
    return _FLAG.sub(_redact_value, text)


def redact(value: Any) -> Any:
    """A JSON value with every string redacted; values under secret-named keys go whole."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, str) and _SECRET_KEYS.match(str(key)) and item:
                out[str(key)] = REDACTED
            else:
                out[str(key)] = redact(item)
        return out
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


# ------------------------------------------------------------ serialisation


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, sets and paths as plain JSON values (sets sorted)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def canonical(obj: Any) -> bytes:
    """The one byte form of a record: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _seal(seq: int, prev: str, kind: str, data: Any, ts: str) -> dict[str, Any]:
    body = {"seq": seq, "ts": ts, "kind": kind, "data": data, "prev": prev}
    return {**body, "hash": sha256(canonical(body))}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ----------------------------------------------------------------- writing


@dataclass(frozen=True)
class _Tail:
    """What a writer needs to know about the end of the trail."""

    seq: int  # of the last complete record; -1 when there is none
    prev: str  # SHA-256 of the last complete line
    torn_at: int | None  # offset of an unterminated last line
    size: int


class AuditTrail:
    """An append-only, hash-chained trail shared by any number of processes."""

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.torn_path = self.path.with_name(self.path.name + ".torn")
        self.fsync = fsync

    def append(self, kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Redact, chain and write one record; returns the record as written."""
        if kind not in KINDS:
            raise AuditError(f"unknown audit record kind {kind!r}: one of {', '.join(KINDS)}")
        clean = redact(to_jsonable(dict(data)))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._locked():
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    tail = self._tail(fd)
                    if tail.torn_at is not None:
                        tail = self._recover(fd, tail)
                    record = _seal(tail.seq + 1, tail.prev, kind, clean, _now())
                    self._write(fd, canonical(record) + b"\n")
                finally:
                    os.close(fd)
        except OSError as exc:
            raise AuditError(f"cannot write the audit trail {self.path}: {exc.strerror or exc}") from exc
        return record

    def _locked(self) -> _FileLock:
        return _FileLock(self.lock_path)

    def _write(self, fd: int, line: bytes) -> None:
        view = memoryview(line)
        while view:  # one write in practice; a short write is finished, never interleaved (we hold the lock)
            written = os.write(fd, view)
            view = view[written:]
        if self.fsync:
            os.fsync(fd)

    def _tail(self, fd: int) -> _Tail:
        size = os.fstat(fd).st_size
        if size == 0:
            return _Tail(-1, GENESIS, None, 0)
        end, torn_at = size, None
        if os.pread(fd, 1, size - 1) != b"\n":
            torn_at = end = _line_start(fd, size)
        if end == 0:
            return _Tail(-1, GENESIS, torn_at, size)
        # the last complete line lies in [line_start, end - 1)
        start = _line_start(fd, end - 1)
        line = os.pread(fd, end - 1 - start, start)
        return _Tail(_seq_of(line, fd, start), sha256(line), torn_at, size)

    def _recover(self, fd: int, tail: _Tail) -> _Tail:
        """Move an unterminated last line aside and say so in the chain."""
        assert tail.torn_at is not None
        fragment = os.pread(fd, tail.size - tail.torn_at, tail.torn_at)
        with open(self.torn_path, "ab") as torn:
            torn.write(fragment + b"\n")
            torn.flush()
            if self.fsync:
                os.fsync(torn.fileno())
        os.ftruncate(fd, tail.torn_at)
        note = {
            "torn_bytes": len(fragment),
            "offset": tail.torn_at,
            "sha256": sha256(fragment),
            "moved_to": self.torn_path.name,
        }
        record = _seal(tail.seq + 1, tail.prev, "recovered", note, _now())
        line = canonical(record)
        self._write(fd, line + b"\n")
        return _Tail(tail.seq + 1, sha256(line), None, tail.torn_at + len(line) + 1)


def _line_start(fd: int, end: int) -> int:
    """Offset just after the last newline before `end` (0 when there is none)."""
    pos = end
    while pos > 0:
        step = min(_TAIL_CHUNK, pos)
        chunk = os.pread(fd, step, pos - step)
        idx = chunk.rfind(b"\n")
        if idx >= 0:
            return pos - step + idx + 1
        pos -= step
    return 0


def _seq_of(line: bytes, fd: int, start: int) -> int:
    try:
        seq = json.loads(line)["seq"]
        if isinstance(seq, int) and not isinstance(seq, bool):
            return seq
    except (ValueError, KeyError, TypeError):
        pass
    # The last line is damaged: number on from the count of lines before it.
    return os.pread(fd, start, 0).count(b"\n")


class _FileLock:
    """An exclusive `flock` on a lock file beside the trail."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> _FileLock:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int  # complete, valid records before the first problem
    first_bad_line: int | None = None  # 1-based
    problem: str = ""
    torn: bool = False  # the problem is an unterminated last line
    head: str = GENESIS  # SHA-256 of the last valid line: keep it elsewhere to anchor the trail

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        if self.ok:
            return f"intact: {self.records} records, head {self.head}"
        if self.first_bad_line is None:
            return self.problem
        return f"line {self.first_bad_line}: {self.problem} ({self.records} valid records before it)"


def _check_line(line: bytes, seq: int, prev: str) -> str | None:
    """Why this line is not the record that must follow `prev`, or None."""
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "not a JSON record (damaged or edited)"
    if not isinstance(record, dict) or set(record) != {"seq", "ts", "kind", "data", "prev", "hash"}:
        return "not an audit record (fields missing or added)"
    try:
        same_bytes = canonical(record) == line
    except ValueError:
        same_bytes = False
    if not same_bytes:
        return "not in canonical form (edited by hand)"
    body = {k: v for k, v in record.items() if k != "hash"}
    if record["hash"] != sha256(canonical(body)):
        return "its hash does not match its content (edited)"
    if record["prev"] != prev:
        return "it does not chain to the record before it (a record was removed, inserted or reordered)"
    if record["seq"] != seq:
        return f"sequence number {record['seq']!r} where {seq} was expected"
    return None


def verify(path: str | os.PathLike[str]) -> VerifyResult:
    """Check the whole chain; names the first bad line instead of raising."""
    trail = Path(path)
    try:
        raw = trail.read_bytes()
    except FileNotFoundError:
        return VerifyResult(False, 0, None, f"no audit trail at {trail}")
    except OSError as exc:
        return VerifyResult(False, 0, None, f"cannot read {trail}: {exc.strerror or exc}")
    prev, seq, lineno = GENESIS, 0, 0
    pos = 0
    while pos < len(raw):
        lineno += 1
        nl = raw.find(b"\n", pos)
        if nl < 0:
            why = _check_line(raw[pos:], seq, prev)
            what = "an unfinished record" if why else "a complete record"
            return VerifyResult(
                False, seq, lineno, f"torn last line: {what} without its newline (a crash mid-write or a cut)",
                torn=True, head=prev,
            )
        line = raw[pos:nl]
        why = _check_line(line, seq, prev)
        if why is not None:
            return VerifyResult(False, seq, lineno, why, head=prev)
        prev, seq, pos = sha256(line), seq + 1, nl + 1
    return VerifyResult(True, seq, head=prev)


def read_records(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for every line that parses; damaged lines are skipped (verify names them)."""
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.endswith(b"\n"):
                return
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("data"), dict):
                yield lineno, record


# ------------------------------------------------- record data for the pipeline


def call_data(call: Any, *, call_id: str, call_hash: str, session: str = "", mode: str = "enforce") -> dict[str, Any]:
    """The `call` record: the call as received (redacted when written)."""
    from guardrail.calls import call_to_dict

    return {"call_id": call_id, "call_hash": call_hash, "session": session, "mode": mode, "call": call_to_dict(call)}


def decision_data(decision: Any, *, call_id: str, mode: str = "enforce", effective: str | None = None) -> dict[str, Any]:
    """The `decision` record: verdict, risk, every fired rule and the effects (structured, for `suggest`)."""
    return {
        "call_id": call_id,
        "mode": mode,
        "decision": str(decision.verdict),
        "effective": effective if effective is not None else str(decision.verdict),
        "risk": str(decision.risk),
        "reason": decision.reason,
        "rules": [fired.to_dict() for fired in decision.fired],
        "effects": [to_jsonable(effect) for effect in decision.effects],
        "asked": [
            i for i, effect in enumerate(decision.effects)
            if any(f.effect == effect and str(f.verdict) == "ask" for f in decision.fired)
        ],
    }


def approval_data(answer: Any, *, call_id: str, asked_at: str | None = None) -> dict[str, Any]:
    """The `approval` record: who answered, how, when, what, and their words."""
    return {
        "call_id": call_id,
        "approver": answer.approver,
        "who": answer.who,
        "answer": answer.answer,
        "allowed": answer.allowed,
        "message": answer.message,
        "call_hash": answer.call_hash,
        "asked_at": asked_at,
        "answered_at": _now(),
        "extra": dict(answer.extra),
    }


def result_data(
    *,
    call_id: str,
    exit_status: int | None,
    duration: float,
    stdout_bytes: int = 0,
    stderr_bytes: int = 0,
    error: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The `result` record: exit status, duration and output sizes (never the output itself)."""
    return {
        "call_id": call_id,
        "exit_status": exit_status,
        "duration": round(duration, 6),
        "stdout_bytes": stdout_bytes,
        "stderr_bytes": stderr_bytes,
        "error": error,
        **extra,
    }
