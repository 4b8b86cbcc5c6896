"""SQL queries into database effects: one `DbEffect` per statement.

The policy (spec section 3) decides SQL by *what a statement does*, so the
whole parse tree is walked: a writable CTE is the write inside it, `EXPLAIN
ANALYZE X` is X, a dangerous function is found wherever it is called. The
parser is sqlglot, imported lazily (it costs ~80 ms, and this module sits on
the check path). `parse_sql` never raises: whatever goes wrong gives an
unparsed effect, which the policy asks about, and a keyword scan of the raw
text keeps the deny features of a statement no parser understood.

Statement kinds (`DbEffect.statement`, upper case; policy rules match them,
globs allowed):

- reads: ``SELECT`` (also `WITH … SELECT`, `VALUES`, `TABLE t`, set
  operations), ``SHOW``, ``DESCRIBE``, ``PRAGMA``, ``EXPLAIN`` (without
  ANALYZE; with ANALYZE the statement is the explained one's kind)
- writes: ``INSERT``, ``REPLACE`` (MySQL `REPLACE INTO`), ``UPDATE``,
  ``DELETE``, ``MERGE``, ``COPY``, ``LOAD DATA``
- ``CREATE <object>``: ``CREATE TABLE`` (also `SELECT … INTO new_table` and
  `CREATE TABLE … AS`), ``CREATE INDEX``, ``CREATE VIEW``,
  ``CREATE MATERIALIZED VIEW``, ``CREATE FUNCTION``, ``CREATE PROCEDURE``,
  ``CREATE TRIGGER``, ``CREATE RULE``, ``CREATE EXTENSION``,
  ``CREATE SCHEMA``, ``CREATE DATABASE``, ``CREATE SEQUENCE``,
  ``CREATE TYPE``, ``CREATE USER``, ``CREATE ROLE``, ``CREATE GROUP``, and
  the other objects of `_OBJECTS` (``CREATE DOMAIN``, ``CREATE SERVER``,
  ``CREATE FOREIGN TABLE``, ``CREATE EVENT TRIGGER``, ``CREATE USER MAPPING``,
  ``CREATE VIRTUAL TABLE``, ``CREATE POLICY``, ...); a bare ``CREATE`` when
  the object is not recognised
- ``ALTER <object>`` and ``DROP <object>`` over the same objects
  (``ALTER TABLE``, ``ALTER USER``, ``ALTER ROLE``, ``ALTER SYSTEM``,
  ``ALTER DEFAULT PRIVILEGES``, ``DROP TABLE``, ``DROP OWNED``, ...),
  ``TRUNCATE``, ``RENAME TABLE``, ``RENAME USER``, ``COMMENT``
- privilege: ``GRANT``, ``REVOKE``, ``SET ROLE``,
  ``SET SESSION AUTHORIZATION``, ``SET PASSWORD``, ``REASSIGN OWNED``;
  harmless resets ``RESET ROLE``, ``RESET SESSION AUTHORIZATION``
- session: ``SET``, ``RESET``, ``USE``, ``BEGIN`` (also `START
  TRANSACTION`), ``COMMIT`` (also `END`), ``ROLLBACK`` (also `ABORT`),
  ``SAVEPOINT``, ``RELEASE SAVEPOINT``, ``LOCK``, ``UNLOCK``, ``PREPARE``,
  ``EXECUTE``, ``DEALLOCATE``, ``DECLARE``, ``FETCH``, ``MOVE``, ``CLOSE``,
  ``LISTEN``, ``NOTIFY``, ``UNLISTEN``, ``DISCARD``
- code and maintenance: ``CALL``, ``DO``, ``VACUUM``, ``ANALYZE``,
  ``CLUSTER``, ``REINDEX``, ``CHECKPOINT``, ``REFRESH MATERIALIZED VIEW``,
  ``OPTIMIZE``, ``REPAIR``, ``CHECK``, ``CHECKSUM``, ``FLUSH``, ``KILL``,
  ``SHUTDOWN``, ``HANDLER``, ``IMPORT FOREIGN SCHEMA``, ``SECURITY LABEL``
- extensions and files: ``ATTACH DATABASE``, ``DETACH DATABASE``, ``LOAD``
  (PostgreSQL `LOAD 'lib'`), ``INSTALL PLUGIN``, ``UNINSTALL PLUGIN``
- ``UNPARSED``: a statement whose leading keywords are none of the above

Features (`DbEffect.features`):

- ``privilege``: GRANT, REVOKE, CREATE/ALTER/DROP USER, ROLE or GROUP,
  ALTER SYSTEM, ALTER DEFAULT PRIVILEGES, SET ROLE (any form, also `SET role
  = x`), SET SESSION AUTHORIZATION, SET PASSWORD, RENAME USER, REASSIGN
  OWNED, `set_config('role' | 'session_authorization', …)` in any case (or
  with a first argument that is not a literal), and writes to the privilege
  catalogues (`mysql.user`, `pg_authid`, `pg_settings`, ...)
- ``file_access``: server files: COPY to or from a file, `pg_read_file`,
  `pg_read_binary_file`, `pg_ls_dir` (and the other `pg_ls_*dir`),
  `pg_stat_file`, `lo_import`, `lo_export`, `pg_file_write` and friends,
  `LOAD_FILE`, SQLite CLI `readfile`/`writefile`/`fsdir`, `INTO OUTFILE`,
  `INTO DUMPFILE`, `LOAD DATA [LOCAL] INFILE`, `LOAD XML`
- ``program_access``: COPY TO/FROM PROGRAM; `sys_exec`, `sys_eval`
- ``dblink``: any `dblink*` function; CREATE EXTENSION dblink
- ``attach``: SQLite ATTACH [DATABASE]
- ``load_extension``: `load_extension()`, PostgreSQL LOAD, MySQL
  `… SONAME 'lib'` and INSTALL PLUGIN/SONAME
- ``writable_schema``: PRAGMA writable_schema (any form), writes to
  `sqlite_master`/`sqlite_schema`
- ``writes``: the statement changes data, schema or a persistent setting
  somewhere in its tree (INSERT/UPDATE/DELETE/MERGE/REPLACE anywhere, COPY
  FROM, LOAD DATA, SELECT INTO, DDL, a PRAGMA assignment)
- ``ddl``: CREATE, ALTER, DROP, TRUNCATE, RENAME, COMMENT, SELECT INTO
- ``copy_stdio``: COPY TO STDOUT or FROM STDIN

Functions are matched case-insensitively, schema-qualified or not, anywhere
in the tree (select lists, FROM, CTEs, subqueries, defaults); the SQL in the
string argument of `query_to_xml` and friends is parsed too. Function and
procedure bodies (`CREATE FUNCTION … AS $$ … $$`) are not run when created,
but they are scanned for the deny features so that creating one is denied
like running its body would be.

`where` (UPDATE and DELETE, also when they come from a writable CTE or
EXPLAIN ANALYZE): ``none``; ``trivial`` when the condition is constant-true
after folding (`1=1`, `true`, `1`, `2>1`, `'a'='a'`, `NOT false`,
`'t'::boolean`, `1 IN (1, 2)`, `EXISTS (SELECT 1)`, an OR with a trivially
true side, an AND of trivially true sides) or compares a column (or a
function-free expression) with itself (`id = id`, `a >= a`), or is
`col LIKE '%'`; else ``real``.

Dialects: `postgres`, `sqlite`, `mysql` (also `postgresql`, `sqlite3`,
`mariadb`) are sqlglot's dialects of those names. With no dialect the
statement is parsed as PostgreSQL first, then MySQL, then SQLite, and the
first dialect that gives a real statement (not a parse error, not sqlglot's
opaque `Command`) wins. MySQL executable comments (`/*! … */`, `/*!50000 …
*/`, MariaDB `/*M! … */`) are expanded before parsing, in every dialect.

`parsed` is False for statements sqlglot reads only as an opaque command
and for parse errors; the statement kind then comes from the leading
keywords. Exceptions, because their grammar is a line long and their
spec decision is allow: `SHOW …`, `RESET …`, `SAVEPOINT x`, `RELEASE
[SAVEPOINT] x`, `START TRANSACTION …`, `REPLACE INTO` (parsed as INSERT),
`EXPLAIN X` (parsed when X is).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from guardrail.effects import DbEffect

if TYPE_CHECKING:  # pragma: no cover
    from sqlglot import exp as _exp

__all__ = ["DENY_FEATURES", "FEATURES", "parse_sql"]

Where = Literal["none", "trivial", "real"]

FEATURES = frozenset(
    {
        "privilege",
        "file_access",
        "program_access",
        "dblink",
        "attach",
        "load_extension",
        "writable_schema",
        "writes",
        "ddl",
        "copy_stdio",
    }
)
# Features the default policy denies: kept by a plain EXPLAIN of the statement.
DENY_FEATURES = frozenset(
    {
        "privilege",
        "file_access",
        "program_access",
        "dblink",
        "attach",
        "load_extension",
        "writable_schema",
    }
)

_DIALECTS = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "mysql": "mysql",
    "mariadb": "mysql",
}
_GENERIC_ORDER = ("postgres", "mysql", "sqlite")
_MAX_DEPTH = 4

# ---------------------------------------------------------------------------
# Entry point


def parse_sql(query: str, dialect: str | None = None, source: str = "") -> list[DbEffect]:
    """The effects of a query: one `DbEffect` per statement, in order.

    Never raises: an internal failure gives a single unparsed effect whose
    features come from the keyword scan of the raw text. A query with no
    statement at all (only whitespace or comments) gives no effect. Each
    effect's `source` is `source` when given (the shell fragment, say), else
    the statement's own text; `dialect` is recorded as given.
    """
    query = _decode_unicode_identifiers(query)
    try:
        effects = _parse_sql(query, dialect, source)
        if dialect is None and "/*" in query:
            # comments nest in PostgreSQL and not in MySQL/SQLite: `/* /* */ DROP TABLE t; -- */`
            # hides a statement from one reading; with no dialect given, take both
            effects += [e for e in _parse_sql(query, "mysql", source)
                        if (e.statement, e.features) not in {(x.statement, x.features) for x in effects}]
        return effects
    except Exception:  # fail closed: unparsed, with whatever the keyword scan finds
        text = _expand_executable_comments(query)
        return [
            DbEffect(
                statement=_keyword_statement(text),
                source=source or query,
                features=frozenset(_scan_deny(text) | _implied(_keyword_statement(text))),
                parsed=False,
                dialect=dialect,
            )
        ]


_UNICODE_IDENT = re.compile(r'(?i)\bU&"((?:[^"]|"")*)"')


def _decode_unicode_identifiers(query: str) -> str:
    """`U&"\\0070g_read_file"` is pg_read_file: decode PostgreSQL's escaped identifiers first."""
    if "&" not in query:
        return query

    def decode(m: re.Match[str]) -> str:
        body = m.group(1)
        out = re.sub(r"\\\+([0-9A-Fa-f]{6})|\\([0-9A-Fa-f]{4})",
                     lambda e: chr(int(e.group(1) or e.group(2), 16)), body)
        return '"' + out.replace("\\\\", "\\") + '"'

    try:
        return _UNICODE_IDENT.sub(decode, query)
    except (ValueError, OverflowError):
        return query


