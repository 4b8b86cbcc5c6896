"""The db executor against real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from pydantic import ValidationError
from support import require

from guardrail.calls import DbCall
from guardrail.tools.base import ToolResult
from guardrail.tools.config import DatabaseConfig
from guardrail.tools.db import DbExecutor, scrub

# ---------------------------------------------------------------- config


def test_config_refuses_literal_credentials() -> None:
    for url in (
        "postgresql://bob:hunter2@db/app",
        "postgresql://bob@db/app",
        "postgresql://db/app?password=hunter2",
    ):
        with pytest.raises(ValidationError, match=r"credentials|password|user_env"):
            DatabaseConfig(url=url)
    with pytest.raises(ValidationError, match="environment variable name"):
        DatabaseConfig(url="postgresql://db/app", password_env="hunter2 secret!")
    with pytest.raises(ValidationError, match="extra"):
        DatabaseConfig.model_validate({"url": "sqlite:///a.db", "pasword_env": "X"})
    with pytest.raises(ValidationError, match="scheme"):
        DatabaseConfig(url="mysql://db/app")


def test_scrub() -> None:
    text = "failed for user bob: password=hunter2 at postgresql://bob:hunter2@h/db"
    out = scrub(text, ["hunter2", "bob"])
    assert "hunter2" not in out and "bob" not in out


# ---------------------------------------------------------------- SQLite


@pytest.fixture
def sqlite_db(workspace: Path) -> Path:
    path = workspace / "data" / "app.db"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, avatar BLOB)")
    conn.executemany(
        "INSERT INTO users (id, name, avatar) VALUES (?, ?, ?)",
        [(i, f"user{i}", b"\x00\x01") for i in range(1, 51)],
    )
    conn.commit()
    conn.close()
    return path


def sqlite_executor(workspace: Path, **cfg: Any) -> DbExecutor:
    return DbExecutor({"app": DatabaseConfig(url="sqlite:///data/app.db", **cfg)}, workspace)


def q(ex: DbExecutor, query: str, database: str | None = None) -> ToolResult:
    return ex.execute(DbCall(query=query, database=database))


def test_sqlite_select(workspace: Path, sqlite_db: Path) -> None:
    ex = sqlite_executor(workspace)
    result = q(ex, "SELECT id, name, avatar FROM users WHERE id <= 2 ORDER BY id")
    assert result.ok, result.error
    assert result.output["columns"] == ["id", "name", "avatar"]
    assert result.output["rows"] == [
        [1, "user1", {"base64": "AAE="}],
        [2, "user2", {"base64": "AAE="}],
    ]
    assert not result.truncated
    ex.close()


def test_sqlite_row_cap(workspace: Path, sqlite_db: Path) -> None:
    ex = sqlite_executor(workspace, max_rows=10)
    result = q(ex, "SELECT id FROM users ORDER BY id")
    assert result.ok and result.truncated
    assert result.output["row_count"] == 10 and len(result.output["rows"]) == 10
    assert "cut at 10 rows" in result.output["note"]
    ex.close()


def test_sqlite_write_kept(workspace: Path, sqlite_db: Path) -> None:
    ex = sqlite_executor(workspace)
    result = q(ex, "UPDATE users SET name = 'x' WHERE id = 1")
    assert result.ok and result.output["affected"] == 1
    ex.close()
    assert sqlite3.connect(sqlite_db).execute("SELECT name FROM users WHERE id=1").fetchone() == (
        "x",
    )


def test_sqlite_read_only_refuses_writes(workspace: Path, sqlite_db: Path) -> None:
    before = sqlite_db.read_bytes()
    ex = sqlite_executor(workspace, read_only=True)
    assert q(ex, "SELECT count(*) FROM users").output["rows"] == [[50]]
    for query in (
        "DELETE FROM users WHERE id = 1",
        "PRAGMA query_only = OFF",
        "CREATE TABLE t (x)",
        "INSERT INTO users (id, name) VALUES (99, 'x')",
    ):
        result = q(ex, query)
        assert not result.ok, query
    ex.close()
    assert sqlite_db.read_bytes() == before


def test_sqlite_read_only_holds_without_the_authorizer(workspace: Path, sqlite_db: Path) -> None:
    """mode=ro itself refuses: the file layer, not only our own statement checks."""
    ex = sqlite_executor(workspace, read_only=True)
    conn = ex._connection("app", ex.databases["app"])
    conn.conn.set_authorizer(None)  # type: ignore[attr-defined]
    conn.conn.execute("PRAGMA query_only = OFF")  # type: ignore[attr-defined]
    result = q(ex, "DELETE FROM users WHERE id = 1")
    assert not result.ok and "read-only" in (result.error or "")
    ex.close()


def test_sqlite_attach_refused(workspace: Path, sqlite_db: Path) -> None:
    ex = sqlite_executor(workspace)
    result = q(ex, f"ATTACH DATABASE '{workspace / 'other.db'}' AS o")
    assert not result.ok
    assert not (workspace / "other.db").exists()
    ex.close()


def test_sqlite_statement_timeout(workspace: Path, sqlite_db: Path) -> None:
    ex = sqlite_executor(workspace, statement_timeout=0.2)
    result = q(
        ex,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    )
    assert not result.ok and "statement_timeout" in (result.error or "")
    assert q(ex, "SELECT 1").ok  # the connection is usable after the cancel
    ex.close()


def test_sqlite_file_must_be_in_workspace(workspace: Path) -> None:
    ex = DbExecutor({"x": DatabaseConfig(url="sqlite:///../escape.db")}, workspace)
    result = q(ex, "SELECT 1")
    assert not result.ok and "workspace" in (result.error or "")
    assert not (workspace.parent / "escape.db").exists()


def test_database_names(workspace: Path, sqlite_db: Path) -> None:
    ex = DbExecutor(
        {
            "a": DatabaseConfig(url="sqlite:///data/app.db"),
            "b": DatabaseConfig(url="sqlite:///data/app.db"),
        },
        workspace,
    )
    assert "set field 'database'" in (q(ex, "SELECT 1").error or "")
    assert "no database 'c'" in (q(ex, "SELECT 1", "c").error or "")
    assert q(ex, "SELECT 1", "b").ok
    assert ex.execute(DbCall(query="SELECT 1", database="a", dialect="postgres")).ok is False
    ex.close()


def test_sqlite_one_statement_per_call(workspace: Path, sqlite_db: Path) -> None:
    ex = sqlite_executor(workspace)
    result = q(ex, "SELECT 1; SELECT 2")
    assert not result.ok and "one statement" in (result.error or "")
    ex.close()


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The server of GUARDRAIL_TEST_PG_DSN, as a credential-free URL plus env variables."""
    dsn = os.environ.get("GUARDRAIL_TEST_PG_DSN", "")
    require(bool(dsn), "PostgreSQL (GUARDRAIL_TEST_PG_DSN)")
    try:
        admin = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        require(False, f"PostgreSQL at GUARDRAIL_TEST_PG_DSN ({type(exc).__name__})")
    parts = urlsplit(dsn)
    user, password = parts.username or "", parts.password or ""
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    url = urlunsplit(("postgresql", netloc, parts.path, parts.query, ""))
    monkeypatch.setenv("GR_TEST_PG_USER", user)
    monkeypatch.setenv("GR_TEST_PG_PASSWORD", password)
    table = f"gr_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, name text)")
    admin.execute(f"INSERT INTO {table} SELECT g, 'n' || g FROM generate_series(1, 40) g")
    admin.execute(
        f"CREATE FUNCTION {table}_writer() RETURNS int LANGUAGE sql AS "
        f"$$ INSERT INTO {table} VALUES (1000, 'sneaky') RETURNING id $$"
    )
    yield {"url": url, "user": user, "password": password, "table": table, "admin": admin}
    admin.execute(f"DROP FUNCTION IF EXISTS {table}_writer()")
    admin.execute(f"DROP TABLE IF EXISTS {table}")
    admin.close()


