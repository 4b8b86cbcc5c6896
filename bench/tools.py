"""Per-call overhead of guardrail's tool executors over the bare library call.

    python bench/tools.py [--n 2000]

Three pairs, each run on the same warm resources (open connection, pooled
HTTP client), median against median:

- small file read: `FileExecutor.execute(read)` vs `open(path).read()`
- SQLite select:   `DbExecutor.execute(...)`   vs `conn.execute(q).fetchall()`
- loopback GET:    `HttpExecutor.execute(...)` vs `httpx.Client.get(url).text`

Targets (issue 5): under 1.5x for SQLite and HTTP, under 3x for the file
read. The policy check itself is not included (it is measured by the
checker's own benchmark); these figures are the executors' cost.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from guardrail.calls import DbCall, FileCall, HttpCall
from guardrail.tools.config import DatabaseConfig, ToolsConfig
from guardrail.tools.db import DbExecutor
from guardrail.tools.files import FileExecutor
from guardrail.tools.http import HttpExecutor

TARGETS = {"file read": 3.0, "sqlite select": 1.5, "loopback GET": 1.5}


def timings(fn: Callable[[], Any], n: int) -> list[float]:
    for _ in range(max(20, n // 20)):  # warm up
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - start) / 1000)
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def compare(name: str, bare: Callable[[], Any], ours: Callable[[], Any], n: int) -> float:
    # Alternate rounds so drift (CPU frequency, the other core's load) hits both sides.
    a: list[float] = []
    b: list[float] = []
    for _ in range(4):
        a += timings(bare, n // 4)
        b += timings(ours, n // 4)
    ratio = statistics.median(b) / statistics.median(a)
    target = TARGETS[name]
    verdict = "ok" if ratio < target else "OVER TARGET"
    print(
        f"{name:14s} bare p50 {pct(a, 50):8.1f}us p90 {pct(a, 90):8.1f}us p99 {pct(a, 99):8.1f}us | "
        f"guardrail p50 {pct(b, 50):8.1f}us p90 {pct(b, 90):8.1f}us p99 {pct(b, 99):8.1f}us | "
        f"ratio {ratio:4.2f}x (target < {target}x: {verdict})"
    )
    return ratio


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one write per response: no Nagle/delayed-ACK stall

    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="calls per side (HTTP: a quarter)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        (ws / "src").mkdir()
        small = ws / "src" / "small.py"
        small.write_text("".join(f"line {i} = {i * i}\n" for i in range(40)))
        files = FileExecutor(ws, ToolsConfig())
        read_call = FileCall(op="read", path="src/small.py")

        def bare_read() -> str:
            with open(small) as f:
                return f.read()

        assert files.execute(read_call).output["content"] == bare_read()
        compare("file read", bare_read, lambda: files.execute(read_call), args.n)

        db_path = ws / "app.db"
        conn = sqlite3.connect(db_path, isolation_level=None)
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO users VALUES (?, ?)", [(i, f"u{i}") for i in range(1000)])
        query = "SELECT id, name FROM users WHERE id BETWEEN 100 AND 119"
        dbx = DbExecutor({"app": DatabaseConfig(url="sqlite:///app.db")}, ws)
        db_call = DbCall(query=query)
        assert len(dbx.execute(db_call).output["rows"]) == 20
        compare(
            "sqlite select",
            lambda: conn.execute(query).fetchall(),
            lambda: dbx.execute(db_call),
            args.n,
        )

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/ping"
        client = httpx.Client(trust_env=False)
        http = HttpExecutor(ToolsConfig())
        http_call = HttpCall(url=url)
        assert http.execute(http_call).output["body"] == client.get(url).text
        compare(
            "loopback GET",
            lambda: client.get(url).text,
            lambda: http.execute(http_call),
            args.n // 4,
        )
        client.close()
        http.close()
        httpd.shutdown()
        httpd.server_close()
        files.close()
        dbx.close()
        conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
