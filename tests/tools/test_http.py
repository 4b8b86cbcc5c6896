"""The HTTP executor against real HTTP(S) servers on loopback, run in threads."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from support import require_binary

from guardrail.calls import HttpCall, ToolCall
from guardrail.decision import Decision, FiredRule, Risk, Verdict
from guardrail.errors import ToolError
from guardrail.parsers.url import parse_url, resolve_addresses
from guardrail.tools.base import ToolResult
from guardrail.tools.config import ToolsConfig
from guardrail.tools.http import HttpExecutor, _PinnedBackend

HUGE = 64 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one write per response: no Nagle/delayed-ACK stall
    seen: list[tuple[str, str, str]]  # (method, Host header, path), set per server
    release: threading.Event

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        self.seen.append((self.command, self.headers.get("Host", ""), self.path))
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/ok":
            self._reply(200, b"hello", {"Content-Type": "text/plain; charset=utf-8"})
        elif url.path == "/echo":
            self._reply(200, self.command.encode() + b" " + body, {"Content-Type": "text/plain"})
        elif url.path == "/redirect":
            self._reply(int(query.get("code", ["302"])[0]), b"", {"Location": query["to"][0]})
        elif url.path == "/cookie/set":
            self._reply(200, b"set", {"Set-Cookie": "session=abc123; Path=/"})
        elif url.path == "/cookie/show":
            self._reply(200, self.headers.get("Cookie", "none").encode())
        elif url.path == "/binary":
            self._reply(200, bytes(range(256)), {"Content-Type": "application/octet-stream"})
        elif url.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Length", str(HUGE))
            self.end_headers()
            block = b"x" * 65536
            try:
                for _ in range(HUGE // len(block)):
                    self.wfile.write(block)
            except OSError:
                pass  # the client hung up after its cap: expected
        elif url.path == "/hang":
            self.release.wait(10)  # a server that never answers in time
            self._reply(200, b"late")
        else:
            self._reply(404, b"not found")

    do_GET = do_POST = do_HEAD = do_PUT = _handle


@pytest.fixture(scope="module")
def _server() -> Iterator[dict[str, Any]]:
    seen: list[tuple[str, str, str]] = []
    release = threading.Event()
    handler = type("H", (Handler,), {"seen": seen, "release": release})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield {"port": httpd.server_address[1], "seen": seen, "httpd": httpd}
    release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def server(_server: dict[str, Any]) -> dict[str, Any]:
    """The module's server, with its request log emptied for this test."""
    _server["seen"].clear()
    return _server


HOSTS = {
    "app.test": ["127.0.0.1"],
    "denied.test": ["127.0.0.1"],
    "metadata-alias.test": ["169.254.169.254"],
    "linklocal.test": ["127.0.0.1", "169.254.10.10"],
    "private.test": ["10.1.2.3"],
    "secure.test": ["127.0.0.1"],
}


def resolver(host: str) -> list[str]:
    """A hosts map this test controls; IP literals as the real resolver gives them."""
    if host in HOSTS:
        return HOSTS[host]
    return resolve_addresses(host)


def decide(call: ToolCall) -> Decision:
    """A small stand-in policy: loopback allowed, denied.test denied, the rest asked."""
    assert isinstance(call, HttpCall)
    parsed = parse_url(call.url)
    if parsed.host == "denied.test":
        verdict = Verdict.DENY
    elif parsed.address == "loopback" or parsed.host in ("app.test", "secure.test"):
        verdict = Verdict.ALLOW
    else:
        verdict = Verdict.ASK
    rule = FiredRule("test-rule", verdict, Risk.LOW, None)
    return Decision(verdict, Risk.LOW, f"test policy: {verdict}", (rule,))


def ex(**limits: Any) -> HttpExecutor:
    return HttpExecutor(ToolsConfig(**limits), decide=decide, resolver=resolver)


def get(executor: HttpExecutor, url: str, **kw: Any) -> ToolResult:
    return executor.execute(HttpCall(url=url, **kw))


