"""The approval page of `guardrail approvals serve`, and the JSON API behind it.

Two secrets, two audiences:

- the **page token** is only printed to the person who started the server
  (`http://127.0.0.1:PORT/<page token>/`); it is needed to see pending calls
  and to answer them;
- the **client token** is written (mode 0600) to
  `.guardrail/approvals-server.json` so that guardrail processes in the
  workspace can post a request and wait for its answer; it cannot answer.
  An agent that reads the file can therefore queue questions, never approve
  its own.

Client API (under `/c/<client token>/api`):
    POST   requests            {id, summary, timeout}      -> 201
    GET    requests/<id>?wait=S  long-poll: {status: pending | answered, answer}
                                 an answer is handed out once, then forgotten
    DELETE requests/<id>       the waiter gave up (timeout)
Page API (under `/<page token>/api`):
    GET    pending?since=V&wait=S  long-poll: {version, pending: [...]}
    POST   requests/<id>/answer    {answer, message, call_hash}

Every request must name this server in `Host` (no DNS rebinding); POSTs
must be `application/json` (no cross-site form posts); pages are sent with
a strict CSP, no referrer and no framing.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SERVER_FILE = Path(".guardrail") / "approvals-server.json"
MAX_BODY = 1_000_000
MAX_WAIT = 25.0
PAGE_ANSWERS = ("allow_once", "allow_session", "allow_always", "deny")


@dataclass
class Pending:
    id: str
    summary: dict[str, Any]
    created: float
    expires: float
    answer: dict[str, Any] | None = None


@dataclass
class Board:
    """Pending approvals, shared by the handler threads; a condition wakes long-polls."""

    pending: dict[str, Pending] = field(default_factory=dict)
    version: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)

    def _changed(self) -> None:
        self.version += 1
        self.cond.notify_all()

    def _expire(self) -> None:
        now = time.time()
        gone = [k for k, p in self.pending.items() if p.expires < now]
        for key in gone:
            del self.pending[key]
        if gone:
            self._changed()

    def add(self, item: Pending) -> bool:
        with self.cond:
            if item.id in self.pending:
                return False
            self.pending[item.id] = item
            self._changed()
            return True

    def listing(self, since: int, wait: float) -> tuple[int, list[dict[str, Any]]]:
        deadline = time.monotonic() + wait
        with self.cond:
            self._expire()
            while self.version == since and (remaining := deadline - time.monotonic()) > 0:
                self.cond.wait(min(remaining, 5.0))
                self._expire()
            items = [
                {"id": p.id, "created": p.created, "expires": p.expires, **p.summary}
                for p in sorted(self.pending.values(), key=lambda p: p.created)
                if p.answer is None
            ]
            return self.version, items

    def answer(self, item_id: str, answer: dict[str, Any]) -> HTTPStatus:
        with self.cond:
            item = self.pending.get(item_id)
            if item is None:
                return HTTPStatus.NOT_FOUND
            if item.answer is not None:
                return HTTPStatus.CONFLICT
            if not hmac.compare_digest(str(answer.get("call_hash", "")), str(item.summary.get("call_hash", ""))):
                return HTTPStatus.CONFLICT
            item.answer = answer
            self._changed()
            return HTTPStatus.OK

    def take(self, item_id: str, wait: float) -> dict[str, Any] | None:
        """The answer, once (then the request is forgotten); None while pending; KeyError if unknown."""
        deadline = time.monotonic() + wait
        with self.cond:
            while True:
                item = self.pending.get(item_id)
                if item is None:
                    raise KeyError(item_id)
                if item.answer is not None:
                    del self.pending[item_id]
                    self._changed()
                    return item.answer
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.cond.wait(min(remaining, 5.0))

    def withdraw(self, item_id: str) -> None:
        with self.cond:
            if self.pending.pop(item_id, None) is not None:
                self._changed()


class ApprovalServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.board = Board()
        self.page_token = secrets.token_urlsafe(24)
        self.client_token = secrets.token_urlsafe(24)
        self.host = host
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def _base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def page_url(self) -> str:
        return f"{self._base()}/{self.page_token}/"

    @property
    def client_url(self) -> str:
        return f"{self._base()}/c/{self.client_token}/api/"

    def allowed_hosts(self) -> set[str]:
        return {f"{name}:{self.port}" for name in ("127.0.0.1", "localhost", "[::1]")}

    def write_server_file(self, workspace: str | os.PathLike[str]) -> Path:
        """Tell waiting processes of this workspace where to post (client token only)."""
        from guardrail.approval.session import atomic_write_text

        path = Path(workspace) / SERVER_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({"url": self.client_url, "pid": os.getpid()}))
        return path

    def start(self) -> ApprovalServer:
        """Serve on a background thread (for tests and embedding)."""
        self._thread = threading.Thread(target=self.serve_forever, name="approvals", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: ApprovalServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the token is in every path: keep it out of logs

    # ---------------------------------------------------------- plumbing

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json")

    def _body(self) -> Any:
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            raise ValueError("send application/json")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return json.loads(self.rfile.read(length) or b"null")

    def _route(self) -> tuple[str, list[str], dict[str, list[str]]] | None:
        """('page'|'client', rest of the path, query) for a request with a good host and token."""
        if self.headers.get("Host", "") not in self.server.allowed_hosts():
            return None
        parts = urlsplit(self.path)
        segments = [s for s in parts.path.split("/") if s]
        query = parse_qs(parts.query)
        if len(segments) >= 2 and segments[0] == "c" and hmac.compare_digest(segments[1], self.server.client_token):
            return "client", segments[2:], query
        if segments and hmac.compare_digest(segments[0], self.server.page_token):
            return "page", segments[1:], query
        return None

    def _handle(self, method: str) -> None:
        try:
            route = self._route()
            if route is None:
                self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
                return
            who, rest, query = route
            if who == "page":
                self._page(method, rest, query)
            else:
                self._client(method, rest, query)
        except (ValueError, KeyError, TypeError) as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # ---------------------------------------------------------- routes

    def _page(self, method: str, rest: list[str], query: dict[str, list[str]]) -> None:
        board = self.server.board
        if method == "GET" and rest == []:
            from guardrail.approval.web_page import render_page

            nonce = secrets.token_urlsafe(16)
            csp = (
                f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
                "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            )
            self._send(HTTPStatus.OK, render_page(nonce).encode(), "text/html; charset=utf-8",
                       {"Content-Security-Policy": csp})
        elif method == "GET" and rest == ["api", "pending"]:
            since = int(query.get("since", ["-1"])[0])
            wait = min(float(query.get("wait", ["0"])[0]), MAX_WAIT)
            version, items = board.listing(since, max(wait, 0.0))
            self._json(HTTPStatus.OK, {"version": version, "pending": items})
        elif method == "POST" and len(rest) == 4 and rest[:2] == ["api", "requests"] and rest[3] == "answer":
            body = self._body()
            answer = body.get("answer")
            if answer not in PAGE_ANSWERS:
                raise ValueError(f"answer must be one of {', '.join(PAGE_ANSWERS)}")
            record = {
                "answer": answer,
                "message": str(body.get("message") or "")[:2000],
                "call_hash": str(body.get("call_hash") or ""),
                "who": "web page",
                "answered": time.time(),
            }
            status = board.answer(rest[2], record)
            self._json(status, {"ok": status == HTTPStatus.OK})
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def _client(self, method: str, rest: list[str], query: dict[str, list[str]]) -> None:
        board = self.server.board
        if method == "POST" and rest == ["api", "requests"]:
            body = self._body()
            item_id, summary = str(body["id"]), body["summary"]
            if not isinstance(summary, dict) or not item_id.isalnum():
                raise ValueError("need an alphanumeric id and a summary object")
            timeout = min(float(body.get("timeout", 120)), 86_400.0)
            now = time.time()
            added = board.add(Pending(item_id, summary, now, now + timeout + 5))
            self._json(HTTPStatus.CREATED if added else HTTPStatus.CONFLICT, {"id": item_id})
        elif method == "GET" and len(rest) == 3 and rest[:2] == ["api", "requests"]:
            wait = min(float(query.get("wait", ["0"])[0]), MAX_WAIT)
            try:
                answer = board.take(rest[2], max(wait, 0.0))
            except KeyError:
                self._json(HTTPStatus.NOT_FOUND, {"status": "unknown"})
                return
            if answer is None:
                self._json(HTTPStatus.OK, {"status": "pending"})
            else:
                self._json(HTTPStatus.OK, {"status": "answered", "answer": answer})
        elif method == "DELETE" and len(rest) == 3 and rest[:2] == ["api", "requests"]:
            board.withdraw(rest[2])
            self._json(HTTPStatus.OK, {"ok": True})
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})


def serve(host: str, port: int, workspace: str | os.PathLike[str], *, announce: Any = print) -> None:
    """Run until interrupted; the server file is removed on the way out."""
    server = ApprovalServer(host, port)
    path = server.write_server_file(workspace)
    announce(server.page_url)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        try:
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass
