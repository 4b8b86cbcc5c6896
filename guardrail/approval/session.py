"""Session memory: what a human already allowed, kept narrow and bound to calls.

- `call_hash(call)` is the SHA-256 of the normalised call. Every answer
  carries the hash of the call it was given for; an answer for another hash
  is worth nothing (`answer_matches`).
- "allow for this session" is kept in `.guardrail/sessions/<session>.json`
  (a file, because every agent hook is a process of its own) under a *scope
  key*: the tool, the command prefix of every program the call runs and
  every effect with its exact path, host, port, method or statement, and the
  rules that asked. A later call is covered only when its key is equal, so
  an answer is never widened to another path, host or command.
- one-time grants (`grant_once`, e.g. given on the web page for a call the
  agent will retry) are consumed by the first matching call.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from guardrail.calls import ToolCall, call_to_dict
from guardrail.decision import Decision, Verdict
from guardrail.effects import Effect, ExecEffect

SESSIONS_DIR = Path(".guardrail") / "sessions"
DEFAULT_TTL = 12 * 3600.0  # a session grant older than this is forgotten
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]")


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def normalise_call(call: ToolCall) -> dict[str, Any]:
    """The call as a canonical JSON object: equal calls, equal objects.

    Header names are case-insensitive and HTTP methods upper case; the
    command is kept byte for byte (whitespace can matter to a shell).
    """
    data = call_to_dict(call)
    if data["tool"] == "http":
        data["method"] = str(data.get("method", "GET")).upper()
        headers = data.get("headers") or {}
        data["headers"] = {str(k).lower(): v for k, v in sorted(headers.items(), key=lambda kv: kv[0].lower())}
    if data["tool"] == "shell" and data.get("cwd") in (None, "", "."):
        data.pop("cwd", None)
    return data


def call_hash(call: ToolCall) -> str:
    """SHA-256 (hex) of the normalised call: what an approval is bound to."""
    return hashlib.sha256(_canonical(normalise_call(call))).hexdigest()


def answer_matches(expected_hash: str, answer_hash: str) -> bool:
    import hmac

    return hmac.compare_digest(expected_hash.encode(), answer_hash.encode())


# ------------------------------------------------------------- scope keys

_IGNORED_EFFECT_FIELDS = {"source", "raw"}


def effect_signature(effect: Effect) -> dict[str, Any]:
    """Every field that says *what* the effect does (not where in the line it was written)."""
    from guardrail.audit import to_jsonable

    data = to_jsonable(effect)
    assert isinstance(data, dict)
    for name in _IGNORED_EFFECT_FIELDS:
        data.pop(name, None)
    if isinstance(effect, ExecEffect):
        # the program and its subcommand are the prefix; other arguments are
        # covered by the effects they produce (paths, hosts) and by flags
        data.pop("argv", None)
    return data


def command_prefix(effect: ExecEffect) -> list[str]:
    prefix = [effect.command]
    if effect.subcommand:
        prefix.append(effect.subcommand)
    return prefix


def scope_key(call: ToolCall, decision: Decision) -> str:
    """The narrow identity a session answer is kept under."""
    effects = sorted(_canonical(effect_signature(e)).decode() for e in decision.effects)
    prefixes = [command_prefix(e) for e in decision.effects if isinstance(e, ExecEffect)]
    parts: dict[str, Any] = {
        "tool": call.tool,
        "prefixes": prefixes,
        "effects": effects,
        "rules": sorted({f.rule_id for f in decision.fired if f.verdict is Verdict.ASK}),
    }
    if call.tool == "db":
        parts["database"] = getattr(call, "database", None)
    if not decision.effects:
        # nothing structured to compare: only the very same call is covered
        parts["call"] = call_hash(call)
    return hashlib.sha256(_canonical(parts)).hexdigest()


# ----------------------------------------------------------------- store


def default_session_id() -> str:
    """GUARDRAIL_SESSION when set (hooks pass the agent's session id), else the parent process."""
    return os.environ.get("GUARDRAIL_SESSION") or f"ppid-{os.getppid()}"


class SessionMemory:
    """The grants of one session in one workspace, shared by every process of it."""

    def __init__(self, workspace: str | os.PathLike[str], session: str, *, ttl: float = DEFAULT_TTL) -> None:
        safe = _SAFE_ID.sub("_", session)[:120] or "default"
        self.dir = Path(workspace) / SESSIONS_DIR
        self.path = self.dir / f"{safe}.json"
        self.session = session
        self.ttl = ttl

    # -- public API

    def covers(self, call: ToolCall, decision: Decision) -> bool:
        """True when a session grant covers this call (never for a deny)."""
        if decision.verdict is not Verdict.ASK:
            return False
        key = scope_key(call, decision)
        now = time.time()
        return any(
            g["kind"] == "session" and g["key"] == key and now - g["created"] < self.ttl
            for g in self._load()["grants"]
        )

    def allow_for_session(self, call: ToolCall, decision: Decision, *, who: str = "") -> None:
        key = scope_key(call, decision)
        with self._edit() as state:
            if not any(g["kind"] == "session" and g["key"] == key for g in state["grants"]):
                state["grants"].append(
                    {"kind": "session", "key": key, "created": time.time(), "who": who,
                     "call": call_to_dict(call).get("command") or call.tool}
                )

    def grant_once(self, call_hash_: str, *, who: str = "") -> None:
        """Allow exactly one future call with this hash (e.g. the agent's retry)."""
        with self._edit() as state:
            state["grants"].append({"kind": "once", "hash": call_hash_, "created": time.time(), "who": who})

    def consume_once(self, call_hash_: str) -> bool:
        """Use up a one-time grant for this exact call; False when there is none."""
        if not self.path.exists():
            return False
        with self._edit() as state:
            now = time.time()
            for i, grant in enumerate(state["grants"]):
                if grant["kind"] == "once" and answer_matches(grant["hash"], call_hash_) and now - grant["created"] < self.ttl:
                    del state["grants"][i]
                    return True
        return False

    # -- storage

    def _load(self) -> dict[str, Any]:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"session": self.session, "grants": []}
        if not isinstance(state, dict) or not isinstance(state.get("grants"), list):
            return {"session": self.session, "grants": []}
        state["grants"] = [g for g in state["grants"] if _valid_grant(g)]
        return state

    @contextmanager
    def _edit(self) -> Iterator[dict[str, Any]]:
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            state = self._load()
            now = time.time()
            state["grants"] = [g for g in state["grants"] if now - g["created"] < self.ttl]
            yield state
            atomic_write_text(self.path, json.dumps(state, indent=1, sort_keys=True))
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write a whole file or nothing: a reader never sees half of it."""
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}-", suffix=".tmp", delete=False, encoding="utf-8"
    ) as tmp:
        tmp.write(text)
    os.chmod(tmp.name, 0o600)
    os.replace(tmp.name, path)


def _valid_grant(grant: Any) -> bool:
    if not isinstance(grant, dict) or not isinstance(grant.get("created"), int | float):
        return False
    if grant.get("kind") == "session":
        return isinstance(grant.get("key"), str)
    if grant.get("kind") == "once":
        return isinstance(grant.get("hash"), str)
    return False
