"""The HTTP executor: httpx, with every destination checked where it is dialled.

The policy decides a URL by its host name; what matters is the address the
socket reaches. So this module resolves the name itself, checks every address
(metadata and link-local are always refused; loopback, private and
unspecified addresses must be allowed by the policy for the address itself),
and then dials exactly those addresses: the connection pool's network backend
is handed the checked list and refuses any host it was not given. TLS still
runs against the name (SNI and certificate checks), and the Host header is the
name's. Redirects are followed by hand, each hop decided again; request and
response sizes are capped, and the whole call has a deadline.
"""

from __future__ import annotations

import base64
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from guardrail.calls import HttpCall, ToolCall
from guardrail.decision import Decision, Verdict
from guardrail.effects import AddressClass
from guardrail.errors import ToolError
from guardrail.parsers.url import classify_ip, resolve_addresses
from guardrail.tools.base import ToolResult
from guardrail.tools.config import ToolsConfig

Decide = Callable[[ToolCall], Decision]
Resolver = Callable[[str], list[str]]

REDIRECTS = {301, 302, 303, 307, 308}
ALWAYS_REFUSED: frozenset[AddressClass] = frozenset({"metadata", "link_local", "invalid"})
# Executor-side copy of the spec's secret patterns: the policy checks them
# too, but a request body must never leave with one even if a policy forgot.
SECRET_PATTERNS = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"
    r"|\bAKIA[0-9A-Z]{16}\b"
    r"|\bghp_[A-Za-z0-9]{20,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{20,}"
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"
)
_TEXT_TYPES = re.compile(
    r"^(text/|application/([\w.+-]*\+)?(json|xml|javascript|x-www-form-urlencoded))"
)
_CROSS_ORIGIN_DROP = ("authorization", "cookie", "proxy-authorization")


@dataclass
class _Hop:
    url: str
    method: str
    headers: dict[str, str]
    body: bytes | None
    redirects: list[dict[str, Any]] = field(default_factory=list)


