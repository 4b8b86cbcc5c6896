"""Database calls decided by the shipped default policy, then run by the executor.

Spec section 3 (database effects), one statement per line kind: an allowed
statement runs and succeeds; an asked or denied one is not run, and the
database is left as it was.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guardrail.calls import DbCall
from guardrail.cli.call import run_lines
from guardrail.decision import Verdict
from guardrail.tools import ToolExecutors, make_executors

pipeline = pytest.importorskip("guardrail.pipeline")

POLICY = """\
version: 1
extends: default
databases:
  app: {url: "sqlite:///app.db"}
"""

ALLOW = [
    "SELECT id, name FROM users",
    "WITH a AS (SELECT id FROM users) SELECT count(*) FROM a",
    "EXPLAIN SELECT * FROM users",
    "PRAGMA table_info(users)",
    "INSERT INTO users (name) VALUES ('new')",
    "REPLACE INTO users (id, name) VALUES (1, 'again')",
    "UPDATE users SET name = 'x' WHERE id = 2",
    "DELETE FROM users WHERE id = 3",
    "CREATE TABLE t2 (x INTEGER)",
    "CREATE INDEX users_name ON users (name)",
    "CREATE VIEW v AS SELECT id FROM users",
    "BEGIN",
    "SAVEPOINT s1",
]
ASK = [
    "DELETE FROM users",
    "UPDATE users SET name = 'x' WHERE 1 = 1",
    "DELETE FROM users WHERE id = id",
    "DROP TABLE users",
    "ALTER TABLE users ADD COLUMN age INTEGER",
    "VACUUM",
    "CREATE TRIGGER tr AFTER INSERT ON users BEGIN DELETE FROM users; END",
    "SELEC id FROM users",
]
DENY = [
    "ATTACH DATABASE 'other.db' AS other",
    "SELECT load_extension('/tmp/evil.so')",
    "PRAGMA writable_schema = 1",
]


@pytest.fixture
def setup(workspace: Path) -> Iterator[tuple[Any, ToolExecutors, Path]]:
    from guardrail.policy.loader import load_policy

    db = workspace / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.executemany(
        "INSERT INTO users (id, name) VALUES (?, ?)", [(i, f"u{i}") for i in range(1, 6)]
    )
    conn.commit()
    conn.close()
    path = workspace.parent / "policy.yaml"
    path.write_text(POLICY)
    policy = load_policy(path, use_cache=False, check_examples=False)
    guard = pipeline.Guard(policy, workspace)
    executors = make_executors(
        workspace, tools=policy.tools, databases=policy.databases, decide=guard.check
    )
    yield guard, executors, db
    executors.close()


def _dump(db: Path) -> list[Any]:
    conn = sqlite3.connect(db)
    try:
        return [*conn.execute("SELECT * FROM sqlite_master"), *conn.execute("SELECT * FROM users")]
    finally:
        conn.close()


@pytest.mark.parametrize("query", ALLOW)
def test_allowed_statements_run(setup: tuple[Any, ToolExecutors, Path], query: str) -> None:
    guard, executors, _ = setup
    call = DbCall(query=query, dialect="sqlite", database="app")
    decision = guard.check(call)
    assert decision.verdict is Verdict.ALLOW, decision.reason
    result = executors.execute(call)
    assert result.ok, result.error


@pytest.mark.parametrize(
    ("query", "verdict"), [(q, Verdict.ASK) for q in ASK] + [(q, Verdict.DENY) for q in DENY]
)
def test_asked_and_denied_statements_do_not_run(
    setup: tuple[Any, ToolExecutors, Path], query: str, verdict: Verdict
) -> None:
    """Through `guardrail call`'s loop: decided as the spec says, and not run."""
    guard, executors, db = setup
    before = _dump(db)
    out = io.StringIO()
    line = json.dumps({"tool": "db", "query": query, "dialect": "sqlite", "database": "app"})
    assert run_lines([line], guard.check, executors.execute, out) == 1
    record = json.loads(out.getvalue())
    assert record["decision"]["decision"] == str(verdict), record["decision"]["reason"]
    assert record["result"] is None
    assert _dump(db) == before


def test_denied_sqlite_statements_also_refused_by_the_executor(
    setup: tuple[Any, ToolExecutors, Path],
) -> None:
    """The second line: even run directly, the executor's connection refuses them."""
    _, executors, db = setup
    before = _dump(db)
    for query in DENY:
        result = executors.execute(DbCall(query=query, database="app"))
        assert not result.ok, query
    assert _dump(db) == before
    assert not (db.parent / "other.db").exists()