def _parse_sql(query: str, dialect: str | None, source: str) -> list[DbEffect]:
    text = _expand_executable_comments(query)
    dialects = _dialect_order(dialect)
    _quiet_sqlglot()
    effects: list[DbEffect] = []
    for chunk, plain in _split(text, dialects):
        for effect in _statement(chunk, plain, dialects, 0):
            effects.append(replace(effect, source=source or chunk, dialect=dialect))
    return effects


def _dialect_order(dialect: str | None) -> tuple[str, ...]:
    if dialect is None:
        return _GENERIC_ORDER
    name = _DIALECTS.get(dialect.strip().lower())
    if name is not None:
        return (name,)
    return _GENERIC_ORDER


class _DropCommandFallbackNotice(logging.Filter):
    """sqlglot logs a warning each time it falls back to `Command`: that is
    expected here (we handle those statements) and must not reach the agent's stderr."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


_FILTER = _DropCommandFallbackNotice()


def _quiet_sqlglot() -> None:
    logger = logging.getLogger("sqlglot")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


# ---------------------------------------------------------------------------
# Text preparation

_EXECUTABLE_COMMENT = re.compile(r"/\*M?!(?:\d{5,6})?(.*?)\*/", re.DOTALL)


def _expand_executable_comments(text: str) -> str:
    """`/*!50000 DROP TABLE t */` -> ` DROP TABLE t `: MySQL runs these, so we read them."""
    previous = None
    while previous != text:  # a comment's content may itself hold one
        previous = text
        text = _EXECUTABLE_COMMENT.sub(lambda m: " " + m.group(1) + " ", text)
    return text


_STRING_TOKENS = frozenset(
    {
        "STRING",
        "BIT_STRING",
        "HEX_STRING",
        "BYTE_STRING",
        "NATIONAL_RAW_STRING",
        "NATIONAL_STRING",
        "RAW_STRING",
        "HEREDOC_STRING",
        "UNICODE_STRING",
    }
)


def _split(text: str, dialects: tuple[str, ...]) -> list[tuple[str, str]]:
    """Statements as (raw text, text without string literals and comments).

    Uses the first dialect whose tokenizer accepts the text; when none does,
    the whole text is one statement (it will not parse, and is scanned).
    """
    from sqlglot.dialects.dialect import Dialect

    for name in dialects:
        try:
            tokens = Dialect.get_or_raise(name).tokenize(text)
        except Exception:
            continue
        chunks: list[tuple[str, str]] = []
        current: list[Any] = []
        for token in [*tokens, None]:
            if token is None or token.token_type.name == "SEMICOLON":
                if current:
                    raw = text[current[0].start : current[-1].end + 1]
                    plain = " ".join(
                        t.text for t in current if t.token_type.name not in _STRING_TOKENS
                    )
                    chunks.append((raw, plain))
                current = []
            else:
                current.append(token)
        return chunks
    stripped = text.strip()
    return [(stripped, stripped)] if stripped else []


# ---------------------------------------------------------------------------
# One statement


def _statement(chunk: str, plain: str, dialects: tuple[str, ...], depth: int) -> list[DbEffect]:
    if depth > _MAX_DEPTH:
        return [_keyword_effect(chunk)]
    explained = _explain(chunk, plain, dialects, depth)
    if explained is not None:
        return explained
    trees = _parse_tree(chunk, dialects)
    if trees is None:
        effect = _unparsed_statement(chunk, dialects, depth)
    else:
        effects = [_classify(tree, chunk, depth) for tree in trees]
        effect = effects[0] if len(effects) == 1 else _merge(effects)
    # Safety net against a parser misreading: deny spellings outside strings.
    extra = _scan_unambiguous(plain)
    if not extra <= effect.features:
        effect = replace(effect, features=effect.features | extra)
    return [effect]


def _nested(text: str, dialects: tuple[str, ...], depth: int) -> list[DbEffect]:
    """The effects of SQL found inside a statement (EXPLAIN's target, query_to_xml's query)."""
    effects: list[DbEffect] = []
    for chunk, plain in _split(text, dialects):
        effects.extend(_statement(chunk, plain, dialects, depth))
    return effects


def _merge(effects: list[DbEffect]) -> DbEffect:
    """One effect for a chunk that a dialect read as several statements: the worst one."""
    worst = max(effects, key=_write_rank)
    features = frozenset().union(*(e.features for e in effects))
    return replace(worst, features=features, parsed=all(e.parsed for e in effects))


def _parse_tree(chunk: str, dialects: tuple[str, ...]) -> list[_exp.Expr] | None:
    """The statement trees of the first dialect that reads `chunk` as real statements."""
    import sqlglot

    for name in dialects:
        try:
            trees = [t for t in sqlglot.parse(chunk, read=name) if t is not None]
        except Exception:
            continue
        if trees and all(_statement_kind(t) is not None for t in trees):
            return trees
    return None


def _unparsed_statement(chunk: str, dialects: tuple[str, ...], depth: int) -> DbEffect:
    # MySQL's REPLACE INTO is an INSERT that deletes first: parse it as one.
    m = re.match(r"\s*REPLACE\s+(?=(?:LOW_PRIORITY\s+|DELAYED\s+)?(?:INTO\b|\w))", chunk, re.I)
    if m is not None:
        as_insert = "INSERT " + chunk[m.end() :]
        trees = _parse_tree(as_insert, dialects)
        if trees is not None and len(trees) == 1 and _statement_kind(trees[0]) == "INSERT":
            effect = _classify(trees[0], as_insert, depth)
            return replace(effect, statement="REPLACE")
    return _keyword_effect(chunk)


# ---------------------------------------------------------------------------
# EXPLAIN

_EXPLAIN_HEAD = re.compile(r"\s*(EXPLAIN|DESCRIBE|DESC)\b", re.I)
_EXPLAIN_SKIP = re.compile(
    r"\s*(?:VERBOSE|EXTENDED|PARTITIONS|QUERY\s+PLAN|FORMAT\s*=?\s*\w+|PLAN\s+FOR)\b", re.I
)
_EXPLAIN_ANALYZE = re.compile(r"\s*ANALY[SZ]E\b", re.I)
_STATEMENT_START = re.compile(
    r"\s*(?:\(|(?:SELECT|WITH|INSERT|REPLACE|UPDATE|DELETE|MERGE|VALUES|TABLE|CREATE|EXECUTE"
    r"|DECLARE|COPY|ALTER|DROP|GRANT|REVOKE|TRUNCATE|CALL|DO|LOAD|ATTACH|SET)\b)",
    re.I,
)


def _explain(chunk: str, plain: str, dialects: tuple[str, ...], depth: int) -> list[DbEffect] | None:
    """EXPLAIN ANALYZE X is X (it runs X); EXPLAIN X is a read that keeps X's deny features.

    Plain EXPLAIN does not run X, but a deny-kind X (COPY … TO PROGRAM)
    stays denied: the safer reading. None when `chunk` is no EXPLAIN of a
    statement (`DESCRIBE t` is left to the parser).
    """
    head = _EXPLAIN_HEAD.match(chunk)
    if head is None:
        return None
    rest = chunk[head.end() :]
    analyze = False
    while True:
        if rest.lstrip().startswith("(") and not _STATEMENT_START.match(rest.lstrip()[1:]):
            inner = rest.lstrip()[1:]
            close = inner.find(")")
            if close < 0:
                return None
            analyze = analyze or _options_analyze(inner[:close])
            rest = inner[close + 1 :]
        elif (m := _EXPLAIN_ANALYZE.match(rest)) is not None:
            analyze = True
            rest = rest[m.end() :]
        elif (m := _EXPLAIN_SKIP.match(rest)) is not None:
            rest = rest[m.end() :]
        else:
            break
    if not _STATEMENT_START.match(rest):
        return None
    inner_effects = _nested(rest, dialects, depth + 1)
    if not inner_effects:
        return None
    extra = _scan_unambiguous(plain)
    inner_effects = [replace(e, features=e.features | extra) for e in inner_effects]
    if analyze:
        return [replace(e, source=chunk) for e in inner_effects]
    features = frozenset().union(*(e.features for e in inner_effects)) & DENY_FEATURES
    parsed = all(e.parsed for e in inner_effects)
    return [DbEffect(statement="EXPLAIN", source=chunk, features=features, parsed=parsed)]


def _options_analyze(options: str) -> bool:
    for option in options.split(","):
        words = option.split()
        if words and words[0].upper() in ("ANALYZE", "ANALYSE"):
            value = words[1].lower() if len(words) > 1 else "true"
            return value not in ("false", "off", "0", "no")
    return False


# ---------------------------------------------------------------------------
# Parsed statements


def _statement_kind(tree: _exp.Expr) -> str | None:
    """The kind of a top-level tree, or None when it is no statement sqlglot understood."""
    from sqlglot import exp

    simple: tuple[tuple[type[exp.Expr], str], ...] = (
        (exp.Query, "SELECT"),  # Select, Union/Intersect/Except, Subquery
        (exp.Values, "SELECT"),
        (exp.Insert, "INSERT"),
        (exp.Update, "UPDATE"),
        (exp.Delete, "DELETE"),
        (exp.Merge, "MERGE"),
        (exp.TruncateTable, "TRUNCATE"),
        (exp.Grant, "GRANT"),
        (exp.Revoke, "REVOKE"),
        (exp.Show, "SHOW"),
        (exp.Describe, "DESCRIBE"),
        (exp.Pragma, "PRAGMA"),
        (exp.Transaction, "BEGIN"),
        (exp.Commit, "COMMIT"),
        (exp.Rollback, "ROLLBACK"),
        (exp.Copy, "COPY"),
        (exp.Analyze, "ANALYZE"),
        (exp.Attach, "ATTACH DATABASE"),
        (exp.Detach, "DETACH DATABASE"),
        (exp.Use, "USE"),
        (exp.Comment, "COMMENT"),
        (exp.LoadData, "LOAD DATA"),
    )
    if isinstance(tree, exp.Create):
        return "CREATE " + _object_kind(tree)
    if isinstance(tree, exp.Alter):
        return "ALTER " + str(tree.args.get("kind") or "TABLE").upper()
    if isinstance(tree, exp.Drop):
        kind = str(tree.args.get("kind") or "TABLE").upper()
        return "DROP " + ("MATERIALIZED VIEW" if tree.args.get("materialized") else kind)
    if isinstance(tree, exp.Set):
        return _set_kind(tree)
    for klass, kind in simple:
        if isinstance(tree, klass):
            return kind
    return None


def _object_kind(tree: _exp.Create) -> str:
    from sqlglot import exp

    kind = str(tree.args.get("kind") or "TABLE").upper()
    properties = tree.args.get("properties")
    if (
        kind == "VIEW"
        and properties is not None
        and any(isinstance(p, exp.MaterializedProperty) for p in properties.expressions)
    ):
        return "MATERIALIZED VIEW"
    return kind


def _set_kind(tree: _exp.Set) -> str:
    from sqlglot import exp

    for item in tree.expressions:
        target = item.this if isinstance(item, exp.SetItem) else item
        if isinstance(target, exp.EQ | exp.PropertyEQ):
            target = target.this
        name = target.name.lower() if isinstance(target, exp.Expr) else ""
        if name == "role":
            return "SET ROLE"
        if name == "session_authorization":
            return "SET SESSION AUTHORIZATION"
    return "SET"


_WRITES = frozenset({"INSERT", "REPLACE", "UPDATE", "DELETE", "MERGE", "LOAD DATA"})
_DDL_PREFIXES = ("CREATE", "ALTER", "DROP", "RENAME")
_PRIVILEGE_STATEMENTS = frozenset(
    {
        "GRANT", "REVOKE", "CREATE USER", "ALTER USER", "DROP USER", "CREATE ROLE", "ALTER ROLE",
        "DROP ROLE", "CREATE GROUP", "ALTER GROUP", "DROP GROUP", "ALTER SYSTEM", "SET ROLE",
        "SET SESSION AUTHORIZATION", "SET PASSWORD", "RENAME USER", "REASSIGN OWNED",
        "ALTER DEFAULT PRIVILEGES",
    }
)  # fmt: skip


def _implied(statement: str) -> set[str]:
    """Features a statement kind carries by itself, however it was read."""
    features: set[str] = set()
    if statement in _PRIVILEGE_STATEMENTS:
        features.add("privilege")
    if statement.startswith(_DDL_PREFIXES) or statement in ("TRUNCATE", "COMMENT"):
        features |= {"ddl", "writes"}
    if statement in _WRITES:
        features.add("writes")
    if statement == "LOAD DATA":
        features.add("file_access")
    if statement == "ATTACH DATABASE":
        features.add("attach")
    if statement in ("LOAD", "INSTALL PLUGIN"):
        features.add("load_extension")
    return features


def _classify(tree: _exp.Expr, chunk: str, depth: int) -> DbEffect:
    """A parsed statement: its kind, where and features from a walk of the whole tree."""
    from sqlglot import exp

    statement = _statement_kind(tree) or "UNPARSED"
    features = _implied(statement)
    where: Where | None = _where_of(tree) if statement in ("UPDATE", "DELETE") else None
    writes: list[tuple[str, Where | None]] = []
    for node in tree.walk():
        if _nested_write(node, tree):
            kind = _statement_kind(node) or "INSERT"
            writes.append((kind, _where_of(node) if kind in ("UPDATE", "DELETE") else None))
            features.add("writes")
        features |= _node_features(node, depth)
        if isinstance(node, exp.Into) and _into_creates(node):
            features |= {"writes", "ddl"}
            if statement == "SELECT":
                statement = "CREATE TABLE"
        if isinstance(node, exp.Command):
            features |= _scan_deny(chunk) | _implied(_keyword_statement(chunk))
    if writes and statement not in _WRITES:
        statement, where = max(writes, key=lambda w: _write_rank_of(*w))
    elif writes:
        statement, where = max([(statement, where), *writes], key=lambda w: _write_rank_of(*w))
    if isinstance(tree, exp.Create) and statement in ("CREATE FUNCTION", "CREATE PROCEDURE"):
        features |= _scan_deny(chunk)  # the body runs later: deny what it would do
    if isinstance(tree, exp.Pragma):
        features |= _pragma_features(tree)
    return DbEffect(statement=statement, where=where, features=frozenset(features))


def _nested_write(node: _exp.Expr, tree: _exp.Expr) -> bool:
    """A write inside the statement (a writable CTE, a subquery); MERGE's own
    WHEN … THEN UPDATE/DELETE/INSERT actions are the MERGE itself."""
    from sqlglot import exp

    return (
        node is not tree
        and isinstance(node, exp.Insert | exp.Update | exp.Delete | exp.Merge)
        and not isinstance(node.parent, exp.When)
    )


_WHERE_RANK = {"none": 2, "trivial": 2, "real": 0, None: 1}
_KIND_RANK = {"DELETE": 4, "UPDATE": 3, "MERGE": 2, "REPLACE": 1, "INSERT": 0}


def _write_rank_of(kind: str, where: Where | None) -> tuple[int, int]:
    return (_WHERE_RANK[where], _KIND_RANK.get(kind, 0))


def _write_rank(effect: DbEffect) -> tuple[int, int, int]:
    deny = len(effect.features & DENY_FEATURES)
    return (deny, *_write_rank_of(effect.statement, effect.where))


def _into_creates(node: _exp.Into) -> bool:
    """`SELECT … INTO new_table` creates a table; MySQL `INTO @var` does not."""
    from sqlglot import exp

    target = node.this
    return isinstance(target, exp.Table) and isinstance(target.this, exp.Identifier)


_FILE_FUNCTIONS = frozenset(
    {
        "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import",
        "lo_export", "load_file", "pg_file_write", "pg_file_rename", "pg_file_unlink",
        "pg_file_sync", "pg_logdir_ls", "pg_ls_logdir", "pg_ls_waldir", "pg_ls_tmpdir",
        "pg_ls_archive_statusdir", "pg_ls_logicalsnapdir", "pg_ls_logicalmapdir",
        "pg_ls_replslotdir", "pg_ls_summariesdir", "readfile", "writefile", "fsdir",
    }
)  # fmt: skip
_PROGRAM_FUNCTIONS = frozenset({"sys_exec", "sys_eval"})
_SQL_STRING_FUNCTIONS = frozenset(
    {"query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "ts_stat"}
)
_PRIVILEGE_TABLES = frozenset(
    {
        "mysql.user", "mysql.db", "mysql.tables_priv", "mysql.columns_priv", "mysql.procs_priv",
        "mysql.proxies_priv", "mysql.global_priv", "mysql.role_edges", "mysql.default_roles",
        "pg_authid", "pg_auth_members", "pg_settings", "pg_db_role_setting", "pg_shadow",
        "pg_roles", "pg_user", "pg_catalog.pg_authid", "pg_catalog.pg_auth_members",
        "pg_catalog.pg_settings", "pg_catalog.pg_db_role_setting", "pg_catalog.pg_shadow",
        "pg_catalog.pg_roles", "pg_catalog.pg_user",
    }
)  # fmt: skip
_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master"})


def _node_features(node: _exp.Expr, depth: int) -> set[str]:
    from sqlglot import exp

    if isinstance(node, exp.Func):
        return _function_features(node, depth)
    if isinstance(node, exp.Copy):
        return _copy_features(node)
    if isinstance(node, exp.Insert | exp.Update | exp.Delete | exp.Merge):
        return _write_target_features(node)
    return set()


def _function_name(node: _exp.Func) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    return str(node.sql_name()).lower()


def _function_features(node: _exp.Func, depth: int) -> set[str]:
    from sqlglot import exp

    name = _function_name(node)
    features: set[str] = set()
    if name in _FILE_FUNCTIONS:
        features.add("file_access")
    if name in _PROGRAM_FUNCTIONS:
        features.add("program_access")
    if name.startswith("dblink"):
        features.add("dblink")
    if name == "load_extension":
        features.add("load_extension")
    args = list(node.expressions) if isinstance(node, exp.Anonymous) else list(node.iter_expressions())
    if name == "set_config":
        first = args[0] if args else None
        if not (isinstance(first, exp.Literal) and first.is_string):
            features.add("privilege")  # a computed setting name may well be 'role'
        elif first.this.strip().lower() in ("role", "session_authorization"):
            features.add("privilege")
    if name in _SQL_STRING_FUNCTIONS and args:
        first = args[0]
        if isinstance(first, exp.Literal) and first.is_string:
            for inner in _nested(str(first.this), _GENERIC_ORDER, depth + 1):
                features |= inner.features
                if inner.statement in _WRITES:
                    features.add("writes")
    return features


def _copy_features(node: _exp.Copy) -> set[str]:
    from sqlglot import exp

    features: set[str] = set()
    if node.args.get("kind"):  # COPY … FROM: into a table
        features.add("writes")
    for target in node.args.get("files") or []:
        name = target.name.upper() if isinstance(target, exp.Identifier | exp.Var) else ""
        if name == "PROGRAM":
            features.add("program_access")
        elif name in ("STDIN", "STDOUT"):
            features.add("copy_stdio")
        else:
            features.add("file_access")
    return features


def _write_target_features(node: _exp.Expr) -> set[str]:
    from sqlglot import exp

    target = node.this
    if isinstance(target, exp.Schema):  # INSERT INTO t (a, b)
        target = target.this
    if not isinstance(target, exp.Table):
        return set()
    name = ".".join(p.name.lower() for p in target.parts)
    if name in _PRIVILEGE_TABLES:
        return {"privilege"}
    if name.split(".")[-1] in _SCHEMA_TABLES:
        return {"writable_schema"}
    return set()


def _pragma_features(tree: _exp.Pragma) -> set[str]:
    from sqlglot import exp

    features: set[str] = set()
    body = tree.this
    name_node = body.this if isinstance(body, exp.EQ) else body
    if isinstance(name_node, exp.Dot):
        name_node = name_node.expression
    name = name_node.name.lower() if isinstance(name_node, exp.Expr) else ""
    if name == "writable_schema":
        features.add("writable_schema")
    if isinstance(body, exp.EQ) and name not in _PRAGMA_READS_WITH_ARGUMENT:
        features.add("writes")
    return features


# `PRAGMA table_info(t)` is read as `table_info = t`; these take an argument and only read.
_PRAGMA_READS_WITH_ARGUMENT = frozenset(
    {
        "table_info", "table_xinfo", "index_info", "index_xinfo", "index_list",
        "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
        "table_list", "pragma_list", "function_list", "module_list", "collation_list",
        "database_list", "compile_options",
    }
)  # fmt: skip


# ---------------------------------------------------------------------------
# WHERE folding


def _where_of(node: _exp.Expr) -> Where:
    where = node.args.get("where")
    if where is None:
        return "none"
    return "trivial" if _always_true(where.this) else "real"


class _Unknown:
    """A value folding cannot know (a column, a function call, a parameter)."""


_UNKNOWN = _Unknown()
_Value = bool | int | float | str | None | _Unknown


def _always_true(condition: _exp.Expr) -> bool:
    """True when the condition holds for every row: folded to true, or constant (it names no
    column: `1 BETWEEN 0 AND 2`, `coalesce(null, true)`), or too deep to read (fail closed)."""
    from sqlglot import exp

    try:
        truth = _truth(condition)
        if truth is not None:
            return truth
        # not folded, yet names no column: a constant we could not evaluate, so assume true
        return not any(isinstance(n, exp.Column | exp.Subquery | exp.Select | exp.Placeholder | exp.Parameter)
                       for n in condition.walk())
    except (RecursionError, ValueError, ArithmeticError, OverflowError):
        return True


def _truth(node: _exp.Expr) -> bool | None:
    """True/False when the condition's truth is known for every row, else None."""
    truth = _plain_truth(node)
    if truth is not None and node.args.get("negate"):
        return not truth  # `x IS NOT NULL`, `1 NOT IN (2)` in some dialects' trees
    return truth


