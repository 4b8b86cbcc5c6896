"""The egress proxy: a small asyncio forward proxy whose every connection is decided.

Why our own and not a proxy library: what it must do per connection is
"parse the head, ask `EgressGate`, dial exactly the checked address, count
the bytes, write the trail", and the proxies that fit a Python process either
intercept TLS or hide the dial behind their own resolver. This is the whole
of it:

- `CONNECT host:port` (absolute tunnels for https, git, pip, npm): decided as
  `GET https://host:port/` (see `gate`); on allow, `200` and then the bytes
  are relayed both ways untouched (by splice(2) on Linux, see
  `_splice_tunnel`): no TLS interception, so nothing inside the tunnel
  (path, method, body) is seen;
- plain HTTP in absolute form (`GET http://host/path HTTP/1.1`): decided on
  method, URL and headers, then sent on in origin form with the hop-by-hop
  headers dropped and `Connection: close`; the request body is relayed by
  its framing (Content-Length or chunked), the response until the server
  closes. One request per client connection: the client reconnects for the
  next, so every request is decided (a second request on a kept-alive
  connection could otherwise ride on the first one's decision). Request
  bodies are not inspected (nor can they be in a tunnel);
- a refusal is `403` (policy, approver, address) with a text body and
  `X-Guardrail-*` headers naming the rules and the reason; `400` for what is
  not a proxy request, `502` when the name does not resolve or no checked
  address answers;
- every connection, refused or not, is one `note` record in the audit trail
  (`event: egress`): host, port, address dialled, bytes each way, the
  decision with its rules and reason, the approver's answer, the status.

The gate may block on a human, so it runs on a worker pool of its own; the
event loop keeps relaying other connections meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket
import sys
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from guardrail.egress.gate import Admission, EgressGate

if TYPE_CHECKING:
    from guardrail.audit import AuditTrail

CHUNK = 256 * 1024
SPLICE = 1024 * 1024  # bytes per splice(2), and the pipe's size
MAX_SPLICED = 128  # tunnels relayed by splice(2) at once; more go through asyncio
HOP_BY_HOP = frozenset(
    {
        "connection",
        "proxy-connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-authenticate",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
REASONS = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}


class BadRequest(ValueError):
    """The client sent something that is not a forward-proxy request."""


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name]
        return ", ".join(values) if values else None


def parse_head(head: bytes) -> Request:
    """Request line and headers of one request head (ending in a blank line)."""
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes every byte
        raise BadRequest("undecodable request head") from exc
    lines = text.split("\r\n")
    words = lines[0].split(" ")
    if len(words) != 3 or not words[2].startswith("HTTP/1."):
        raise BadRequest(f"not an HTTP/1.x request line: {lines[0][:200]!r}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(f"malformed header line: {line[:200]!r}")
        headers.append((name, value.strip()))
    return Request(words[0].upper(), words[1], words[2], headers)


def split_authority(authority: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` of a CONNECT target; the port is required."""
    parts = urlsplit(f"//{authority}")
    try:
        port = parts.port
    except ValueError as exc:
        raise BadRequest(f"bad port in CONNECT {authority!r}") from exc
    if not parts.hostname or port is None or parts.username is not None or parts.path:
        raise BadRequest(f"CONNECT needs host:port, got {authority!r}")
    return parts.hostname, port


def _one_line(text: str, limit: int = 300) -> str:
    clean = " ".join(text.split())
    return clean.encode("ascii", "replace").decode("ascii")[:limit]


def refusal(status: int, method: str, url: str, admission: Admission) -> bytes:
    """A complete `status` response naming the rules and the reason."""
    rules = ", ".join(admission.rules) or "none"
    body = (
        f"guardrail egress: {method} {url} refused ({admission.decision or 'not decided'})\n"
        f"rules: {rules}\nreason: {admission.reason}\n"
    ).encode()
    head = (
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n"
        f"X-Guardrail-Decision: {admission.decision or 'none'}\r\n"
        f"X-Guardrail-Rule: {_one_line(rules)}\r\n"
        f"X-Guardrail-Reason: {_one_line(admission.reason)}\r\n\r\n"
    )
    return head.encode("ascii") + body


