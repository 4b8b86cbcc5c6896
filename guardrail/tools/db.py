"""The database executor: SQLite (embedded) and PostgreSQL (psycopg 3).

Every statement was decided by the policy before it reaches this module;
this module is the second line. A connection the policy marks `read_only`
is opened so that the *server* refuses writes (SQLite `mode=ro`, PostgreSQL
read-only transactions): a statement the parser misjudged, such as a SELECT
calling a function that writes, still cannot write. Credentials come from
environment variables named in the policy and are scrubbed from every error
message before it leaves this module.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from itertools import chain
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from guardrail.calls import DbCall, ToolCall
from guardrail.errors import ToolError
from guardrail.tools.base import ToolResult
from guardrail.tools.config import DatabaseConfig

# In a read-only PostgreSQL session these could end the read-only transaction
# or switch it to read-write before the first query; refused outright.
_PG_TXN_ESCAPE = re.compile(
    r"\b(commit|rollback|abort|end|begin|start\s+transaction|prepare\s+transaction|"
    r"read\s+write|transaction_read_only|default_transaction_read_only|"
    r"session\s+characteristics|set\s+session\s+authorization|reset\s+all)\b",
    re.IGNORECASE,
)
_SQLITE_DENY = {sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH}
_SQLITE_WRITES = {
    sqlite3.SQLITE_INSERT,
    sqlite3.SQLITE_UPDATE,
    sqlite3.SQLITE_DELETE,
    sqlite3.SQLITE_CREATE_TABLE,
    sqlite3.SQLITE_CREATE_INDEX,
    sqlite3.SQLITE_CREATE_VIEW,
    sqlite3.SQLITE_CREATE_TRIGGER,
    sqlite3.SQLITE_DROP_TABLE,
    sqlite3.SQLITE_DROP_INDEX,
    sqlite3.SQLITE_DROP_VIEW,
    sqlite3.SQLITE_DROP_TRIGGER,
    sqlite3.SQLITE_ALTER_TABLE,
}
_LOCKED_PRAGMAS = {"writable_schema", "query_only", "trusted_schema"}


class _Connection(Protocol):
    def run(self, query: str, max_rows: int) -> dict[str, Any]: ...

    def close(self) -> None: ...


class DbExecutor:
    """Runs db calls against the connections a policy names."""

    def __init__(
        self,
        databases: Mapping[str, DatabaseConfig],
        workspace: str | os.PathLike[str],
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.databases = dict(databases)
        self.workspace = os.path.realpath(os.fspath(workspace))
        self.env = os.environ if env is None else env
        self._open: dict[str, _Connection] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            for conn in self._open.values():
                with suppress(Exception):
                    conn.close()
            self._open.clear()

    def database_for(self, call: DbCall) -> tuple[str, DatabaseConfig]:
        """The connection a call names; with none named, the only one (or 'default')."""
        if call.database is not None:
            cfg = self.databases.get(call.database)
            if cfg is None:
                raise ToolError(
                    f"no database {call.database!r} in the policy: known are {self._names()}"
                )
            return call.database, cfg
        if len(self.databases) == 1:
            return next(iter(self.databases.items()))
        if "default" in self.databases:
            return "default", self.databases["default"]
        raise ToolError(
            f"the call names no database and the policy has {self._names()}: set field 'database'"
        )

    def dialect_for(self, call: DbCall) -> str | None:
        """The dialect to parse the call's query in (the pipeline decides with it)."""
        try:
            return self.database_for(call)[1].dialect
        except ToolError:
            return call.dialect

    def _names(self) -> str:
        return ", ".join(sorted(self.databases)) or "none (add a 'databases:' section)"

    def execute(self, call: ToolCall) -> ToolResult:
        """Run one already-decided db call; errors come back scrubbed of credentials."""
        start = time.perf_counter()
        if not isinstance(call, DbCall):
            return ToolResult.refused(f"the db executor cannot run a {call.tool} call")
        cfg: DatabaseConfig | None = None
        try:
            name, cfg = self.database_for(call)
            if call.dialect is not None and call.dialect != cfg.dialect:
                raise ToolError(
                    f"the call says dialect {call.dialect!r} but database {name!r} is {cfg.dialect}"
                )
            conn = self._connection(name, cfg)
            output = conn.run(call.query, cfg.max_rows)
        except ToolError as exc:
            return self._failed(str(exc), self._secrets(cfg), start)
        except Exception as exc:  # driver errors of every kind: scrubbed, never raised
            self._drop(call)
            return self._failed(f"{type(exc).__name__}: {exc}", self._secrets(cfg), start)
        output["database"] = name
        return ToolResult(
            ok=True,
            output=output,
            truncated=bool(output.get("truncated")),
            duration=time.perf_counter() - start,
        )

    @staticmethod
    def _failed(message: str, secrets: Sequence[str], start: float) -> ToolResult:
        return ToolResult(
            ok=False, error=scrub(message, secrets), duration=time.perf_counter() - start
        )

    def _drop(self, call: DbCall) -> None:
        """Forget a connection after a driver error; the next call reconnects."""
        with suppress(ToolError):
            name, _ = self.database_for(call)
            with self._lock:
                conn = self._open.pop(name, None)
            if conn is not None:
                with suppress(Exception):
                    conn.close()

    def _secrets(self, cfg: DatabaseConfig | None) -> list[str]:
        """The credential values to scrub from a message (computed only when one fails)."""
        if cfg is None:
            return []
        values = [self.env.get(n, "") for n in (cfg.user_env, cfg.password_env) if n]
        return [v for v in values if v]

    def _connection(self, name: str, cfg: DatabaseConfig) -> _Connection:
        conn = self._open.get(name)  # the common case, without the lock
        if conn is not None:
            return conn
        with self._lock:
            conn = self._open.get(name)
            if conn is None:
                if cfg.kind == "sqlite":
                    conn = _SqliteConnection(self._sqlite_path(name, cfg), cfg)
                else:
                    conn = _PostgresConnection(cfg, self._credentials(name, cfg))
                self._open[name] = conn
            return conn

    def _sqlite_path(self, name: str, cfg: DatabaseConfig) -> str:
        """sqlite:///rel/x.db is relative to the workspace; it must resolve inside it."""
        raw = urlsplit(cfg.url).path
        rel = raw[1:] if raw.startswith("/") else raw
        path = os.path.realpath(os.path.join(self.workspace, rel))
        if path != self.workspace and not path.startswith(self.workspace + os.sep):
            raise ToolError(f"database {name!r}: the SQLite file must lie in the workspace")
        if cfg.read_only and not os.path.isfile(path):
            raise ToolError(f"database {name!r}: {rel} does not exist (read-only: not created)")
        return path

    def _credentials(self, name: str, cfg: DatabaseConfig) -> dict[str, str]:
        creds: dict[str, str] = {}
        for key, var in (("user", cfg.user_env), ("password", cfg.password_env)):
            if var is None:
                continue
            value = self.env.get(var)
            if value is None:
                raise ToolError(f"database {name!r}: environment variable {var} ({key}) is not set")
            creds[key] = value
        return creds