def _plain_truth(node: _exp.Expr) -> bool | None:
    from sqlglot import exp

    if isinstance(node, exp.Paren):
        return _truth(node.this)
    if isinstance(node, exp.Not):
        inner = _truth(node.this)
        return None if inner is None else not inner
    if isinstance(node, exp.And):
        left, right = _truth(node.this), _truth(node.expression)
        if left is False or right is False:
            return False
        return True if left is True and right is True else None
    if isinstance(node, exp.Or):
        left, right = _truth(node.this), _truth(node.expression)
        if left is True or right is True:
            return True
        return False if left is False and right is False else None
    if isinstance(node, exp.Exists):
        return _exists_truth(node)
    if isinstance(node, exp.Like) and not isinstance(node.this, exp.Literal):
        pattern = node.expression
        if isinstance(pattern, exp.Literal) and pattern.is_string and set(pattern.this) == {"%"}:
            return True  # col LIKE '%' matches every row with a value
    if isinstance(node, exp.EQ | exp.NEQ | exp.GT | exp.GTE | exp.LT | exp.LTE | exp.NullSafeEQ):
        return _comparison_truth(node)
    if isinstance(node, exp.In):
        return _in_truth(node)
    if isinstance(node, exp.Is):
        subject, target = _value(node.this), _value(node.expression)
        if isinstance(subject, _Unknown) or isinstance(target, _Unknown):
            return None
        return subject is target if target is None else subject == target
    if isinstance(node, exp.Predicate | exp.Connector):
        return None
    return _as_bool(_value(node))