def origin_head(request: Request, host_header: str) -> bytes:
    """The request as sent on: origin form, Host set, hop-by-hop headers gone, close."""
    parts = urlsplit(request.target)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    named = {
        token.strip().lower()
        for value in (request.header("connection") or "", request.header("proxy-connection") or "")
        for token in value.split(",")
    }
    lines = [f"{request.method} {path} HTTP/1.1", f"Host: {host_header}"]
    for name, value in request.headers:
        low = name.lower()
        if low in HOP_BY_HOP or low in named or low == "host":
            continue
        lines.append(f"{name}: {value}")
    if request.header("transfer-encoding"):
        lines.append("Transfer-Encoding: chunked")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class Connection:
    """What the trail records of one client connection."""

    started: float = field(default_factory=time.monotonic)
    method: str = ""
    host: str = ""
    port: int = 0
    url: str = ""
    address: str = ""
    status: int = 0
    sent: int = 0  # client -> destination, bytes after the head
    received: int = 0  # destination -> client
    admission: Admission | None = None
    error: str = ""

    def record(self, session: str) -> dict[str, Any]:
        adm = self.admission
        return {
            "event": "egress",
            "session": session,
            "method": self.method,
            "host": self.host,
            "port": self.port,
            "url": self.url,
            "address": self.address,
            "addresses": list(adm.addresses) if adm else [],
            "allowed": bool(adm and adm.allowed and not self.error),
            "decision": adm.decision if adm else "",
            "rules": list(adm.rules) if adm else [],
            "reason": adm.reason if adm else "",
            "approval": adm.approval if adm else None,
            "status": self.status,
            "bytes_sent": self.sent,
            "bytes_received": self.received,
            "duration": round(time.monotonic() - self.started, 6),
            "error": self.error,
        }


