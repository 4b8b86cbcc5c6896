"""What a human is shown about a call: the same facts in the terminal, the page and the webhook."""

from __future__ import annotations

import difflib
import os
import unicodedata
from pathlib import Path
from typing import Any

from guardrail.approval.base import ApprovalRequest
from guardrail.calls import DbCall, FileCall, HttpCall, ShellCall
from guardrail.decision import Verdict
from guardrail.effects import describe

MAX_DIFF_LINES = 400
MAX_FILE_BYTES = 1_000_000
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


def printable(text: str) -> str:
    """Control and bidi characters made visible, so a call cannot repaint the prompt."""
    out: list[str] = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch)
        elif ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def call_target(req: ApprovalRequest) -> str:
    """The command, path, query or request line of the call."""
    call = req.call
    if isinstance(call, ShellCall):
        return call.command + (f"    (in {call.cwd})" if call.cwd else "")
    if isinstance(call, FileCall):
        target = f"{call.op} {call.path}"
        return target + (f" -> {call.dest}" if call.dest else "") + (f" mode {call.mode}" if call.mode else "")
    if isinstance(call, DbCall):
        where = f"    (database {call.database})" if call.database else ""
        return call.query + where
    if isinstance(call, HttpCall):
        lines = [f"{call.method} {call.url}"]
        lines += [f"{name}: {value}" for name, value in call.headers.items()]
        if call.body:
            lines.append(f"body: {call.body[:2000]}")
        return "\n".join(lines)
    return str(call)  # pragma: no cover


def _resolve(path: str, workspace: str) -> Path:
    p = Path(os.path.expanduser(path))
    return p if p.is_absolute() else Path(workspace) / p


def file_diff(req: ApprovalRequest) -> list[str] | None:
    """Unified diff of a file write or edit against the file as it is now (None for other calls)."""
    call = req.call
    if not isinstance(call, FileCall) or call.op not in ("write", "edit"):
        return None
    path = _resolve(call.path, req.workspace)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
        current = raw[:MAX_FILE_BYTES].decode("utf-8", "replace")
        exists = True
    except FileNotFoundError:
        current, exists = "", False
    except OSError as exc:
        return [f"(cannot read the current file: {exc.strerror})"]
    if call.op == "write":
        new = call.content or ""
    else:
        old = call.old or ""
        if not old or old not in current:
            return ["(the text to replace is not in the file: the edit would fail)"]
        new = current.replace(old, call.new or "", 1)
    lines = list(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{call.path}" if exists else "/dev/null",
            tofile=f"b/{call.path}",
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more diff lines\n"]
    return [line.rstrip("\n") for line in lines] or ["(no change)"]


def summary(req: ApprovalRequest) -> dict[str, Any]:
    """Plain JSON facts of a request (for the web page and the webhook)."""
    decision = req.decision
    return {
        "tool": req.call.tool,
        "target": call_target(req),
        "reason": decision.reason,
        "risk": str(decision.risk),
        "decision": str(decision.verdict),
        "effects": [describe(e) for e in decision.effects],
        "rules": [
            {"id": f.rule_id, "decision": str(f.verdict), "risk": str(f.risk), "description": f.description}
            for f in decision.fired
            if f.verdict >= Verdict.ASK
        ],
        "diff": file_diff(req),
        "call_hash": req.call_hash,
        "session": req.session,
        "workspace": req.workspace,
    }