def _as_bool(value: _Value) -> bool | None:
    if isinstance(value, _Unknown) or value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = value.strip().lower()
    if text in ("t", "true", "y", "yes", "on"):
        return True
    if text in ("f", "false", "n", "no", "off"):
        return False
    number = _number(text)
    return None if number is None else number != 0


def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _value(node: _exp.Expr) -> _Value:
    """The constant value of an expression, or _UNKNOWN."""
    from sqlglot import exp

    if isinstance(node, exp.Paren):
        return _value(node.this)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Literal):
        if node.is_string:
            return str(node.this)
        number = _number(str(node.this))
        return _UNKNOWN if number is None else number
    if isinstance(node, exp.Neg):
        inner = _value(node.this)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner
        return _UNKNOWN
    if isinstance(node, exp.Cast):
        inner = _value(node.this)
        if str(node.to.this).upper().endswith("BOOLEAN"):
            return _as_bool(inner) if not isinstance(inner, _Unknown) else _UNKNOWN
        return inner
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div | exp.Mod | exp.DPipe):
        return _arithmetic(node)
    if isinstance(node, exp.Subquery):
        return _scalar_subquery(node.this)
    if isinstance(node, exp.Predicate | exp.Connector | exp.Not | exp.Exists):
        truth = _truth(node)
        return _UNKNOWN if truth is None else truth
    return _UNKNOWN