def test_get(server: dict[str, Any]) -> None:
    e = ex()
    result = get(e, f"http://127.0.0.1:{server['port']}/ok")
    assert result.ok, result.error
    assert result.output["status"] == 200 and result.output["body"] == "hello"
    e.close()


def test_name_dialled_at_checked_address_keeps_host(server: dict[str, Any]) -> None:
    e = ex()
    result = get(e, f"http://app.test:{server['port']}/ok")
    assert result.ok, result.error
    assert server["seen"][-1] == ("GET", f"app.test:{server['port']}", "/ok")
    e.close()


def test_post_body(server: dict[str, Any]) -> None:
    e = ex()
    result = get(e, f"http://127.0.0.1:{server['port']}/echo", method="POST", body="data=1")
    assert result.ok and result.output["body"] == "POST data=1"
    e.close()


def test_binary_body_as_base64(server: dict[str, Any]) -> None:
    e = ex()
    result = get(e, f"http://127.0.0.1:{server['port']}/binary")
    assert result.ok and "body" not in result.output and len(result.output["body_base64"]) == 344
    e.close()


def test_redirect_followed_and_decided(server: dict[str, Any]) -> None:
    e = ex()
    port = server["port"]
    result = get(e, f"http://127.0.0.1:{port}/redirect?to=http://app.test:{port}/ok")
    assert result.ok, result.error
    assert result.output["body"] == "hello"
    assert result.output["redirects"][0]["location"] == f"http://app.test:{port}/ok"
    e.close()


def test_redirect_to_denied_host_stopped_at_that_hop(server: dict[str, Any]) -> None:
    e = ex()
    port = server["port"]
    result = get(e, f"http://127.0.0.1:{port}/redirect?to=http://denied.test:{port}/ok")
    assert not result.ok
    assert "redirect 1 to http://denied.test" in (result.error or "")
    assert result.meta["decision"]["decision"] == "deny"
    assert [host for _, host, _ in server["seen"]] == [f"127.0.0.1:{port}"]  # never reached
    e.close()


def test_redirect_to_asked_host_not_followed(server: dict[str, Any]) -> None:
    e = ex()
    port = server["port"]
    result = get(e, f"http://127.0.0.1:{port}/redirect?to=https://example.org/")
    assert not result.ok and "ask" in (result.error or "")
    e.close()


def test_redirect_303_turns_post_into_get_and_loops_are_capped(server: dict[str, Any]) -> None:
    e = ex(http_max_redirects=3)
    port = server["port"]
    result = get(
        e, f"http://127.0.0.1:{port}/redirect?code=303&to=/echo", method="POST", body="secret-ish"
    )
    assert result.ok and result.output["body"] == "GET " and result.output["method"] == "GET"
    loop = f"http://127.0.0.1:{port}/redirect?to=/redirect%3Fto%3D/redirect"
    result = get(e, loop)
    assert not result.ok
    e.close()


def test_redirect_to_other_scheme_refused(server: dict[str, Any]) -> None:
    e = HttpExecutor(ToolsConfig(), decide=None, resolver=resolver)
    result = get(e, f"http://127.0.0.1:{server['port']}/redirect?to=file:///etc/passwd")
    assert not result.ok and "scheme" in (result.error or "")
    e.close()


@pytest.mark.parametrize("host", ["metadata-alias.test", "linklocal.test"])
def test_name_resolving_to_metadata_or_link_local_refused(
    server: dict[str, Any], host: str
) -> None:
    e = ex()
    result = get(e, f"http://{host}:{server['port']}/ok")
    assert not result.ok and "169.254" in (result.error or "")
    assert server["seen"] == []
    e.close()


def test_name_resolving_to_private_needs_the_policy(server: dict[str, Any]) -> None:
    e = ex()
    result = get(e, "http://private.test/ok")
    assert not result.ok and "10.1.2.3 (private)" in (result.error or "")
    e.close()


def test_metadata_literal_refused() -> None:
    e = ex()
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/"):
        result = get(e, url)
        assert not result.ok and "refused" in (result.error or ""), url
    e.close()


def test_backend_dials_only_pinned_hosts() -> None:
    backend = _PinnedBackend()
    with pytest.raises(ToolError, match="not checked"):
        backend.connect_tcp("unpinned.test", 80)