# ---------------------------------------------------------------- SQLite


class _SqliteConnection:
    def __init__(self, path: str, cfg: DatabaseConfig) -> None:
        mode = "ro" if cfg.read_only else "rwc"
        self.cfg = cfg
        self.conn = sqlite3.connect(
            f"file:{quote(path)}?mode={mode}",
            uri=True,
            isolation_level=None,  # autocommit: a write the policy allowed is kept
            check_same_thread=False,
        )
        self.deadline = 0.0
        self.lock = threading.Lock()
        if cfg.read_only:
            self.conn.execute("PRAGMA query_only = ON")
        self.conn.set_authorizer(self._authorize)
        # The progress handler is SQLite's only way to stop a running statement.
        self.conn.set_progress_handler(self._over_time, 10_000)

    def _authorize(
        self, action: int, arg1: str | None, arg2: str | None, db: str | None, trig: str | None
    ) -> int:
        if action in _SQLITE_DENY:
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_PRAGMA and arg1 and arg1.lower() in _LOCKED_PRAGMAS:
            return sqlite3.SQLITE_DENY if arg2 is not None else sqlite3.SQLITE_OK
        if self.cfg.read_only and action in _SQLITE_WRITES:
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def _over_time(self) -> int:
        return 1 if time.monotonic() > self.deadline else 0

    def run(self, query: str, max_rows: int) -> dict[str, Any]:
        with self.lock:
            self.deadline = time.monotonic() + self.cfg.statement_timeout
            try:
                cur = self.conn.execute(query)
                rows = cur.fetchmany(max_rows + 1) if cur.description else []
            except sqlite3.OperationalError as exc:
                raise ToolError(self._explain(exc)) from None
            except sqlite3.ProgrammingError as exc:
                if "one statement at a time" in str(exc):
                    raise ToolError(
                        "SQLite runs one statement per call: send them one by one"
                    ) from None
                raise
            columns = [d[0] for d in cur.description] if cur.description else []
            return _result(columns, rows, max_rows, cur.rowcount)

    def _explain(self, exc: sqlite3.OperationalError) -> str:
        text = str(exc)
        if text == "interrupted":
            return f"statement cancelled after {self.cfg.statement_timeout:g}s (statement_timeout)"
        if "readonly" in text or ("not authorized" in text and self.cfg.read_only):
            return f"read-only connection refused the statement: {text}"
        return f"sqlite: {text}"

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------- PostgreSQL


