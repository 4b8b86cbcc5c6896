"""`guardrail mcp serve` with the SDK client, on stdio and on streamable HTTP.

Shell calls run with `no_sandbox` (on the host after the check): these tests
are about the MCP side; the sandbox has its own tests. The approver is
scripted (tests/adapters/servers/scripted.py, a StaticApprover).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession

from tests.adapters.mcp_helpers import session, text_of

TOOLS = {"shell", "read_file", "write_file", "edit_file", "list_dir", "sql", "http_request"}


class _Hello(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        data = b"got " + body
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def web() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hello"
    server.shutdown()
    server.server_close()


@pytest.fixture
def project(workspace: Path) -> Path:
    (workspace / "a.txt").write_text("hello\n")
    db = sqlite3.connect(workspace / "app.db")
    db.execute("CREATE TABLE users (id INTEGER, name TEXT)")
    db.execute("INSERT INTO users VALUES (1, 'ada')")
    db.commit()
    db.close()
    policy = workspace.parent / "policy.yaml"
    policy.write_text("version: 1\nextends: default\ndatabases:\n  app: {url: 'sqlite:///app.db'}\n")
    return workspace


async def _exercise(s: ClientSession, web: str) -> dict[str, Any]:
    out: dict[str, Any] = {"tools": {t.name for t in (await s.list_tools()).tools}}
    out["shell"] = await s.call_tool("shell", {"command": "echo hi; echo oops >&2; exit 3"})
    out["read_file"] = await s.call_tool("read_file", {"path": "a.txt"})
    out["write_file"] = await s.call_tool("write_file", {"path": "b.txt", "content": "new\n"})
    out["edit_file"] = await s.call_tool("edit_file", {"path": "a.txt", "old": "hello", "new": "bye"})
    out["list_dir"] = await s.call_tool("list_dir", {"path": "."})
    out["sql"] = await s.call_tool("sql", {"query": "SELECT name FROM users", "database": "app"})
    out["http_request"] = await s.call_tool("http_request", {"url": web, "method": "POST", "body": "ping"})
    out["denied"] = await s.call_tool("shell", {"command": "rm -rf ~"})
    out["approved"] = await s.call_tool("shell", {"command": "cat /etc/hostname"})
    out["refused"] = await s.call_tool("read_file", {"path": "/etc/hostname"})
    return out


def _check(out: dict[str, Any], ws: Path) -> None:
    assert out["tools"] == TOOLS
    shell = out["shell"]
    assert not shell.is_error and shell.structured_content["exit_code"] == 3
    assert shell.structured_content["stdout"] == "hi\n" and shell.structured_content["stderr"] == "oops\n"
    assert text_of(out["read_file"]) == "hello\n"
    assert (ws / "b.txt").read_text() == "new\n"
    assert (ws / "a.txt").read_text() == "bye\n"
    assert not out["edit_file"].is_error
    assert "b.txt" in text_of(out["list_dir"])
    assert "ada" in text_of(out["sql"]) and not out["sql"].is_error
    assert "got ping" in text_of(out["http_request"])
    denied = out["denied"]
    assert denied.is_error and denied.structured_content["decision"] == "deny"
    assert denied.structured_content["rules"] and "[rule: " in text_of(denied)
    approved = out["approved"]
    assert not approved.is_error and approved.structured_content["approval"] == "allow_once"
    assert approved.structured_content["stdout"] == Path("/etc/hostname").read_text()
    refused = out["refused"]  # the scripted approver's second answer is deny
    assert refused.is_error and "denied" in text_of(refused)


def test_serve_over_stdio(project: Path, web: str) -> None:
    args = ["-m", "tests.adapters.servers.scripted", str(project), "allow_once,deny", "serve"]
    env = {"GUARDRAIL_TEST_POLICY": str(project.parent / "policy.yaml")}

    async def go() -> dict[str, Any]:
        async with session(args, project, env=env) as s:
            return await _exercise(s, web)

    _check(anyio.run(go), project)
    records = [json.loads(line)["kind"] for line in (project / ".guardrail" / "audit.jsonl").read_text().splitlines()]
    assert records.count("approval") == 2


@asynccontextmanager
async def _http_session(url: str) -> AsyncIterator[ClientSession]:
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(url) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        yield s


def test_serve_over_streamable_http(project: Path, web: str) -> None:
    from guardrail.adapters.mcp_server import serve
    from guardrail.approval.static import StaticApprover
    from guardrail.pipeline import Guard

    guard = Guard.from_policy(project.parent / "policy.yaml", workspace=project, no_sandbox=True,
                              approver=StaticApprover(["allow_once", "deny"]))
    announced: list[str] = []
    ready, stop = threading.Event(), threading.Event()

    def announce(text: str) -> None:
        announced.append(text.rsplit(" ", 1)[-1])
        ready.set()

    thread = threading.Thread(target=serve, args=(guard,), daemon=True,
                              kwargs={"transport": "http", "port": 0, "announce": announce, "stop": stop})
    thread.start()
    assert ready.wait(30), "the HTTP server did not start"

    async def go() -> dict[str, Any]:
        async with _http_session(announced[0]) as s:
            return await _exercise(s, web)

    try:
        out = anyio.run(go)
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    _check(out, project)