def pg_executor(pg: dict[str, Any], **cfg: Any) -> DbExecutor:
    config = DatabaseConfig(
        url=pg["url"], user_env="GR_TEST_PG_USER", password_env="GR_TEST_PG_PASSWORD", **cfg
    )
    return DbExecutor({"main": config}, Path.cwd())


def pg_count(pg: dict[str, Any]) -> int:
    return int(pg["admin"].execute(f"SELECT count(*) FROM {pg['table']}").fetchone()[0])


@pytest.mark.postgres
def test_pg_select_and_row_cap(pg: dict[str, Any]) -> None:
    ex = pg_executor(pg, max_rows=10)
    result = q(ex, f"SELECT id, name, now() AS t, 1.5::numeric AS d FROM {pg['table']} ORDER BY id")
    assert result.ok, result.error
    assert result.output["columns"] == ["id", "name", "t", "d"]
    assert result.output["rows"][0][:2] == [1, "n1"] and result.output["rows"][0][3] == "1.5"
    assert result.truncated and result.output["row_count"] == 10
    ex.close()


@pytest.mark.postgres
def test_pg_writes_on_a_read_write_connection(pg: dict[str, Any]) -> None:
    ex = pg_executor(pg)
    result = q(ex, f"DELETE FROM {pg['table']} WHERE id = 1")
    assert result.ok and result.output["affected"] == 1
    assert pg_count(pg) == 39
    ex.close()


@pytest.mark.postgres
def test_pg_read_only_refuses_a_writing_function(pg: dict[str, Any]) -> None:
    """A SELECT the parser would allow, calling a function that writes: the server refuses."""
    ex = pg_executor(pg, read_only=True)
    result = q(ex, f"SELECT {pg['table']}_writer()")
    assert not result.ok and "read-only" in (result.error or "")
    assert pg_count(pg) == 40
    assert q(ex, f"SELECT count(*) FROM {pg['table']}").output["rows"] == [[40]]
    ex.close()


@pytest.mark.postgres
def test_pg_read_only_cannot_be_escaped(pg: dict[str, Any]) -> None:
    ex = pg_executor(pg, read_only=True)
    for query in (
        f"COMMIT; DELETE FROM {pg['table']} WHERE id = 2",
        f"SET TRANSACTION READ WRITE; DELETE FROM {pg['table']} WHERE id = 2",
        f"SET default_transaction_read_only = off; DELETE FROM {pg['table']} WHERE id = 2",
        f"DELETE FROM {pg['table']} WHERE id = 2",
    ):
        assert not q(ex, query).ok, query
    assert pg_count(pg) == 40
    ex.close()


@pytest.mark.postgres
def test_pg_statement_timeout(pg: dict[str, Any]) -> None:
    ex = pg_executor(pg, statement_timeout=0.3)
    result = q(ex, "SELECT pg_sleep(10)")
    assert not result.ok and "statement_timeout" in (result.error or "")
    # SET-ting the server's timeout away does not help: the client cancels too.
    result = q(ex, "SET statement_timeout = 0; SELECT pg_sleep(10)")
    assert not result.ok and "statement_timeout" in (result.error or "")
    assert q(ex, "SELECT 1").ok
    ex.close()


@pytest.mark.postgres
def test_pg_credentials_absent_from_every_output(
    pg: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = [s for s in (pg["password"], pg["user"]) if s]
    require(bool(secrets), "a PostgreSQL DSN with a user name")
    outputs: list[ToolResult] = []
    ex = pg_executor(pg)
    outputs.append(q(ex, "SELECT current_user = current_user AS same, 1 AS one"))
    outputs.append(q(ex, "SELECT * FROM no_such_table"))
    outputs.append(q(ex, "SELEC broken"))
    ex.close()
    monkeypatch.setenv("GR_TEST_PG_PASSWORD", (pg["password"] or "pw") + "-wrong")
    ex = pg_executor(pg)
    wrong = q(ex, "SELECT 1")
    outputs.append(wrong)
    monkeypatch.delenv("GR_TEST_PG_PASSWORD")
    outputs.append(q(pg_executor(pg), "SELECT 1"))
    assert outputs[0].ok and not any(r.ok for r in outputs[1:])
    text = json.dumps([r.to_dict() for r in outputs])
    for secret in [*secrets, (pg["password"] or "pw") + "-wrong"]:
        assert secret not in text
    assert "GR_TEST_PG_PASSWORD" in (
        outputs[-1].error or ""
    )  # the variable is named, not its value