def _arithmetic(node: _exp.Expr) -> _Value:
    from sqlglot import exp

    left, right = _value(node.this), _value(node.expression)
    if isinstance(node, exp.DPipe):
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        return _UNKNOWN
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right)):
        return _UNKNOWN
    a, b = float(left), float(right)  # type: ignore[arg-type]
    if isinstance(node, exp.Add):
        return a + b
    if isinstance(node, exp.Sub):
        return a - b
    if isinstance(node, exp.Mul):
        return a * b
    if b == 0:
        return _UNKNOWN
    return a / b if isinstance(node, exp.Div) else a % b


def _scalar_subquery(query: _exp.Expr) -> _Value:
    """`(SELECT 1)`: a constant when the select has one constant column and no FROM or WHERE."""
    from sqlglot import exp

    if not isinstance(query, exp.Select) or query.args.get("from_") or query.args.get("where"):
        return _UNKNOWN
    if len(query.expressions) != 1:
        return _UNKNOWN
    return _value(query.expressions[0])


def _exists_truth(node: _exp.Exists) -> bool | None:
    from sqlglot import exp

    query = node.this
    if isinstance(query, exp.Subquery):
        query = query.this
    if isinstance(query, exp.Select) and not any(
        query.args.get(k) for k in ("from_", "where", "having", "limit", "qualify")
    ):
        return True
    return None


