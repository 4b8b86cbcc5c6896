"""The egress proxy's cost on loopback: added latency per request, and CONNECT throughput.

    python bench/egress.py [--requests 300] [--megabytes 100] [--rounds 3]

A raw loopback origin answers `/small` (2 bytes) and `/big` (`--megabytes`
MiB); the proxy decides every connection with a real policy (the default
policy with `bench.test` allowlisted, resolved by a hosts map) and writes a
real, fsynced audit trail. Latency: one new connection per request, as the
proxy makes clients do: direct, plain HTTP through the proxy, and a CONNECT
tunnel then the request inside it; median and p95, and the proxy's added
median. Throughput: the download through a CONNECT tunnel (on TCP, and on
the Unix socket the sandbox uses) against the same download direct.
Targets: under 2 ms added per request, at least 50% of direct throughput.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from guardrail.audit import AuditTrail
from guardrail.egress import EgressGate, EgressProxy, serve_in_thread, static_resolver
from guardrail.pipeline import Guard

POLICY = "version: 1\nextends: default\nlists:\n  +allowed_hosts: [bench.test]\n"
MIB = 1024 * 1024


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# ---------------------------------------------------------------- the origin


class Origin:
    """Loopback HTTP origin: a thread per connection, one response, then close."""

    def __init__(self, big: int) -> None:
        self.big = big
        self.block = b"x" * MIB
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = int(self.sock.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                head += chunk
            if head.split(b" ", 2)[1] == b"/big":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % self.big)
                left = self.big
                while left > 0:
                    n = min(left, len(self.block))
                    conn.sendall(self.block[:n] if n < len(self.block) else self.block)
                    left -= n
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    def close(self) -> None:
        self.sock.close()


# ---------------------------------------------------------------- clients


Dial = Callable[[], socket.socket]


def read_all(sock: socket.socket) -> int:
    buffer = bytearray(MIB)
    total = 0
    while n := sock.recv_into(buffer):
        total += n
    return total


def read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)  # byte by byte: nothing of the tunnel may be eaten
        if not chunk:
            raise ConnectionError("closed during the CONNECT answer")
        data += chunk
    return data


def direct(port: int, path: str) -> int:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n".encode()
        )
        return read_all(sock)


def plain(dial: Dial, port: int, path: str) -> int:
    with dial() as sock:
        sock.sendall(
            f"GET http://bench.test:{port}{path} HTTP/1.1\r\nHost: bench.test\r\n\r\n".encode()
        )
        return read_all(sock)


def tunnel(dial: Dial, port: int, path: str) -> int:
    with dial() as sock:
        sock.sendall(
            f"CONNECT bench.test:{port} HTTP/1.1\r\nHost: bench.test:{port}\r\n\r\n".encode()
        )
        answer = read_head(sock)
        if not answer.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"the proxy refused the tunnel: {answer!r}")
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n".encode()
        )
        return read_all(sock)


def latencies(fn: Callable[[], int], runs: int) -> list[float]:
    for _ in range(min(20, runs)):  # warm up
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def throughput(fn: Callable[[], int], rounds: int) -> float:
    """Best MB/s over `rounds` downloads (best: the machine's noise only ever slows)."""
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        size = fn()
        best = max(best, size / MIB / (time.perf_counter() - start))
    return best


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-audit", action="store_true", help="no trail (to see its share)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="guardrail-bench-egress-") as tmp:
        root = Path(tmp)
        (root / "policy.yaml").write_text(POLICY)
        guard = Guard.from_policy(root / "policy.yaml", workspace=root)
        gate = EgressGate(guard.check, resolver=static_resolver({"bench.test": ["127.0.0.1"]}))
        trail = AuditTrail(root / "audit.jsonl") if not args.no_audit else None
        origin = Origin(args.megabytes * MIB)
        tcp = serve_in_thread(EgressProxy(gate, audit=trail))
        unix_path = root / "proxy.sock"
        unix = serve_in_thread(EgressProxy(gate, audit=trail), unix_path=unix_path)
        assert isinstance(tcp.address, tuple)
        tcp_address = tcp.address

        def dial_tcp() -> socket.socket:
            return socket.create_connection(tcp_address)

        def dial_unix() -> socket.socket:
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(str(unix_path))
            return sock

        port = origin.port
        try:
            rows = {
                "direct": latencies(lambda: direct(port, "/small"), args.requests),
                "proxy http": latencies(lambda: plain(dial_tcp, port, "/small"), args.requests),
                "proxy CONNECT": latencies(lambda: tunnel(dial_tcp, port, "/small"), args.requests),
            }
            print(f"latency per request, new connection each ({args.requests} requests)")
            print(f"  {'path':<16}{'median ms':>10}{'p95 ms':>10}{'added ms':>10}")
            base = statistics.median(rows["direct"])
            for name, samples in rows.items():
                median = statistics.median(samples)
                print(
                    f"  {name:<16}{median * 1e3:>10.3f}{percentile(samples, 0.95) * 1e3:>10.3f}"
                    f"{(median - base) * 1e3:>10.3f}"
                )
            big = f"{args.megabytes} MiB"
            speed_direct = throughput(lambda: direct(port, "/big"), args.rounds)
            speed_tcp = throughput(lambda: tunnel(dial_tcp, port, "/big"), args.rounds)
            speed_unix = throughput(lambda: tunnel(dial_unix, port, "/big"), args.rounds)
            print(f"throughput of a {big} download (best of {args.rounds})")
            print(f"  {'direct':<24}{speed_direct:>9.0f} MB/s")
            for name, speed in (
                ("CONNECT, TCP proxy", speed_tcp),
                ("CONNECT, unix socket", speed_unix),
            ):
                print(f"  {name:<24}{speed:>9.0f} MB/s  {speed / speed_direct:>6.1%} of direct")
            added = (statistics.median(rows["proxy CONNECT"]) - base) * 1e3
            ratio = speed_tcp / speed_direct
            print(
                f"targets: added < 2 ms: {'met' if added < 2 else 'MISSED'} ({added:.3f} ms, CONNECT); "
                f">= 50% of direct: {'met' if ratio >= 0.5 else 'MISSED'} ({ratio:.1%})"
            )
        finally:
            tcp.stop()
            unix.stop()
            origin.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
