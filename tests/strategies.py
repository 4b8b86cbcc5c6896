"""Hypothesis strategies shared by the test suite.

Each group of strategies is for one parser; keep new ones in clearly named
functions of their own. Import as `from strategies import ...` (pytest puts
`tests/` on sys.path through `tests/conftest.py`).
"""

from __future__ import annotations

from hypothesis import strategies as st

# ---------------------------------------------------------------------------
# URLs and hosts (guardrail.parsers.url)

_URL_SCHEMES = ["http", "https", "HTTP", "ftp", "file", "gopher", "dict", "ldap", "foo", ""]
_URL_SEPARATORS = ["://", ":", ":/", ":\\\\", "//", ":///", ":\\/", ""]
_URL_HOSTS = [
    "pypi.org", "evil.com", "localhost", "127.1", "0x7f.1", "2130706433", "0177.0.0.1",
    "169.254.43518", "0251.0376.0251.0376", "[::ffff:169.254.169.254]", "[::1]", "[fe80::1%25eth0]",
    "metadata.google.internal.", "Bücher.de", "%65vil.com", "1.2.3.4.5", "[::", "xn--", "..", "",
]  # fmt: skip
_URL_PIECES = ["@", "\\", "/", "?", "#", ":", "%", "%40", "[", "]", " ", "\t", ".", "80", "99999", "user:pw"]


def url_hosts() -> st.SearchStrategy[str]:
    """Host spellings: tricky known ones, IPv4 in any base, and arbitrary text."""
    ipv4_part = st.one_of(
        st.integers(0, 255).map(str),
        st.integers(0, 255).map(hex),
        st.integers(0, 255).map(lambda n: "0" + format(n, "o")),
    )
    dotted = st.lists(ipv4_part, min_size=1, max_size=5).map(".".join)
    return st.one_of(st.sampled_from(_URL_HOSTS), dotted, st.text(max_size=30))


def url_texts() -> st.SearchStrategy[str]:
    """URL-like strings built from scheme, separator, user info, host, port and tail pieces,
    and plain arbitrary text."""
    built = st.builds(
        lambda scheme, sep, pieces, host, tail: scheme + sep + "".join(pieces) + host + tail,
        st.sampled_from(_URL_SCHEMES),
        st.sampled_from(_URL_SEPARATORS),
        st.lists(st.sampled_from([*_URL_PIECES, *_URL_HOSTS]), max_size=4),
        url_hosts(),
        st.lists(st.sampled_from([*_URL_PIECES, "a", "x"]), max_size=6).map("".join),
    )
    return st.one_of(built, st.text(max_size=60))


# ---------------------------------------------------------------------------
# SQL (guardrail.parsers.sql)

_SQL_FRAGMENTS = [
    "SELECT", "INSERT INTO t VALUES (1)", "UPDATE t SET a = 1", "DELETE FROM t", "WHERE", "1=1",
    "id = id", "OR", "AND", "NOT", "(", ")", ";", "--", "/*", "*/", "/*!50000", "'", '"', "`",
    "$$", "WITH d AS (", "RETURNING *", "EXPLAIN", "ANALYZE", "COPY t TO PROGRAM 'x'",
    "INTO OUTFILE '/tmp/x'", "LOAD DATA INFILE", "GRANT ALL ON t TO u", "CREATE USER u",
    "pg_read_file('/etc/passwd')", "set_config('role', 'x', false)", "ATTACH DATABASE 'x' AS y",
    "PRAGMA writable_schema=1", "DROP TABLE t", "VACUUM", "x", "1", "*", ",", "FROM", "t",
]  # fmt: skip


def sql_texts() -> st.SearchStrategy[str]:
    """SQL-like text built from keywords and fragments, and plain arbitrary text."""
    built = st.lists(st.sampled_from(_SQL_FRAGMENTS), max_size=12).map(" ".join)
    return st.one_of(built, st.text(max_size=80))