def _comparison_truth(node: _exp.Expr) -> bool | None:
    from sqlglot import exp

    left, right = node.this, node.expression
    if _same_expression(left, right):
        return not isinstance(node, exp.NEQ | exp.GT | exp.LT)
    a, b = _value(left), _value(right)
    if isinstance(a, _Unknown) or isinstance(b, _Unknown):
        return None
    if a is None or b is None:
        if isinstance(node, exp.NullSafeEQ):
            return a is None and b is None
        return None  # NULL compares to nothing: never true
    a, b = _comparable(a, b), _comparable(b, a)
    try:
        if isinstance(node, exp.EQ | exp.NullSafeEQ):
            return bool(a == b)
        if isinstance(node, exp.NEQ):
            return bool(a != b)
        if isinstance(node, exp.GT):
            return bool(a > b)  # type: ignore[operator]
        if isinstance(node, exp.GTE):
            return bool(a >= b)  # type: ignore[operator]
        if isinstance(node, exp.LT):
            return bool(a < b)  # type: ignore[operator]
        return bool(a <= b)  # type: ignore[operator]
    except TypeError:
        return None


def _comparable(value: bool | int | float | str, other: bool | int | float | str) -> float | str:
    """Numbers and booleans as floats; a numeric string compared with a number too
    (MySQL and SQLite compare `'1' = 1` as numbers)."""
    if isinstance(value, bool | int | float):
        return float(value)
    if not isinstance(other, str):
        number = _number(value.strip())
        if number is not None:
            return float(number)
    return value


def _in_truth(node: _exp.In) -> bool | None:
    """`1 IN (1, 2)`: true when the constant is among the constants listed."""
    needle = _value(node.this)
    if isinstance(needle, _Unknown) or needle is None or node.args.get("query"):
        return None
    for element in node.expressions:
        value = _value(element)
        if isinstance(value, _Unknown) or value is None:
            continue
        if _comparable(value, needle) == _comparable(needle, value):
            return True
    return None


def _same_expression(left: _exp.Expr, right: _exp.Expr) -> bool:
    """`id = id`, `t.a + 1 = T.A + 1`: the same function-free, column-bearing expression."""
    from sqlglot import exp

    if not any(isinstance(n, exp.Column) for n in left.walk()):
        return False
    if any(isinstance(n, exp.Func | exp.Subquery | exp.Placeholder | exp.Parameter) for n in left.walk()):
        return False
    if _canonical(left, tables=True) == _canonical(right, tables=True):
        return True
    # `t.id = id`: an unqualified column is the statement's own table's
    qualified = [any(isinstance(n, exp.Column) and n.table for n in side.walk()) for side in (left, right)]
    return not all(qualified) and _canonical(left, tables=False) == _canonical(right, tables=False)