def test_resolved_once_per_hop(server: dict[str, Any]) -> None:
    """A second (rebinding) answer is never asked for: the first, checked one is dialled."""
    answers = [["127.0.0.1"], ["169.254.169.254"]]
    calls: list[str] = []

    def rebinding(host: str) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), 2) - 1]

    e = HttpExecutor(ToolsConfig(), decide=decide, resolver=rebinding)
    result = get(e, f"http://rebind.test:{server['port']}/ok")
    assert result.ok and calls == ["rebind.test"]
    result = get(e, f"http://rebind.test:{server['port']}/ok")
    assert not result.ok and "169.254.169.254" in (result.error or "")
    e.close()


def test_huge_response_capped(server: dict[str, Any]) -> None:
    e = ex(http_max_response_bytes=100_000)
    result = get(e, f"http://127.0.0.1:{server['port']}/huge")
    assert result.ok and result.truncated
    assert result.output["bytes"] == 100_000 and len(result.output["body"]) == 100_000
    assert "cut at 100000" in result.output["note"]
    e.close()


def test_request_size_capped(server: dict[str, Any]) -> None:
    e = ex(http_max_request_bytes=1000)
    result = get(e, f"http://127.0.0.1:{server['port']}/echo", method="POST", body="x" * 2000)
    assert not result.ok and "http_max_request_bytes" in (result.error or "")
    assert server["seen"] == []
    e.close()


@pytest.mark.parametrize(
    "body",
    [
        "key=AKIAIOSFODNN7EXAMPLE",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----",
        "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "xoxb-1234567890-abcdefghij",
    ],
)
def test_secret_in_body_refused(server: dict[str, Any], body: str) -> None:
    e = ex()
    result = get(e, f"http://127.0.0.1:{server['port']}/echo", method="POST", body=body)
    assert not result.ok and "secret" in (result.error or "")
    assert server["seen"] == []
    e.close()


def test_secret_in_header_refused(server: dict[str, Any]) -> None:
    e = ex()
    headers = {"Authorization": "token github_pat_11ABCDEFG0123456789_abcdefghij"}
    result = get(e, f"http://127.0.0.1:{server['port']}/ok", headers=headers)
    assert not result.ok and server["seen"] == []
    e.close()


def test_timeout(server: dict[str, Any]) -> None:
    e = ex(http_timeout=0.3)
    result = get(e, f"http://127.0.0.1:{server['port']}/hang")
    assert not result.ok and "timed out" in (result.error or "")
    e.close()


def test_cookies_do_not_leak_across_calls(server: dict[str, Any]) -> None:
    e = ex()
    base = f"http://127.0.0.1:{server['port']}"
    assert get(e, f"{base}/cookie/set").ok
    result = get(e, f"{base}/cookie/show")
    assert result.ok and result.output["body"] == "none"
    e.close()


def test_connection_refused_is_a_result() -> None:
    e = ex()
    result = get(e, "http://127.0.0.1:1/")
    assert not result.ok and "failed" in (result.error or "")
    e.close()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An HTTPS server whose certificate names secure.test only."""
    openssl = require_binary("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "cert.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=secure.test",
         "-addext", "subjectAltName=DNS:secure.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    handler = type("H", (Handler,), {"seen": [], "release": threading.Event()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield {"port": httpd.server_address[1], "ca": cert}
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_tls_verified_against_the_name_while_dialling_the_address(
    tls_server: dict[str, Any],
) -> None:
    client_ctx = ssl.create_default_context(cafile=str(tls_server["ca"]))
    e = HttpExecutor(ToolsConfig(), decide=decide, resolver=resolver, verify=client_ctx)
    result = get(e, f"https://secure.test:{tls_server['port']}/ok")
    assert result.ok, result.error
    assert result.output["body"] == "hello"
    # The same address under another name fails verification: SNI/cert use the name.
    result = get(e, f"https://app.test:{tls_server['port']}/ok")
    assert not result.ok and "CERTIFICATE_VERIFY_FAILED" in (result.error or "")
    e.close()
