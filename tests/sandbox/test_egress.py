"""The egress proxy without Docker: gate decisions, the wire format, relays on loopback."""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guardrail.approval.base import ApprovalAnswer, ApprovalRequest
from guardrail.approval.static import StaticApprover
from guardrail.audit import AuditTrail, read_records
from guardrail.calls import HttpCall
from guardrail.egress import EgressGate, EgressProxy, RunningProxy, serve_in_thread, static_resolver
from guardrail.egress.proxy import BadRequest, origin_head, parse_head, split_authority
from guardrail.egress.wiring import egress_dir, proxy_environment, wrap_command
from guardrail.errors import SandboxError
from guardrail.pipeline import Guard

POLICY = """\
version: 1
extends: default
lists:
  +allowed_hosts: [pypi.test, meta.test, intranet.test, mixed.test]
rules:
  - id: deny-evil
    description: A host no request may reach.
    decision: deny
    match: {effect: net, host: [evil.test]}
"""
HOSTS = {
    "pypi.test": ["127.0.0.1"],
    "evil.test": ["127.0.0.1"],
    "ask.test": ["127.0.0.1"],
    "meta.test": ["169.254.169.254"],
    "intranet.test": ["10.1.2.3"],
    "mixed.test": ["127.0.0.1", "fe80::1"],
}