class EgressProxy:
    """The forward proxy (see the module docstring); serve it with `serve_in_thread`."""

    def __init__(
        self,
        gate: EgressGate,
        *,
        audit: AuditTrail | None = None,
        session: str = "",
        connect_timeout: float = 10.0,
        head_timeout: float = 30.0,
        workers: int = 32,
    ) -> None:
        self.gate = gate
        self.audit = audit
        self.session = session
        self.connect_timeout = connect_timeout
        self.head_timeout = head_timeout
        self._gate_pool = ThreadPoolExecutor(workers, thread_name_prefix="egress-gate")
        self._audit_pool = ThreadPoolExecutor(1, thread_name_prefix="egress-audit")
        # two threads per spliced tunnel, kept warm; past MAX_SPLICED, tunnels use asyncio
        self._tunnel_pool = ThreadPoolExecutor(2 * MAX_SPLICED, thread_name_prefix="egress-tunnel")
        self._spliced = 0
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ serving

    async def start_unix(self, path: Path) -> asyncio.AbstractServer:
        """Listen on a Unix socket any local uid may connect to (guard the directory)."""
        server = await asyncio.start_unix_server(self.handle, path=str(path), limit=CHUNK)
        os.chmod(path, 0o666)
        return server

    async def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> asyncio.AbstractServer:
        """Listen on TCP (unit tests and the bench; the sandbox uses the Unix socket)."""
        return await asyncio.start_server(self.handle, host, port, limit=CHUNK)

    async def shutdown(self) -> None:
        """Cut every open connection (their records are still written)."""
        while self._tasks:  # connections accepted meanwhile are cut too
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._tasks.difference_update(tasks)

    def close_pools(self) -> None:
        self._gate_pool.shutdown(wait=False, cancel_futures=True)
        self._audit_pool.shutdown(wait=True)
        self._tunnel_pool.shutdown(wait=False)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection: one request or one tunnel, then close and record."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        conn = Connection()
        try:
            await self._serve(reader, writer, conn)
        except asyncio.CancelledError:
            conn.error = conn.error or "proxy shut down"
        except Exception as exc:
            conn.error = conn.error or f"{type(exc).__name__}: {exc}"
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            try:
                await self._record(conn)
            finally:
                if task is not None:
                    self._tasks.discard(task)

    async def _record(self, conn: Connection) -> None:
        if self.audit is None:
            return
        loop = asyncio.get_running_loop()
        write = loop.run_in_executor(
            self._audit_pool, self.audit.append, "note", conn.record(self.session)
        )
        try:
            await asyncio.shield(write)  # a shutdown waits for the record, it does not drop it
        except asyncio.CancelledError:
            await asyncio.wait([write])
        except Exception as exc:  # the connection is over; say so loudly rather than crash the loop
            sys.stderr.write(f"guardrail egress: cannot write the audit trail: {exc}\n")

    # ------------------------------------------------------------ one connection

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: Connection
    ) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.head_timeout)
        except asyncio.LimitOverrunError:
            await self._reply_error(writer, conn, 400, "request head over 256 KiB")
            return
        except asyncio.IncompleteReadError:
            conn.error = "closed before sending a request"
            return
        try:
            request = parse_head(head)
            conn.method = request.method
            method, url, host, port = self._target(request)
        except BadRequest as exc:
            await self._reply_error(writer, conn, 400, str(exc))
            return
        conn.host, conn.port, conn.url = host, port, url
        headers = {} if request.method == "CONNECT" else _policy_headers(request)
        loop = asyncio.get_running_loop()
        admission = await loop.run_in_executor(
            self._gate_pool, self.gate.admit, method, url, headers
        )
        conn.admission = admission
        if not admission.allowed:
            conn.status = admission.status
            writer.write(refusal(admission.status, request.method, url, admission))
            await writer.drain()
            return
        upstream = await self._dial(admission, port, conn)
        if upstream is None:
            writer.write(refusal(502, request.method, url, _failed(admission, conn.error)))
            await writer.drain()
            return
        up_reader, up_writer = upstream
        try:
            if request.method == "CONNECT":
                await self._tunnel(reader, writer, up_reader, up_writer, conn)
            else:
                await self._forward(request, reader, writer, up_reader, up_writer, conn)
        finally:
            with contextlib.suppress(Exception):
                up_writer.close()

    def _target(self, request: Request) -> tuple[str, str, str, int]:
        """(method the policy sees, URL it sees, host, port) of a request."""
        if request.method == "CONNECT":
            host, port = split_authority(request.target)
            shown = f"[{host}]" if ":" in host else host
            return "GET", f"https://{shown}:{port}/", host, port
        parts = urlsplit(request.target)
        if parts.scheme.lower() != "http" or not parts.hostname:
            raise BadRequest(
                "this is guardrail's egress proxy: send http:// URLs in absolute form, "
                f"and CONNECT host:port for https (got {request.target[:200]!r})"
            )
        try:
            port = parts.port or 80
        except ValueError as exc:
            raise BadRequest(f"bad port in {request.target[:200]!r}") from exc
        return request.method, request.target, parts.hostname, port

    async def _reply_error(
        self, writer: asyncio.StreamWriter, conn: Connection, status: int, why: str
    ) -> None:
        conn.status, conn.error = status, why
        writer.write(
            refusal(status, conn.method or "?", conn.url or "?", Admission.refuse(status, why))
        )
        await writer.drain()

    async def _dial(
        self, admission: Admission, port: int, conn: Connection
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """Connect to the first checked address that answers; never to anything else."""
        failures = []
        for address in admission.addresses:
            try:
                pair = await asyncio.wait_for(
                    asyncio.open_connection(address, port, limit=CHUNK), self.connect_timeout
                )
            except (OSError, TimeoutError) as exc:
                failures.append(
                    f"{address}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__}"
                )
                continue
            conn.address = address
            return pair
        conn.status = 502
        conn.error = (
            f"cannot connect to {conn.host} port {port} ({'; '.join(failures) or 'no address'})"
        )
        return None

    async def _tunnel(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
        conn: Connection,
    ) -> None:
        conn.status = 200
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        out, back = Meter(), Meter()
        try:
            if hasattr(os, "splice") and self._spliced < MAX_SPLICED:
                self._spliced += 1
                try:
                    await _splice_tunnel(
                        self._tunnel_pool, reader, writer, up_reader, up_writer, out, back
                    )
                finally:
                    self._spliced -= 1
            else:
                await asyncio.gather(_pipe(reader, up_writer, out), _pipe(up_reader, writer, back))
        finally:
            conn.sent += out.moved
            conn.received += back.moved

    async def _forward(
        self,
        request: Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
        conn: Connection,
    ) -> None:
        parts = urlsplit(request.target)
        up_writer.write(origin_head(request, parts.netloc.rpartition("@")[2]))
        out, back = Meter(), Meter()
        body = asyncio.ensure_future(_copy_body(request, reader, up_writer, out))
        try:
            # the response ends when the server closes (we asked it to)
            await _pipe(up_reader, writer, back, half_close=False)
        finally:
            body.cancel()
            await asyncio.gather(body, return_exceptions=True)
            conn.sent += out.moved
            conn.received += back.moved
        conn.status = back.status()


def _policy_headers(request: Request) -> dict[str, str]:
    """The headers the policy sees (secrets in them are decided); proxy credentials stay out."""
    return {k: v for k, v in request.headers if k.lower() not in ("proxy-authorization",)}


def _failed(admission: Admission, why: str) -> Admission:
    return Admission(
        False,
        502,
        admission.decision,
        admission.rules,
        why,
        admission.addresses,
        admission.approval,
    )


@dataclass
class Meter:
    """Bytes moved one way, and the first few of them (a response's status line)."""

    moved: int = 0
    head: bytes = b""

    def add(self, data: bytes) -> None:
        if len(self.head) < 12:
            self.head += data[: 12 - len(self.head)]
        self.moved += len(data)

    def status(self) -> int:
        if self.head.startswith(b"HTTP/1.") and self.head[9:12].isdigit():
            return int(self.head[9:12])
        return 0


# ---------------------------------------------------------------- tunnels in the kernel


async def _splice_tunnel(
    pool: ThreadPoolExecutor,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
    out: Meter,
    back: Meter,
) -> None:
    """Relay an established tunnel with splice(2), one thread per direction.

    Why: the bytes of a tunnel are opaque to us, and copying them through
    Python's streams costs most of loopback's throughput; splice moves them
    socket -> pipe -> socket inside the kernel. The sockets are taken over
    from asyncio (duplicated, then the transports dropped), after whatever
    either side had already sent is passed on.
    """
    for stream in (writer, up_writer):
        stream.transport.pause_reading()  # type: ignore[attr-defined]
    early_out, early_back = _take_buffer(reader), _take_buffer(up_reader)
    client, upstream = _take_socket(writer), _take_socket(up_writer)
    try:
        if early_out:
            upstream.sendall(early_out)
            out.add(early_out)
        if early_back:
            client.sendall(early_back)
            back.add(early_back)
        loop = asyncio.get_running_loop()
        done = [
            loop.run_in_executor(pool, _splice, client, upstream, out),
            loop.run_in_executor(pool, _splice, upstream, client, back),
        ]
        try:
            await asyncio.gather(*done)
        except asyncio.CancelledError:
            for sock in (client, upstream):  # wake both threads, wait for them, then close
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            await asyncio.wait(done)
            raise
    finally:
        client.close()
        upstream.close()


def _take_buffer(reader: asyncio.StreamReader) -> bytes:
    """What the stream already read and nobody consumed (StreamReader keeps it in `_buffer`)."""
    buffer = getattr(reader, "_buffer", None)
    if not buffer:
        return b""
    data = bytes(buffer)
    buffer.clear()
    return data


def _take_socket(writer: asyncio.StreamWriter) -> socket.socket:
    """A blocking duplicate of the stream's socket; the asyncio transport lets go of its own."""
    raw = writer.get_extra_info("socket")
    sock = socket.socket(fileno=os.dup(raw.fileno()))
    sock.setblocking(True)
    writer.transport.abort()
    return sock


def _splice(src: socket.socket, dst: socket.socket, meter: Meter) -> None:
    """Move bytes src -> dst until src's EOF, then pass the EOF on; an error ends both ways."""
    pipe_r, pipe_w = os.pipe()
    try:
        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(pipe_w, fcntl.F_SETPIPE_SZ, SPLICE)
        while True:
            n = os.splice(src.fileno(), pipe_w, SPLICE)
            if n == 0:
                break
            meter.moved += n
            while n > 0:
                n -= os.splice(pipe_r, dst.fileno(), n)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
    except OSError:
        for sock in (src, dst):  # a reset on one side: the other direction ends too
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
    finally:
        os.close(pipe_r)
        os.close(pipe_w)


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    meter: Meter,
    *,
    half_close: bool = True,
) -> None:
    """Copy until EOF; pass the EOF on (half-close) so that the other side can finish."""
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            writer.write(data)
            meter.add(data)
            await writer.drain()
    except (ConnectionError, OSError):
        return
    if half_close:
        with contextlib.suppress(OSError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()


async def _copy_body(
    request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, meter: Meter
) -> None:
    """Relay the request body by its framing, and nothing after it."""
    length = request.header("content-length")
    chunked = "chunked" in (request.header("transfer-encoding") or "").lower()
    if chunked and length is not None:
        raise BadRequest("both Content-Length and chunked: refused (request smuggling)")
    if chunked:
        await _copy_chunked(reader, writer, meter)
        return
    if length is None:
        return
    if not length.strip().isdigit():
        raise BadRequest(f"bad Content-Length {length[:50]!r}")
    left = int(length)
    while left > 0:
        data = await reader.read(min(left, CHUNK))
        if not data:
            break
        writer.write(data)
        meter.add(data)
        left -= len(data)
        await writer.drain()


async def _copy_chunked(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, meter: Meter
) -> None:
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise BadRequest(f"bad chunk size line {line[:40]!r}") from exc
        writer.write(line)
        meter.add(line)
        if size == 0:
            while True:  # trailers, up to the blank line
                trailer = await reader.readuntil(b"\r\n")
                writer.write(trailer)
                meter.add(trailer)
                if trailer == b"\r\n":
                    await writer.drain()
                    return
        data = await reader.readexactly(size + 2)
        writer.write(data)
        meter.add(data)
        await writer.drain()


# ---------------------------------------------------------------- a proxy in a thread


class RunningProxy:
    """A proxy served by an event loop on a thread of its own; `stop()` ends both."""

    def __init__(
        self,
        proxy: EgressProxy,
        loop: asyncio.AbstractEventLoop,
        thread: threading.Thread,
        server: asyncio.AbstractServer,
        address: str | tuple[str, int],
    ) -> None:
        self.proxy = proxy
        self.address = address
        self._loop = loop
        self._thread = thread
        self._server = server
        self._stopped = False

    @property
    def url(self) -> str:
        """http://host:port of a TCP listener (for clients on this host)."""
        assert isinstance(self.address, tuple)
        return f"http://{self.address[0]}:{self.address[1]}"

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True

        async def down() -> None:
            self._server.close()
            await self.proxy.shutdown()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(down(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self.proxy.close_pools()
        if not self._loop.is_running():
            self._loop.close()
        if isinstance(self.address, str):
            with contextlib.suppress(OSError):
                os.unlink(self.address)

    def __enter__(self) -> RunningProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(
    proxy: EgressProxy, *, unix_path: Path | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningProxy:
    """Start `proxy` on a Unix socket (the sandbox's) or on TCP, in a daemon thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="guardrail-egress", daemon=True)
    thread.start()
    start: Coroutine[Any, Any, asyncio.AbstractServer] = (
        proxy.start_unix(unix_path) if unix_path is not None else proxy.start_tcp(host, port)
    )
    try:
        server = asyncio.run_coroutine_threadsafe(start, loop).result(10)
    except BaseException:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        raise
    address: str | tuple[str, int]
    if unix_path is not None:
        address = str(unix_path)
    else:
        sockname = server.sockets[0].getsockname()  # type: ignore[attr-defined]
        address = (str(sockname[0]), int(sockname[1]))
    return RunningProxy(proxy, loop, thread, server, address)