class HttpExecutor:
    """Runs http calls (see the module docstring); one pool, reused across calls."""

    def __init__(
        self,
        config: ToolsConfig | None = None,
        decide: Decide | None = None,
        resolver: Resolver | None = None,
        verify: bool | ssl.SSLContext = True,
    ) -> None:
        self.config = config or ToolsConfig()
        self.decide = decide
        self.resolver = resolver or resolve_addresses
        self._backend = _PinnedBackend()
        ssl_context = (
            verify
            if isinstance(verify, ssl.SSLContext)
            else httpx.create_ssl_context(verify=verify)
        )
        pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, network_backend=self._backend, max_connections=20
        )
        self._client = httpx.Client(
            transport=_PinnedTransport(pool),
            timeout=httpx.Timeout(self.config.http_timeout),
            follow_redirects=False,
            trust_env=False,  # no proxies or .netrc from the environment: we dial what we checked
        )

    def close(self) -> None:
        self._client.close()

    def execute(self, call: ToolCall) -> ToolResult:
        """Send one already-decided request; refusals and failures come back as ok=False."""
        start = time.perf_counter()
        if not isinstance(call, HttpCall):
            return ToolResult.refused(f"the http executor cannot run a {call.tool} call")
        meta: dict[str, Any] = {}
        try:
            output, truncated = self._run(call, start, meta)
        except ToolError as exc:
            return ToolResult(
                ok=False, error=str(exc), duration=time.perf_counter() - start, meta=meta
            )
        except (httpx.HTTPError, httpcore.TimeoutException) as exc:
            error = _describe_failure(exc, self.config.http_timeout)
            return ToolResult(
                ok=False, error=error, duration=time.perf_counter() - start, meta=meta
            )
        except (httpcore.NetworkError, httpcore.ProtocolError, OSError) as exc:
            error = f"request failed: {type(exc).__name__}: {exc}"
            return ToolResult(
                ok=False, error=error, duration=time.perf_counter() - start, meta=meta
            )
        return ToolResult(
            ok=True, output=output, truncated=truncated, duration=time.perf_counter() - start
        )

    # ------------------------------------------------------------ the call

    def _run(self, call: HttpCall, start: float, meta: dict[str, Any]) -> tuple[Any, bool]:
        body = call.body.encode("utf-8") if call.body is not None else None
        self._check_request(call, body)
        self._client.cookies.clear()  # cookies live for one call's redirects, never across calls
        hop = _Hop(call.url, call.method.upper(), dict(call.headers), body)
        meta["redirects"] = hop.redirects
        for number in range(self.config.http_max_redirects + 1):
            if number > 0:
                self._decide_hop(hop, number, meta)
            url = self._checked_url(hop.url, hop.method)
            response = self._send(url, hop, start)
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECTS and location:
                    self._redirect(hop, response, location)
                    continue
                return self._read(response, hop, start)
            finally:
                response.close()
        raise ToolError(
            f"more than {self.config.http_max_redirects} redirects (http_max_redirects): stopped at {hop.url}"
        )

    def _check_request(self, call: HttpCall, body: bytes | None) -> None:
        size = len(body or b"") + sum(len(k) + len(v) + 4 for k, v in call.headers.items())
        if size > self.config.http_max_request_bytes:
            raise ToolError(
                f"request of {size} bytes is over http_max_request_bytes "
                f"({self.config.http_max_request_bytes})"
            )
        parts = [call.url, call.body or "", *(f"{k}: {v}" for k, v in call.headers.items())]
        for part in parts:
            if SECRET_PATTERNS.search(part):
                raise ToolError(
                    "the request carries a secret (private key, AWS key id, GitHub or Slack "
                    "token) in its URL, headers or body: not sent"
                )

    def _decide_hop(self, hop: _Hop, number: int, meta: dict[str, Any]) -> None:
        """A redirect target is a new request: the policy must allow it outright."""
        if self.decide is None:
            return
        body = hop.body.decode("utf-8", "replace") if hop.body is not None else None
        decision = self.decide(
            HttpCall(url=hop.url, method=hop.method, headers=hop.headers, body=body)
        )
        if decision.verdict is not Verdict.ALLOW:
            meta["stopped_at"] = hop.url
            meta["decision"] = decision.to_dict()
            raise ToolError(
                f"redirect {number} to {hop.url} not followed: the policy says "
                f"{decision.verdict} ({decision.reason}); send a new call for it if it is wanted"
            )

    def _checked_url(self, raw: str, method: str) -> httpx.URL:
        """Parse, resolve and check the destination; pin the checked addresses for dialling."""
        try:
            url = httpx.URL(raw)
        except httpx.InvalidURL as exc:
            raise ToolError(f"invalid URL {raw!r}: {exc}") from None
        if url.scheme not in ("http", "https"):
            raise ToolError(f"scheme {url.scheme!r} is refused: only http and https")
        host = url.raw_host.decode("ascii")
        if not host:
            raise ToolError(f"URL {raw!r} has no host")
        addresses = self.resolver(host)
        literal = classify_ip(host) != "invalid"
        for address in addresses:
            self._check_address(url, method, host, address, literal)
        self._backend.pin(host, addresses)
        return url

    def _check_address(
        self, url: httpx.URL, method: str, host: str, address: str, literal: bool
    ) -> None:
        kind = classify_ip(address)
        if kind in ALWAYS_REFUSED:
            raise ToolError(f"{host} resolves to {address} ({kind}): refused")
        if kind == "public" or literal:  # the URL's own decision covered it
            return
        if self.decide is None:
            if kind == "loopback":
                return
            raise ToolError(f"{host} resolves to {address} ({kind}): refused without a policy")
        as_ip = str(url.copy_with(host=address))
        decision = self.decide(HttpCall(url=as_ip, method=method))
        if decision.verdict is not Verdict.ALLOW:
            raise ToolError(
                f"{host} resolves to {address} ({kind}), which the policy does not allow "
                f"({decision.verdict}: {decision.reason}): refused"
            )

    def _send(self, url: httpx.URL, hop: _Hop, start: float) -> httpx.Response:
        remaining = self.config.http_timeout - (time.perf_counter() - start)
        if remaining <= 0:
            raise ToolError(
                f"no time left for {hop.url} (http_timeout {self.config.http_timeout:g}s)"
            )
        request = self._client.build_request(
            hop.method,
            url,
            headers=hop.headers,
            content=hop.body,
            timeout=httpx.Timeout(min(remaining, self.config.http_timeout)),
        )
        return self._client.send(request, stream=True)

    def _redirect(self, hop: _Hop, response: httpx.Response, location: str) -> None:
        """Move `hop` to the redirect target, the way browsers change method and headers."""
        target = response.url.join(location)
        hop.redirects.append(
            {"status": response.status_code, "url": hop.url, "location": str(target)}
        )
        status = response.status_code
        if status == 303 or (status in (301, 302) and hop.method == "POST"):
            if hop.method != "HEAD":
                hop.method = "GET"
            hop.body = None
            hop.headers = {
                k: v
                for k, v in hop.headers.items()
                if k.lower() not in ("content-type", "content-length")
            }
        old = httpx.URL(hop.url)
        if (old.scheme, old.host, old.port) != (target.scheme, target.host, target.port):
            hop.headers = {
                k: v for k, v in hop.headers.items() if k.lower() not in _CROSS_ORIGIN_DROP
            }
        hop.url = str(target)

    def _read(self, response: httpx.Response, hop: _Hop, start: float) -> tuple[Any, bool]:
        cap = self.config.http_max_response_bytes
        chunks: list[bytes] = []
        size = 0
        cut = False
        for chunk in response.iter_bytes():
            if time.perf_counter() - start > self.config.http_timeout:
                raise ToolError(
                    f"response from {hop.url} not complete within http_timeout "
                    f"({self.config.http_timeout:g}s)"
                )
            if size + len(chunk) > cap:
                chunks.append(chunk[: cap - size])
                size = cap
                cut = True
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
        output: dict[str, Any] = {
            "status": response.status_code,
            "reason": response.reason_phrase,
            "url": hop.url,
            "method": hop.method,
            "headers": _headers(response.headers.multi_items()),
            "bytes": size,
        }
        output.update(_body(data, response))
        if hop.redirects:
            output["redirects"] = hop.redirects
        if cut:
            output["note"] = f"response cut at {cap} bytes (http_max_response_bytes)"
        return output, cut