def _canonical(node: _exp.Expr, *, tables: bool) -> str:
    """`"id"`, `(id)` and `ID` are the column id; with `tables=False`, so is `t.id`."""
    from sqlglot import exp

    def fold(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Paren):
            inner: exp.Expr = n.this
            return inner
        if isinstance(n, exp.Column):
            table = n.table.lower() if tables and n.table else None
            return exp.Column(this=exp.Identifier(this=n.name.lower(), quoted=False),
                              table=exp.Identifier(this=table, quoted=False) if table else None)
        if isinstance(n, exp.Identifier):
            return exp.Identifier(this=n.name.lower(), quoted=False)
        return n

    while isinstance(node, exp.Paren):
        node = node.this
    return str(node.copy().transform(fold).sql())


# ---------------------------------------------------------------------------
# Keyword route: statements sqlglot does not understand

_OBJECTS = frozenset(
    {
        "TABLE", "INDEX", "VIEW", "FUNCTION", "PROCEDURE", "TRIGGER", "RULE", "EXTENSION",
        "SCHEMA", "DATABASE", "SEQUENCE", "TYPE", "USER", "ROLE", "GROUP", "DOMAIN", "SERVER",
        "LANGUAGE", "CAST", "OPERATOR", "POLICY", "PUBLICATION", "SUBSCRIPTION", "TABLESPACE",
        "EVENT", "COLLATION", "CONVERSION", "STATISTICS", "AGGREGATE", "SYSTEM", "OWNED",
        "TRANSFORM", "PLUGIN", "LOGFILE", "SPATIAL",
    }
)  # fmt: skip
_TWO_WORD_OBJECTS = {
    ("MATERIALIZED", "VIEW"): "MATERIALIZED VIEW",
    ("FOREIGN", "TABLE"): "FOREIGN TABLE",
    ("FOREIGN", "DATA"): "FOREIGN DATA WRAPPER",
    ("EVENT", "TRIGGER"): "EVENT TRIGGER",
    ("USER", "MAPPING"): "USER MAPPING",
    ("VIRTUAL", "TABLE"): "VIRTUAL TABLE",
    ("TEXT", "SEARCH"): "TEXT SEARCH",
    ("ACCESS", "METHOD"): "ACCESS METHOD",
    ("DEFAULT", "PRIVILEGES"): "DEFAULT PRIVILEGES",
    ("CONSTRAINT", "TRIGGER"): "TRIGGER",
    ("AGGREGATE", "FUNCTION"): "FUNCTION",
}
_MODIFIERS = frozenset(
    {
        "OR", "REPLACE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", "UNIQUE", "IF",
        "NOT", "EXISTS", "RECURSIVE", "TRUSTED", "PROCEDURAL", "ALGORITHM", "UNDEFINED",
        "MERGE", "TEMPTABLE", "SQL", "SECURITY", "INVOKER", "DEFINER", "ONLINE", "OFFLINE",
        "IGNORE", "FULLTEXT", "NONCLUSTERED", "CLUSTERED",
    }
)  # fmt: skip
_SINGLE = frozenset(
    {
        "SELECT", "INSERT", "REPLACE", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "GRANT",
        "REVOKE", "SHOW", "DESCRIBE", "EXPLAIN", "PRAGMA", "COPY", "CALL", "DO", "VACUUM",
        "ANALYZE", "CLUSTER", "REINDEX", "LOCK", "UNLOCK", "PREPARE", "EXECUTE", "DEALLOCATE",
        "LISTEN", "NOTIFY", "UNLISTEN", "CHECKPOINT", "DISCARD", "COMMENT", "USE", "FLUSH",
        "KILL", "SHUTDOWN", "OPTIMIZE", "REPAIR", "CHECK", "CHECKSUM", "HANDLER", "DECLARE",
        "FETCH", "MOVE", "CLOSE", "SAVEPOINT", "BEGIN", "COMMIT", "ROLLBACK",
    }
)  # fmt: skip
_ALIASES = {"DESC": "DESCRIBE", "ANALYSE": "ANALYZE", "END": "COMMIT", "ABORT": "ROLLBACK",
            "VALUES": "SELECT", "TABLE": "SELECT", "UPSERT": "INSERT"}  # fmt: skip
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_DEFINER = re.compile(r"\bDEFINER\s*=\s*(?:`[^`]*`|'[^']*'|\"[^\"]*\"|[^\s@]+)(?:@(?:`[^`]*`|'[^']*'|\"[^\"]*\"|\S+))?", re.I)


