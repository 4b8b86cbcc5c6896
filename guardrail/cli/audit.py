"""`guardrail audit verify | show`: check the chain, and read the trail."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from guardrail.audit import DEFAULT_TRAIL, read_records, verify

audit_app = typer.Typer(help="Check and read the audit trail.", no_args_is_help=True)

TrailOption = Annotated[
    Path | None,
    typer.Option("--trail", help="The trail file (default: .guardrail/audit.jsonl of the current directory)."),
]
FormatOption = Annotated[str, typer.Option("--format", help="text or json.")]


def _trail(path: Path | None) -> Path:
    return path if path is not None else Path.cwd() / DEFAULT_TRAIL


def _check_format(fmt: str) -> None:
    if fmt not in ("text", "json"):
        raise typer.BadParameter(f"--format must be text or json, not {fmt!r}")


@audit_app.command("verify")
def verify_command(trail: TrailOption = None, fmt: FormatOption = "text") -> None:
    """Check every record's hash and the chain; exit 1 naming the first bad line."""
    _check_format(fmt)
    path = _trail(trail)
    result = verify(path)
    if fmt == "json":
        typer.echo(json.dumps({"trail": str(path), **result.to_dict()}))
    else:
        typer.echo(f"{path}: {result.describe()}")
    raise typer.Exit(0 if result.ok else 1)


# ------------------------------------------------------------------ show

_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`30m`, `2h`, `7d` ago, or an ISO date/time (UTC when no zone is given)."""
    now = now or datetime.now(UTC)
    m = _RELATIVE.match(text.strip())
    if m:
        return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"--since {text!r}: give 30m, 2h, 7d or an ISO date like 2026-11-30T10:00") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _when(record: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(record.get("ts", "")).replace("Z", "+00:00"))
    except ValueError:
        return None


def call_rows(path: Path) -> list[dict[str, Any]]:
    """One merged row per call: call, decision, approval and result records joined on call_id."""
    rows: dict[str, dict[str, Any]] = {}
    for lineno, record in read_records(path):
        data = record["data"]
        call_id = data.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            continue
        row = rows.setdefault(call_id, {"call_id": call_id, "line": lineno})
        row.setdefault("ts", record.get("ts"))
        row[str(record.get("kind"))] = data
    return list(rows.values())


def target_of(call: dict[str, Any]) -> str:
    for key in ("command", "query", "url"):
        if key in call:
            prefix = f"{call.get('method', 'GET')} " if key == "url" else ""
            return prefix + str(call[key])
    if "path" in call:
        return f"{call.get('op', '')} {call['path']}".strip()
    return ""


def _matches(row: dict[str, Any], decision: str | None, tool: str | None, since: datetime | None) -> bool:
    call = (row.get("call") or {}).get("call") or {}
    if tool and call.get("tool") != tool:
        return False
    if decision and (row.get("decision") or {}).get("decision") != decision:
        return False
    if since is not None:
        when = _when(row)
        if when is None or when < since:
            return False
    return True


@audit_app.command("show")
def show_command(
    trail: TrailOption = None,
    decision: Annotated[str | None, typer.Option(help="Only calls decided allow, ask or deny.")] = None,
    tool: Annotated[str | None, typer.Option(help="Only calls of this tool: shell, file, db, http.")] = None,
    since: Annotated[str | None, typer.Option(help="Only calls since: 30m, 2h, 7d or an ISO date/time.")] = None,
    limit: Annotated[int, typer.Option(help="Show the last N calls (0: all).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per call.")] = False,
    fmt: FormatOption = "text",
) -> None:
    """List calls with their decision, approval and result."""
    _check_format(fmt)
    if decision is not None and decision not in ("allow", "ask", "deny"):
        raise typer.BadParameter(f"--decision must be allow, ask or deny, not {decision!r}")
    path = _trail(trail)
    if not path.exists():
        typer.echo(f"no audit trail at {path}", err=True)
        raise typer.Exit(1)
    cutoff = parse_since(since) if since else None
    rows = [r for r in call_rows(path) if _matches(r, decision, tool, cutoff)]
    if limit > 0:
        rows = rows[-limit:]
    if as_json or fmt == "json":
        for row in rows:
            typer.echo(json.dumps(row, sort_keys=True))
        return
    _table(rows, path)


def _table(rows: list[dict[str, Any]], path: Path) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from guardrail.approval.describe import printable

    styles = {"allow": "green", "ask": "yellow", "deny": "red"}
    table = Table(title=f"{path.name}: {len(rows)} calls", title_justify="left")
    for name in ("time", "tool", "call", "decision", "rules", "approval", "result"):
        table.add_column(name, overflow="fold")
    for row in rows:
        call = (row.get("call") or {}).get("call") or {}
        dec = row.get("decision") or {}
        verdict = str(dec.get("decision", "?"))
        shown = verdict if dec.get("effective", verdict) == verdict else f"{verdict} ({dec.get('mode')}: ran)"
        rules = ", ".join(r.get("id", "") for r in dec.get("rules") or [] if r.get("decision") == verdict)
        appr = row.get("approval") or {}
        approval = f"{appr.get('answer')} by {appr.get('approver')}" if appr else ""
        if appr.get("message"):
            approval += f": {appr['message']}"
        res = row.get("result") or {}
        result = f"exit {res.get('exit_status')} in {res.get('duration', 0):.2f}s" if res else ""
        table.add_row(
            str(row.get("ts", ""))[:19].replace("T", " "),
            str(call.get("tool", "")),
            Text(printable(target_of(call))[:200]),
            Text(shown, style=styles.get(verdict, "")),
            Text(printable(rules)),
            Text(printable(approval)),
            result,
        )
    Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200).print(table)