# ---------------------------------------------------------------- transport


class _PinnedBackend(httpcore.NetworkBackend):
    """Dials only addresses the executor checked, whatever name httpcore asks for."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()
        self._pins: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def pin(self, host: str, addresses: Iterable[str]) -> None:
        with self._lock:
            self._pins[host] = tuple(addresses)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        with self._lock:
            addresses = self._pins.get(host, ())
        if not addresses:
            raise ToolError(f"refused to connect to {host}: its addresses were not checked")
        failure: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise ToolError("unix sockets are never dialled by the http tool")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _PinnedTransport(httpx.BaseTransport):
    """httpx on top of an httpcore pool whose backend is the pinned one."""

    def __init__(self, pool: httpcore.ConnectionPool) -> None:
        self._pool = pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        response = self._pool.handle_request(core)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        stream = self._response.stream
        assert isinstance(stream, Iterable)
        yield from stream

    def close(self) -> None:
        self._response.close()


# ---------------------------------------------------------------- helpers


def _headers(items: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _body(data: bytes, response: httpx.Response) -> dict[str, Any]:
    """Text when the response is text (or valid UTF-8); otherwise base64."""
    ctype = response.headers.get("content-type", "").lower()
    if _TEXT_TYPES.match(ctype) or "charset=" in ctype:
        return {"body": data.decode(response.encoding or "utf-8", "replace")}
    try:
        return {"body": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(data).decode("ascii")}


def _describe_failure(exc: Exception, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException | httpcore.TimeoutException):
        return f"request timed out (http_timeout {timeout:g}s): {type(exc).__name__}"
    return f"request failed: {type(exc).__name__}: {exc}"