# ---------------------------------------------------------------- fixtures


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        seen = {"path": self.path, "host": self.headers.get("Host"), "headers": dict(self.headers)}
        self._answer(json.dumps(seen).encode())

    def do_POST(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._answer(b"got " + body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[int]:
    """A loopback HTTP server; its port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Guard:
    root = tmp_path_factory.mktemp("egress-policy")
    (root / "policy.yaml").write_text(POLICY)
    return Guard.from_policy(root / "policy.yaml", workspace=root)


def _gate(guard: Guard, approver: Any = None) -> EgressGate:
    return EgressGate(guard.check, resolver=static_resolver(HOSTS), approver=approver)


@pytest.fixture
def proxy(guard: Guard, tmp_path: Path) -> Iterator[RunningProxy]:
    trail = AuditTrail(tmp_path / "audit.jsonl", fsync=False)
    with serve_in_thread(EgressProxy(_gate(guard), audit=trail, session="s1")) as running:
        yield running


def _opener(proxy: RunningProxy) -> urllib.request.OpenerDirector:
    handler = urllib.request.ProxyHandler({"http": proxy.url, "https": proxy.url})
    return urllib.request.build_opener(handler)


def _records(proxy: RunningProxy, count: int) -> list[dict[str, Any]]:
    """The trail's egress records once there are `count` (written after each connection ends)."""
    trail = proxy.proxy.audit
    assert trail is not None
    deadline = time.monotonic() + 10
    while True:
        found = [r["data"] for _, r in read_records(trail.path)] if trail.path.exists() else []
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.01)  # polling the trail for a condition, with a deadline


def _raw(proxy: RunningProxy, data: bytes) -> bytes:
    """Send raw bytes to the proxy; everything it answers until it closes."""
    assert isinstance(proxy.address, tuple)
    with socket.create_connection(proxy.address, timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- wire format


def test_parse_head_and_authority() -> None:
    req = parse_head(b"GET http://a.test/x HTTP/1.1\r\nHost: a.test\r\nX-A: 1\r\nx-a: 2\r\n\r\n")
    assert (req.method, req.target, req.header("x-a")) == ("GET", "http://a.test/x", "1, 2")
    assert split_authority("pypi.test:443") == ("pypi.test", 443)
    assert split_authority("[::1]:8443") == ("::1", 8443)
    for bad in ("pypi.test", "user@pypi.test:443", "pypi.test:99999", "a:1/x"):
        with pytest.raises(BadRequest):
            split_authority(bad)
    with pytest.raises(BadRequest):
        parse_head(b"GET /\r\n\r\n")
    with pytest.raises(BadRequest):
        parse_head(b"GET http://a/ HTTP/1.1\r\nno colon\r\n\r\n")


def test_origin_head_drops_hop_by_hop_and_closes() -> None:
    req = parse_head(
        b"GET http://a.test:81/p?q=1 HTTP/1.1\r\nHost: wrong\r\nProxy-Authorization: Basic x\r\n"
        b"Connection: keep-alive, X-Private\r\nX-Private: 1\r\nAccept: */*\r\n\r\n"
    )
    head = origin_head(req, "a.test:81").decode()
    assert head.startswith("GET /p?q=1 HTTP/1.1\r\nHost: a.test:81\r\n")
    assert "Accept: */*" in head and "Connection: close" in head
    for gone in ("wrong", "Proxy-Authorization", "X-Private", "keep-alive"):
        assert gone not in head


# ---------------------------------------------------------------- gate


def test_gate_allows_denies_and_checks_addresses(guard: Guard) -> None:
    gate = _gate(guard)
    ok = gate.admit("GET", "http://pypi.test:8080/simple/")
    assert ok.allowed and ok.addresses == ("127.0.0.1",) and ok.rules == ("http-allowlisted-read",)
    denied = gate.admit("GET", "https://evil.test:443/")
    assert (denied.allowed, denied.status, denied.decision, denied.rules) == (
        False,
        403,
        "deny",
        ("deny-evil",),
    )
    meta = gate.admit("GET", "https://meta.test:443/")  # allowlisted name, metadata address
    assert not meta.allowed and meta.decision == "allow"
    assert "169.254.169.254 (metadata)" in meta.reason
    private = gate.admit("GET", "http://intranet.test/")  # a private address needs the policy
    assert not private.allowed and "10.1.2.3 (private)" in private.reason
    assert "net-private" in private.reason
    mixed = gate.admit("GET", "http://mixed.test/")  # one bad address spoils the name
    assert not mixed.allowed and "fe80::1 (link_local)" in mixed.reason
    unknown = gate.admit("GET", "http://127.0.0.1:9/")  # a loopback literal: allowed by rule
    assert unknown.allowed and unknown.addresses == ("127.0.0.1",)


def test_gate_refusals_without_a_decision(guard: Guard) -> None:
    gate = _gate(guard)
    assert gate.admit("GET", "ftp://pypi.test/").status == 400
    nowhere = gate.admit("GET", "http://127.0.0.2.nowhere.test/")
    assert nowhere.status == 403  # an ask (public read) with no approver
    missing = EgressGate(guard.check, resolver=static_resolver({})).admit(
        "GET", "http://pypi.test/"
    )
    assert missing.status == 502 and "not in the proxy's hosts map" in missing.reason

    def broken(call: object) -> Any:
        raise RuntimeError("boom")

    crashed = EgressGate(broken).admit("GET", "http://pypi.test/")
    assert not crashed.allowed and "boom" in crashed.reason


def test_gate_asks_per_host_and_remembers_a_session_answer(guard: Guard) -> None:
    approver = StaticApprover(["allow_session"])
    gate = _gate(guard, approver)
    first = gate.admit("GET", "http://ask.test/a")
    assert first.allowed and first.approval == "allow_session" and first.decision == "ask"
    again = gate.admit("GET", "http://ask.test/other/path")
    assert again.allowed and len(approver.requests) == 1
    asked = approver.requests[0].call
    assert isinstance(asked, HttpCall) and asked.url == "http://ask.test:80/"  # the host
    post = gate.admit("POST", "http://ask.test/a")  # another method is another question
    assert not post.allowed and post.approval == "deny" and len(approver.requests) == 2


def test_gate_allow_once_asks_every_time(guard: Guard) -> None:
    approver = StaticApprover(["allow_once", ("deny", "not today")])
    gate = _gate(guard, approver)
    assert gate.admit("GET", "https://ask.test:443/").allowed
    second = gate.admit("GET", "https://ask.test:443/")
    assert not second.allowed and "not today" in second.reason and len(approver.requests) == 2


# ---------------------------------------------------------------- the proxy on loopback


def test_plain_http_allowed_denied_and_recorded(proxy: RunningProxy, origin: int) -> None:
    opener = _opener(proxy)
    with opener.open(f"http://pypi.test:{origin}/simple/?x=1", timeout=10) as response:
        seen = json.loads(response.read())
    assert seen["path"] == "/simple/?x=1" and seen["host"] == f"pypi.test:{origin}"
    assert "Proxy-Connection" not in seen["headers"]
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(f"http://evil.test:{origin}/x", timeout=10)
    assert info.value.code == 403
    assert info.value.headers["X-Guardrail-Rule"] == "deny-evil"
    body = info.value.read().decode()
    assert "rules: deny-evil" in body and "reason: deny: deny-evil" in body
    records = _records(proxy, 2)
    by_host = {r["host"]: r for r in records}
    allowed, denied = by_host["pypi.test"], by_host["evil.test"]
    assert allowed["event"] == "egress" and allowed["session"] == "s1"
    assert (allowed["port"], allowed["address"], allowed["status"]) == (origin, "127.0.0.1", 200)
    assert allowed["allowed"] and allowed["bytes_received"] > 100 and allowed["decision"] == "allow"
    assert (denied["allowed"], denied["status"], denied["rules"]) == (False, 403, ["deny-evil"])
    assert denied["address"] == "" and denied["bytes_received"] == 0


def test_connect_tunnel_relays_both_ways(proxy: RunningProxy, origin: int) -> None:
    answer = _raw(
        proxy,
        f"CONNECT pypi.test:{origin} HTTP/1.1\r\nHost: pypi.test:{origin}\r\n\r\n".encode()
        + b"GET /in-tunnel HTTP/1.1\r\nHost: pypi.test\r\nConnection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200")
    assert b'"path": "/in-tunnel"' in answer
    refused = _raw(proxy, f"CONNECT meta.test:{origin} HTTP/1.1\r\n\r\n".encode())
    assert refused.startswith(b"HTTP/1.1 403") and b"169.254.169.254 (metadata)" in refused
    records = _records(proxy, 2)
    tunnel = next(r for r in records if r["host"] == "pypi.test")
    assert tunnel["method"] == "CONNECT" and tunnel["url"] == f"https://pypi.test:{origin}/"
    assert tunnel["bytes_sent"] > 0 and tunnel["bytes_received"] > 0
    meta = next(r for r in records if r["host"] == "meta.test")
    assert meta["addresses"] == ["169.254.169.254"] and meta["address"] == ""


def test_request_bodies_by_length_and_chunks(proxy: RunningProxy, origin: int) -> None:
    head = f"POST http://127.0.0.1:{origin}/p HTTP/1.1\r\nHost: x\r\n"
    sized = _raw(proxy, (head + "Content-Length: 5\r\n\r\nhelloEXTRA").encode())
    assert sized.endswith(b"got hello")  # nothing after the framed body is sent on
    chunked = _raw(
        proxy,
        (head + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").encode(),
    )
    assert chunked.endswith(b"got abcde")


def test_not_proxy_requests_are_400(proxy: RunningProxy) -> None:
    assert _raw(proxy, b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert _raw(proxy, b"GET https://pypi.test/ HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert _raw(proxy, b"garbage\r\n\r\n").startswith(b"HTTP/1.1 400")


def test_unreachable_checked_address_is_502(proxy: RunningProxy) -> None:
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    answer = _raw(proxy, f"GET http://pypi.test:{port}/ HTTP/1.1\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 502") and b"cannot connect to pypi.test" in answer


class _BlockingApprover:
    """Holds the answer until the test releases it."""

    name = "blocking"

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.release = threading.Event()

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalAnswer:
        self.asked.set()
        assert self.release.wait(10)
        return ApprovalAnswer("allow_session", req.call_hash, self.name)


def test_an_ask_blocks_only_its_connection(guard: Guard, origin: int) -> None:
    approver = _BlockingApprover()
    gate = _gate(guard, approver)
    with serve_in_thread(EgressProxy(gate)) as running:
        opener = _opener(running)
        result: dict[str, Any] = {}

        def fetch() -> None:
            with opener.open(f"http://ask.test:{origin}/waited", timeout=20) as response:
                result["body"] = response.read()

        waiting = threading.Thread(target=fetch)
        waiting.start()
        assert approver.asked.wait(10)
        # while the human thinks, other connections go on
        with opener.open(f"http://pypi.test:{origin}/meanwhile", timeout=10) as response:
            assert b"/meanwhile" in response.read()
        assert waiting.is_alive() and "body" not in result
        approver.release.set()
        waiting.join(20)
        assert b"/waited" in result["body"]
        with opener.open(f"http://ask.test:{origin}/later", timeout=10) as response:
            assert b"/later" in response.read()  # the session answer covers it


# ---------------------------------------------------------------- wiring


def test_proxy_environment_and_command() -> None:
    env = proxy_environment()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        assert env[name] == "http://127.0.0.1:3128"
    assert "127.0.0.1" in env["NO_PROXY"]
    wrapped = wrap_command(["sh", "-c", "idle"])
    assert wrapped[:2] == ["sh", "-c"] and wrapped[-3:] == ["sh", "-c", "idle"]
    compile(wrapped[4], "forwarder", "exec")  # the forwarder is valid Python


def test_egress_dir_is_private_and_refuses_a_symlink(tmp_path: Path) -> None:
    path = egress_dir("guardrail-abc", base=tmp_path)
    assert path.is_dir() and (path.stat().st_mode & 0o777) == 0o755
    assert (path.parent.stat().st_mode & 0o777) == 0o700
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, path.parent / "guardrail-evil")
    with pytest.raises(SandboxError, match="not a directory owned"):
        egress_dir("guardrail-evil", base=tmp_path)


def test_unix_socket_serving(guard: Guard, origin: int, tmp_path: Path) -> None:
    path = egress_dir("guardrail-unix", base=tmp_path) / "proxy.sock"
    with serve_in_thread(EgressProxy(_gate(guard)), unix_path=path):
        assert (path.stat().st_mode & 0o777) == 0o666
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(10)
            sock.connect(str(path))
            sock.sendall(f"GET http://pypi.test:{origin}/u HTTP/1.1\r\n\r\n".encode())
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 200") and b'"/u"' in data
    assert not path.exists()