class _PostgresConnection:
    def __init__(self, cfg: DatabaseConfig, creds: dict[str, str]) -> None:
        import psycopg

        self.cfg = cfg
        self.lock = threading.Lock()
        options = f"-c statement_timeout={int(cfg.statement_timeout * 1000)}"
        if cfg.read_only:
            options += " -c default_transaction_read_only=on"
        url = cfg.url.replace("postgres://", "postgresql://", 1)
        params: dict[str, Any] = {**creds, "options": options, "connect_timeout": 10}
        self.conn = psycopg.connect(url, autocommit=not cfg.read_only, **params)
        if cfg.read_only:
            self.conn.read_only = True  # every call runs in BEGIN READ ONLY

    def run(self, query: str, max_rows: int) -> dict[str, Any]:
        import psycopg

        if self.cfg.read_only and _PG_TXN_ESCAPE.search(query):
            raise ToolError(
                "read-only connection: transaction control and read-write settings are refused"
            )
        with self.lock:
            # The server's statement_timeout can be SET away by a query; this cannot.
            watchdog = threading.Timer(self.cfg.statement_timeout + 1.0, self.conn.cancel_safe)
            watchdog.daemon = True
            watchdog.start()
            try:
                result = self._run(query, max_rows)
            except psycopg.errors.QueryCanceled:
                raise ToolError(
                    f"statement cancelled after {self.cfg.statement_timeout:g}s (statement_timeout)"
                ) from None
            except psycopg.errors.ReadOnlySqlTransaction as exc:
                raise ToolError(f"read-only connection refused the statement: {exc}") from None
            except psycopg.Error as exc:
                raise ToolError(f"postgres: {exc}") from None
            finally:
                watchdog.cancel()
                if self.cfg.read_only or self.conn.info.transaction_status == 3:  # INERROR
                    with suppress(psycopg.Error):
                        self.conn.rollback()
            return result

    def _run(self, query: str, max_rows: int) -> dict[str, Any]:
        with self.conn.cursor() as cur:
            cur.execute(query)
            columns: list[str] = []
            rows: list[Any] = []
            rowcount = cur.rowcount
            while True:  # several statements: the last that returned rows wins
                if cur.description is not None:
                    columns = [c.name for c in cur.description]
                    rows = cur.fetchmany(max_rows + 1)
                rowcount = cur.rowcount
                if not cur.nextset():
                    break
            return _result(columns, rows, max_rows, rowcount)

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------- helpers


def _result(
    columns: list[str], rows: Sequence[Any], max_rows: int, rowcount: int
) -> dict[str, Any]:
    cut = len(rows) > max_rows
    out: dict[str, Any] = {
        "columns": columns,
        "rows": _rows(rows[:max_rows]),
        "row_count": min(len(rows), max_rows),
    }
    if not columns and rowcount >= 0:
        out["affected"] = rowcount
    if cut:
        out["truncated"] = True
        out["note"] = f"cut at {max_rows} rows (max_rows): add LIMIT/OFFSET or a WHERE to see more"
    return out


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _rows(rows: Sequence[Any]) -> list[list[Any]]:
    """Rows as JSON arrays; one C-level pass tells whether any value needs converting."""
    if _PLAIN.issuperset(map(type, chain.from_iterable(rows))):
        return list(map(list, rows))
    return [[jsonable(v) for v in row] for row in rows]


_CONVERT: list[tuple[type, Callable[[Any], Any]]] = [
    (bytes, lambda v: {"base64": base64.b64encode(v).decode()}),
    (memoryview, lambda v: {"base64": base64.b64encode(bytes(v)).decode()}),
    (decimal.Decimal, str),
    (dt.datetime, lambda v: v.isoformat()),
    (dt.date, lambda v: v.isoformat()),
    (dt.time, lambda v: v.isoformat()),
    (dt.timedelta, lambda v: v.total_seconds()),
    (uuid.UUID, str),
]


def jsonable(value: Any) -> Any:
    """A database value as JSON: bytes as base64, decimals and UUIDs as text, times ISO."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    for kind, convert in _CONVERT:
        if isinstance(value, kind):
            return convert(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


_DSN_SECRET = re.compile(r"(password|passwd|pwd)\s*=\s*('[^']*'|\S+)", re.IGNORECASE)
_URL_CREDS = re.compile(r"(\w+://)[^/@\s]+@")


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Remove credentials from a message: the values themselves and DSN-shaped leftovers."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 2:
            text = text.replace(secret, "***")
    text = _DSN_SECRET.sub(r"\1=***", text)
    return _URL_CREDS.sub(r"\1***@", text)
