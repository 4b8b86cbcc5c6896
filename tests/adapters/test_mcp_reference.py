"""The proxy in front of the published MCP reference servers, with their shipped mappings.

The servers are installed by tests/adapters/install_reference_servers.sh
(`scripts/setup.sh --full` runs it): mcp-server-git, mcp-server-fetch and
mcp-server-sqlite from PyPI, each in a virtual environment of its own
(mcp-server-sqlite pins mcp<2), and @modelcontextprotocol/server-filesystem
from npm, run with the machine's Node.js. Missing, they skip locally and
fail in CI. An allowed call must return exactly what the server returns
when called directly; a denied one an error result naming the rule.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.adapters.mcp_helpers import proxy_args, session, text_of
from tests.conftest import require

SERVERS = Path(os.environ.get("GUARDRAIL_MCP_SERVERS", Path.home() / ".cache" / "guardrail" / "mcp-servers"))
# the workspace fixture moves HOME; resolve the default before it does
SERVERS = SERVERS.expanduser().resolve()


def _server(*parts: str) -> Path:
    path = SERVERS.joinpath(*parts)
    require(path.exists(), f"the MCP reference server {path} (tests/adapters/install_reference_servers.sh)")
    return path


def _direct(cmd: list[str]) -> list[str]:
    """Arguments for `session` (which runs `python ARGS`) that exec the server itself."""
    return ["-c", "import os, sys; os.execvp(sys.argv[1], sys.argv[1:])", *cmd]


def _compare(ws: Path, cmd: list[str], allowed: list[tuple[str, dict[str, Any]]],
             denied: list[tuple[str, dict[str, Any], str]]) -> None:
    async def go() -> tuple[list[Any], list[Any], list[Any]]:
        async with session(proxy_args(ws, cmd, audit=False), ws) as s:
            via = [await s.call_tool(name, args) for name, args in allowed]
            refused = [await s.call_tool(name, args) for name, args, _ in denied]
        async with session(_direct(cmd), ws) as s:
            direct = [await s.call_tool(name, args) for name, args in allowed]
        return via, direct, refused

    via, direct, refused = anyio.run(go)
    for (name, _), got, want in zip(allowed, via, direct, strict=True):
        assert not got.is_error, (name, text_of(got))
        assert got.model_dump() == want.model_dump(), name
    for (name, _, rule), got in zip(denied, refused, strict=True):
        assert got.is_error, name
        assert got.structured_content["decision"] == "deny"
        assert rule in got.structured_content["rules"], (name, got.structured_content)
        assert "[rule: " in text_of(got)


@pytest.fixture
def repo(workspace: Path) -> Path:
    git = shutil.which("git")
    require(git is not None, "the git program")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    (workspace / "a.txt").write_text("one\n")
    for args in (["init", "-q", "-b", "main"], ["add", "a.txt"], ["commit", "-q", "-m", "first"]):
        subprocess.run(["git", *args], cwd=workspace, env=env, check=True)
    (workspace / "a.txt").write_text("two\n")
    return workspace


def test_git_server(repo: Path) -> None:
    cmd = [str(_server("mcp-server-git", "bin", "mcp-server-git")), "--repository", str(repo)]
    _compare(repo, cmd,
             allowed=[("git_status", {"repo_path": str(repo)}), ("git_diff_unstaged", {"repo_path": str(repo)}),
                      ("git_log", {"repo_path": str(repo)})],
             denied=[("git_diff", {"repo_path": str(repo), "target": "--output=/etc/cron.d/x"}, "change-outside")])


def test_sqlite_server(workspace: Path) -> None:
    db = workspace / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users (name) VALUES ('ada'), ('bob')")
    conn.commit()
    conn.close()
    cmd = [str(_server("mcp-server-sqlite", "bin", "mcp-server-sqlite")), "--db-path", str(db)]
    _compare(workspace, cmd,
             allowed=[("read_query", {"query": "SELECT id, name FROM users ORDER BY id"}),
                      ("list_tables", {}), ("describe_table", {"table_name": "users"})],
             denied=[("write_query", {"query": "ATTACH DATABASE '/tmp/other.db' AS other"}, "sql-server-files"),
                     ("write_query", {"query": "SELECT load_extension('/tmp/x.so')"}, "sql-server-files")])


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            self.send_error(404)
            return
        body = b"<html><body><h1>Hello</h1><p>guardrail test page</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def page() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/page"
    server.shutdown()
    server.server_close()


def test_fetch_server(workspace: Path, page: str) -> None:
    cmd = [str(_server("mcp-server-fetch", "bin", "mcp-server-fetch")), "--allow-private-ips", "--ignore-robots-txt"]
    _compare(workspace, cmd,
             allowed=[("fetch", {"url": page})],
             denied=[("fetch", {"url": "http://169.254.169.254/latest/meta-data/"}, "net-metadata"),
                     ("fetch", {"url": "file:///etc/passwd"}, "http-bad-scheme")])


def test_filesystem_server(workspace: Path) -> None:
    node = shutil.which("node")
    require(node is not None, "Node.js")
    assert node is not None
    (workspace / "notes.md").write_text("# notes\n")
    cmd = [node, str(_server("npm", "node_modules", "@modelcontextprotocol", "server-filesystem", "dist",
                             "index.js")), str(workspace)]
    _compare(workspace, cmd,
             allowed=[("read_text_file", {"path": str(workspace / "notes.md")}),
                      ("list_directory", {"path": str(workspace)}),
                      ("get_file_info", {"path": str(workspace / "notes.md")})],
             denied=[("write_file", {"path": "/etc/cron.d/x", "content": "* * * * * root sh"}, "change-outside"),
                     ("read_text_file", {"path": "/etc/shadow"}, "secret-read-outside"),
                     ("move_file", {"source": str(workspace / "notes.md"), "destination": "/tmp/../etc/x"},
                      "change-outside")])