def _keyword_statement(text: str) -> str:
    """The statement kind from the leading keywords, or UNPARSED."""
    head = _DEFINER.sub(" ", text.lstrip(" \t\r\n(")[:400])
    words: list[str] = [str(w).upper() for w in _WORD.findall(head)[:12]]
    if not words:
        return "UNPARSED"
    first, rest = words[0], words[1:]
    first = _ALIASES.get(first, first)
    if first in ("CREATE", "ALTER", "DROP"):
        return _object_statement(first, rest)
    if first == "SET":
        return _set_statement(rest)
    if first == "RESET":
        if rest[:1] == ["ROLE"]:
            return "RESET ROLE"
        if rest[:2] == ["SESSION", "AUTHORIZATION"]:
            return "RESET SESSION AUTHORIZATION"
        return "RESET"
    if first == "WITH":
        write = re.search(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", text, re.I)
        return write.group(1).upper() if write else "SELECT"
    pairs = {
        ("START", "TRANSACTION"): "BEGIN",
        ("LOAD", "DATA"): "LOAD DATA",
        ("LOAD", "XML"): "LOAD DATA",
        ("RENAME", "USER"): "RENAME USER",
        ("RENAME", "TABLE"): "RENAME TABLE",
        ("INSTALL", "PLUGIN"): "INSTALL PLUGIN",
        ("INSTALL", "SONAME"): "INSTALL PLUGIN",
        ("UNINSTALL", "PLUGIN"): "UNINSTALL PLUGIN",
        ("UNINSTALL", "SONAME"): "UNINSTALL PLUGIN",
        ("REFRESH", "MATERIALIZED"): "REFRESH MATERIALIZED VIEW",
        ("IMPORT", "FOREIGN"): "IMPORT FOREIGN SCHEMA",
        ("SECURITY", "LABEL"): "SECURITY LABEL",
        ("REASSIGN", "OWNED"): "REASSIGN OWNED",
    }
    if rest and (first, rest[0]) in pairs:
        return pairs[(first, rest[0])]
    if first == "RELEASE":
        return "RELEASE SAVEPOINT"
    if first == "ATTACH":
        return "ATTACH DATABASE"
    if first == "DETACH":
        return "DETACH DATABASE"
    if first == "LOAD":
        return "LOAD"
    if first in _SINGLE:
        return first
    return "UNPARSED"


def _object_statement(verb: str, words: list[str]) -> str:
    i = 0
    while i < len(words) and words[i] in _MODIFIERS:
        i += 1
    if i >= len(words):
        return verb
    pair = tuple(words[i : i + 2])
    if pair in _TWO_WORD_OBJECTS:
        return f"{verb} {_TWO_WORD_OBJECTS[pair]}"  # type: ignore[index]
    if words[i] in _OBJECTS:
        return f"{verb} {words[i]}"
    return verb


def _set_statement(words: list[str]) -> str:
    scope = words[1:] if words[:1] in (["SESSION"], ["LOCAL"], ["GLOBAL"]) else words
    if scope[:1] == ["ROLE"] or words[:2] == ["DEFAULT", "ROLE"]:
        return "SET ROLE"
    if scope[:1] == ["SESSION_AUTHORIZATION"] or scope[:2] == ["SESSION", "AUTHORIZATION"]:
        return "SET SESSION AUTHORIZATION"
    if words[:2] == ["SESSION", "AUTHORIZATION"]:
        return "SET SESSION AUTHORIZATION"
    if scope[:1] == ["PASSWORD"]:
        return "SET PASSWORD"
    return "SET"


# Statements whose whole grammar is a line, read here as parsed: the spec allows them.
_TRIVIAL_GRAMMARS = (
    re.compile(r"SHOW\s+\S[\s\S]*", re.I),
    re.compile(r"RESET\s+(?:ROLE|ALL|SESSION\s+AUTHORIZATION|[A-Za-z_][\w.]*)", re.I),
    re.compile(r"SAVEPOINT\s+[A-Za-z_]\w*", re.I),
    re.compile(r"RELEASE\s+(?:SAVEPOINT\s+)?[A-Za-z_]\w*", re.I),
    re.compile(r"START\s+TRANSACTION(?:\s+[A-Za-z ,]*)?", re.I),
    re.compile(r"(?:ABORT|END|BEGIN|COMMIT|ROLLBACK)(?:\s+(?:WORK|TRANSACTION))?", re.I),
)


def _keyword_effect(chunk: str) -> DbEffect:
    statement = _keyword_statement(chunk)
    features = _implied(statement) | _scan_deny(chunk)
    if statement == "COPY":
        features |= _scan_copy(chunk)
    text = chunk.strip()
    parsed = any(g.fullmatch(text) for g in _TRIVIAL_GRAMMARS) and not (features & DENY_FEATURES)
    return DbEffect(statement=statement, features=frozenset(features), parsed=parsed)


# Deny spellings in raw text (strings included: DO bodies, function bodies).
_DENY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (feature, re.compile(pattern, re.I))
    for feature, pattern in (
        ("privilege", r"\bGRANT\b"),
        ("privilege", r"\bREVOKE\b"),
        ("privilege", r"\b(?:CREATE|ALTER|DROP)\s+(?:USER\b(?!\s+MAPPING)|ROLE\b|GROUP\b)"),
        ("privilege", r"\bALTER\s+SYSTEM\b"),
        ("privilege", r"\bSET\s+(?:(?:SESSION|LOCAL)\s+)?ROLE\b"),
        ("privilege", r"\bSET\s+DEFAULT\s+ROLE\b"),
        ("privilege", r"\bSET\s+(?:(?:SESSION|LOCAL)\s+)?SESSION[\s_]+AUTHORIZATION\b"),
        ("privilege", r"\bSET\s+PASSWORD\b"),
        ("privilege", r"\bRENAME\s+USER\b"),
        ("privilege", r"\bREASSIGN\s+OWNED\b"),
        ("privilege", r"\bset_config\b"),
        ("file_access", r"\bINTO\s+(?:OUTFILE|DUMPFILE)\b"),
        ("file_access", r"\bLOAD\s+(?:DATA|XML)\b"),
        ("file_access", r"\b(?:" + "|".join(sorted(_FILE_FUNCTIONS)) + r")\b"),
        ("file_access", r"\bCOPY\b[\s\S]*\b(?:TO|FROM)\s+(?:E?'|\$)"),
        ("program_access", r"\bCOPY\b[\s\S]*\bPROGRAM\b"),
        ("program_access", r"\b(?:sys_exec|sys_eval)\b"),
        ("dblink", r"\bdblink\w*"),
        ("attach", r"^\s*ATTACH\b|\bATTACH\s+DATABASE\b"),
        ("load_extension", r"\bload_extension\b"),
        ("load_extension", r"\bSONAME\b"),
        ("load_extension", r"^\s*LOAD\s+(?:E?'|\")"),
        ("load_extension", r"\bINSTALL\s+(?:PLUGIN|SONAME)\b"),
        ("writable_schema", r"\bwritable_schema\b"),
    )
)
# The subset that cannot be a false alarm outside string literals and comments:
# checked on every statement, against a parser that might have misread one.
_UNAMBIGUOUS_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (feature, re.compile(pattern, re.I))
    for feature, pattern in (
        ("file_access", r"\bINTO\s+(?:OUTFILE|DUMPFILE)\b"),
        ("file_access", r"^\s*LOAD\s+(?:DATA|XML)\b"),
        ("file_access", r"\b(?:" + "|".join(sorted(_FILE_FUNCTIONS)) + r")\s*\("),
        ("program_access", r"^\s*COPY\b[\s\S]*\bPROGRAM\b"),
        ("program_access", r"\b(?:sys_exec|sys_eval)\s*\("),
        ("dblink", r"\bdblink\w*\s*\("),
        ("load_extension", r"\bload_extension\s*\("),
        ("writable_schema", r"\bwritable_schema\b"),
    )
)


def _scan(text: str, patterns: Iterable[tuple[str, re.Pattern[str]]]) -> set[str]:
    return {feature for feature, pattern in patterns if pattern.search(text)}


def _scan_deny(text: str) -> set[str]:
    return _scan(text, _DENY_PATTERNS)


def _scan_unambiguous(plain: str) -> set[str]:
    return _scan(plain, _UNAMBIGUOUS_PATTERNS)


def _scan_copy(chunk: str) -> set[str]:
    features: set[str] = set()
    if re.search(r"\b(?:TO\s+STDOUT|FROM\s+STDIN)\b", chunk, re.I):
        features.add("copy_stdio")
    if re.search(r"\bFROM\b", chunk, re.I) and not re.search(r"^\s*COPY\s*\(", chunk, re.I):
        features.add("writes")
    return features
